// Exporting events for other tools: pandas, jq, spreadsheets.
#pragma once

#include <cstdint>
#include <ostream>

#include "blotter/journal.h"

namespace blotter {

enum class ExportFormat {
  // RFC 4180 with a header, CRLF line ends:
  // seq,time,ts_ns,type,symbol,payload,recorded_ns,hash
  // (symbol empty when the event has none; payload the stored JSON text;
  // hash 64 hex digits).
  kCsv,
  // One JSON object per line, "\n" line ends, keys in that order: payload a
  // JSON object, symbol null when the event has none.
  kJsonl,
};

// Writes the events of `range` to `out` exactly as stored, in seq order,
// through a cursor (constant memory). kCsv starts with its header line
// unless `header` is false (the next part of a followed journal). Returns
// the number written. Throws blotter::Error naming the seq if a payload is
// not JSON (`blotter verify` says more), blotter::StoreError if the journal
// cannot be read.
std::int64_t export_events(const Journal& journal, const ScanRange& range, ExportFormat format,
                           std::ostream& out, bool header = true);

}  // namespace blotter
