// One CSV field as RFC 4180 writes it.
#pragma once

#include <string>

namespace blotter::detail {

// `text` as is, or in double quotes with its quotes doubled when it holds a
// comma, a quote or a line break.
inline std::string csv_field(const std::string& text) {
  if (text.find_first_of(",\"\r\n") == std::string::npos) return text;
  std::string out = "\"";
  for (char c : text) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + '"';
}

}  // namespace blotter::detail
