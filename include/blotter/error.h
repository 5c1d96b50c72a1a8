// blotter reports every failure by throwing an exception derived from
// blotter::Error. No SQLite, SQLiteCpp or JSON exception leaves the public API.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>

namespace blotter {

class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Bad input data: what() is one line, "FILE:LINE: field 'F': what was wrong".
class InputError : public Error {
 public:
  InputError(std::string file, std::int64_t line, std::string field, const std::string& message);

  const std::string& file() const { return file_; }
  std::int64_t line() const { return line_; }  // 1-based; 0 if not a line
  const std::string& field() const { return field_; }

 private:
  std::string file_;
  std::int64_t line_;
  std::string field_;
};

// The journal could not be opened, read or written.
class StoreError : public Error {
 public:
  using Error::Error;
};

// An invalid option or combination of options.
class ConfigError : public Error {
 public:
  using Error::Error;
};

}  // namespace blotter
