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

// Runs each statement of `sql` against the journal at `path`, opened
// read-only, and writes the rows to `out`: an aligned table, CSV with a
// header (RFC 4180), or a JSON array of objects. Before running anything it
// refuses, with a blotter::Error saying why, a statement that would write,
// ATTACH/DETACH (which can create files), a PRAGMA that sets a value or
// checkpoints, and extension loading. Returns the number of rows written.
std::int64_t run_query(const std::string& path, const std::string& sql, const QueryOptions& options,
                       std::ostream& out);

}  // namespace blotter
