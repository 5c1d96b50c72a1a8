// Journal rows as JSON lines, written straight from the stored text (private
// to the library): replay and export share it.
#pragma once

#include <charconv>
#include <iterator>
#include <string>
#include <string_view>

#include "blotter/hash_chain.h"
#include "blotter/timestamp.h"
#include "events/payload_json.h"

namespace blotter::detail {

// Writes rows as JSON lines. The time text is format_timestamp's; its date
// part is formatted once per day, since consecutive rows mostly share a day.
class RowJsonWriter {
 public:
  // {"seq","time","ts_ns","type","symbol","payload"}, and with `stored` also
  // "recorded_ns" and "hash" (64 hex digits, null if none), after "payload".
  // The payload must be a JSON object's text: it is copied, not parsed.
  void append(std::string& out, const JournalRow& row, bool stored = false) {
    using namespace std::string_view_literals;
    out += R"({"seq":)"sv;
    append_integer(out, row.seq);
    out += R"(,"time":")"sv;
    append_time(out, row.ts_ns);
    out += R"(","ts_ns":)"sv;
    append_integer(out, row.ts_ns);
    out += R"(,"type":)"sv;
    detail::append_json_string(out, row.type);
    out += R"(,"symbol":)"sv;
    if (row.symbol)
      detail::append_json_string(out, *row.symbol);
    else
      out += "null"sv;
    // The payload is already a JSON object: embedded as its text, not parsed again.
    out += R"(,"payload":)"sv;
    out += row.payload;
    if (stored) {
      out += R"(,"recorded_ns":)"sv;
      append_integer(out, row.recorded_ns);
      out += R"(,"hash":)"sv;
      if (row.hash) {
        out += '"';
        out += to_hex(*row.hash);
        out += '"';
      } else {
        out += "null"sv;
      }
    }
    out += '}';
  }

 private:
  static void append_integer(std::string& out, std::int64_t value) {
    char digits[24];
    const auto end = std::to_chars(std::begin(digits), std::end(digits), value).ptr;
    // A pointer and a count: append(first, last) goes through std::string's
    // general replace, several times slower for a few bytes.
    out.append(digits, static_cast<std::size_t>(end - digits));
  }
  static void append_two(std::string& out, std::int64_t value) {
    out += static_cast<char>('0' + value / 10);
    out += static_cast<char>('0' + value % 10);
  }

  void append_time(std::string& out, TimestampNs ts) {
    constexpr std::int64_t kNsPerSecond = 1'000'000'000;
    const auto [day, ns_of_day] = split_utc_day(ts);
    if (day != day_ || date_.empty()) {
      // "2024-03-01T": format_timestamp's text up to its 'T', whatever the year's width.
      const std::string full = format_timestamp(ts);
      date_ = full.substr(0, full.find('T') + 1);
      day_ = day;
    }
    out += date_;
    const std::int64_t seconds = ns_of_day / kNsPerSecond;
    append_two(out, seconds / 3600);
    out += ':';
    append_two(out, seconds / 60 % 60);
    out += ':';
    append_two(out, seconds % 60);
    if (const std::int64_t ns = ns_of_day % kNsPerSecond; ns != 0) {
      char digits[10] = {'.'};
      std::int64_t rest = ns;
      for (int i = 9; i >= 1; --i, rest /= 10) digits[i] = static_cast<char>('0' + rest % 10);
      out.append(digits, sizeof digits);
    }
    out += 'Z';
  }

  std::int64_t day_ = 0;
  std::string date_;
};

}  // namespace blotter::detail
