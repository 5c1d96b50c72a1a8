// Journals for the audit suites: the GOOG series, a hand-made price path
// whose PnL and drawdown are worked out below, and journals holding hostile
// text for the HTML escaping.
#pragma once

#include <doctest/doctest.h>

#include <nlohmann/json.hpp>
#include <string>

#include "blotter/sqlite_journal.h"
#include "cli_helpers.h"

namespace blotter::testing {

// Minute bars (open = high = low = close) of one symbol over two UTC days.
// Traded with --window 2 --quantity 1, every rise is a long signal and every
// fall an exit, filled at the close. Equity (realized + unrealized PnL):
//
//   2024-01-02  100  102  110  104  106  103  112  115
//     position  -    buy  (rejected) sell buy sell buy (rejected)
//     equity    0    0    8    2    2    -1   -1   2     peak 8, trough -1: drawdown 9
//   2024-01-03  111  113  112  120  125  124
//     position  sell buy  sell buy  (rej.) sell
//     equity    -2   -2   -3   -3   2    1               open 2, trough -3: drawdown 5
//
// Day 1: open 0, close 2 (realized -1, unrealized 3), 5 fills, 2 rejections.
// Day 2: open 2, close 1 (realized 1, unrealized 0), 5 fills, 1 rejection.
inline std::string price_path_csv(const TempDir& dir, const std::string& symbol = "") {
  const char* day1[] = {"100", "102", "110", "104", "106", "103", "112", "115"};
  const char* day2[] = {"111", "113", "112", "120", "125", "124"};
  std::string csv = symbol.empty() ? "timestamp,open,high,low,close,volume\n"
                                   : "timestamp,open,high,low,close,volume,symbol\n";
  const auto row = [&](const std::string& time, const char* price) {
    csv += time + "," + price + "," + price + "," + price + "," + price + ",10" +
           (symbol.empty() ? "" : "," + symbol) + "\n";
  };
  int minute = 30;
  for (const char* p : day1) row("2024-01-02T14:" + std::to_string(minute++) + ":00Z", p);
  minute = 30;
  for (const char* p : day2) row("2024-01-03T14:" + std::to_string(minute++) + ":00Z", p);
  return dir.write(symbol.empty() ? "path.csv" : "path_symbol.csv", csv);
}

inline std::string price_path_journal(const TempDir& dir, const std::string& symbol = "") {
  const std::string db = dir.file(symbol.empty() ? "path.db" : "path_symbol.db");
  const CliResult r = run_cli("run --bars " + quote(price_path_csv(dir, symbol)) +
                              (symbol.empty() ? std::string(" --symbol PATH") : std::string()) +
                              " --journal " + quote(db) + " --window 2 --quantity 1");
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  return db;
}

// Text no journal should be able to smuggle into a page as markup.
inline const std::string kHostileHandler = "<img src=x onerror=\"document.title='pwned'\">";
inline const std::string kHostileError = "</script><script>document.title='pwned'</script>";
inline const std::string kHostileReason = "<!-- & \"quoted\" 'single' -->";

// A journal written through the library by another program: a run, a bar,
// a handler error and a rejection whose texts are markup.
inline std::string hostile_journal(const TempDir& dir) {
  const std::string db = dir.file("hostile.db");
  auto journal = SqliteJournal::open(db, SqliteJournal::Mode::kWrite);
  const TimestampNs ts = 1'704'205'800'000'000'000;  // 2024-01-02T14:30:00Z
  RunStarted manifest;
  manifest.input = "<b>input</b>.csv";
  manifest.tz = "UTC";
  Event run = make_event(ts, "", manifest);
  journal->append(run);
  const Decimal price = Decimal::from_int(100);
  Event bar = make_event(ts, "X", Bar{price, price, price, price, Decimal::from_int(10)});
  journal->append(bar);
  Event error = make_event(ts, "X", HandlerError{kHostileHandler, bar.seq, kHostileError});
  journal->append(error);
  Event rejected = make_event(ts, "X", RiskRejected{Direction::kLong, kHostileReason, bar.seq});
  journal->append(rejected);
  journal->commit();
  return db;
}

// `blotter audit ARGS --format json`, parsed.
inline nlohmann::json audit_json(const std::string& args) {
  const CliResult r = run_cli("audit " + args + " --format json");
  INFO(args, "\n", r.err);
  REQUIRE(r.exit_code == 0);
  return nlohmann::json::parse(r.out);
}

}  // namespace blotter::testing
