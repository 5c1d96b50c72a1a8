#include "blotter/error.h"

#include <fmt/format.h>

namespace blotter {
namespace {

std::string describe(const std::string& file, std::int64_t line, const std::string& field,
                     const std::string& message) {
  std::string where = line > 0 ? fmt::format("{}:{}", file, line) : file;
  if (field.empty()) return fmt::format("{}: {}", where, message);
  return fmt::format("{}: field '{}': {}", where, field, message);
}

std::string joined(const std::vector<ConfigError::Part>& parts,
                   const std::function<std::string(const std::string&)>& name) {
  std::string text;
  for (const auto& part : parts) {
    if (const auto* field = std::get_if<Field>(&part))
      text += name(field->name);
    else
      text += std::get<std::string>(part);
  }
  return text;
}

std::string as_named(const std::string& field) { return field; }

}  // namespace

InputError::InputError(std::string file, std::int64_t line, std::string field,
                       const std::string& message)
    : Error(describe(file, line, field, message)),
      file_(std::move(file)),
      line_(line),
      field_(std::move(field)) {}

ConfigError::ConfigError(const Field& field, const std::string& message)
    : ConfigError(std::vector<Part>{field, " " + message}) {}

ConfigError::ConfigError(std::vector<Part> parts)
    : Error(joined(parts, as_named)),
      parts_(std::make_shared<const std::vector<Part>>(std::move(parts))) {}

std::string ConfigError::message(const std::function<std::string(const std::string&)>& name) const {
  return parts_ ? joined(*parts_, name) : what();
}

std::vector<std::string> ConfigError::fields() const {
  std::vector<std::string> names;
  if (parts_)
    for (const auto& part : *parts_)
      if (const auto* field = std::get_if<Field>(&part)) names.push_back(field->name);
  return names;
}

}  // namespace blotter
