// Trading days: the boundary at which daily PnL and the daily loss limit reset.
#pragma once

#include <cstdint>
#include <string>
#include <utility>

#include "blotter/timestamp.h"

namespace date {
class time_zone;
}

namespace blotter {

// A trading day is a calendar date in one IANA time zone; the day number is
// that local date counted in days since 1970-01-01. Time-zone rules come from
// the system's tz database (Debian's tzdata) through Howard Hinnant's date
// library. Not thread-safe: day_of() caches the day last looked up.
class Calendar {
 public:
  // Throws blotter::ConfigError for a zone name the tz database does not know.
  explicit Calendar(const std::string& zone = "UTC");

  const std::string& zone() const { return zone_name_; }

  // The trading day containing event time `ts`.
  std::int32_t day_of(TimestampNs ts) const {
    // Events come in time order: most fall in the day looked up last.
    if (ts >= cached_begin_ && ts < cached_end_) return cached_day_;
    return look_up_day(ts);
  }
  // [first ns, first ns of the next day) of trading day `day`, in UTC ns.
  std::pair<TimestampNs, TimestampNs> bounds(std::int32_t day) const;
  // Event time `ts` as the zone's local time in ISO 8601 with its UTC offset,
  // "2024-01-08T09:30:00-05:00" (format_timestamp's text in UTC).
  std::string format_local(TimestampNs ts) const;
  // "YYYY-MM-DD" of trading day `day`.
  static std::string day_name(std::int32_t day);
  // Parses "YYYY-MM-DD" into a day number; throws blotter::ConfigError.
  static std::int32_t parse_day(const std::string& text);

 private:
  std::int32_t look_up_day(TimestampNs ts) const;  // and caches its bounds

  std::string zone_name_;
  const date::time_zone* zone_ = nullptr;  // nullptr: UTC
  mutable std::int32_t cached_day_ = 0;
  mutable TimestampNs cached_begin_ = 1;  // empty cache: begin > end
  mutable TimestampNs cached_end_ = 0;
};

}  // namespace blotter
