#include "blotter/timestamp.h"

#include <fmt/format.h>

#include <chrono>
#include <limits>

namespace blotter {
namespace {

using namespace std::chrono;

constexpr std::int64_t kNsPerSec = 1'000'000'000;

bool fail(std::string* why, const char* message) {
  if (why) *why = message;
  return false;
}

// Reads exactly `width` digits at `pos`.
bool read_fixed(std::string_view s, std::size_t& pos, std::size_t width, int& out) {
  if (pos + width > s.size()) return false;
  int v = 0;
  for (std::size_t k = 0; k < width; ++k) {
    const char c = s[pos + k];
    if (c < '0' || c > '9') return false;
    v = v * 10 + (c - '0');
  }
  pos += width;
  out = v;
  return true;
}

// seconds * 1e9 + frac_ns, or nullopt if that is outside int64 nanoseconds
// (1677-09-21 .. 2262-04-11): a time out of range is refused, never wrapped.
std::optional<TimestampNs> to_ns(std::int64_t seconds, std::int64_t frac_ns, std::string* why) {
  __extension__ typedef __int128 i128;
  const i128 ns = static_cast<i128>(seconds) * kNsPerSec + frac_ns;
  if (ns > std::numeric_limits<TimestampNs>::max() || ns < std::numeric_limits<TimestampNs>::min())
    return fail(why, "outside the range 1677-09-21T00:12:43Z .. 2262-04-11T23:47:16Z"),
           std::nullopt;
  return static_cast<TimestampNs>(ns);
}

bool all_digits(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s)
    if (c < '0' || c > '9') return false;
  return true;
}

std::optional<TimestampNs> parse_epoch(std::string_view text, std::string* why) {
  const auto point = text.find('.');
  const std::string_view whole = text.substr(0, point);
  const std::string_view frac = point == std::string_view::npos ? "" : text.substr(point + 1);
  if (!all_digits(whole) || (point != std::string_view::npos && !all_digits(frac)))
    return fail(why, "not a timestamp"), std::nullopt;
  if (whole.size() > 11) return fail(why, "epoch seconds out of range"), std::nullopt;
  if (frac.size() > 9) return fail(why, "more than 9 fractional digits"), std::nullopt;
  std::int64_t seconds = 0;
  for (char c : whole) seconds = seconds * 10 + (c - '0');
  std::int64_t ns = 0;
  for (std::size_t k = 0; k < 9; ++k) ns = ns * 10 + (k < frac.size() ? frac[k] - '0' : 0);
  return to_ns(seconds, ns, why);
}

}  // namespace

std::optional<TimestampFormat> timestamp_format(std::string_view text) {
  if (text.size() >= 10 && text[4] == '-')
    return text.size() == 10 ? TimestampFormat::kDate : TimestampFormat::kDateTime;
  if (!text.empty() && text[0] >= '0' && text[0] <= '9') return TimestampFormat::kEpochSeconds;
  return std::nullopt;
}

