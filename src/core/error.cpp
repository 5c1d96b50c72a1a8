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

}  // namespace

InputError::InputError(std::string file, std::int64_t line, std::string field,
                       const std::string& message)
    : Error(describe(file, line, field, message)),
      file_(std::move(file)),
      line_(line),
      field_(std::move(field)) {}

}  // namespace blotter
