#include "blotter/export.h"

#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "blotter/error.h"
#include "csv_field.h"

namespace blotter {
namespace {

using Json = nlohmann::ordered_json;

std::string hash_text(const JournalRow& row) { return row.hash ? to_hex(*row.hash) : ""; }

}  // namespace

std::int64_t export_events(const SqliteJournal& journal, const ScanRange& range,
                           ExportFormat format, std::ostream& out) {
  std::int64_t n = 0;
  if (format == ExportFormat::kCsv)
    out << "seq,time,ts_ns,type,symbol,payload,recorded_ns,hash\r\n";
  journal.scan_rows(range, [&](const JournalRow& row) {
    if (format == ExportFormat::kCsv) {
      out << row.seq << ',' << format_timestamp(row.ts_ns) << ',' << row.ts_ns << ','
          << detail::csv_field(row.type) << ',' << detail::csv_field(row.symbol.value_or("")) << ','
          << detail::csv_field(row.payload) << ',' << row.recorded_ns << ',' << hash_text(row)
          << "\r\n";
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
                        journal.path(), row.seq, journal.path()));
      }
      j["recorded_ns"] = row.recorded_ns;
      j["hash"] = row.hash ? Json(to_hex(*row.hash)) : Json();
      out << j.dump(-1, ' ', false, Json::error_handler_t::replace) << '\n';
    }
    ++n;
    return true;
  });
  return n;
}

}  // namespace blotter
