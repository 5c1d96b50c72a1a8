// SQLite file names as URIs (private to the library).
#pragma once

#include <fmt/format.h>

#include <string>

namespace blotter::detail {

// A URI that opens `path` read-only as it is, without the WAL's shared memory
// (for a journal in a directory this process cannot write, with no -wal file).
inline std::string immutable_uri(const std::string& path) {
  std::string uri = "file:";
  for (char c : path) {
    if (c == '%' || c == '?' || c == '#')
      uri += fmt::format("%{:02X}", static_cast<unsigned char>(c));
    else
      uri += c;
  }
  return uri + "?immutable=1";
}

}  // namespace blotter::detail
