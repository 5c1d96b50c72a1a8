#include "core/digest.h"

#include <fmt/format.h>
#include <nettle/sha2.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <iterator>
#include <limits>
#include <memory>
#include <utility>
#include <vector>

#include "blotter/error.h"

namespace blotter::detail {

Sha256Digest sha256(std::string_view bytes) {
  static_assert(std::tuple_size_v<Sha256Digest> == SHA256_DIGEST_SIZE);
  // Nettle's context is a plain struct: hashing allocates nothing and looks
  // nothing up, and the journal hashes every event.
  sha256_ctx ctx;
  sha256_init(&ctx);
  sha256_update(&ctx, bytes.size(), reinterpret_cast<const std::uint8_t*>(bytes.data()));
  Sha256Digest digest;
  sha256_digest(&ctx, digest.size(), digest.data());
  return digest;
}

namespace {

std::string hex_of(const Sha256Digest& digest) {
  std::string hex;
  hex.reserve(2 * digest.size());
  for (const std::uint8_t byte : digest) fmt::format_to(std::back_inserter(hex), "{:02x}", byte);
  return hex;
}

// The digest of the file's first `limit` bytes (all of it if shorter), and
// how many bytes that was.
std::pair<std::string, std::uint64_t> hash_file(const std::string& path, std::uint64_t limit) {
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> file(std::fopen(path.c_str(), "rb"), std::fclose);
  if (!file) throw InputError(path, 0, "", fmt::format("cannot open: {}", std::strerror(errno)));
  sha256_ctx ctx;
  sha256_init(&ctx);
  std::vector<std::uint8_t> buffer(1 << 16);
  std::uint64_t total = 0;
  std::size_t n;
  while (total < limit && (n = std::fread(buffer.data(), 1,
                                          static_cast<std::size_t>(std::min<std::uint64_t>(
                                              buffer.size(), limit - total)),
                                          file.get())) > 0) {
    sha256_update(&ctx, n, buffer.data());
    total += n;
  }
  if (std::ferror(file.get()))
    throw InputError(path, 0, "", fmt::format("read error: {}", std::strerror(errno)));
  Sha256Digest digest;
  sha256_digest(&ctx, digest.size(), digest.data());
  return {hex_of(digest), total};
}

}  // namespace

std::string sha256_file(const std::string& path) {
  return hash_file(path, std::numeric_limits<std::uint64_t>::max()).first;
}

std::optional<std::string> sha256_file_prefix(const std::string& path, std::uint64_t bytes) {
  auto [hex, read] = hash_file(path, bytes);
  if (read < bytes) return std::nullopt;
  return std::move(hex);
}

}  // namespace blotter::detail
