#include "blotter/calendar.h"

#include <date/tz.h>
#include <fmt/format.h>

#include <chrono>

#include "blotter/error.h"

namespace blotter {
namespace {

using namespace std::chrono;
constexpr std::int64_t kNsPerDay = 86'400LL * 1'000'000'000;

std::int64_t floor_div(std::int64_t a, std::int64_t b) {
  std::int64_t q = a / b;
  if ((a % b != 0) && ((a < 0) != (b < 0))) --q;
  return q;
}

}  // namespace

Calendar::Calendar(const std::string& zone) : zone_name_(zone) {
  if (zone == "UTC" || zone == "Etc/UTC") return;
  try {
    zone_ = date::locate_zone(zone);
  } catch (const std::exception&) {
    throw ConfigError(
        fmt::format("unknown time zone '{}' (expected an IANA name such as "
                    "America/New_York)",
                    zone));
  }
}

std::pair<TimestampNs, TimestampNs> Calendar::bounds(std::int32_t day) const {
  if (zone_ == nullptr) return {day * kNsPerDay, (day + 1) * kNsPerDay};
  auto start_of = [&](std::int32_t d) {
    const date::local_days local{date::days{d}};
    // A day may start in a gap (a DST change at midnight): take the first instant after it.
    const auto info = zone_->get_info(local);
    sys_seconds begin;
    if (info.result == date::local_info::nonexistent) {
      begin = info.second.begin;
    } else {
      begin = sys_seconds{local.time_since_epoch()} - info.first.offset;
    }
    return static_cast<TimestampNs>(duration_cast<nanoseconds>(begin.time_since_epoch()).count());
  };
  return {start_of(day), start_of(day + 1)};
}

std::int32_t Calendar::look_up_day(TimestampNs ts) const {
  std::int32_t day;
  if (zone_ == nullptr) {
    day = static_cast<std::int32_t>(split_utc_day(ts).day);
  } else {
    const sys_seconds secs{seconds{floor_div(ts, 1'000'000'000)}};
    const auto local = zone_->to_local(secs);
    day = static_cast<std::int32_t>(floor<date::days>(local).time_since_epoch().count());
  }
  const auto [begin, end] = bounds(day);
  cached_day_ = day;
  cached_begin_ = begin;
  cached_end_ = end;
  return day;
}

std::string Calendar::format_local(TimestampNs ts) const {
  if (zone_ == nullptr) return format_timestamp(ts);
  const sys_seconds secs{seconds{floor_div(ts, 1'000'000'000)}};
  const auto offset = zone_->get_info(secs).offset.count();  // seconds east of UTC
  std::string text = format_timestamp(ts + offset * 1'000'000'000);
  text.pop_back();  // the 'Z'
  const auto minutes = (offset < 0 ? -offset : offset) / 60;
  return text + fmt::format("{}{:02}:{:02}", offset < 0 ? '-' : '+', minutes / 60, minutes % 60);
}

std::string Calendar::day_name(std::int32_t day) {
  return format_date(static_cast<TimestampNs>(day) * kNsPerDay);
}

std::int32_t Calendar::parse_day(const std::string& text) {
  std::string why;
  if (text.size() != 10 || timestamp_format(text) != TimestampFormat::kDate)
    throw ConfigError(fmt::format("'{}' is not a date (expected YYYY-MM-DD)", text));
  const auto ts = parse_timestamp(text, &why);
  if (!ts) throw ConfigError(fmt::format("'{}' is not a date: {}", text, why));
  return static_cast<std::int32_t>(split_utc_day(*ts).day);
}

}  // namespace blotter
