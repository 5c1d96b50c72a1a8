// The audit report through the CLI, checked against SQL and against
// `blotter state`, on the GOOG series and on a hand-made price path.
#include "blotter/audit.h"

#include <doctest/doctest.h>
#include <fmt/format.h>
#include <sys/stat.h>

#include <algorithm>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "audit_fixtures.h"
#include "blotter/calendar.h"
#include "blotter/terminal_text.h"
#include "test_support.h"

using namespace blotter::testing;
using blotter::Decimal;
using Json = nlohmann::json;

namespace {

Decimal dec(const Json& v) { return Decimal::from_string(v.get<std::string>()); }

std::vector<std::string> strings(const std::string& db, const std::string& sql) {
  SQLite::Database d(db, SQLite::OPEN_READONLY);
  SQLite::Statement q(d, sql);
  std::vector<std::string> out;
  while (q.executeStep()) out.push_back(q.getColumn(0).getString());
  return out;
}

// `blotter state DB --at AT --format json`, parsed.
Json state_at(const std::string& db, const std::string& at) {
  const CliResult r = run_cli("state " + quote(db) + " --at " + at + " --format json");
  REQUIRE(r.exit_code == 0);
  return Json::parse(r.out);
}

std::string day_before(const std::string& day) {
  return blotter::Calendar::day_name(blotter::Calendar::parse_day(day) - 1);
}

// Days of the GOOG journal with fills, spread over the series.
std::vector<std::string> fill_days() {
  return strings(goog_journal(),
                 "SELECT day FROM (SELECT day, row_number() OVER (ORDER BY day) AS n "
                 "FROM (SELECT DISTINCT date(time) AS day FROM fills)) WHERE n % 9 = 1");
}

}  // namespace

