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
