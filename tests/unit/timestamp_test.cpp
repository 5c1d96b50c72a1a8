#include "blotter/timestamp.h"

#include <doctest/doctest.h>

#include <cstdint>
#include <limits>
#include <string>

using blotter::format_date;
using blotter::format_timestamp;
using blotter::parse_timestamp;
using blotter::TimestampFormat;
using blotter::TimestampNs;

namespace {

constexpr TimestampNs kSec = 1'000'000'000;
constexpr TimestampNs k2024_03_01 = 1'709'251'200 * kSec;  // 2024-03-01T00:00:00Z

// parse_timestamp that must succeed.
TimestampNs ts(const std::string& text) {
  std::string why;
  const auto value = parse_timestamp(text, &why);
  INFO("text: ", text, " why: ", why);
  REQUIRE(value.has_value());
  return *value;
}

// The reason parse_timestamp gives for refusing `text`; empty if it accepted it.
std::string refusal(const std::string& text) {
  std::string why;
  return parse_timestamp(text, &why) ? std::string() : why;
}

}  // namespace

TEST_SUITE("timestamp") {
  TEST_CASE("an ISO date is midnight UTC of that date") {
    CHECK(ts("2024-03-01") == k2024_03_01);
    CHECK(ts("1970-01-01") == 0);
    CHECK(ts("2000-01-01") == 946'684'800 * kSec);
    CHECK(ts("2024-02-29") == k2024_03_01 - 86'400 * kSec);
  }

  TEST_CASE("a date-time with Z is taken as UTC") {
    CHECK(ts("2024-03-01T14:30:00Z") == k2024_03_01 + (14 * 3600 + 30 * 60) * kSec);
    CHECK(ts("2024-03-01T14:30:00z") == ts("2024-03-01T14:30:00Z"));
    CHECK(ts("2024-03-01T00:00:00Z") == k2024_03_01);
    CHECK(ts("2024-03-01T23:59:59Z") == k2024_03_01 + 86'399 * kSec);
  }

  TEST_CASE("a space may separate date and time") {
    CHECK(ts("2024-03-01 14:30:00Z") == ts("2024-03-01T14:30:00Z"));
  }

  TEST_CASE("seconds may be left out") {
    CHECK(ts("2024-03-01T14:30Z") == ts("2024-03-01T14:30:00Z"));
  }

  TEST_CASE("an offset is subtracted to give UTC") {
    CHECK(ts("2024-03-01T14:30:00+02:00") == ts("2024-03-01T12:30:00Z"));
    CHECK(ts("2024-03-01T14:30:00-05:30") == ts("2024-03-01T20:00:00Z"));
    CHECK(ts("2024-03-01T14:30:00-0530") == ts("2024-03-01T20:00:00Z"));
    CHECK(ts("2024-03-01T14:30:00+0200") == ts("2024-03-01T12:30:00Z"));
    CHECK(ts("2024-03-01T14:30:00+00:00") == ts("2024-03-01T14:30:00Z"));
    // An offset can move the instant to another UTC date.
    CHECK(ts("2024-03-01T01:00:00+02:00") == ts("2024-02-29T23:00:00Z"));
  }

  TEST_CASE("fractional seconds keep every digit down to the nanosecond") {
    CHECK(ts("2024-03-01T14:30:00.125Z") - ts("2024-03-01T14:30:00Z") == 125'000'000);
    CHECK(ts("2024-03-01T00:00:00.000000001Z") == k2024_03_01 + 1);
    CHECK(ts("2024-03-01T00:00:00.123456789Z") == k2024_03_01 + 123'456'789);
    CHECK(ts("2024-03-01T14:30:00.125+02:00") == ts("2024-03-01T12:30:00Z") + 125'000'000);
  }

  TEST_CASE("epoch seconds, whole and fractional") {
    CHECK(ts("1709301000") == 1'709'301'000 * kSec);
    CHECK(ts("1709301000.5") == 1'709'301'000 * kSec + 500'000'000);
    CHECK(ts("1709301000.000000001") == 1'709'301'000 * kSec + 1);
    CHECK(ts("0") == 0);
    CHECK(ts("1709251200") == ts("2024-03-01"));
  }

  TEST_CASE("a date-time without a zone is refused as ambiguous") {
    const std::string why = refusal("2024-03-01T14:30:00");
    CHECK(why.find("'Z' or an offset") != std::string::npos);
    CHECK_FALSE(refusal("2024-03-01 14:30").empty());
    CHECK_FALSE(refusal("2024-03-01T14:30:00.5").empty());
  }

  TEST_CASE("a date that is not on the calendar is refused") {
    for (const std::string text : {"2024-13-01", "2024-00-10", "2024-02-30", "2023-02-29",
                                   "2024-04-31", "2024-03-00", "2024-02-30T00:00:00Z"}) {
      CAPTURE(text);
      CHECK_FALSE(refusal(text).empty());
    }
  }

  TEST_CASE("a time of day out of range is refused") {
    for (const std::string text :
         {"2024-03-01T25:00:00Z", "2024-03-01T24:00:00Z", "2024-03-01T14:60:00Z",
          "2024-03-01T14:30:60Z", "2024-03-01T14:30:00+24:00", "2024-03-01T14:30:00+02:60"}) {
      CAPTURE(text);
      CHECK_FALSE(refusal(text).empty());
    }
  }

  TEST_CASE("garbage is refused with a reason") {
    for (const std::string text : {"",
                                   "garbage",
                                   "yesterday",
                                   "2024/03/01",
                                   "2024-3-1",
                                   "01-03-2024",
                                   "2024-03-01T",
                                   "2024-03-01X14:30:00Z",
                                   "2024-03-01T14:30:00Zjunk",
                                   "2024-03-01T14:30:00.Z",
                                   "2024-03-01T14:30:00.1234567890Z",
                                   "2024-03-01T14:30:00+2",
                                   "2024-03-01T1:30:00Z",
                                   "-1",
                                   "1709301000.",
                                   ".5",
                                   "1709301000.5.5",
                                   "1709301000.1234567890",
                                   "17093x1000",
                                   "2024-03-01 "}) {
      CAPTURE(text);
      CHECK_FALSE(refusal(text).empty());
    }
  }

  TEST_CASE("parse without a why pointer still refuses") {
    CHECK_FALSE(parse_timestamp("2024-03-01T14:30:00"));
    CHECK(parse_timestamp("2024-03-01") == k2024_03_01);
  }

  TEST_CASE("a time beyond the nanosecond range is refused rather than wrapped") {
    // int64 nanoseconds cover 1677-09-21T00:12:43.145224192Z .. 2262-04-11T23:47:16.854775807Z.
    CHECK(ts("2262-04-11T23:47:16.854775807Z") == std::numeric_limits<TimestampNs>::max());
    CHECK(ts("1677-09-21T00:12:43.145224192Z") == std::numeric_limits<TimestampNs>::min());
    CHECK(ts("9223372036") == 9'223'372'036 * kSec);
    for (const std::string text :
         {"2262-04-11T23:47:16.854775808Z", "2262-04-12", "2300-01-01", "9999-12-31T23:59:59Z",
          "1677-09-21T00:12:43.145224191Z", "1600-01-01", "0000-01-01", "9223372037", "9999999999",
          "99999999999", "9223372036.854775808", "2262-04-11T23:47:16.854775807-00:01"}) {
      CAPTURE(text);
      CHECK_FALSE(refusal(text).empty());
    }
  }

  TEST_CASE("format_timestamp writes ISO-8601 UTC, nanoseconds only when not zero") {
    CHECK(format_timestamp(0) == "1970-01-01T00:00:00Z");
    CHECK(format_timestamp(k2024_03_01) == "2024-03-01T00:00:00Z");
    CHECK(format_timestamp(k2024_03_01 + 1) == "2024-03-01T00:00:00.000000001Z");
    CHECK(format_timestamp(k2024_03_01 + 125'000'000) == "2024-03-01T00:00:00.125000000Z");
    CHECK(format_timestamp(ts("2024-03-01T14:30:00+02:00")) == "2024-03-01T12:30:00Z");
  }

  TEST_CASE("format_timestamp handles times before 1970") {
    CHECK(format_timestamp(-1) == "1969-12-31T23:59:59.999999999Z");
    CHECK(format_timestamp(-kSec) == "1969-12-31T23:59:59Z");
    CHECK(format_timestamp(-2'208'988'800 * kSec) == "1900-01-01T00:00:00Z");
  }

  TEST_CASE("format_timestamp and parse_timestamp round trip") {
    for (const std::string text :
         {"1970-01-01T00:00:00Z", "2024-03-01T14:30:00Z", "2024-02-29T23:59:59.999999999Z",
          "1969-07-20T20:17:40Z", "1900-01-01T00:00:00.000000001Z", "2004-08-19T00:00:00Z",
          "1677-09-21T00:12:43.145224192Z", "2262-04-11T23:47:16.854775807Z"}) {
      CAPTURE(text);
      CHECK(format_timestamp(ts(text)) == text);
    }
    for (TimestampNs value : {TimestampNs{0}, TimestampNs{-1}, TimestampNs{1},
                              k2024_03_01 + 123'456'789, -2'208'988'800 * kSec + 7}) {
      CAPTURE(value);
      CHECK(ts(format_timestamp(value).c_str()) == value);
    }
  }

  TEST_CASE("format_date gives the UTC date that contains the time") {
    CHECK(format_date(k2024_03_01) == "2024-03-01");
    CHECK(format_date(k2024_03_01 - 1) == "2024-02-29");
    CHECK(format_date(k2024_03_01 + 86'399 * kSec) == "2024-03-01");
    CHECK(format_date(-1) == "1969-12-31");
    CHECK(format_date(0) == "1970-01-01");
  }

  TEST_CASE("timestamp_format tells dates, date-times and epoch seconds apart") {
    CHECK(blotter::timestamp_format("2024-03-01") == TimestampFormat::kDate);
    CHECK(blotter::timestamp_format("2024-03-01T14:30:00Z") == TimestampFormat::kDateTime);
    CHECK(blotter::timestamp_format("2024-03-01 14:30:00+02:00") == TimestampFormat::kDateTime);
    CHECK(blotter::timestamp_format("1709301000") == TimestampFormat::kEpochSeconds);
    CHECK(blotter::timestamp_format("1709301000.5") == TimestampFormat::kEpochSeconds);
    CHECK(blotter::timestamp_format("0") == TimestampFormat::kEpochSeconds);
    CHECK_FALSE(blotter::timestamp_format(""));
    CHECK_FALSE(blotter::timestamp_format("garbage"));
  }

  TEST_CASE("split_utc_day rounds the day down, also before 1970") {
    constexpr std::int64_t kDay = 86'400'000'000'000;
    const auto check = [](TimestampNs ts, std::int64_t day, std::int64_t ns) {
      const blotter::UtcDayTime split = blotter::split_utc_day(ts);
      CHECK(split.day == day);
      CHECK(split.ns_of_day == ns);
    };
    check(0, 0, 0);
    check(kDay - 1, 0, kDay - 1);
    check(kDay, 1, 0);
    check(-1, -1, kDay - 1);
    check(-kDay, -1, 0);
    check(-kDay - 1, -2, kDay - 1);
    check(INT64_MIN, INT64_MIN / kDay - 1, INT64_MIN % kDay + kDay);
  }
}
