// Private: the JSON text of snapshot states (written in one pass, read in
// one pass when canonical, else through a JSON tree), shared by the
// snapshot codec and the components that encode their own state.
#pragma once

#include <fmt/format.h>

#include <charconv>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "blotter/decimal.h"
#include "blotter/error.h"
#include "events/payload_json.h"

namespace blotter::detail {

// For reading only: std::map objects make parsing a snapshot of n symbols
// O(n log n) (ordered_json's objects find each key by a linear search), and
// readers look fields up by name, so their order does not matter.
using StateJson = nlohmann::json;

// A state's JSON text, written in one pass in time linear in its size: keys
// in the order written, no whitespace, decimals as exact strings: the text
// nlohmann's ordered_json dump() gives for the same keys and values.
class StateWriter {
 public:
  explicit StateWriter(std::string& out) : out_(out) {}

  // `"name":`, after a comma unless it is the first key of its object.
  StateWriter& key(std::string_view name) {
    separate();
    detail::append_json_string(out_, name);
    out_ += ':';
    after_key_ = true;
    return *this;
  }
  StateWriter& open(char bracket) {
    separate();
    out_ += bracket;
    first_ = true;
    return *this;
  }
  StateWriter& close(char bracket) {
    out_ += bracket;
    first_ = false;
    return *this;
  }
  StateWriter& decimal(Decimal d) {
    separate();
    char text[Decimal::kMaxTextSize];
    out_ += '"';
    out_.append(text, d.format_to(text));
    out_ += '"';
    return *this;
  }
  StateWriter& string(std::string_view text) {
    separate();
    detail::append_json_string(out_, text);
    return *this;
  }
  StateWriter& integer(std::int64_t n) {
    separate();
    out_ += std::to_string(n);
    return *this;
  }
  StateWriter& boolean(bool b) {
    separate();
    out_ += b ? "true" : "false";
    return *this;
  }
  StateWriter& null() {
    separate();
    out_ += "null";
    return *this;
  }
  // A value that is already JSON text.
  StateWriter& raw(std::string_view json) {
    separate();
    out_ += json;
    return *this;
  }

 private:
  // A comma before every value of an array or key of an object but the first.
  void separate() {
    if (after_key_) {
      after_key_ = false;
    } else if (!first_) {
      out_ += ',';
    }
    first_ = false;
  }

  std::string& out_;
  bool first_ = true;
  bool after_key_ = false;
};

// Reads a decoded snapshot, naming the path of the field in every error.
// The path is made only for an error: a StateReader refers to its parent, which
// outlives it (a snapshot has a few fields for every symbol).
class StateReader {
 public:
  explicit StateReader(const StateJson& j, std::string_view root = "state") : j_(j), key_(root) {}

  StateReader at(const char* name) const {
    if (!j_.is_object()) fail("expected an object");
    auto it = j_.find(name);
    if (it == j_.end()) StateReader(j_, this, name).fail("missing");
    return StateReader(*it, this, name);
  }
  // The value of key `key` of this object, read as it is (one of items()).
  StateReader member(const StateJson& v, std::string_view key) const {
    return StateReader(v, this, key);
  }
  StateReader item(std::size_t i, const StateJson& v) const { return StateReader(v, this, {}, i); }
  const StateJson& array() const {
    if (!j_.is_array()) fail("expected an array");
    return j_;
  }
  const StateJson& object() const {
    if (!j_.is_object()) fail("expected an object");
    return j_;
  }
  Decimal decimal() const {
    if (!j_.is_string()) fail("expected a decimal string");
    auto d = Decimal::parse(j_.get_ref<const std::string&>());
    if (!d) fail("not an exact decimal");
    return *d;
  }
  std::int64_t integer() const {
    if (!j_.is_number_integer()) fail("expected an integer");
    // An unsigned number above INT64_MAX would wrap: refuse it.
    if (j_.is_number_unsigned() && j_.get<std::uint64_t>() > static_cast<std::uint64_t>(INT64_MAX))
      fail("out of range");
    return j_.get<std::int64_t>();
  }
  bool boolean() const {
    if (!j_.is_boolean()) fail("expected true or false");
    return j_.get<bool>();
  }
  std::string text() const {
    if (!j_.is_string()) fail("expected a string");
    return j_.get<std::string>();
  }
  bool is_null() const { return j_.is_null(); }
  const StateJson& json() const { return j_; }

  [[noreturn]] void fail(const std::string& what) const {
    throw Error(fmt::format("snapshot: {}: {}", path(), what));
  }

 private:
  StateReader(const StateJson& j, const StateReader* parent, std::string_view key,
              std::size_t index = 0)
      : j_(j), parent_(parent), key_(key), index_(index) {}

