// The hash chain's bytes, written without allocating (private to the library).
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "blotter/hash_chain.h"

namespace blotter::detail {

// An events row by reference (blotter/hash_chain.h: JournalRow owns its texts).
struct RowView {
  Seq seq = 0;
  TimestampNs ts_ns = 0;
  std::string_view type;
  std::optional<std::string_view> symbol;  // nullopt: SQL NULL
  std::string_view payload;
  std::int64_t recorded_ns = 0;
};

// Appends canonical_bytes() of `row` to `out`.
void append_canonical_bytes(std::string& out, const RowView& row);

// chain_hash() of `row`; `scratch` is reused for the bytes hashed, so that a
// writer that keeps it allocates nothing per row.
ChainHash chain_hash(const ChainHash& previous, const RowView& row, std::string& scratch);

}  // namespace blotter::detail
