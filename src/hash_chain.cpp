#include "blotter/hash_chain.h"

#include <limits>

#include "blotter/error.h"
#include "digest.h"

namespace blotter {
namespace {

void put_int64(std::string& out, std::int64_t value) {
  const auto u = static_cast<std::uint64_t>(value);  // two's complement, by definition since C++20
  for (int shift = 56; shift >= 0; shift -= 8) out += static_cast<char>((u >> shift) & 0xFF);
}

void put_text(std::string& out, const std::string& text) {
  // SQLite caps a value at 1 GB by default and 2^31 - 1 bytes at most, so
  // every stored text fits the 4-byte length.
  if (text.size() > std::numeric_limits<std::uint32_t>::max())
    throw Error("a text of the events row is too long to hash");
  const auto n = static_cast<std::uint32_t>(text.size());
  for (int shift = 24; shift >= 0; shift -= 8) out += static_cast<char>((n >> shift) & 0xFF);
  out += text;
}

}  // namespace

std::string canonical_bytes(const JournalRow& row) {
  std::string out;
  out.reserve(8 + 8 + 4 + row.type.size() + 5 + (row.symbol ? row.symbol->size() : 0) + 4 +
              row.payload.size() + 8);
  put_int64(out, row.seq);
  put_int64(out, row.ts_ns);
  put_text(out, row.type);
  if (row.symbol) {
    out += '\x01';
    put_text(out, *row.symbol);
  } else {
    out += '\x00';
  }
  put_text(out, row.payload);
  put_int64(out, row.recorded_ns);
  return out;
}

ChainHash chain_hash(const ChainHash& previous, const JournalRow& row) {
  std::string bytes(previous.begin(), previous.end());
  bytes += canonical_bytes(row);
  return detail::sha256(bytes);
}

std::string to_hex(const ChainHash& hash) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string hex;
  hex.reserve(2 * hash.size());
  for (std::uint8_t b : hash) {
    hex += kDigits[b >> 4];
    hex += kDigits[b & 0x0F];
  }
  return hex;
}

JournalRow row_of(const Event& e) {
  JournalRow row;
  row.seq = e.seq;
  row.ts_ns = e.ts_ns;
  row.type = std::string(to_string(e.type()));
  if (!e.symbol.empty()) row.symbol = e.symbol;
  row.payload = encode_payload(e);
  row.recorded_ns = e.recorded_ns;
  return row;
}

}  // namespace blotter