  std::string path() const {
    if (parent_ == nullptr) return std::string(key_);
    if (key_.empty()) return fmt::format("{}[{}]", parent_->path(), index_);
    return fmt::format("{}.{}", parent_->path(), key_);
  }

  const StateJson& j_;
  const StateReader* parent_ = nullptr;
  std::string_view key_;  // empty: an array item, index_
  std::size_t index_ = 0;
};

// Reads canonical state text (as StateWriter writes it) in one pass, without
// a JSON tree: each function consumes what it reads and returns true, or
// returns false (its position then unspecified) for anything else:
// whitespace, another key order, keys out of order, strings with escapes or
// bytes outside printable ASCII. The caller then reads the text with a
// StateReader, which also names what is wrong.
class CanonicalText {
 public:
  explicit CanonicalText(std::string_view text) : text_(text) {}

  bool at_end() const { return at_ == text_.size(); }

  bool literal(std::string_view expected) {
    if (text_.substr(at_, expected.size()) != expected) return false;
    at_ += expected.size();
    return true;
  }
  bool next_is(char c) const { return at_ < text_.size() && text_[at_] == c; }

  // A string of printable ASCII without escapes.
  bool string(std::string_view& out) {
    if (!literal("\"")) return false;
    const std::size_t begin = at_;
    for (; at_ < text_.size() && text_[at_] != '"'; ++at_) {
      const char c = text_[at_];
      if (c < 0x20 || c > 0x7E || c == '\\') return false;
    }
    if (at_ == text_.size()) return false;
    out = text_.substr(begin, at_ - begin);
    ++at_;
    return true;
  }
  bool decimal(Decimal& out) {
    std::string_view text;
    if (!string(text)) return false;
    const auto d = Decimal::parse(text);
    char canonical[Decimal::kMaxTextSize];
    const char* end = d ? d->format_to(canonical) : canonical;
    if (!d || std::string_view(canonical, static_cast<std::size_t>(end - canonical)) != text)
      return false;
    out = *d;
    return true;
  }
  // An integer as std::to_string writes it (no '+', no leading zeros).
  bool integer(std::int64_t& out) {
    const char* begin = text_.data() + at_;
    const auto [end, ec] = std::from_chars(begin, text_.data() + text_.size(), out);
    const auto length = static_cast<std::size_t>(end - begin);
    if (ec != std::errc() || std::to_string(out) != std::string_view(begin, length)) return false;
    at_ += length;
    return true;
  }
  bool boolean(bool& out) {
    out = literal("true");
    return out || literal("false");
  }
  // The elements of an object or array up to its `close`, each read by
  // `read`, separated by commas.
  template <class Read>
  bool elements(char close, Read read) {
    if (literal(std::string_view(&close, 1))) return true;
    do {
      if (!read()) return false;
    } while (literal(","));
    return literal(std::string_view(&close, 1));
  }
  // An object's members into `map`: `"KEY":` (each key after every one
  // before it), then the value `read` reads into the map's new entry.
  template <class Map, class Read>
  bool keyed(Map& map, Read read) {
    return elements('}', [&] {
      std::string_view key;
      if (!string(key) || !literal(":")) return false;
      if (!map.empty() && !(map.rbegin()->first < key)) return false;
      return read(map.emplace_hint(map.end(), key, typename Map::mapped_type())->second);
    });
  }
  // One JSON object or array, whatever it holds, as its text: its brackets
  // matched outside strings, strings skipped over their escapes.
  bool value(std::string_view& out) {
    const std::size_t begin = at_;
    if (!next_is('{') && !next_is('[')) return false;
    int depth = 0;
    bool in_string = false;
    for (; at_ < text_.size(); ++at_) {
      const char c = text_[at_];
      if (in_string) {
        if (c == '\\') {
          ++at_;
        } else if (c == '"') {
          in_string = false;
        }
      } else if (c == '"') {
        in_string = true;
      } else if (c == '{' || c == '[') {
        ++depth;
      } else if (c == '}' || c == ']') {
        if (--depth == 0) {
          ++at_;
          out = text_.substr(begin, at_ - begin);
          return true;
        }
      }
    }
    return false;
  }
  // The text from the current position up to and including the next `c`.
  bool through(char c, std::string_view& out) {
    const std::size_t end = text_.find(c, at_);
    if (end == std::string_view::npos) return false;
    out = text_.substr(at_, end + 1 - at_);
    at_ = end + 1;
    return true;
  }

 private:
  std::string_view text_;
  std::size_t at_ = 0;
};

}  // namespace blotter::detail
