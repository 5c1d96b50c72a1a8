// End to end: the blotter command line on real data, checked with SQL.
#include <doctest/doctest.h>
#include <fmt/format.h>

#include <algorithm>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "cli_helpers.h"
#include "reference_figures.h"

using namespace blotter::testing;

TEST_SUITE("cli") {
  TEST_CASE("the GOOG series gives the reference figures") {
    check_reference({"GOOG", goog_csv(), 1047, 41, 49, 76, "278.75"});
  }

  TEST_CASE("two runs of the same input produce the same journal, event for event") {
    TempDir dir;
    const std::string args = " --bars " + quote(goog_csv()) +
                             " --symbol GOOG --fill next-open --slippage-bps 5 --commission 0.01";
    REQUIRE(run_cli("run --journal " + quote(dir.file("a.db")) + args).exit_code == 0);
    REQUIRE(run_cli("run --journal " + quote(dir.file("b.db")) + args).exit_code == 0);
    SQLite::Database db(dir.file("a.db"));
    db.exec("ATTACH " + quote(dir.file("b.db")) + " AS b");
    const std::string cols = "seq, ts_ns, type, symbol, payload";
    CHECK(db.execAndGet("SELECT count(*) FROM events").getInt64() > 1047);
    CHECK(db.execAndGet("SELECT count(*) FROM (SELECT " + cols +
                        " FROM main.events EXCEPT SELECT " + cols + " FROM b.events)")
              .getInt64() == 0);
    CHECK(db.execAndGet("SELECT count(*) FROM main.events").getInt64() ==
          db.execAndGet("SELECT count(*) FROM b.events").getInt64());
  }

  TEST_CASE("query refuses to write and leaves the journal unchanged") {
    TempDir dir;
    const std::string db = dir.file("g.db");
    REQUIRE(run_cli("run --bars " + quote(goog_csv()) + " --symbol GOOG --journal " + quote(db))
                .exit_code == 0);
    const auto before = count(db, "SELECT count(*) FROM events");
    const CliResult del = run_cli("query " + quote(db) + " 'DELETE FROM events'");
    CHECK(del.exit_code != 0);
    CHECK(del.err.find("read-only") != std::string::npos);
    CHECK(count(db, "SELECT count(*) FROM events") == before);

    const CliResult attach =
        run_cli("query " + quote(db) + " \"ATTACH '" + dir.file("x.db") + "' AS x\"");
    CHECK(attach.exit_code != 0);
    CHECK_FALSE(std::filesystem::exists(dir.file("x.db")));

    // Even a writable connection cannot change recorded events: the triggers refuse.
    SQLite::Database rw(db, SQLite::OPEN_READWRITE);
    CHECK_THROWS_WITH(rw.exec("UPDATE events SET type = 'X'"), doctest::Contains("append-only"));
    CHECK_THROWS_WITH(rw.exec("DELETE FROM events WHERE seq = 1"),
                      doctest::Contains("append-only"));
    CHECK(count(db, "SELECT count(*) FROM events WHERE type = 'X'") == 0);
  }

  TEST_CASE("query prints csv and json") {
    TempDir dir;
    const std::string db = dir.file("g.db");
    REQUIRE(run_cli("run --bars " + quote(goog_csv()) + " --symbol GOOG --journal " + quote(db))
                .exit_code == 0);
    const CliResult csv =
        run_cli("query " + quote(db) +
                " 'SELECT side, count(*) AS n FROM fills GROUP BY side' --format csv");
    CHECK(csv.exit_code == 0);
    CHECK(csv.out == "side,n\r\nbuy,38\r\nsell,38\r\n");
    const CliResult json = run_cli("query " + quote(db) +
                                   " 'SELECT seq, time, close FROM bars LIMIT 1' --format json");
    CHECK(json.out ==
          "[\n {\"seq\": 2, \"time\": \"2004-08-19T00:00:00Z\", \"close\": 100.34}\n]\n");
  }

  TEST_CASE("a bad row fails the run with file, line and field, and writes nothing") {
    TempDir dir;
    const std::string db = dir.file("g.db");
    REQUIRE(run_cli("run --bars " + quote(goog_csv()) + " --symbol GOOG --journal " + quote(db))
                .exit_code == 0);
    const auto before = count(db, "SELECT count(*) FROM events");
    const std::string csv = dir.write("bad.csv",
                                      "timestamp,open,high,low,close,volume\n"
                                      "2024-01-02,10,11,9,10.5,100\n"
                                      "2024-01-03,10,11,9,10.5,100\n"
                                      "2024-01-04,10,11,9,NaN,100\n");
    const CliResult r = run_cli("run --bars " + quote(csv) + " --symbol X --journal " + quote(db));
    CHECK(r.exit_code != 0);
    CHECK(r.err == "blotter: " + csv + ":4: field 'close': 'NaN' is not a finite number\n");
    CHECK(count(db, "SELECT count(*) FROM events") == before);

    const std::string fresh = dir.file("fresh.db");
    const CliResult r2 =
        run_cli("run --bars " + quote(csv) + " --symbol X --journal " + quote(fresh));
    CHECK(r2.exit_code != 0);
    CHECK_FALSE(std::filesystem::exists(fresh));
  }

  TEST_CASE("a missing file or column is one clear line") {
    TempDir dir;
    const CliResult missing = run_cli("run --bars " + quote(dir.file("nope.csv")) +
                                      " --symbol X --journal " + quote(dir.file("j.db")));
    CHECK(missing.exit_code != 0);
    CHECK(missing.err ==
          "blotter: " + dir.file("nope.csv") + ": cannot open: No such file or directory\n");
    const std::string csv =
        dir.write("cols.csv", "timestamp,open,high,low,volume\n2024-01-02,1,1,1,1\n");
    const CliResult column =
        run_cli("run --bars " + quote(csv) + " --symbol X --journal " + quote(dir.file("j.db")));
    CHECK(column.exit_code != 0);
    CHECK(column.err.find(csv + ":1: field 'close': missing column") != std::string::npos);
    CHECK(std::count(column.err.begin(), column.err.end(), '\n') == 1);
  }

  TEST_CASE("a symbol column selects rows and ticks trade too") {
    TempDir dir;
    std::string ticks = "timestamp,symbol,price\n";
    for (int i = 0; i < 60; ++i) {
      const int p = 100 + ((i / 5) % 2 ? 5 : -5) + i % 5;
      ticks += fmt::format("{},AAA,{}\n{},BBB,{}.5\n", 1'700'000'000 + 2 * i, p,
                           1'700'000'001 + 2 * i, p);
    }
    const std::string csv = dir.write("ticks.csv", ticks);
    const std::string db = dir.file("t.db");
    const CliResult r =
        run_cli("run --ticks " + quote(csv) + " --symbol BBB --window 4 --journal " + quote(db));
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    CHECK(count(db, "SELECT count(*) FROM ticks WHERE symbol = 'BBB'") == 60);
    CHECK(count(db, "SELECT count(*) FROM events WHERE symbol = 'AAA'") == 0);
    CHECK(count(db, "SELECT count(*) FROM fills") > 0);
    CHECK(count(db, "SELECT count(*) FROM fills WHERE time NOT LIKE '2023-11-14T22:%Z'") == 0);
  }

  TEST_CASE("a run with other options appends a new run; the same run again appends nothing") {
    TempDir dir;
    const std::string db = dir.file("g.db");
    const std::string run =
        "run --bars " + quote(goog_csv()) + " --symbol GOOG --journal " + quote(db);
    REQUIRE(run_cli(run).exit_code == 0);
    const auto first = count(db, "SELECT max(seq) FROM events");
    const CliResult again = run_cli(run);
    CHECK(again.exit_code == 0);
    CHECK(again.out.find("already holds this run (seq 1, finished)") != std::string::npos);
    CHECK(again.out.find("realized PnL 278.75") != std::string::npos);
    CHECK(count(db, "SELECT max(seq) FROM events") == first);
    REQUIRE(run_cli(run + " --commission 0.01").exit_code == 0);
    CHECK(count(db, "SELECT max(seq) FROM events") == 2 * first);
    CHECK(count(db, "SELECT count(*) FROM events") == 2 * first);
    CHECK(count(db, "SELECT count(*) FROM runs") == 2);
  }

  TEST_CASE("regression: a run whose books overflowed says so and exits 3") {
    // A commission of 1e10 per unit: realized PnL leaves Decimal's range after
    // a few fills. The run exited 0 with a flat position that still had
    // unrealized PnL; now every failed update changes nothing and the run
    // ends with exit 3 and one line saying how many handler errors and where.
    TempDir dir;
    const std::string db = dir.file("c.db");
    const CliResult r = run_cli("run --bars " + quote(goog_csv()) + " --symbol GOOG --journal " +
                                quote(db) + " --commission 10000000000");
    INFO(r.err);
    CHECK(r.exit_code == 3);
    const std::int64_t errors = count(db, "SELECT count(*) FROM handler_errors");
    CHECK(errors > 0);
    CHECK(r.err == fmt::format("blotter: run 1 journaled with {} handler errors: the books may be "
                               "incomplete; see `blotter query {} \"SELECT * FROM handler_errors "
                               "WHERE seq BETWEEN 1 AND {}\"`\n",
                               errors, db, count(db, "SELECT max(seq) FROM events")));
    CHECK(count(db, "SELECT count(*) FROM handler_errors WHERE error LIKE '%overflow%'") == errors);
    // The books agree with themselves: a flat position has no unrealized PnL,
    // and the total is the sum of the positions'.
    const CliResult state = run_cli("state " + quote(db) + " --format json");
    REQUIRE(state.exit_code == 0);
    const auto j = nlohmann::json::parse(state.out);
    blotter::Decimal unrealized;
    for (const auto& p : j["positions"]) {
      const blotter::Decimal u =
          blotter::Decimal::from_string(p["unrealized_pnl"].get<std::string>());
      if (blotter::Decimal::from_string(p["quantity"].get<std::string>()).is_zero())
        CHECK(u.is_zero());
      unrealized += u;
    }
    CHECK(blotter::Decimal::from_string(j["unrealized_pnl"].get<std::string>()) == unrealized);
    // The same command again finds the run finished, and still says so.
    const CliResult again =
        run_cli("run --bars " + quote(goog_csv()) + " --symbol GOOG --journal " + quote(db) +
                " --commission 10000000000");
    CHECK(again.exit_code == 3);
    CHECK(again.out.find("already holds this run") != std::string::npos);
  }

  TEST_CASE("regression: a slippage that makes prices 0 or less is refused before anything") {
    TempDir dir;
    for (const char* bps : {"10000", "20000"}) {
      const std::string db = dir.file(std::string("s") + bps + ".db");
      const CliResult r = run_cli("run --bars " + quote(goog_csv()) + " --symbol GOOG --journal " +
                                  quote(db) + " --slippage-bps " + bps);
      CHECK(r.exit_code == 2);
      CHECK(r.err == fmt::format("blotter: --slippage-bps {} must be below 10000 (100%): a sell "
                                 "would fill at a price of 0 or less\n",
                                 bps));
      CHECK_FALSE(std::filesystem::exists(db));
    }
    // resim's override is checked by the same components.
    const CliResult r = run_cli("resim " + quote(goog_journal()) + " --slippage-bps 20000");
    CHECK(r.exit_code == 2);
    CHECK(r.err.find("must be below 10000") != std::string::npos);
  }

  TEST_CASE("ticks of one symbol at the same time trade, and a rerun finds the run finished") {
    TempDir dir;
    std::string csv = "timestamp,symbol,price\n";
    for (int i = 0; i < 400; ++i) {
      const int second = i / 3;  // three ticks a second
      csv += fmt::format("{},T,{}.{:02}\n", 1704205800 + second, 100 + (i * 7) % 13, i % 100);
    }
    const std::string input = dir.write("ticks.csv", csv);
    const std::string db = dir.file("t.db");
    const std::string command =
        "run --ticks " + quote(input) + " --journal " + quote(db) + " --window 5";
    const CliResult r = run_cli(command);
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    CHECK(count(db, "SELECT count(*) FROM ticks") == 400);
    CHECK(count(db, "SELECT count(*) FROM fills") > 0);
    CHECK(count(db,
                "SELECT count(*) FROM (SELECT ts_ns FROM events WHERE type = 'TICK' "
                "GROUP BY ts_ns HAVING count(*) = 3)") == 133);
    const CliResult again = run_cli(command);
    CHECK(again.exit_code == 0);
    CHECK(again.out.find("already holds this run") != std::string::npos);
    CHECK(run_cli("verify " + quote(db)).exit_code == 0);
  }

  TEST_CASE("a library error about a configuration field names the option that sets it") {
    // The library names fields as it does (window, run_seq); the command line
    // says the flag the user typed instead.
    const std::string& db = goog_journal();
    TempDir dir;
    const std::string run =
        "run --bars " + quote(goog_csv()) + " --symbol GOOG --journal " + quote(dir.file("j.db"));
    const std::string no_run = "no run starts at that seq (blotter runs lists the journal's runs)";
    const std::vector<std::pair<std::string, std::string>> errors = {
        {run + " --window 1", "--window must be at least 2 (got 1)"},
        {run + " --capital 0", "--capital must be positive"},
        {run + " --risk-per-trade 2", "--risk-per-trade must be a fraction in (0, 1]"},
        {run + " --max-daily-loss 0", "--max-daily-loss must be a fraction in (0, 1]"},
        {run + " --max-position 0", "--max-position must be positive"},
        {run + " --commission -1", "--commission must not be negative"},
        {"resim " + quote(db) + " --window 1", "--window must be at least 2 (got 1)"},
        {"resim " + quote(db) + " --quantity 1 --risk-per-trade 0.1",
         "--quantity and --risk-per-trade are two sizing rules: give one"},
        {"resim " + quote(db) + " --run 99999", "--run 99999: " + no_run},
        {"state " + quote(db) + " --run 99999", "--run 99999: " + no_run},
        {"audit " + quote(db) + " --day 2006-01-03 --run 99999", "--run 99999: " + no_run},
    };
    for (const auto& [args, line] : errors) {
      CAPTURE(args);
      const CliResult r = run_cli(args);
      CHECK(r.exit_code == 2);
      CHECK(r.err == "blotter: " + line + "\n");
    }
    CHECK_FALSE(std::filesystem::exists(dir.file("j.db")));
  }

  TEST_CASE("a usage error is one line and exit 2; --help and --version exit 0") {
    const std::string& db = goog_journal();
    TempDir dir;
    const std::string commands =
        "run, query, replay, state, runs, resim, snapshot, export, verify, head, annotate, audit, "
        "diff, migrate";
    const std::string csv = quote(goog_csv());
    const std::string missing_dir = dir.file("nope");
    const std::vector<std::pair<std::string, std::string>> errors = {
        {"bogus", "no such command 'bogus' (commands: " + commands + ")"},
        {"", "give a command: " + commands + " (blotter --help)"},
        {"state", "journal is required (see blotter state --help)"},
        {"state " + quote(db) + " --bogus",
         "The following argument was not expected: --bogus (see blotter state --help)"},
        {"run --bars " + csv + " --symbol GOOG", "--journal is required (see blotter run --help)"},
        {"run --bars " + csv + " --symbol GOOG --journal " + quote(dir.file("j.db")) +
             " --snapshot-every -1",
         "--snapshot-every -1: must be 0 (no snapshots) or more"},
        {"run --bars " + csv + " --symbol GOOG --journal " + quote(dir.file("j.db")) +
             " --sync-interval -1",
         "--sync-interval -1: must be 0 (sync each commit) or more"},
        {"snapshot " + quote(db) + " --every 0", "--every 0: must be 1 or more"},
        {"run --bars '' --symbol GOOG --journal " + quote(dir.file("j.db")),
         "--bars: the path is empty"},
        {"run --bars " + csv + " --symbol GOOG --journal ''", "--journal: the path is empty"},
        {"run --bars " + csv + " --symbol GOOG --journal " + quote(missing_dir + "/j.db"),
         missing_dir + "/j.db: no such directory '" + missing_dir + "'"},
        {"state ''", "the journal's path is empty"},
        {"replay " + quote(db) + " --speed nan", "--speed nan: must be a finite number, 0 or more"},
        {"replay " + quote(db) + " --speed inf", "--speed inf: must be a finite number, 0 or more"},
        {"replay " + quote(db) + " --speed -1", "--speed -1: must be a finite number, 0 or more"},
        {"query " + quote(db) + " 'SELECT 1' --timeout -1",
         "--timeout -1: must be a finite number, 0 or more"},
        {"replay " + quote(db) + " --from '#10' --to '#5'", "--from #10 is after --to #5"},
        {"export " + quote(db) + " --format csv --from '#10' --to '#5'",
         "--from #10 is after --to #5"},
        {"replay " + quote(db) + " --from 2007-01-02 --to 2006-01-02",
         "--from 2007-01-02 is after --to 2006-01-02"},
        {"audit " + quote(db) + " --from 2007-01-02 --to 2006-01-02",
         "--from 2007-01-02 is after --to 2006-01-02"},
    };
    for (const auto& [args, line] : errors) {
      CAPTURE(args);
      const CliResult r = run_cli(args);
      CHECK(r.exit_code == 2);
      CHECK(r.err == "blotter: " + line + "\n");
      CHECK(r.out.empty());
    }
    CHECK_FALSE(std::filesystem::exists(dir.file("j.db")));
    CHECK_FALSE(std::filesystem::exists(missing_dir));
    CHECK(run_cli("replay " + quote(db) + " --from '#5' --to '#5' --speed 0").out.find("BAR") !=
          std::string::npos);

    for (const std::string args : {"--help", "run --help", "audit --help"}) {
      const CliResult r = run_cli(args);
      CHECK(r.exit_code == 0);
      CHECK(r.out.find("Usage:") != std::string::npos);
    }
    CHECK(run_cli("--version").exit_code == 0);
  }

  TEST_CASE("a command's standard output may not be its journal") {
    TempDir dir;
    const std::string db = goog_journal_in(dir);
    const std::string before = read_file(db);
    const int status = std::system((std::string(BLOTTER_CLI) + " export " + quote(db) +
                                    " --format csv >>" + quote(db) + " 2>" + quote(dir.file("err")))
                                       .c_str());
    CHECK(WIFEXITED(status));
    CHECK(WEXITSTATUS(status) == 2);
    CHECK(read_file(dir.file("err")) ==
          "blotter: standard output is the journal " + db + " (or its -wal/-shm file)\n");
    CHECK(read_file(db) == before);
  }

  TEST_CASE("regression: run and runs print file names with control characters escaped") {
    TempDir dir;
    const std::string csv = dir.file("bars\x1b[2J\x07.csv");
    std::filesystem::copy_file(goog_csv(), csv);
    const std::string db = dir.file("j\x1b]0;title\x07.db");
    const CliResult run = run_cli("run --bars " + quote(csv) + " --symbol GOOG --journal " +
                                  quote(db) + " --quantity 1");
    INFO(run.err);
    REQUIRE(run.exit_code == 0);
    CHECK(run.out.find('\x1b') == std::string::npos);
    CHECK(run.out.find('\x07') == std::string::npos);
    CHECK(run.out.find("bars\\x1B[2J\\x07.csv") != std::string::npos);
    CHECK(run.out.find("j\\x1B]0;title\\x07.db") != std::string::npos);
    const CliResult runs = run_cli("runs " + quote(db));
    REQUIRE(runs.exit_code == 0);
    CHECK(runs.out.find('\x1b') == std::string::npos);
    CHECK(runs.out.find("bars\\x1B[2J\\x07.csv") != std::string::npos);
    // Errors quote the path escaped too, on one line.
    const CliResult missing = run_cli("state " + quote(dir.file("no\x1b[2Jsuch.db")));
    CHECK(missing.exit_code == 2);
    CHECK(missing.err.find('\x1b') == std::string::npos);
    CHECK(missing.err.find("no\\x1B[2Jsuch.db") != std::string::npos);
  }
}
