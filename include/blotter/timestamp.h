// Event time: nanoseconds since the Unix epoch, UTC. Parsed from the data,
// never read from a clock.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace blotter {

using TimestampNs = std::int64_t;

// Parses one of:
//   "2024-03-01"                            midnight UTC of that date
//   "2024-03-01T14:30:00Z", "...T14:30:00.125+02:00", space instead of 'T'
//   "1709301000", "1709301000.5"            seconds since the epoch
// A date-time must carry 'Z' or an offset: a local time without a zone is
// ambiguous and is refused. Returns nullopt and sets `why` on anything else.
std::optional<TimestampNs> parse_timestamp(std::string_view text, std::string* why = nullptr);

// The shape of a parsed timestamp, so a reader can refuse a file that mixes
// shapes ("2024-03-01" on one row, epoch seconds on the next).
enum class TimestampFormat { kDate, kDateTime, kEpochSeconds };
std::optional<TimestampFormat> timestamp_format(std::string_view text);

// The UTC day `ts` falls on (days since 1970-01-01, rounded down, so times
// before 1970 fall on negative days) and the nanoseconds into that day.
struct UtcDayTime {
  std::int64_t day = 0;
  std::int64_t ns_of_day = 0;  // 0 .. 86,399,999,999,999
};
UtcDayTime split_utc_day(TimestampNs ts);

// ISO-8601 UTC text: "2024-03-01T14:30:00Z", with ".123456789" only when
// the nanoseconds are not zero.
std::string format_timestamp(TimestampNs ts);

// "2024-03-01" for the UTC date that contains `ts`.
std::string format_date(TimestampNs ts);

}  // namespace blotter
