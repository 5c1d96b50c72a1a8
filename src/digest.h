// SHA-256 through OpenSSL's libcrypto.
#pragma once

#include <string>

namespace blotter::detail {

// Lowercase hex SHA-256 of the file's bytes. Throws blotter::InputError if
// the file cannot be read.
std::string sha256_file(const std::string& path);

}  // namespace blotter::detail