std::optional<TimestampNs> parse_timestamp(std::string_view text, std::string* why) {
  const auto format = timestamp_format(text);
  if (!format) return fail(why, "not a timestamp"), std::nullopt;
  if (*format == TimestampFormat::kEpochSeconds) return parse_epoch(text, why);

  std::size_t pos = 0;
  int y = 0, mo = 0, d = 0;
  if (!read_fixed(text, pos, 4, y) || text[pos++] != '-' || !read_fixed(text, pos, 2, mo) ||
      pos >= text.size() || text[pos++] != '-' || !read_fixed(text, pos, 2, d))
    return fail(why, "not a date (expected YYYY-MM-DD)"), std::nullopt;
  const year_month_day ymd{year{y}, month{static_cast<unsigned>(mo)},
                           day{static_cast<unsigned>(d)}};
  if (!ymd.ok()) return fail(why, "not a calendar date"), std::nullopt;
  // Seconds fit in int64 for any 4-digit year; nanoseconds may not (to_ns checks).
  std::int64_t secs = sys_days{ymd}.time_since_epoch().count() * 86'400LL;
  if (pos == text.size()) return to_ns(secs, 0, why);

  if (text[pos] != 'T' && text[pos] != 't' && text[pos] != ' ')
    return fail(why, "expected 'T' between date and time"), std::nullopt;
  ++pos;
  int h = 0, mi = 0, s = 0;
  if (!read_fixed(text, pos, 2, h) || pos >= text.size() || text[pos++] != ':' ||
      !read_fixed(text, pos, 2, mi))
    return fail(why, "not a time (expected HH:MM[:SS[.fff]])"), std::nullopt;
  if (pos < text.size() && text[pos] == ':') {
    ++pos;
    if (!read_fixed(text, pos, 2, s)) return fail(why, "not a time (bad seconds)"), std::nullopt;
  }
  if (h > 23 || mi > 59 || s > 59) return fail(why, "time of day out of range"), std::nullopt;
  std::int64_t frac_ns = 0;
  if (pos < text.size() && (text[pos] == '.' || text[pos] == ',')) {
    ++pos;
    int places = 0;
    while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') {
      if (++places > 9) return fail(why, "more than 9 fractional digits"), std::nullopt;
      frac_ns = frac_ns * 10 + (text[pos++] - '0');
    }
    if (places == 0) return fail(why, "empty fraction of a second"), std::nullopt;
    for (int k = places; k < 9; ++k) frac_ns *= 10;
  }
  secs += (h * 60LL + mi) * 60 + s;
  if (pos >= text.size())
    return fail(why, "a date-time needs 'Z' or an offset such as +02:00"), std::nullopt;
  if (text[pos] == 'Z' || text[pos] == 'z') {
    ++pos;
  } else if (text[pos] == '+' || text[pos] == '-') {
    const int sign = text[pos++] == '-' ? -1 : 1;
    int oh = 0, om = 0;
    if (!read_fixed(text, pos, 2, oh)) return fail(why, "bad UTC offset"), std::nullopt;
    if (pos < text.size() && text[pos] == ':') ++pos;
    if (pos < text.size() && !read_fixed(text, pos, 2, om))
      return fail(why, "bad UTC offset"), std::nullopt;
    if (oh > 23 || om > 59) return fail(why, "UTC offset out of range"), std::nullopt;
    secs -= sign * (oh * 60LL + om) * 60;
  } else {
    return fail(why, "a date-time needs 'Z' or an offset such as +02:00"), std::nullopt;
  }
  if (pos != text.size()) return fail(why, "unexpected text after the timestamp"), std::nullopt;
  return to_ns(secs, frac_ns, why);
}

UtcDayTime split_utc_day(TimestampNs ts) {
  // Integer floor division: chrono's floor<days> converts the day back to
  // nanoseconds, which overflows near the earliest representable time.
  constexpr std::int64_t kNsPerDay = 86'400 * kNsPerSec;
  UtcDayTime split{ts / kNsPerDay, ts % kNsPerDay};
  if (split.ns_of_day < 0) {
    --split.day;
    split.ns_of_day += kNsPerDay;
  }
  return split;
}

std::string format_timestamp(TimestampNs ts) {
  const auto [day_count, ns_of_day] = split_utc_day(ts);
  const year_month_day ymd{sys_days{days(day_count)}};
  const hh_mm_ss<nanoseconds> tod{nanoseconds{ns_of_day}};
  std::string out =
      fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}", static_cast<int>(ymd.year()),
                  static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()),
                  tod.hours().count(), tod.minutes().count(), tod.seconds().count());
  if (tod.subseconds().count() != 0) out += fmt::format(".{:09}", tod.subseconds().count());
  out += 'Z';
  return out;
}

std::string format_date(TimestampNs ts) { return format_timestamp(ts).substr(0, 10); }

}  // namespace blotter
