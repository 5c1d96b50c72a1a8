// Journal rows as JSON lines, written straight from the stored text (private
// to the library): replay and export share it.
#pragma once

#include <algorithm>
#include <array>
#include <charconv>
#include <cstring>
#include <iterator>
#include <string>
#include <string_view>

#include "blotter/hash_chain.h"
#include "blotter/timestamp.h"
#include "events/payload_json.h"

namespace blotter::detail {

// Writes rows as JSON lines. The time text is format_timestamp's; its date
// part is formatted once per day, since consecutive rows mostly share a day.
// A row is written through a pointer into room reserved for its longest
// text, not appended piece by piece: a line is about 30 pieces, and each
// std::string append checks and updates the string's size.
class RowJsonWriter {
 public:
  // {"seq","time","ts_ns","type","symbol","payload"}, and with `stored` also
  // "recorded_ns" and "hash" (64 hex digits, null if none), after "payload".
  // The payload must be a JSON object's text: it is copied, not parsed.
  void append(std::string& out, const JournalRow& row, bool stored = false) {
    const std::size_t size = out.size();
    out.resize(size + max_size(row));
    char* const end = write(out.data() + size, row, stored);
    out.resize(static_cast<std::size_t>(end - out.data()));
  }

  // The most append() writes for `row`: its texts (JSON strings at worst six
  // bytes per byte escaped) and at most 384 bytes of keys, numbers and time.
  static std::size_t max_size(const JournalRow& row) {
    return 384 + row.payload.size() + 6 * (row.type.size() + (row.symbol ? row.symbol->size() : 0));
  }

  // Writes the line at `at`, which has room for max_size(row) bytes; returns its end.
  char* write(char* at, const JournalRow& row, bool stored = false) {
    using namespace std::string_view_literals;
    at = copy(at, R"({"seq":)"sv);
    at = integer(at, row.seq);
    at = copy(at, R"(,"time":")"sv);
    at = copy(at, time_fields(row.ts_ns));
    at = copy(at, R"(,"type":)"sv);
    at = json_string(at, row.type);
    at = copy(at, R"(,"symbol":)"sv);
    at = row.symbol ? json_string(at, *row.symbol) : copy(at, "null"sv);
    // The payload is already a JSON object: embedded as its text, not parsed again.
    at = copy(at, R"(,"payload":)"sv);
    at = copy(at, row.payload);
    if (stored) {
      at = copy(at, R"(,"recorded_ns":)"sv);
      at = integer(at, row.recorded_ns);
      at = copy(at, R"(,"hash":)"sv);
      if (row.hash) {
        *at++ = '"';
        at = copy(at, to_hex(*row.hash));
        *at++ = '"';
      } else {
        at = copy(at, "null"sv);
      }
    }
    *at++ = '}';
    return at;
  }

 private:
  static char* copy(char* at, std::string_view text) {
    std::memcpy(at, text.data(), text.size());
    return at + text.size();
  }
  static char* integer(char* at, std::int64_t value) {
    return std::to_chars(at, at + 20, value).ptr;  // INT64_MIN: 20 chars
  }
  static char* two_digits(char* at, std::int64_t value) {
    *at++ = static_cast<char>('0' + value / 10);
    *at++ = static_cast<char>('0' + value % 10);
    return at;
  }
  // `text` as append_json_string writes it.
  static char* json_string(char* at, std::string_view text) {
    const bool plain = std::all_of(text.begin(), text.end(), [](char c) {
      return c >= 0x20 && c < 0x7f && c != '"' && c != '\\';
    });
    if (!plain) {
      std::string escaped;
      append_json_string(escaped, text);
      return copy(at, escaped);
    }
    *at++ = '"';
    at = copy(at, text);
    *at++ = '"';
    return at;
  }

  // `TIME","ts_ns":TS_NS` for `ts`. Rows mostly have the time of the row
  // before (a bar's SIGNAL, ORDER and FILL have the bar's time, and the bars
  // of several symbols share theirs), so it is formatted once per time.
  std::string_view time_fields(TimestampNs ts) {
    using namespace std::string_view_literals;
    if (ts != time_fields_ts_ || time_fields_size_ == 0) {
      char* at = time(time_fields_.data(), ts);
      at = copy(at, R"(","ts_ns":)"sv);
      at = integer(at, ts);
      time_fields_size_ = static_cast<std::size_t>(at - time_fields_.data());
      time_fields_ts_ = ts;
    }
    return {time_fields_.data(), time_fields_size_};
  }

  char* time(char* at, TimestampNs ts) {
    constexpr std::int64_t kNsPerSecond = 1'000'000'000;
    const auto [day, ns_of_day] = split_utc_day(ts);
    if (day != day_ || date_.empty()) {
      // "2024-03-01T": format_timestamp's text up to its 'T', whatever the year's width.
      const std::string full = format_timestamp(ts);
      date_ = full.substr(0, full.find('T') + 1);
      day_ = day;
    }
    at = copy(at, date_);
    const std::int64_t seconds = ns_of_day / kNsPerSecond;
    at = two_digits(at, seconds / 3600);
    *at++ = ':';
    at = two_digits(at, seconds / 60 % 60);
    *at++ = ':';
    at = two_digits(at, seconds % 60);
    if (const std::int64_t ns = ns_of_day % kNsPerSecond; ns != 0) {
      *at++ = '.';
      std::int64_t rest = ns;
      for (int i = 8; i >= 0; --i, rest /= 10) at[i] = static_cast<char>('0' + rest % 10);
      at += 9;
    }
    *at++ = 'Z';
    return at;
  }

  std::int64_t day_ = 0;
  std::string date_;
  // time_fields()'s text of time_fields_ts_: at most 13 characters of date,
  // 19 of time of day, 10 of key and 20 of digits.
  std::array<char, 96> time_fields_;
  std::size_t time_fields_size_ = 0;
  TimestampNs time_fields_ts_ = 0;
};

}  // namespace blotter::detail
