#include "blotter/calendar.h"

#include <doctest/doctest.h>

#include <cstdint>
#include <string>

#include "blotter/error.h"

using blotter::Calendar;
using blotter::TimestampNs;

namespace {

constexpr TimestampNs kSec = 1'000'000'000;
constexpr TimestampNs kHour = 3600 * kSec;

TimestampNs ts(const char* text) {
  const auto value = blotter::parse_timestamp(text);
  INFO("text: ", text);
  REQUIRE(value.has_value());
  return *value;
}

std::int32_t day(const char* text) { return Calendar::parse_day(text); }

}  // namespace

TEST_SUITE("calendar") {
  TEST_CASE("UTC day numbers count days since 1970-01-01") {
    const Calendar utc;
    CHECK(utc.zone() == "UTC");
    CHECK(utc.day_of(0) == 0);
    CHECK(utc.day_of(86'400 * kSec - 1) == 0);
    CHECK(utc.day_of(86'400 * kSec) == 1);
    CHECK(utc.day_of(-1) == -1);
    CHECK(utc.day_of(ts("2024-03-01T00:00:00Z")) == 19'783);
    CHECK(utc.day_of(ts("2024-03-01T23:59:59.999999999Z")) == 19'783);
    CHECK(utc.day_of(ts("1969-12-31T00:00:00Z")) == -1);
    CHECK(utc.day_of(ts("1969-12-30T23:59:59Z")) == -2);
  }

  TEST_CASE("UTC days are 24 hours from midnight to midnight") {
    const Calendar utc("UTC");
    const auto [begin, end] = utc.bounds(19'783);
    CHECK(begin == ts("2024-03-01"));
    CHECK(end == ts("2024-03-02"));
    const auto [b0, e0] = utc.bounds(-1);
    CHECK(b0 == -86'400 * kSec);
    CHECK(e0 == 0);
  }

  TEST_CASE("Etc/UTC is UTC") {
    const Calendar etc("Etc/UTC");
    CHECK(etc.zone() == "Etc/UTC");
    CHECK(etc.day_of(ts("2024-03-01T23:59:59Z")) == day("2024-03-01"));
    CHECK(etc.bounds(day("2024-03-01")).first == ts("2024-03-01"));
  }

  TEST_CASE("a New York trading day ends at local midnight, not UTC midnight") {
    const Calendar ny("America/New_York");
    CHECK(ny.zone() == "America/New_York");
    CHECK(ny.day_of(ts("2024-03-01T04:59:59Z")) == day("2024-02-29"));
    CHECK(ny.day_of(ts("2024-03-01T05:00:00Z")) == day("2024-03-01"));
    CHECK(ny.day_of(ts("2024-03-01T04:59:59.999999999Z")) == day("2024-02-29"));
    // In summer New York is UTC-4.
    CHECK(ny.day_of(ts("2024-07-01T03:59:59Z")) == day("2024-06-30"));
    CHECK(ny.day_of(ts("2024-07-01T04:00:00Z")) == day("2024-07-01"));
  }

  TEST_CASE("day_of is right when lookups jump between days in any order") {
    // day_of caches the last day; the cache must not answer for another day.
    const Calendar ny("America/New_York");
    CHECK(ny.day_of(ts("2024-03-01T12:00:00Z")) == day("2024-03-01"));
    CHECK(ny.day_of(ts("2024-03-01T04:00:00Z")) == day("2024-02-29"));
    CHECK(ny.day_of(ts("2024-03-01T13:00:00Z")) == day("2024-03-01"));
    CHECK(ny.day_of(ts("2024-03-02T05:00:00Z")) == day("2024-03-02"));
    CHECK(ny.day_of(ts("2024-03-02T04:59:59Z")) == day("2024-03-01"));
    CHECK(ny.day_of(ts("2020-01-01T12:00:00Z")) == day("2020-01-01"));
  }

  TEST_CASE("bounds of a New York day run from local midnight to local midnight") {
    const Calendar ny("America/New_York");
    const auto [begin, end] = ny.bounds(day("2024-03-01"));
    CHECK(begin == ts("2024-03-01T05:00:00Z"));
    CHECK(end == ts("2024-03-02T05:00:00Z"));
    CHECK(ny.day_of(begin) == day("2024-03-01"));
    CHECK(ny.day_of(end - 1) == day("2024-03-01"));
    CHECK(ny.day_of(end) == day("2024-03-02"));
  }

  TEST_CASE("the day clocks go forward has 23 hours and the day they go back has 25") {
    const Calendar ny("America/New_York");
    const auto [spring_begin, spring_end] = ny.bounds(day("2024-03-10"));
    CHECK(spring_begin == ts("2024-03-10T05:00:00Z"));
    CHECK(spring_end == ts("2024-03-11T04:00:00Z"));
    CHECK(spring_end - spring_begin == 23 * kHour);
    const auto [fall_begin, fall_end] = ny.bounds(day("2024-11-03"));
    CHECK(fall_begin == ts("2024-11-03T04:00:00Z"));
    CHECK(fall_end == ts("2024-11-04T05:00:00Z"));
    CHECK(fall_end - fall_begin == 25 * kHour);
    const auto [b, e] = ny.bounds(day("2024-03-09"));
    CHECK(e - b == 24 * kHour);
  }

  TEST_CASE("a day that begins in a DST gap begins at the first instant after it") {
    // Chile moves clocks from 00:00 to 01:00 on 2024-09-08: there is no local midnight.
    const Calendar santiago("America/Santiago");
    const auto [begin, end] = santiago.bounds(day("2024-09-08"));
    CHECK(begin == ts("2024-09-08T04:00:00Z"));  // 01:00 -03
    CHECK(end == ts("2024-09-09T03:00:00Z"));    // 00:00 -03
    CHECK(santiago.day_of(begin - 1) == day("2024-09-07"));
    CHECK(santiago.day_of(begin) == day("2024-09-08"));
    CHECK(santiago.bounds(day("2024-09-07")).second == begin);
  }

  TEST_CASE("a zone east of UTC starts its day before UTC midnight") {
    const Calendar kolkata("Asia/Kolkata");  // UTC+05:30
    CHECK(kolkata.day_of(ts("2024-02-29T18:29:59Z")) == day("2024-02-29"));
    CHECK(kolkata.day_of(ts("2024-02-29T18:30:00Z")) == day("2024-03-01"));
    CHECK(kolkata.bounds(day("2024-03-01")).first == ts("2024-02-29T18:30:00Z"));
  }

  TEST_CASE("an unknown zone throws ConfigError naming it") {
    try {
      Calendar bad("Mars/Olympus_Mons");
      FAIL("an unknown zone was accepted");
    } catch (const blotter::ConfigError& e) {
      CHECK(std::string(e.what()).find("Mars/Olympus_Mons") != std::string::npos);
    }
    CHECK_THROWS_AS(Calendar(""), blotter::ConfigError);
    CHECK_THROWS_AS(Calendar("america/new_york_city"), blotter::ConfigError);
  }

  TEST_CASE("day_name writes the date of a day number") {
    CHECK(Calendar::day_name(0) == "1970-01-01");
    CHECK(Calendar::day_name(-1) == "1969-12-31");
    CHECK(Calendar::day_name(19'783) == "2024-03-01");
    CHECK(Calendar::day_name(19'782) == "2024-02-29");
  }

  TEST_CASE("parse_day and day_name round trip") {
    CHECK(day("1970-01-01") == 0);
    CHECK(day("2024-03-01") == 19'783);
    CHECK(day("1969-12-31") == -1);
    for (std::int32_t d = -800; d <= 20'000; d += 97) {
      CAPTURE(d);
      CHECK(Calendar::parse_day(Calendar::day_name(d)) == d);
    }
  }

  TEST_CASE("parse_day refuses text that is not a calendar date") {
    for (const std::string text : {"", "2024-02-30", "2023-02-29", "2024-13-01", "2024/03/01",
                                   "24-03-01", "2024-3-1", "2024-03-01T00:00:00Z", "2024-03-01 ",
                                   " 2024-03-01", "1709251200", "abcdefghij", "yesterday"}) {
      CAPTURE(text);
      CHECK_THROWS_AS(Calendar::parse_day(text), blotter::ConfigError);
    }
  }
}
