// SHA-256 through Nettle.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace blotter::detail {

using Sha256Digest = std::array<std::uint8_t, 32>;

// SHA-256 of `bytes`.
Sha256Digest sha256(std::string_view bytes);

// Lowercase hex SHA-256 of the file's bytes. Throws blotter::InputError if
// the file cannot be read.
std::string sha256_file(const std::string& path);

// Lowercase hex SHA-256 of the file's first `bytes` bytes; nullopt if the
// file is shorter. Throws blotter::InputError if the file cannot be read.
std::optional<std::string> sha256_file_prefix(const std::string& path, std::uint64_t bytes);

}  // namespace blotter::detail
