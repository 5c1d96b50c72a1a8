// Ad-hoc SQL over a journal, strictly read-only.
#pragma once

#include <cstdint>
#include <ostream>
#include <string>

namespace blotter {

enum class QueryFormat { kTable, kCsv, kJson };

struct QueryOptions {
  QueryFormat format = QueryFormat::kTable;
  // Interrupts a statement still running after this many seconds; 0: never.
  double timeout_seconds = 0;
};

// Runs the statement of `sql` (one; trailing whitespace, semicolons and
// comments allowed) against the journal at `path`, opened read-only, and
// writes the rows to `out`:
// - table: aligned by display width; text with control characters and bytes
//   that are not UTF-8 escaped as \xNN, BLOBs as x'hex';
// - CSV with a header (RFC 4180): text exactly as stored, BLOBs as hex digits;
// - a JSON array of objects (RFC 8259): control characters as \u00XX, bytes
//   that are not UTF-8 as U+FFFD, BLOBs as strings of hex digits, infinities
//   (not JSON) as null.
// Reals are written as the shortest text that reads back as the same double.
// Before running anything it refuses, with a blotter::Error saying why, a
// second statement, a statement that would write, ATTACH/DETACH (which can
// create files), a PRAGMA that sets a value or checkpoints, and extension
// loading. Returns the number of rows written.
std::int64_t run_query(const std::string& path, const std::string& sql, const QueryOptions& options,
                       std::ostream& out);

}  // namespace blotter
