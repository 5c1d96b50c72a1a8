// Behaviour kept across releases: runs of the same input with the same
// options write the same trading events, byte for byte, as release 0.1.0
// (commit 4535832) wrote; and a journal that release wrote opens, replays,
// audits and verifies as it did then.
//
// The digests and expected outputs below were recorded by running this suite's
// inputs through the 0.1.0 binary. A change that alters them on purpose (a
// new payload field, a new line in a report) updates them in the same commit
// and says why.
#include <doctest/doctest.h>
#include <fmt/format.h>

#include <filesystem>
#include <string>
#include <vector>

#include "blotter/sqlite_journal.h"
#include "cli_helpers.h"

using namespace blotter::testing;
namespace fs = std::filesystem;

namespace {

// SHA-256 over every event but RUN_STARTED (which records blotter's version
// and the run's manifest, not what the run did): seq, event time, type,
// symbol and payload, as stored.
std::string trading_digest(const std::string& db) {
  static TempDir dir;
  const std::string script = dir.write("digest.py", R"(import hashlib, sqlite3, sys
con = sqlite3.connect('file:' + sys.argv[1] + '?mode=ro', uri=True)
h = hashlib.sha256()
n = 0
for row in con.execute("SELECT seq, ts_ns, type, symbol, payload FROM events "
                       "WHERE type != 'RUN_STARTED' ORDER BY seq"):
    h.update('\x1f'.join(str(v) for v in row).encode() + b'\x1e')
    n += 1
print(n, h.hexdigest())
)");
  const CliResult r = run_python(script, quote(db));
  REQUIRE_MESSAGE(r.exit_code == 0, r.err);
  return r.out.substr(0, r.out.find('\n'));
}

// Ticks for three symbols, a deterministic walk in cents with a volume.
std::string synthetic_ticks(const TempDir& dir) {
  std::string csv = "timestamp,price,volume,symbol\n";
  std::uint64_t state = 0x2545F4914F6CDD1Dull;
  auto next = [&state] {
    state = state * 6364136223846793005ull + 1442695040888963407ull;
    return static_cast<std::int64_t>(state >> 33);
  };
  std::int64_t cents[3] = {5'000, 12'000, 800};
  const std::int64_t start = 1704205800;  // 2024-01-02T14:30:00Z
  for (int i = 0; i < 6000; ++i) {
    const int s = static_cast<int>(next() % 3);
    cents[s] = std::max<std::int64_t>(50, cents[s] + next() % 41 - 20);
    csv += fmt::format("{},{}.{:02},{},T{}\n", start + 7 * i, cents[s] / 100, cents[s] % 100,
                       1 + next() % 500, s);
  }
  return dir.write("ticks.csv", csv);
}

struct Case {
  std::string name;
  std::vector<std::string> args;  // after `run`, before --journal
  std::string digest;             // "events sha256" from 0.1.0
};

}  // namespace

TEST_CASE("runs write the trading events release 0.1.0 wrote, byte for byte") {
  TempDir dir;
  const std::string bars = synthetic_bars(dir, "bars.csv", 3000, 3);
  const std::string ticks = synthetic_ticks(dir);
  const std::vector<Case> cases = {
      {"default",
       {"--bars", goog_csv(), "--symbol", "GOOG"},
       "1293 74c85653af2fa53dd7d5a982b5180fa1de48dca922ca177e2818d9ee20b8ba9e"},
      {"fractional quantity, max position, commission",
       {"--bars", goog_csv(), "--symbol", "GOOG", "--window", "10", "--quantity", "0.5",
        "--max-position", "1.5", "--commission", "0.01"},
       "1580 4fc27e7a1239c0c32cf5479137824a2174b8a7611f1535f2f5096a4c090c4317"},
      {"risk per trade, next-open fills, slippage, tight loss limit",
       {"--bars", goog_csv(), "--symbol", "GOOG", "--window", "5", "--risk-per-trade", "0.1",
        "--fill", "next-open", "--slippage-bps", "5", "--max-daily-loss", "0.001"},
       "1861 653b989fb830dbfae498d03ea493418e305408635dfde6013454c7e2ea879618"},
      {"New York trading days",
       {"--bars", goog_csv(), "--symbol", "GOOG", "--window", "7", "--fill", "next-open", "--tz",
        "America/New_York"},
       "1679 58006349d8c16a53ba70504a17d980df8c071ea00879d105d890e17352d6e4d2"},
      {"three symbols, halted days",
       {"--bars", bars, "--window", "5", "--fill", "next-open", "--commission", "0.01",
        "--max-daily-loss", "0.0002", "--tz", "America/New_York", "--snapshot-every", "5000"},
       "17348 9d0d679718c2ac6f78f43d2198c033a2389770b1625ebc8260710dddf0cba1d8"},
      {"three symbols, durability full",
       {"--bars", bars, "--window", "5", "--fill", "next-open", "--commission", "0.01",
        "--max-daily-loss", "0.0002", "--tz", "America/New_York", "--durability", "full"},
       "17348 9d0d679718c2ac6f78f43d2198c033a2389770b1625ebc8260710dddf0cba1d8"},
      {"ticks",
       {"--ticks", ticks, "--window", "12", "--quantity", "3", "--max-position", "9"},
       "8999 4526f5d2973307efe0d9f7728461c2ccec8ca37558c9762358490a11d4d9ae09"},
  };
  int n = 0;
  for (const Case& c : cases) {
    CAPTURE(c.name);
    std::vector<std::string> args = {"run"};
    args.insert(args.end(), c.args.begin(), c.args.end());
    const std::string db = dir.file(fmt::format("j{}.db", n++));
    args.insert(args.end(), {"--journal", db});
    const CliResult r = run_cli_args(args);
    REQUIRE_MESSAGE(r.exit_code == 0, r.err);
    CHECK(trading_digest(db) == c.digest);
  }
}

