// Reading the journal back: runs, replay, state rebuilt by replay, re-simulation.
#include "blotter/replay.h"

#include <doctest/doctest.h>
#include <fmt/format.h>

#include <algorithm>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <sstream>
#include <vector>

#include "blotter/sqlite_journal.h"
#include "blotter/timestamp.h"
#include "cli_helpers.h"

using namespace blotter::testing;

namespace {

class FakeClock final : public blotter::ReplayClock {
 public:
  std::chrono::nanoseconds now() override { return now_; }
  void sleep_for(std::chrono::nanoseconds d) override {
    slept_ += d;
    now_ += d;
  }
  std::chrono::nanoseconds slept() const { return slept_; }

 private:
  std::chrono::nanoseconds now_{1'000'000}, slept_{0};
};

// A jsonl line as replay wrote it with nlohmann::json and fmt before it had a
// writer of its own.
std::string reference_line(const blotter::JournalRow& row) {
  using Json = nlohmann::ordered_json;
  const auto dump = [](const std::string& s) {
    return Json(s).dump(-1, ' ', false, Json::error_handler_t::replace);
  };
  return fmt::format(R"({{"seq":{},"time":"{}","ts_ns":{},"type":{},"symbol":{},"payload":{}}})",
                     row.seq, blotter::format_timestamp(row.ts_ns), row.ts_ns, dump(row.type),
                     row.symbol ? dump(*row.symbol) : "null", row.payload);
}

// Records how much of the output had been written whenever replay waits.
class WatchingClock final : public blotter::ReplayClock {
 public:
  explicit WatchingClock(const std::ostringstream& out) : out_(out) {}
  std::chrono::nanoseconds now() override { return now_; }
  void sleep_for(std::chrono::nanoseconds d) override {
    now_ += d;
    const std::string text = out_.str();
    written_at_waits.push_back(std::count(text.begin(), text.end(), '\n'));
  }
  std::vector<std::ptrdiff_t> written_at_waits;

 private:
  const std::ostringstream& out_;
  std::chrono::nanoseconds now_{0};
};

// The seq of the first trading event where journals `a` and `b` differ (by
// position), or 0 if they hold the same trading events.
std::int64_t first_difference(const std::string& a, const std::string& b) {
  const auto x = trading_events(a), y = trading_events(b);
  for (std::size_t i = 0; i < x.size(); ++i)
    if (i >= y.size() || x[i] != y[i]) return std::stoll(x[i].substr(0, x[i].find('|')));
  return 0;
}

// The seq `resim` printed after "diverged at seq ", or -1.
std::int64_t diverged_at(const std::string& out, const std::string& prefix = "") {
  const std::string marker = prefix + "diverged at seq ";
  const auto at = out.find(marker);
  if (at == std::string::npos) return -1;
  return std::stoll(out.substr(at + marker.size()));
}

}  // namespace

