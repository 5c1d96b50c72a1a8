#include "blotter/hash_chain.h"

#include <limits>

#include "blotter/error.h"
#include "core/digest.h"
#include "events/chain_bytes.h"

namespace blotter {
namespace {

void put_int64(std::string& out, std::int64_t value) {
  const auto u = static_cast<std::uint64_t>(value);  // two's complement, by definition since C++20
  for (int shift = 56; shift >= 0; shift -= 8) out += static_cast<char>((u >> shift) & 0xFF);
}

void put_text(std::string& out, std::string_view text) {
  // SQLite caps a value at 1 GB by default and 2^31 - 1 bytes at most, so
  // every stored text fits the 4-byte length.
  if (text.size() > std::numeric_limits<std::uint32_t>::max())
    throw Error("a text of the events row is too long to hash");
  const auto n = static_cast<std::uint32_t>(text.size());
  for (int shift = 24; shift >= 0; shift -= 8) out += static_cast<char>((n >> shift) & 0xFF);
  out += text;
}

}  // namespace

namespace detail {

void append_canonical_bytes(std::string& out, const RowView& row) {
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
}

ChainHash chain_hash(const ChainHash& previous, const RowView& row, std::string& scratch) {
  scratch.assign(previous.begin(), previous.end());
  append_canonical_bytes(scratch, row);
  return sha256(scratch);
}

}  // namespace detail

namespace {

detail::RowView view_of(const JournalRow& row) {
  detail::RowView v{row.seq, row.ts_ns, row.type, std::nullopt, row.payload, row.recorded_ns};
  if (row.symbol) v.symbol = *row.symbol;
  return v;
}

}  // namespace

std::string canonical_bytes(const JournalRow& row) {
  std::string out;
  detail::append_canonical_bytes(out, view_of(row));
  return out;
}

ChainHash chain_hash(const ChainHash& previous, const JournalRow& row) {
  std::string scratch;
  return detail::chain_hash(previous, view_of(row), scratch);
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
