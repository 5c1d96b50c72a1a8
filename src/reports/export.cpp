#include "blotter/export.h"

#include <fmt/format.h>

#include <iterator>
#include <nlohmann/json.hpp>

#include "blotter/error.h"
#include "core/csv_field.h"
#include "events/payload_json.h"
#include "events/row_json.h"

namespace blotter {
namespace {

using Json = nlohmann::ordered_json;

std::string hash_text(const JournalRow& row) { return row.hash ? to_hex(*row.hash) : ""; }

// Whether `row`'s payload is in the exact form encode_payload writes for
// market and trading events (decode_canonical_payload's fast path), which is
// also the text parsing and dumping it would give.
bool is_canonical(const JournalRow& row) {
  const auto type = parse_event_type(row.type);
  return type && detail::decode_canonical_payload(*type, row.payload).has_value();
}

}  // namespace

std::int64_t export_events(const Journal& journal, const ScanRange& range, ExportFormat format,
                           std::ostream& out, bool header) {
  std::int64_t n = 0;
  // Lines collect in `text` and reach `out` in large writes, as replay's do.
  std::string text;
  constexpr std::size_t kFlushAt = 64 * 1024;
  const auto write = [&] {
    out.write(text.data(), static_cast<std::streamsize>(text.size()));
    text.clear();
  };
  detail::RowJsonWriter jsonl;
  Json parsed;
  if (format == ExportFormat::kCsv && header)
    text += "seq,time,ts_ns,type,symbol,payload,recorded_ns,hash\r\n";
  try {
    journal.scan_rows(range, [&](const JournalRow& row) {
      if (format == ExportFormat::kCsv) {
        fmt::format_to(std::back_inserter(text), "{},{},{},{},{},{},{},{}\r\n", row.seq,
                       format_timestamp(row.ts_ns), row.ts_ns, detail::csv_field(row.type),
                       detail::csv_field(row.symbol.value_or("")), detail::csv_field(row.payload),
                       row.recorded_ns, hash_text(row));
      } else if (is_canonical(row)) {
        // The payload as encode_payload wrote it: the JSON text nlohmann would
        // write for it, copied as replay copies it, without parsing it again.
        jsonl.append(text, row, true);
        text += '\n';
      } else {
        Json j;
        j["seq"] = row.seq;
        j["time"] = format_timestamp(row.ts_ns);
        j["ts_ns"] = row.ts_ns;
        j["type"] = row.type;
        j["symbol"] = row.symbol ? Json(*row.symbol) : Json();
        try {
          j["payload"] = Json::parse(row.payload);
        } catch (const Json::parse_error&) {
          throw Error(
              fmt::format("{}: seq {}: the payload is not JSON; `blotter verify {}` says more",
                          journal.location(), row.seq, journal.location()));
        }
        j["recorded_ns"] = row.recorded_ns;
        j["hash"] = row.hash ? Json(to_hex(*row.hash)) : Json();
        text += j.dump(-1, ' ', false, Json::error_handler_t::replace);
        text += '\n';
      }
      if (text.size() >= kFlushAt) write();
      ++n;
      return true;
    });
  } catch (...) {
    write();
    throw;
  }
  write();
  return n;
}

}  // namespace blotter