TEST_CASE("a journal release 0.1.0 wrote opens, replays, audits and verifies as it did") {
  // tests/data/release_0_1/journal.sqlite: two runs of the first 700 GOOG bars
  // (the second with next-open fills, a commission, a loss limit and New York
  // days), snapshots, and two annotations, written by 0.1.0. Each command's
  // output then is beside it, whole (NAME.out) or as its SHA-256 (NAME.sha256).
  const fs::path fixture = fs::path(BLOTTER_TEST_DATA) / "release_0_1";
  TempDir dir;
  fs::copy_file(fixture / "journal.sqlite", dir.file("work.db"));
  const std::string before = read_file(dir.file("work.db"));
  const std::vector<std::pair<std::string, std::string>> commands = {
      {"verify", "verify work.db"},
      {"runs", "runs work.db"},
      {"head", "head work.db"},
      {"state", "state work.db --format json"},
      {"state_run1", "state work.db --run 1"},
      {"state_at_day", "state work.db --at 2005-06-30"},
      {"state_at_seq", "state work.db --at '#1500'"},
      {"audit_day", "audit work.db --day 2006-03-01"},
      {"audit_day_run1", "audit work.db --day 2005-01-14 --run 1 --format json"},
      {"audit_range", "audit work.db --from 2005-01-01 --to 2005-03-31"},
      {"replay", "replay work.db --format jsonl"},
      {"export_csv", "export work.db --format csv"},
      {"resim", "resim work.db"},
  };
  for (const auto& [name, args] : commands) {
    CAPTURE(name);
    // From the copy's directory, so that reports name the journal as 0.1.0's did.
    const CliResult r =
        run_command("cd " + quote(dir.file("")) + " && " + quote(BLOTTER_CLI) + " " + args);
    REQUIRE_MESSAGE(r.exit_code == 0, r.err);
    if (fs::exists(fixture / (name + ".out"))) {
      CHECK(r.out == read_file(fixture / (name + ".out")));
    } else {
      const std::string out = dir.write("out", r.out);
      const CliResult sum = run_command("sha256sum " + quote(out));
      REQUIRE(sum.out.size() > 64);
      CHECK(sum.out.substr(0, 64) + "\n" == read_file(fixture / (name + ".sha256")));
    }
  }
  CHECK(read_file(dir.file("work.db")) == before);  // read commands leave it as it was
}

TEST_CASE("a journal release 0.1.0 wrote reads with today's runs view, unchanged, until migrated") {
  // Schema version 6 lacks 0007_runs_strategy, which changes only views: a
  // read-only command makes them for its own connection.
  TempDir dir;
  fs::copy_file(fs::path(BLOTTER_TEST_DATA) / "release_0_1" / "journal.sqlite", dir.file("w.db"));
  const std::string before = read_file(dir.file("w.db"));
  const std::string sql =
      "SELECT seq, strategy, strategy_version, params, strategy_sha256 FROM runs";
  const std::string expected =
      "seq,strategy,strategy_version,params,strategy_sha256\r\n"
      "1,ma_crossover,1,window=10,\r\n"
      "1068,ma_crossover,1,window=5,\r\n";
  const CliResult read = run_cli_args({"query", dir.file("w.db"), sql, "--format", "csv"});
  CHECK(read.exit_code == 0);
  CHECK(read.err.empty());
  CHECK(read.out == expected);
  CHECK(run_cli_args({"runs", dir.file("w.db")}).exit_code == 0);
  // The view of rejected input rows, which that release did not have, is there and empty.
  const CliResult rejected = run_cli_args(
      {"query", dir.file("w.db"), "SELECT count(*) FROM input_rejections", "--format", "csv"});
  CHECK(rejected.exit_code == 0);
  CHECK(rejected.out == "count(*)\r\n0\r\n");
  CHECK(read_file(dir.file("w.db")) == before);

  // Another SQLite client sees the file's own view until it is migrated.
  const std::string script = dir.write("view.py", R"py(import sqlite3, sys
con = sqlite3.connect(sys.argv[1])
print(con.execute("PRAGMA user_version").fetchone()[0])
print([c[1] for c in con.execute("PRAGMA table_info(runs)")][-1])
)py");
  CliResult client = run_python(script, quote(dir.file("w.db")));
  CHECK(client.out == "6\nconfig\n");
  const CliResult migrated = run_cli_args({"migrate", dir.file("w.db")});
  REQUIRE_MESSAGE(migrated.exit_code == 0, migrated.err);
  client = run_python(script, quote(dir.file("w.db")));
  CHECK(client.out == fmt::format("{}\nstrategy_sha256\n", blotter::journal_schema_version()));
  CHECK(run_cli_args({"query", dir.file("w.db"), sql, "--format", "csv"}).out == expected);
}

TEST_CASE("the runs view shows a run's strategy, version, parameters and configuration hash") {
  TempDir dir;
  const std::string db = goog_journal_in(dir, "b.db", "--strategy breakout --param exit=5");
  const CliResult r = run_cli_args(
      {"query", db,
       "SELECT strategy, strategy_version, params, "
       "strategy_sha256 = json_extract(config, '$.strategy_sha256'), length(strategy_sha256) "
       "FROM runs",
       "--format", "csv"});
  CHECK(r.exit_code == 0);
  CHECK(r.out.substr(r.out.find('\n') + 1) == "breakout,1,\"entry=20,exit=5\",1,64\r\n");
}
