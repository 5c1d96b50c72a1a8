// StrategyParams: the key=value parameters of a run's strategy.
#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <charconv>

#include "blotter/error.h"
#include "blotter/strategy.h"

namespace blotter {
namespace {

bool is_key(std::string_view key) {
  if (key.empty() || !(std::isalpha(static_cast<unsigned char>(key[0])) || key[0] == '_'))
    return false;
  return std::all_of(key.begin(), key.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.';
  });
}

// A value must survive the canonical text: no ',' (the separator) and no
// control characters (one line, in the manifest and on a terminal).
bool is_value(std::string_view value) {
  return std::none_of(value.begin(), value.end(), [](char c) {
    const auto u = static_cast<unsigned char>(c);
    return c == ',' || u < 0x20 || u == 0x7f;
  });
}

void check_value(std::string_view key, std::string_view value) {
  if (!is_value(value))
    throw ConfigError(
        fmt::format("parameter '{}': the value must not hold ',' or control characters", key));
}

}  // namespace

StrategyParams StrategyParams::from_canonical(std::string_view text) {
  StrategyParams params;
  while (!text.empty()) {
    const auto comma = text.find(',');
    params.set(text.substr(0, comma));
    if (comma == std::string_view::npos) break;
    text.remove_prefix(comma + 1);
  }
  return params;
}

void StrategyParams::set(std::string key, std::string value) {
  if (!is_key(key))
    throw ConfigError(fmt::format(
        "parameter '{}': not a valid name (letters, digits, '_', '-', '.'; first a letter or "
        "'_')",
        key));
  check_value(key, value);
  if (values_.contains(key)) throw ConfigError(fmt::format("parameter '{}' is given twice", key));
  values_.emplace(std::move(key), std::move(value));
}

void StrategyParams::set(std::string_view key_value) {
  const auto eq = key_value.find('=');
  if (eq == std::string_view::npos)
    throw ConfigError(fmt::format("parameter '{}': expected key=value", key_value));
  set(std::string(key_value.substr(0, eq)), std::string(key_value.substr(eq + 1)));
}

int StrategyParams::get_int(std::string_view key, int fallback) const {
  read_.emplace(key);
  const auto it = values_.find(key);
  if (it == values_.end()) {
    defaults_.insert_or_assign(std::string(key), std::to_string(fallback));
    return fallback;
  }
  const std::string& text = it->second;
  int value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || text[0] == '+' || ec != std::errc() || end != text.data() + text.size())
    throw ConfigError(fmt::format("parameter '{}': '{}' is not an integer{}", key, text,
                                  ec == std::errc::result_out_of_range ? " in range" : ""));
  return value;
}

Decimal StrategyParams::get_decimal(std::string_view key, std::string_view fallback) const {
  read_.emplace(key);
  const auto it = values_.find(key);
  if (it == values_.end()) {
    check_value(key, fallback);
    defaults_.insert_or_assign(std::string(key), std::string(fallback));
    return Decimal::from_string(fallback);
  }
  std::string why;
  const auto value = Decimal::parse(it->second, &why);
  if (!value)
    throw ConfigError(
        fmt::format("parameter '{}': '{}' is not a decimal ({})", key, it->second, why));
  return *value;
}

std::string StrategyParams::get_string(std::string_view key, std::string fallback) const {
  read_.emplace(key);
  const auto it = values_.find(key);
  if (it != values_.end()) return it->second;
  check_value(key, fallback);
  defaults_.insert_or_assign(std::string(key), fallback);
  return fallback;
}

std::vector<std::string> StrategyParams::unread() const {
  std::vector<std::string> keys;
  for (const auto& [key, value] : values_)
    if (!read_.contains(key)) keys.push_back(key);
  return keys;
}

std::string StrategyParams::canonical(bool with_defaults) const {
  std::map<std::string_view, std::string_view> all;
  for (const auto& [key, value] : values_) all.emplace(key, value);
  if (with_defaults)
    for (const auto& [key, value] : defaults_) all.emplace(key, value);  // given ones win
  std::string text;
  for (const auto& [key, value] : all) {
    if (!text.empty()) text += ',';
    text += key;
    text += '=';
    text += value;
  }
  return text;
}

}  // namespace blotter