TEST_SUITE("replay") {
  TEST_CASE("a run records its manifest and its counts") {
    const std::string& db = goog_journal();
    CHECK(count(db, "SELECT count(*) FROM runs") == 1);
    CHECK(count(db, "SELECT rows FROM runs") == 1047);
    CHECK(count(db, "SELECT events FROM runs") == count(db, "SELECT count(*) FROM events"));
    SQLite::Database d(db, SQLite::OPEN_READONLY);
    CHECK(d.execAndGet("SELECT length(input_sha256) FROM runs").getInt() == 64);
    CHECK(d.execAndGet("SELECT json_extract(config, '$.window') FROM runs").getInt() == 20);
    const CliResult runs = run_cli("runs " + quote(db));
    CHECK(runs.exit_code == 0);
    CHECK(runs.out.find("goog_daily.csv") != std::string::npos);
  }

  TEST_CASE("replay of an inclusive date range has as many events as SQL counts") {
    const std::string& db = goog_journal();
    const CliResult r =
        run_cli("replay " + quote(db) + " --from 2006-01-01 --to 2006-03-31 --format jsonl");
    REQUIRE(r.exit_code == 0);
    const auto lines = std::count(r.out.begin(), r.out.end(), '\n');
    CHECK(lines == count(db,
                         "SELECT count(*) FROM timeline WHERE time >= '2006-01-01' AND "
                         "time < '2006-04-01'"));
    CHECK(lines > 60);
    std::istringstream in(r.out);
    std::string first;
    std::getline(in, first);
    const auto j = nlohmann::json::parse(first);
    CHECK(j["time"] == "2006-01-03T00:00:00Z");
    CHECK(j["type"] == "BAR");
  }

  TEST_CASE("a bare date as --to ends with the run's trading day, not the UTC one") {
    TempDir dir;
    const std::string db = dir.file("ny.db");
    REQUIRE(run_cli("run --bars " + quote(synthetic_bars(dir, "bars.csv", 1440, 1)) +
                    " --journal " + quote(db) + " --tz America/New_York")
                .exit_code == 0);
    // 2024-01-02 in New York ends at 2024-01-03T05:00:00Z.
    const auto expected =
        count(db, "SELECT count(*) FROM events WHERE ts_ns < 1704258000000000000");
    const auto utc_day = count(db, "SELECT count(*) FROM events WHERE ts_ns < 1704240000000000000");
    REQUIRE(expected > utc_day);
    const CliResult r = run_cli("replay " + quote(db) + " --to 2024-01-02 --format jsonl");
    REQUIRE(r.exit_code == 0);
    CHECK(std::count(r.out.begin(), r.out.end(), '\n') == expected);
  }

  TEST_CASE("a jsonl line holds the event's columns and its payload object") {
    const std::string& db = goog_journal();
    const CliResult r = run_cli("replay " + quote(db) + " --from '#2' --to '#2' --format jsonl");
    REQUIRE(r.exit_code == 0);
    SQLite::Database d(db, SQLite::OPEN_READONLY);
    SQLite::Statement q(d, "SELECT time, ts_ns, type, symbol, payload FROM timeline WHERE seq = 2");
    REQUIRE(q.executeStep());
    const std::string expected =
        fmt::format(R"({{"seq":2,"time":"{}","ts_ns":{},"type":"{}","symbol":"{}","payload":{}}})",
                    q.getColumn(0).getString(), q.getColumn(1).getInt64(),
                    q.getColumn(2).getString(), q.getColumn(3).getString(),
                    q.getColumn(4).getString()) +
        "\n";
    CHECK(r.out == expected);
    const auto j = nlohmann::json::parse(r.out);
    CHECK(j["payload"]["close"].is_string());
    const CliResult run = run_cli("replay " + quote(db) + " --type RUN_STARTED --format jsonl");
    CHECK(nlohmann::json::parse(run.out)["symbol"].is_null());
  }

  TEST_CASE("replay filters by seq, type and symbol") {
    const std::string& db = goog_journal();
    const CliResult r = run_cli("replay " + quote(db) +
                                " --from '#100' --to '#400' --type FILL,SIGNAL --format jsonl");
    REQUIRE(r.exit_code == 0);
    CHECK(std::count(r.out.begin(), r.out.end(), '\n') ==
          count(db,
                "SELECT count(*) FROM events WHERE seq BETWEEN 100 AND 400 AND type IN "
                "('FILL','SIGNAL')"));
    const CliResult none = run_cli("replay " + quote(db) + " --symbol MSFT --format jsonl");
    CHECK(none.out.empty());
    CHECK(run_cli("replay " + quote(db) + " --type NOPE").exit_code != 0);
  }

  TEST_CASE(
      "replay at speed re-creates the recorded gaps on the clock, without sleeping in tests") {
    auto store = blotter::SqliteJournal::open(goog_journal(), blotter::SqliteJournal::Mode::kRead);
    blotter::ScanRange range;
    range.types = {blotter::EventType::kBar};
    range.to_seq = 10;  // seq 1 is RUN_STARTED; 9 bars 2004-08-19 .. 2004-08-31, 12 days apart
    FakeClock clock;
    std::ostringstream out;
    const auto n =
        blotter::replay_events(*store, range, 86400.0, blotter::ReplayFormat::kJsonl, out, clock);
    CHECK(n == 9);
    // 12 recorded days at 86400x: 12 seconds.
    CHECK(clock.slept() == std::chrono::seconds(12));
    FakeClock fast;
    blotter::replay_events(*store, range, 0, blotter::ReplayFormat::kJsonl, out, fast);
    CHECK(fast.slept().count() == 0);
  }

  TEST_CASE("jsonl lines are written as before, for times on any day and awkward symbols") {
    using blotter::Event;
    constexpr std::int64_t kDay = 86'400'000'000'000;
    const std::vector<std::int64_t> times = {
        1'709'251'200'000'000'000,
        1'709'251'200'000'000'001,
        1'709'251'200'123'456'789,
        1'709'251'200'000'000'000 + kDay - 1,
        1'709'251'200'000'000'000 + kDay,
        1'709'251'200'000'000'000,  // back to an earlier day
        0,
        -1,
        -kDay,
        -kDay - 1,
        INT64_MIN,
        INT64_MAX,
        kDay * 365 * 200,
    };
    blotter::MemoryStore store;
    for (std::size_t i = 0; i < times.size(); ++i) {
      const std::string symbol = i % 3 == 0 ? "" : i % 3 == 1 ? "GOOG" : "a \"b\"\n\xff";
      Event e = blotter::make_event(
          times[i], symbol,
          blotter::Bar{blotter::Decimal::from_string("1"), blotter::Decimal::from_string("2.5"),
                       blotter::Decimal::from_string("0.5"), blotter::Decimal::from_string("1.25"),
                       blotter::Decimal::from_string("100")});
      store.append(e);
    }
    store.commit();
    std::ostringstream out;
    const auto n =
        blotter::replay_events(store, blotter::ScanRange{}, 0, blotter::ReplayFormat::kJsonl, out);
    CHECK(n == static_cast<std::int64_t>(times.size()));
    std::string expected;
    for (const Event& e : store.events()) {
      const blotter::JournalRow row = blotter::row_of(e);
      CHECK(blotter::row_json(row) == reference_line(row));
      expected += reference_line(row) + "\n";
    }
    CHECK(out.str() == expected);
    blotter::JournalRow no_symbol = blotter::row_of(store.events().front());
    no_symbol.symbol.reset();
    CHECK(blotter::row_json(no_symbol) == reference_line(no_symbol));
    CHECK(blotter::row_json(no_symbol).find(R"("symbol":null)") != std::string::npos);
  }

  TEST_CASE("replay at speed writes every line due before it waits") {
    auto store = blotter::SqliteJournal::open(goog_journal(), blotter::SqliteJournal::Mode::kRead);
    blotter::ScanRange range;
    range.types = {blotter::EventType::kBar};
    range.to_seq = 10;  // 9 bars, each a day or more after the one before
    std::ostringstream out;
    WatchingClock clock(out);
    blotter::replay_events(*store, range, 86400.0, blotter::ReplayFormat::kJsonl, out, clock);
    REQUIRE(clock.written_at_waits.size() == 8);
    for (std::size_t i = 0; i < clock.written_at_waits.size(); ++i)
      CHECK(clock.written_at_waits[i] == static_cast<std::ptrdiff_t>(i + 1));
    const std::string text = out.str();
    CHECK(std::count(text.begin(), text.end(), '\n') == 9);
  }

  TEST_CASE("state rebuilt by replay gives the run's final figures") {
    const CliResult r = run_cli("state " + quote(goog_journal()) + " --format json");
    REQUIRE(r.exit_code == 0);
    const auto j = nlohmann::json::parse(r.out);
    CHECK(j["positions"][0]["quantity"] == "0");
    CHECK(j["positions"][0]["realized_pnl"] == "278.75");
    CHECK(j["realized_pnl"] == "278.75");
    CHECK(j["days"].size() == 1047);
    CHECK(j["risk"]["entries_halted"] == false);
  }

  TEST_CASE("state at a date equals the figures recomputed from the fills view") {
    const std::string& db = goog_journal();
    SQLite::Database d(db, SQLite::OPEN_READONLY);
    for (const char* day : {"2004-11-30", "2005-06-15", "2006-02-28", "2006-09-11", "2007-05-01",
                            "2007-12-31", "2008-07-09", "2008-10-14"}) {
      CAPTURE(day);
      const CliResult r = run_cli("state " + quote(db) + " --at " + day + " --format json");
      REQUIRE(r.exit_code == 0);
      const auto j = nlohmann::json::parse(r.out);
      // Independently: quantity and cash flow of the fills up to the end of the day, in 1e-4 units.
      SQLite::Statement q(
          d,
          "SELECT coalesce(sum(CASE side WHEN 'buy' THEN quantity ELSE -quantity END), 0), "
          "coalesce(sum(CASE side WHEN 'sell' THEN 1 ELSE -1 END * "
          "CAST(round(price * 10000) AS INTEGER) * quantity), 0), "
          "(SELECT CAST(round(close * 10000) AS INTEGER) FROM bars WHERE time <= ?1 || "
          "'T23:59:59Z' "
          " ORDER BY seq DESC LIMIT 1) "
          "FROM fills WHERE time <= ?1 || 'T23:59:59Z'");
      q.bind(1, day);
      REQUIRE(q.executeStep());
      const std::int64_t quantity = q.getColumn(0).getInt64();
      const std::int64_t cash_e4 = q.getColumn(1).getInt64();
      const std::int64_t close_e4 = q.getColumn(2).getInt64();
      const auto as_e4 = [](const nlohmann::json& v) {
        return blotter::Decimal::from_string(v.get<std::string>()).raw() / 10000;
      };
      CHECK(as_e4(j["positions"][0]["quantity"]) == quantity * 10000);
      // realized + unrealized = cash flow + value of the open position at the close.
      CHECK(as_e4(j["realized_pnl"]) + as_e4(j["unrealized_pnl"]) == cash_e4 + quantity * close_e4);
      CHECK(j["at"].get<std::string>().substr(0, 10) == day);
    }
  }

  TEST_CASE("resim of an unchanged journal is identical; another window diverges at a named seq") {
    const std::string& db = goog_journal();
    const CliResult same = run_cli("resim " + quote(db));
    CHECK(same.exit_code == 0);
    CHECK(same.out == "identical: 245 derived events matched\n");
    const CliResult other = run_cli("resim " + quote(db) + " --window 21");
    CHECK(other.exit_code == 1);
    CHECK(other.out.rfind("diverged at seq ", 0) == 0);
    CHECK(other.out.find("recorded:") != std::string::npos);
    CHECK(other.out.find("re-simulated:") != std::string::npos);
  }

  TEST_CASE("regression: resim re-simulates each run of a journal with its own configuration") {
    TempDir dir;
    const std::string db = goog_journal_in(dir, "two.db");
    goog_journal_in(dir, "two.db", "--window 10");
    const auto second = count(db, "SELECT max(seq) FROM runs");
    REQUIRE(second > 1);
    const CliResult all = run_cli("resim " + quote(db));
    INFO(all.out, all.err);
    CHECK(all.exit_code == 0);
    CHECK(all.out.find("run 1 (from seq 2): identical: ") != std::string::npos);
    CHECK(all.out.find(fmt::format("run {} (from seq {}): identical: ", second, second + 1)) !=
          std::string::npos);
    CHECK(all.out.find("diverged") == std::string::npos);
    const CliResult one = run_cli("resim " + quote(db) + " --run " + std::to_string(second));
    CHECK(one.exit_code == 0);
    CHECK(one.out.find("run 1 ") == std::string::npos);
    CHECK(one.out.find(fmt::format("run {} ", second)) != std::string::npos);
    CHECK(run_cli("resim " + quote(db) + " --run 5").exit_code == 2);

    // An override applies to every run: window 10 is the second run's own,
    // and diverges from the first where a journal of window 10 does.
    const std::string ten = goog_journal_in(dir, "ten.db", "--window 10");
    const std::string twenty = goog_journal_in(dir, "twenty.db");
    const auto expected = first_difference(twenty, ten);
    REQUIRE(expected > 0);
    const CliResult both = run_cli("resim " + quote(db) + " --window 10");
    CHECK(both.exit_code == 1);
    CHECK(diverged_at(both.out, "run 1 (from seq 2): ") == expected);
    CHECK(both.out.find(fmt::format("run {} (from seq {}): identical", second, second + 1)) !=
          std::string::npos);
  }

  TEST_CASE(
      "regression: resim --from starts from the state rebuilt there, pending fills included") {
    const CliResult from = run_cli("resim " + quote(goog_journal()) + " --from 2006-01-03");
    INFO(from.out);
    CHECK(from.exit_code == 0);
    CHECK(from.out.rfind("identical: ", 0) == 0);
    CHECK(from.out.find("identical: 0 ") == std::string::npos);

    // Next-open fills and snapshots: start right after an ORDER, whose FILL
    // is the first derived event re-simulated.
    TempDir dir;
    const std::string db = goog_journal_in(dir, "open.db", "--fill next-open --window 10");
    const auto order = count(db, "SELECT seq FROM orders ORDER BY seq LIMIT 1 OFFSET 20");
    const auto bar = count(db, "SELECT min(seq) FROM bars WHERE seq > " + std::to_string(order));
    REQUIRE(count(db, "SELECT count(*) FROM fills WHERE order_seq = " + std::to_string(order)) ==
            1);
    REQUIRE(run_cli("snapshot " + quote(db) + " --every 50").exit_code == 0);
    REQUIRE(count(db, "SELECT count(*) FROM snapshots WHERE seq < " + std::to_string(bar)) > 0);
    const CliResult pending =
        run_cli("resim " + quote(db) + " --from " + quote("#" + std::to_string(bar)));
    INFO(pending.out);
    CHECK(pending.exit_code == 0);
    CHECK(pending.out.rfind("identical: ", 0) == 0);
    const CliResult by_day = run_cli("resim " + quote(db) + " --from 2006-01-03 --to 2007-12-31");
    CHECK(by_day.exit_code == 0);

    // A real divergence from the same bound is still found, at its seq: another
    // commission changes the first fill after it, the pending order's.
    const auto fill = count(db, "SELECT min(seq) FROM fills WHERE seq > " + std::to_string(bar));
    REQUIRE(count(db, "SELECT order_seq FROM fills WHERE seq = " + std::to_string(fill)) == order);
    const CliResult diverged = run_cli("resim " + quote(db) + " --from " +
                                       quote("#" + std::to_string(bar)) + " --commission 1");
    CHECK(diverged.exit_code == 1);
    CHECK(diverged_at(diverged.out) == fill);
    CHECK(diverged.out.find("after 0 matching") != std::string::npos);
  }

  TEST_CASE("resim overrides --capital, --risk-per-trade, --max-position and --tz") {
    TempDir dir;
    const std::string csv = synthetic_bars(dir, "bars.csv", 1500, 2);
    const auto journal = [&](const std::string& name, const std::string& options) {
      const std::string db = dir.file(name);
      const CliResult r = run_cli("run --bars " + quote(csv) + " --journal " + quote(db) +
                                  " --window 5 --max-daily-loss 0.0005 " + options);
      INFO(r.err);
      REQUIRE(r.exit_code == 0);
      return db;
    };
    const std::string sized = journal("sized.db", "--risk-per-trade 0.5");
    const std::string fixed = journal("fixed.db", "--quantity 20");
    struct Case {
      std::string base, override_options, changed_options;
    };
    for (const Case& c :
         {Case{sized, "--capital 50000", "--risk-per-trade 0.5 --capital 50000"},
          Case{fixed, "--risk-per-trade 0.5", "--risk-per-trade 0.5"},
          Case{sized, "--max-position 300", "--risk-per-trade 0.5 --max-position 300"},
          Case{fixed, "--tz Asia/Tokyo", "--quantity 20 --tz Asia/Tokyo"}}) {
      CAPTURE(c.override_options);
      // The journal a run with the override records, and where it first differs.
      const std::string changed = journal("changed.db", c.changed_options);
      const auto expected = first_difference(c.base, changed);
      REQUIRE(expected > 0);
      const CliResult r = run_cli("resim " + quote(c.base) + " " + c.override_options);
      CHECK(r.exit_code == 1);
      CHECK(diverged_at(r.out) == expected);
      // And the changed journal re-simulates identically with the same override.
      CHECK(run_cli("resim " + quote(changed) + " " + c.override_options).exit_code == 0);
      std::filesystem::remove(changed);
    }
    CHECK(run_cli("resim " + quote(sized) + " --quantity 2").exit_code == 1);
    for (const char* bad :
         {"--capital -1", "--capital x", "--risk-per-trade 2", "--max-position 0",
          "--tz Mars/Olympus", "--window 1", "--quantity 1 --risk-per-trade 0.1"}) {
      CAPTURE(bad);
      const CliResult r = run_cli("resim " + quote(fixed) + " " + bad);
      CHECK(r.exit_code == 2);
      CHECK(r.out.empty());
      CHECK(r.err.rfind("blotter: ", 0) == 0);
    }
  }

  TEST_CASE("regression: state --at before the first event names that event instead of 'empty'") {
    const std::string& db = goog_journal();
    const CliResult r = run_cli("state " + quote(db) + " --at 2004-01-01");
    CHECK(r.exit_code == 0);
    CHECK(r.out.rfind("2004-01-01 is before the first event of the journal (seq 1 at "
                      "2004-08-19T00:00:00Z)\nno events: the books are empty\n",
                      0) == 0);
    CHECK(r.out.find("empty journal") == std::string::npos);
    CHECK(r.out.find("realized PnL 0  unrealized PnL 0  total 0") != std::string::npos);
    const CliResult j = run_cli("state " + quote(db) + " --at 2004-01-01 --format json");
    CHECK(j.exit_code == 0);
    const auto state = nlohmann::json::parse(j.out);
    CHECK(state["seq"] == 0);
    CHECK(state["positions"].empty());
    const CliResult first_day = run_cli("state " + quote(db) + " --at 2004-08-19");
    CHECK(first_day.exit_code == 0);
    CHECK(first_day.out.find("is before the first event") == std::string::npos);
  }

  TEST_CASE("state --run shows the books of that run") {
    TempDir dir;
    const std::string db = goog_journal_in(dir, "two.db");
    goog_journal_in(dir, "two.db", "--window 10");
    const auto second = count(db, "SELECT max(seq) FROM runs");
    const auto json = [&](const std::string& args) {
      const CliResult r = run_cli("state " + quote(db) + " --format json " + args);
      INFO(args, r.err);
      REQUIRE(r.exit_code == 0);
      return nlohmann::json::parse(r.out);
    };
    const auto first_end = json("--at " + quote("#" + std::to_string(second - 1)));
    const auto first = json("--run 1");
    CHECK(first["run_seq"] == 1);
    CHECK(first["seq"] == second - 1);
    CHECK(first == first_end);
    const auto latest = json("");
    CHECK(latest["run_seq"] == second);
    CHECK(latest["realized_pnl"] != first["realized_pnl"]);
    CHECK(json("--run " + std::to_string(second)) == latest);
    // A date in both runs: the latest run by default, the one asked for with --run.
    CHECK(json("--at 2006-06-30")["run_seq"] == second);
    const auto dated = json("--run 1 --at 2006-06-30");
    CHECK(dated["run_seq"] == 1);
    CHECK(dated["at"].get<std::string>().substr(0, 10) == "2006-06-30");
    CHECK(run_cli("state " + quote(db) + " --run 2").exit_code == 2);
  }

  TEST_CASE(
      "regression: a daily-loss rejection states the loss that halted the day, as state does") {
    TempDir dir;
    const std::string db = dir.file("halts.db");
    REQUIRE(run_cli("run --bars " + quote(synthetic_bars(dir, "bars.csv", 1500, 2)) +
                    " --journal " + quote(db) + " --window 5 --quantity 20 --max-daily-loss 0.0005")
                .exit_code == 0);
    // The limit is 0.0005 * 100000 = 50.
    SQLite::Database d(db, SQLite::OPEN_READONLY);
    SQLite::Statement q(d,
                        "SELECT seq, json_extract(payload, '$.reason') FROM events WHERE type = "
                        "'RISK_REJECTED' AND payload LIKE '%daily loss limit%' ORDER BY seq");
    int checked = 0;
    while (q.executeStep()) {
      const std::int64_t seq = q.getColumn(0).getInt64();
      const std::string reason = q.getColumn(1).getString();
      CAPTURE(reason);
      // "...: day PnL P reached the limit -50 (...) at TIME"
      const auto pnl_at = reason.find("day PnL ");
      REQUIRE(pnl_at != std::string::npos);
      const std::string pnl = reason.substr(pnl_at + 8, reason.find(' ', pnl_at + 8) - pnl_at - 8);
      CHECK(blotter::Decimal::from_string(pnl) <= blotter::Decimal::from_string("-50"));
      CHECK(reason.find("reached the limit -50") != std::string::npos);
      const std::string time = reason.substr(reason.rfind(" at ") + 4);
      const CliResult state = run_cli("state " + quote(db) + " --at " +
                                      quote("#" + std::to_string(seq)) + " --format json");
      REQUIRE(state.exit_code == 0);
      const auto j = nlohmann::json::parse(state.out);
      CHECK(j["risk"]["entries_halted"] == true);
      CHECK(j["risk"]["halted_at"] == time);
      CHECK(j["risk"]["halt_day_pnl"] == pnl);
      CHECK(j["risk"]["daily_loss_used"] == pnl.substr(1));
      if (++checked == 20) break;
    }
    CHECK(checked > 0);
  }

  TEST_CASE("two runs of the same input and options into fresh journals are identical") {
    TempDir dir;
    const std::string csv = synthetic_bars(dir, "bars.csv", 2000, 4);
    const std::string options =
        " --window 7 --fill next-open --slippage-bps 2 --commission 0.005 --tz Europe/London";
    for (const std::string& input : {goog_csv(), csv}) {
      CAPTURE(input);
      const std::string symbol = input == csv ? "" : " --symbol GOOG";
      std::vector<std::vector<std::string>> journals;
      for (const char* name : {"a.db", "b.db"}) {
        const std::string db = dir.file(name);
        std::filesystem::remove(db);
        REQUIRE(run_cli("run --bars " + quote(input) + symbol + " --journal " + quote(db) + options)
                    .exit_code == 0);
        journals.push_back(trading_events(db));
      }
      CHECK(journals[0].size() > 1000);
      CHECK(journals[0] == journals[1]);
    }
  }

  TEST_CASE("state and replay write nothing to the journal") {
    const std::string& db = goog_journal();
    const auto before = count(db, "SELECT count(*) FROM events");
    run_cli("state " + quote(db));
    run_cli("replay " + quote(db) + " --format jsonl");
    run_cli("resim " + quote(db));
    CHECK(count(db, "SELECT count(*) FROM events") == before);
  }

  TEST_CASE("regression: the replay table escapes control characters of rows as stored") {
    TempDir dir;
    const std::string db = dir.file("raw.db");
    {
      auto journal = blotter::SqliteJournal::open(db, blotter::SqliteJournal::Mode::kWrite);
      const blotter::Decimal p = blotter::Decimal::from_int(100);
      blotter::Event bar = blotter::make_event(1'704'205'800'000'000'000, "S\x1b[2J\x07",
                                               blotter::Bar{p, p, p, p, p});
      journal->append(bar);
      journal->commit();
    }
    const CliResult r = run_cli("replay " + quote(db));
    INFO(r.out);
    REQUIRE(r.exit_code == 0);
    CHECK(r.out.find('\x1b') == std::string::npos);
    CHECK(r.out.find('\x07') == std::string::npos);
    CHECK(r.out.find("S\\x1B[2J\\x07") != std::string::npos);
  }
}