TEST_SUITE("audit") {
  TEST_CASE("the audit of a day lists each fill with its order, as the fills view has them") {
    const std::string& db = goog_journal();
    const auto days = fill_days();
    REQUIRE(days.size() >= 5);
    SQLite::Database d(db, SQLite::OPEN_READONLY);
    for (const std::string& day : days) {
      CAPTURE(day);
      const Json j = audit_json(quote(db) + " --day " + day);
      SQLite::Statement q(d,
                          "SELECT f.seq, f.side, json_extract(e.payload, '$.price'), f.order_seq, "
                          "json_extract(o.payload, '$.price') FROM fills f "
                          "JOIN events e ON e.seq = f.seq JOIN events o ON o.seq = f.order_seq "
                          "WHERE date(f.time) = ? ORDER BY f.seq");
      q.bind(1, day);
      std::size_t i = 0;
      for (; q.executeStep(); ++i) {
        REQUIRE(i < j["fills"].size());
        const Json& fill = j["fills"][i];
        CHECK(fill["seq"] == q.getColumn(0).getInt64());
        CHECK(fill["side"] == q.getColumn(1).getString());
        CHECK(fill["price"] == q.getColumn(2).getString());
        CHECK(fill["order_seq"] == q.getColumn(3).getInt64());
        CHECK(fill["order_price"] == q.getColumn(4).getString());
        CHECK(fill["signal_reason"].get<std::string>().find("crossed") != std::string::npos);
      }
      CHECK(i == j["fills"].size());
      CHECK(i > 0);

      const CliResult text = run_cli("audit " + quote(db) + " --day " + day);
      REQUIRE(text.exit_code == 0);
      CHECK(text.out.find(fmt::format("fills ({}):", i)) != std::string::npos);
      CHECK(text.out.find(fmt::format("#{}", j["fills"][0]["seq"].get<std::int64_t>())) !=
            std::string::npos);
    }
  }

  TEST_CASE("a day closes with the state at that day and opens with the state at the one before") {
    const std::string& db = goog_journal();
    auto days = fill_days();
    days.push_back("2006-09-11");  // a rejection, no fill
    days.push_back("2004-08-19");  // the run's first day: opens empty
    for (const std::string& day : days) {
      CAPTURE(day);
      const Json j = audit_json(quote(db) + " --day " + day);
      const Json close = state_at(db, day);
      const Json open = state_at(db, day_before(day));
      CHECK(j["close"]["realized_pnl"] == close["realized_pnl"]);
      CHECK(j["close"]["unrealized_pnl"] == close["unrealized_pnl"]);
      CHECK(j["close"]["seq"] == close["seq"]);
      CHECK(j["open"]["realized_pnl"] == open["realized_pnl"]);
      CHECK(j["open"]["unrealized_pnl"] == open["unrealized_pnl"]);
      CHECK(dec(j["pnl"]["total"]) == dec(close["realized_pnl"]) + dec(close["unrealized_pnl"]) -
                                          dec(open["realized_pnl"]) - dec(open["unrealized_pnl"]));
      // The day's PnL as the portfolio keeps it per trading day agrees.
      for (const Json& d : close["days"])
        if (d["day"] == day) CHECK(d["pnl"] == j["pnl"]["total"]);
    }
  }

  TEST_CASE("the counts by type are the day's rows in the events table") {
    const std::string& db = goog_journal();
    auto days = fill_days();
    days.push_back("2004-08-19");  // with the RUN_STARTED
    days.push_back("2008-10-14");  // with the RUN_FINISHED
    for (const std::string& day : days) {
      CAPTURE(day);
      const Json j = audit_json(quote(db) + " --day " + day);
      const std::int64_t begin = blotter::Calendar::parse_day(day) * 86'400'000'000'000;
      SQLite::Database d(db, SQLite::OPEN_READONLY);
      SQLite::Statement q(d,
                          "SELECT type, count(*), min(seq), max(seq) FROM events "
                          "WHERE ts_ns >= ?1 AND ts_ns < ?1 + 86400000000000 GROUP BY type");
      q.bind(1, static_cast<std::int64_t>(begin));
      std::size_t types = 0;
      while (q.executeStep()) {
        ++types;
        CHECK(j["events"][q.getColumn(0).getString()] == q.getColumn(1).getInt64());
      }
      CHECK(j["events"].size() == types);
      CHECK(j["first_seq"] == count(db, fmt::format("SELECT min(seq) FROM events WHERE ts_ns "
                                                    ">= {0} AND ts_ns < {0} + 86400000000000",
                                                    begin)));
      CHECK(j["last_seq"] == count(db, fmt::format("SELECT max(seq) FROM events WHERE ts_ns "
                                                   ">= {0} AND ts_ns < {0} + 86400000000000",
                                                   begin)));
    }
  }

  TEST_CASE("the rows of a range sum to the change of the state's PnL over it") {
    const std::string& db = goog_journal();
    for (const auto& [from, to] :
         std::vector<std::pair<std::string, std::string>>{{"2006-01-01", "2006-06-30"},
                                                          {"2004-08-19", "2005-03-31"},
                                                          {"2008-01-01", "2008-10-14"}}) {
      CAPTURE(from);
      const Json j = audit_json(quote(db) + " --from " + from + " --to " + to);
      Decimal realized, unrealized, total;
      std::int64_t fills = 0, rejections = 0;
      for (const Json& d : j["days"]) {
        realized += dec(d["realized_pnl"]);
        unrealized += dec(d["unrealized_pnl"]);
        total += dec(d["pnl"]);
        fills += d["fills"].get<std::int64_t>();
        rejections += d["rejections"].get<std::int64_t>();
      }
      const Json open = state_at(db, day_before(from));
      const Json close = state_at(db, to);
      CHECK(realized == dec(close["realized_pnl"]) - dec(open["realized_pnl"]));
      CHECK(unrealized == dec(close["unrealized_pnl"]) - dec(open["unrealized_pnl"]));
      CHECK(total == dec(j["pnl"]["total"]));
      CHECK(j["close"]["equity"].get<std::string>() ==
            (dec(close["realized_pnl"]) + dec(close["unrealized_pnl"])).to_string());
      const std::string where =
          fmt::format("WHERE time >= '{}' AND time < '{}T99'", from, to);  // whole days, UTC
      CHECK(static_cast<std::int64_t>(j["days"].size()) ==
            count(db, "SELECT count(DISTINCT date(time)) FROM timeline " + where));
      CHECK(fills == count(db, "SELECT count(*) FROM fills " + where));
      CHECK(rejections == count(db, "SELECT count(*) FROM rejections " + where));
    }
    const CliResult text = run_cli("audit " + quote(db) + " --from 2006-01-01 --to 2006-06-30");
    REQUIRE(text.exit_code == 0);
    CHECK(text.out.find("2006-03-01") != std::string::npos);
    CHECK(text.out.find("total") != std::string::npos);
  }

  TEST_CASE("drawdown on a hand-made price path is the one worked out by hand") {
    TempDir dir;
    const std::string db = price_path_journal(dir);
    const Json day1 = audit_json(quote(db) + " --day 2024-01-02");
    CHECK(day1["open"]["equity"] == "0");
    CHECK(day1["close"]["realized_pnl"] == "-1");
    CHECK(day1["close"]["unrealized_pnl"] == "3");
    CHECK(day1["fills"].size() == 5);
    CHECK(day1["rejections"].size() == 2);
    CHECK(day1["max_drawdown"]["amount"] == "9");
    CHECK(day1["max_drawdown"]["peak"] == "8");
    CHECK(day1["max_drawdown"]["trough"] == "-1");
    CHECK(day1["max_drawdown"]["peak_time"] == "2024-01-02T14:32:00Z");
    CHECK(day1["max_drawdown"]["trough_time"] == "2024-01-02T14:35:00Z");

    // Day 2 opens at 2 and never regains it: the open is the peak.
    const Json day2 = audit_json(quote(db) + " --day 2024-01-03");
    CHECK(day2["open"]["equity"] == "2");
    CHECK(day2["close"]["equity"] == "1");
    CHECK(day2["pnl"]["realized"] == "2");
    CHECK(day2["pnl"]["unrealized"] == "-3");
    CHECK(day2["fills"].size() == 5);
    CHECK(day2["max_drawdown"]["amount"] == "5");
    CHECK(day2["max_drawdown"]["peak_seq"] == 0);
    CHECK(day2["max_drawdown"]["trough"] == "-3");
    CHECK(day2["max_drawdown"]["trough_time"] == "2024-01-03T14:32:00Z");

    const Json range = audit_json(quote(db) + " --from 2024-01-01 --to 2024-01-31");
    REQUIRE(range["days"].size() == 2);
    CHECK(range["days"][0]["pnl"] == "2");
    CHECK(range["days"][0]["max_drawdown"] == "9");
    CHECK(range["days"][1]["pnl"] == "-1");
    CHECK(range["days"][1]["max_drawdown"] == "5");
    CHECK(range["pnl"]["total"] == "1");

    const CliResult text = run_cli("audit " + quote(db) + " --day 2024-01-02");
    CHECK(text.out.find("max drawdown 9: equity 8") != std::string::npos);
  }

  TEST_CASE("regression: a range's drawdown is its own peak to trough, with a totals row") {
    TempDir dir;
    const std::string db = price_path_journal(dir);
    // Peak 8 on day 1 (14:32), trough -3 on day 2 (14:32): 11, more than
    // either day's own drawdown (9 and 5).
    const Json range = audit_json(quote(db) + " --from 2024-01-01 --to 2024-01-31");
    CHECK(range["max_drawdown"]["amount"] == "11");
    CHECK(range["max_drawdown"]["peak"] == "8");
    CHECK(range["max_drawdown"]["peak_time"] == "2024-01-02T14:32:00Z");
    CHECK(range["max_drawdown"]["trough"] == "-3");
    CHECK(range["max_drawdown"]["trough_time"] == "2024-01-03T14:32:00Z");
    CHECK(range["totals"]["max_drawdown"] == "11");
    CHECK(range["totals"]["pnl"] == "1");
    CHECK(range["totals"]["realized_pnl"] == "1");
    CHECK(range["totals"]["unrealized_pnl"] == "0");
    CHECK(range["totals"]["equity"] == "1");
    CHECK(range["totals"]["fills"] == 10);
    CHECK(range["totals"]["rejections"] == 3);
    const CliResult text =
        run_cli("audit " + quote(db) + " --from 2024-01-01 --to 2024-01-31 --html " +
                quote(dir.file("range.html")));
    REQUIRE(text.exit_code == 0);
    const auto total = text.out.find("  total ");
    REQUIRE(total != std::string::npos);
    const std::string total_line = text.out.substr(total, text.out.find('\n', total) - total);
    CHECK(total_line.find(" 11 ") != std::string::npos);
    CHECK(text.out.find("max drawdown 11: equity 8") != std::string::npos);
    const std::string html = read_file(dir.file("range.html"));
    const auto foot = html.find("<tfoot>");
    REQUIRE(foot != std::string::npos);
    const std::string foot_row = html.substr(foot, html.find("</tfoot>") - foot);
    CHECK(foot_row.find(">total<") != std::string::npos);
    CHECK(foot_row.find("<td class=\"num\">11</td>") != std::string::npos);

    // On GOOG's daily bars (no commission: a fill at the close leaves equity
    // as it is) equity moves once a day, so the range's drawdown follows from
    // the daily rows alone: the running peak of the closes, from the open.
    const std::string& goog = goog_journal();
    bool deeper_than_any_day = false;
    for (const auto& [from, to] : std::vector<std::pair<std::string, std::string>>{
             {"2006-01-01", "2006-06-30"}, {"2007-06-01", "2008-10-14"}}) {
      CAPTURE(from);
      const Json j = audit_json(quote(goog) + " --from " + from + " --to " + to);
      Decimal peak = dec(j["open"]["equity"]), worst, worst_day, realized, unrealized;
      std::int64_t events = 0;
      for (const Json& d : j["days"]) {
        const Decimal equity = dec(d["equity"]);
        peak = std::max(peak, equity);
        worst = std::max(worst, peak - equity);
        worst_day = std::max(worst_day, dec(d["max_drawdown"]));
        realized += dec(d["realized_pnl"]);
        unrealized += dec(d["unrealized_pnl"]);
        events += d["events"].get<std::int64_t>();
      }
      CHECK(dec(j["max_drawdown"]["amount"]) == worst);
      CHECK(dec(j["totals"]["max_drawdown"]) == worst);
      CHECK(dec(j["max_drawdown"]["peak"]) - dec(j["max_drawdown"]["trough"]) == worst);
      CHECK(dec(j["totals"]["realized_pnl"]) == realized);
      CHECK(dec(j["totals"]["unrealized_pnl"]) == unrealized);
      CHECK(dec(j["totals"]["pnl"]) == dec(j["pnl"]["total"]));
      CHECK(j["totals"]["events"] == events);
      if (worst > worst_day) deeper_than_any_day = true;
    }
    CHECK(deeper_than_any_day);
  }

  TEST_CASE("signals show what became of them") {
    TempDir dir;
    const std::string db = price_path_journal(dir);
    const Json day1 = audit_json(quote(db) + " --day 2024-01-02");
    // 7 signals: 5 orders, 2 refused; none ignored.
    REQUIRE(day1["signals"].size() == 7);
    std::int64_t ordered = 0, rejected = 0;
    for (const Json& s : day1["signals"]) {
      if (!s["order_seq"].is_null()) ++ordered;
      if (!s["rejected"].is_null()) ++rejected;
    }
    CHECK(ordered == 5);
    CHECK(rejected == 2);
  }

  TEST_CASE("a day is the trading day of the run's time zone") {
    TempDir dir;
    const std::string db = dir.file("ny.db");
    REQUIRE(run_cli("run --bars " + quote(synthetic_bars(dir, "bars.csv", 1440, 2)) +
                    " --journal " + quote(db) + " --tz America/New_York --window 5")
                .exit_code == 0);
    const Json j = audit_json(quote(db) + " --day 2024-01-02");
    CHECK(j["tz"] == "America/New_York");
    CHECK(j["begin"] == "2024-01-02T05:00:00Z");
    CHECK(j["end"] == "2024-01-03T05:00:00Z");
    CHECK(j["symbols"] == Json::array({"S0", "S1"}));
    const std::int64_t in_day = count(
        db, "SELECT count(*) FROM events WHERE ts_ns < 1704258000000000000");  // before 05:00Z
    std::int64_t counted = 0;
    for (const auto& [type, n] : j["events"].items()) counted += n.get<std::int64_t>();
    CHECK(counted == in_day);
    const Json state = state_at(db, "2024-01-02");
    CHECK(j["close"]["realized_pnl"] == state["realized_pnl"]);
    CHECK(j["close"]["unrealized_pnl"] == state["unrealized_pnl"]);
    // The next day opens where this one closed.
    const Json next = audit_json(quote(db) + " --day 2024-01-03");
    CHECK(next["open"]["equity"] == j["close"]["equity"]);
  }

  TEST_CASE("a day without events, a bad date and conflicting options are refused") {
    const std::string& db = goog_journal();
    const CliResult weekend = run_cli("audit " + quote(db) + " --day 2006-09-09");
    CHECK(weekend.exit_code == 2);
    CHECK(weekend.err.find("no events on the trading day 2006-09-09") != std::string::npos);
    CHECK(run_cli("audit " + quote(db) + " --day 2006-13-01").exit_code == 2);
    CHECK(run_cli("audit " + quote(db) + " --day 2006-09-11 --from 2006-09-01").exit_code != 0);
    CHECK(run_cli("audit " + quote(db)).exit_code == 2);
    CHECK(run_cli("audit " + quote(db) + " --from 2007-01-01 --to 2006-01-01").exit_code == 2);
    CHECK(run_cli("audit " + quote(db) + " --day 2006-09-11 --run 5").exit_code == 2);
    CHECK(run_cli("audit " + quote(db) + " --day 2006-09-11 --run 1").exit_code == 0);
  }

  TEST_CASE("with two runs in a journal the latest run with events on the day is audited") {
    TempDir dir;
    const std::string db = price_path_journal(dir);
    // A second run of other options over the same days: its own books.
    REQUIRE(run_cli("run --bars " + quote(price_path_csv(dir)) + " --symbol PATH --journal " +
                    quote(db) + " --window 3 --quantity 1")
                .exit_code == 0);
    const auto runs = strings(db, "SELECT seq FROM runs ORDER BY seq");
    REQUIRE(runs.size() == 2);
    const Json latest = audit_json(quote(db) + " --day 2024-01-02");
    CHECK(latest["run_seq"] == std::stoll(runs[1]));
    CHECK(latest["open"]["equity"] == "0");  // a new run starts with empty books
    const Json first = audit_json(quote(db) + " --day 2024-01-02 --run " + runs[0]);
    CHECK(first["run_seq"] == std::stoll(runs[0]));
    CHECK(first["max_drawdown"]["amount"] == "9");
    CHECK(first["last_seq"].get<std::int64_t>() < std::stoll(runs[1]));
  }

  TEST_CASE("a day's annotations are listed beside the events they are about") {
    TempDir dir;
    const std::string db = dir.file("notes.db");
    REQUIRE(run_cli("run --bars " + quote(goog_csv()) + " --symbol GOOG --quantity 1 --journal " +
                    quote(db))
                .exit_code == 0);
    const std::string day = "2007-05-03";
    const auto fill = count(db, "SELECT min(seq) FROM fills WHERE date(time) = '" + day + "'");
    REQUIRE(fill > 0);
    const std::string before = audit_json(quote(db) + " --day " + day).dump();
    REQUIRE(run_cli("annotate " + quote(db) + " --seq " + std::to_string(fill) +
                    " 'entry looks late' --tag review")
                .exit_code == 0);
    REQUIRE(run_cli("annotate " + quote(db) + " --day " + day + " 'earnings day'").exit_code == 0);
    REQUIRE(run_cli("annotate " + quote(db) + " --day 2007-05-04 'not this day'").exit_code == 0);
    const Json j = audit_json(quote(db) + " --day " + day);
    REQUIRE(j["annotations"].size() == 2);
    CHECK(j["annotations"][0]["refers_to_seq"] == fill);
    CHECK(j["annotations"][0]["tag"] == "review");
    CHECK(j["annotations"][0]["text"] == "entry looks late");
    CHECK(j["annotations"][1]["refers_to_seq"] == 0);
    CHECK(j["annotations"][1]["text"] == "earnings day");
    // Nothing else about the day changes.
    Json without = j;
    without["annotations"] = Json::array();
    CHECK(j["events"]["ANNOTATION"] == 2);
    without["events"].erase("ANNOTATION");
    Json plain = Json::parse(before);
    CHECK_FALSE(plain["events"].contains("ANNOTATION"));
    CHECK(without == plain);
    const CliResult text = run_cli("audit " + quote(db) + " --day " + day);
    CHECK(text.out.find("entry looks late") != std::string::npos);
    CHECK(text.out.find("the day") != std::string::npos);
    CHECK(text.out.find("not this day") == std::string::npos);
  }

  TEST_CASE("regression: audit text escapes control characters of annotations") {
    TempDir dir;
    const std::string db = price_path_journal(dir);
    REQUIRE(run_cli("annotate " + quote(db) + " --day 2024-01-02 " +
                    quote("note\x1b[2J\x07 with \xe2\x82\xac") + " --tag " + quote("t\x1b]0;x\x07"))
                .exit_code == 0);
    const CliResult r = run_cli("audit " + quote(db) + " --day 2024-01-02");
    REQUIRE(r.exit_code == 0);
    CHECK(r.out.find('\x1b') == std::string::npos);
    CHECK(r.out.find('\x07') == std::string::npos);
    CHECK(r.out.find("note\\x1B[2J\\x07 with \xe2\x82\xac") != std::string::npos);
    CHECK(r.out.find("t\\x1B]0;x\\x07") != std::string::npos);
    // The JSON report keeps the text exact (escaped as JSON).
    const Json j = audit_json(quote(db) + " --day 2024-01-02");
    REQUIRE(j["annotations"].size() == 1);
    CHECK(j["annotations"][0]["text"] == "note\x1b[2J\x07 with \xe2\x82\xac");
  }

  TEST_CASE("audit text tables align by display width") {
    TempDir dir;
    const std::string db = price_path_journal(dir);
    REQUIRE(run_cli("annotate " + quote(db) + " --day 2024-01-02 x --tag " +
                    quote("\xe6\xa0\xaa\xe5\xbc\x8f"))
                .exit_code == 0);
    REQUIRE(run_cli("annotate " + quote(db) + " --day 2024-01-02 y --tag abcdef").exit_code == 0);
    const CliResult r = run_cli("audit " + quote(db) + " --day 2024-01-02");
    REQUIRE(r.exit_code == 0);
    // The text column starts at the same display column on both rows: the
    // wide tag (4 columns, 6 bytes) is padded like "abcdef".
    const auto wide = r.out.find("\xe6\xa0\xaa\xe5\xbc\x8f");
    const auto narrow = r.out.find("abcdef");
    REQUIRE(wide != std::string::npos);
    REQUIRE(narrow != std::string::npos);
    const auto line_of = [&](std::size_t at) {
      const auto begin = r.out.rfind('\n', at) + 1;
      return r.out.substr(begin, r.out.find('\n', at) - begin);
    };
    const std::string a = line_of(wide), b = line_of(narrow);
    CHECK(blotter::display_width(a.substr(0, a.rfind(' ') + 1)) ==
          blotter::display_width(b.substr(0, b.rfind(' ') + 1)));
  }

  TEST_CASE("regression: a day whose only event is an annotation reports the books of that day") {
    TempDir dir;
    const std::string db = dir.file("saturday.db");
    REQUIRE(run_cli("run --bars " + quote(goog_csv()) + " --symbol GOOG --quantity 1 --journal " +
                    quote(db))
                .exit_code == 0);
    REQUIRE(run_cli("annotate " + quote(db) + " --day 2007-05-05 'Saturday note'").exit_code == 0);
    const Json j = audit_json(quote(db) + " --day 2007-05-05");
    // No trading events: the books stand as `state --at` that day has them, all day.
    CHECK(j["first_seq"] == 0);
    CHECK(j["last_seq"] == 0);
    CHECK(j["events"] == Json{{"ANNOTATION", 1}});
    REQUIRE(j["annotations"].size() == 1);
    CHECK(j["annotations"][0]["text"] == "Saturday note");
    const Json state = state_at(db, "2007-05-05");
    const auto friday = count(db,
                              "SELECT max(seq) FROM timeline WHERE type <> 'ANNOTATION' AND "
                              "time < '2007-05-05'");
    CHECK(state["seq"] == friday);
    for (const char* side : {"open", "close"}) {
      CAPTURE(side);
      CHECK(j[side]["seq"] == state["seq"]);
      CHECK(j[side]["realized_pnl"] == state["realized_pnl"]);
      CHECK(j[side]["unrealized_pnl"] == state["unrealized_pnl"]);
      CHECK(j[side]["positions"][0]["quantity"] == state["positions"][0]["quantity"]);
    }
    CHECK(j["pnl"]["total"] == "0");
    CHECK(j["max_drawdown"]["amount"] == "0");
    CHECK(j["fills"].empty());
    const CliResult text = run_cli("audit " + quote(db) + " --day 2007-05-05");
    CHECK(text.exit_code == 0);
    CHECK(text.out.find("no trading events on this day") != std::string::npos);
    CHECK(text.out.find("Saturday note") != std::string::npos);
    CHECK(text.out.find("events seq") == std::string::npos);
    CHECK(run_cli("audit " + quote(db) + " --day 2007-05-05 --html " + quote(dir.file("s.html")))
              .exit_code == 0);
    // A day with neither trading events nor annotations is still refused.
    CHECK(run_cli("audit " + quote(db) + " --day 2007-05-06").exit_code == 2);
    // A trading day and its neighbours are not moved by the note at the journal's end.
    const Json friday_report = audit_json(quote(db) + " --day 2007-05-04");
    CHECK(friday_report["last_seq"] == friday);
    const Json range = audit_json(quote(db) + " --from 2007-05-01 --to 2007-05-10");
    CHECK(static_cast<std::int64_t>(range["days"].size()) ==
          count(db,
                "SELECT count(DISTINCT date(time)) FROM bars WHERE time >= '2007-05-01' AND "
                "time < '2007-05-11'"));
    CHECK(range["last_seq"].get<std::int64_t>() <
          count(db, "SELECT max(seq) FROM events WHERE type <> 'ANNOTATION'"));
  }

  TEST_CASE("the HTML report is one file that needs no network") {
    const std::string& db = goog_journal();
    TempDir dir;
    const std::string html = dir.file("day.html");
    const CliResult r = run_cli("audit " + quote(db) + " --day 2006-09-11 --html " + quote(html));
    REQUIRE(r.exit_code == 0);
    const std::string page = read_file(html);
    CHECK(page.rfind("<!DOCTYPE html>", 0) == 0);
    CHECK(page.find("Chart.js v3") != std::string::npos);
    for (const char* remote : {"src=\"http", "href=\"http", "url(http", "<script src", "@import"})
      CHECK(page.find(remote) == std::string::npos);
    CHECK(page.find("<link") == std::string::npos);
    CHECK(page.find("id=\"render-check\"") != std::string::npos);
    CHECK(page.find("GOOG") != std::string::npos);
    CHECK(page.find("position limit") != std::string::npos);

    const std::string range_html = dir.file("range.html");
    REQUIRE(run_cli("audit " + quote(db) + " --from 2006-01-01 --to 2006-12-31 --html " +
                    quote(range_html))
                .exit_code == 0);
    const std::string range_page = read_file(range_html);
    CHECK(range_page.find("id=\"daily-pnl\"") != std::string::npos);
    CHECK(range_page.find("2006-12-29") != std::string::npos);
  }

  TEST_CASE("a hostile symbol is escaped in the HTML and in its JSON") {
    TempDir dir;
    const std::string symbol = "</script><b>&'x";
    const std::string db = price_path_journal(dir, symbol);
    const std::string html = dir.file("day.html");
    REQUIRE(run_cli("audit " + quote(db) + " --day 2024-01-02 --html " + quote(html)).exit_code ==
            0);
    const std::string page = read_file(html);
    CHECK(page.find(symbol) == std::string::npos);
    CHECK(page.find("&lt;/script&gt;&lt;b&gt;&amp;&#39;x") != std::string::npos);
    CHECK(page.find("\\u003c/script\\u003e\\u003cb\\u003e\\u0026'x") != std::string::npos);
    const auto occurrences = [&](const std::string& needle) {
      std::size_t n = 0;
      for (auto at = page.find(needle); at != std::string::npos; at = page.find(needle, at + 1))
        ++n;
      return n;
    };
    CHECK(occurrences("<script") == occurrences("</script>"));
    CHECK(page.find("<b>&") == std::string::npos);
  }

  TEST_CASE("handler errors and reasons from any writer are listed and escaped") {
    TempDir dir;
    const std::string db = hostile_journal(dir);
    const Json j = audit_json(quote(db) + " --day 2024-01-02");
    REQUIRE(j["handler_errors"].size() == 1);
    CHECK(j["handler_errors"][0]["error"] == kHostileError);
    CHECK(j["handler_errors"][0]["handler"] == kHostileHandler);
    REQUIRE(j["rejections"].size() == 1);
    CHECK(j["rejections"][0]["reason"] == kHostileReason);
    const CliResult text = run_cli("audit " + quote(db) + " --day 2024-01-02");
    CHECK(text.out.find("handler errors (1):") != std::string::npos);
    CHECK(text.out.find(kHostileError) != std::string::npos);

    const std::string html = dir.file("day.html");
    REQUIRE(run_cli("audit " + quote(db) + " --day 2024-01-02 --html " + quote(html)).exit_code ==
            0);
    const std::string page = read_file(html);
    for (const std::string& hostile : {kHostileError, kHostileHandler, kHostileReason}) {
      CAPTURE(hostile);
      CHECK(page.find(hostile) == std::string::npos);
    }
    CHECK(page.find("&lt;/script&gt;&lt;script&gt;document.title=&#39;pwned&#39;&lt;/script&gt;") !=
          std::string::npos);
    CHECK(page.find("&lt;!-- &amp; &quot;quoted&quot; &#39;single&#39; --&gt;") !=
          std::string::npos);
    CHECK(page.find("&lt;b&gt;input&lt;/b&gt;.csv") != std::string::npos);
  }

  TEST_CASE("audit writes nothing to the journal") {
    TempDir dir;
    const std::string db = price_path_journal(dir);
    const auto before = count(db, "SELECT count(*) FROM events");
    const auto snapshots = count(db, "SELECT count(*) FROM snapshots");
    run_cli("audit " + quote(db) + " --day 2024-01-02 --html " + quote(dir.file("a.html")));
    run_cli("audit " + quote(db) + " --from 2024-01-01 --to 2024-01-05");
    CHECK(count(db, "SELECT count(*) FROM events") == before);
    CHECK(count(db, "SELECT count(*) FROM snapshots") == snapshots);
  }
  TEST_CASE("regression: audit --html onto the journal destroyed it") {
    TempDir dir;
    const std::string db = goog_journal_in(dir, "h.db");
    REQUIRE(run_cli("head " + quote(db)).exit_code == 0);  // -wal and -shm beside it now
    std::filesystem::create_hard_link(db, dir.file("hard.db"));
    std::filesystem::create_symlink(db, dir.file("soft.db"));
    const std::string journal = read_file(db), wal = read_file(db + "-wal"),
                      shm = read_file(db + "-shm");
    // The journal by other names, and SQLite's files beside it (-journal
    // does not exist, and must not be created either).
    for (const std::string& html :
         {db, dir.file("./h.db"), dir.file("hard.db"), dir.file("soft.db"), db + "-wal",
          db + "-shm", db + "-journal"}) {
      CAPTURE(html);
      const CliResult r = run_cli("audit " + quote(db) + " --day 2007-05-03 --html " + quote(html));
      CHECK(r.exit_code == 2);
      CHECK(r.err.rfind("blotter: --html " + html + ": that is the journal " + db, 0) == 0);
      CHECK(std::count(r.err.begin(), r.err.end(), '\n') == 1);
      CHECK(r.out.empty());
      CHECK(read_file(db) == journal);
      CHECK(read_file(db + "-wal") == wal);
      CHECK(read_file(db + "-shm") == shm);
      CHECK_FALSE(std::filesystem::exists(db + "-journal"));
    }
    // Named through a link, the journal's side files are still the real file's.
    const CliResult linked = run_cli("audit " + quote(dir.file("soft.db")) +
                                     " --day 2007-05-03 --html " + quote(db + "-wal"));
    CHECK(linked.exit_code == 2);
    CHECK(read_file(db + "-wal") == wal);
    CHECK(run_cli("verify " + quote(db)).exit_code == 0);
  }

  TEST_CASE("an HTML file that cannot be written whole leaves the old one as it was") {
    const std::string& db = goog_journal();
    TempDir dir;
    const std::string html = dir.write("day.html", "the page of another day\n");
    // A file size limit of 80 KiB (the journal's -shm file needs 32), with
    // SIGXFSZ ignored: the page (over 200 KiB) fails part-way with EFBIG.
    const CliResult r =
        run_command("trap '' XFSZ; ulimit -f 160; " + std::string(BLOTTER_CLI) + " audit " +
                    quote(db) + " --day 2007-05-03 --html " + quote(html));
    CHECK(r.exit_code == 2);
    CHECK(r.err.rfind("blotter: " + html + ": cannot write: File too large\n", 0) == 0);
    CHECK(read_file(html) == "the page of another day\n");
    std::vector<std::string> files;
    for (const auto& entry : std::filesystem::directory_iterator(dir.file("")))
      files.push_back(entry.path().filename().string());
    CHECK(files == std::vector<std::string>{"day.html"});

    REQUIRE(run_cli("audit " + quote(db) + " --day 2007-05-03 --html " + quote(html)).exit_code ==
            0);
    CHECK(read_file(html).rfind("<!DOCTYPE html>", 0) == 0);
    // The mode of a new file, not the temporary file's private 0600.
    const mode_t mask = ::umask(0);
    ::umask(mask);
    CHECK(static_cast<mode_t>(std::filesystem::status(html).permissions()) == (0666 & ~mask));
    // A page replaced keeps its mode.
    std::filesystem::permissions(
        html, std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
    REQUIRE(run_cli("audit " + quote(db) + " --day 2007-05-04 --html " + quote(html)).exit_code ==
            0);
    CHECK(static_cast<mode_t>(std::filesystem::status(html).permissions()) == 0600);
  }
}
