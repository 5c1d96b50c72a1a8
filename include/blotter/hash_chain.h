// The journal's hash chain: every events row carries
// SHA-256(previous row's hash || canonical bytes of the row), so changing,
// removing or reordering a recorded event breaks the chain from that row on.
// docs/HASH_CHAIN.md specifies the bytes precisely enough to re-verify a
// journal without blotter.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>

#include "blotter/event.h"

namespace blotter {

using ChainHash = std::array<std::uint8_t, 32>;

// What the first row chains from: 32 zero bytes.
inline constexpr ChainHash kGenesisHash{};

// One row of the events table exactly as stored: the type and payload text
// as written, not decoded, so that a row blotter cannot decode can still be
// hashed, verified and exported.
struct JournalRow {
  Seq seq = 0;
  TimestampNs ts_ns = 0;
  std::string type;
  std::optional<std::string> symbol;  // nullopt: SQL NULL
  std::string payload;
  std::int64_t recorded_ns = 0;
  std::optional<ChainHash> hash;  // nullopt: no 32-byte hash stored
};

// The row `e` is stored as (payload encoded; no hash).
JournalRow row_of(const Event& e);

// The last row of a journal: seq 0 and kGenesisHash when it has none.
struct ChainHead {
  Seq seq = 0;
  ChainHash hash = kGenesisHash;
};

// The canonical bytes of `row` that the chain hashes (row.hash is not part of
// them): seq, ts_ns and recorded_ns as 8-byte big-endian two's complement;
// type, symbol and payload as a 4-byte big-endian length and their UTF-8
// bytes, the symbol preceded by a byte 1, or replaced by a single byte 0 when
// NULL. Layout: seq, ts_ns, type, symbol, payload, recorded_ns.
std::string canonical_bytes(const JournalRow& row);

// SHA-256(previous || canonical_bytes(row)): the hash stored with `row`.
// Thread-safe. Throws blotter::Error only if libcrypto fails.
ChainHash chain_hash(const ChainHash& previous, const JournalRow& row);

// 64 lowercase hex digits.
std::string to_hex(const ChainHash& hash);

}  // namespace blotter
