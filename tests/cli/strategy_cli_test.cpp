// End to end: choosing the strategy and its parameters on the command line,
// the manifest that records them, and journals whose strategy the stock
// `blotter` lacks (written here through run_paper_trading with a registry of
// this test's own).
#include <doctest/doctest.h>
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <atomic>
#include <filesystem>
#include <map>
#include <string>

#include "blotter/error.h"
#include "blotter/journal_location.h"
#include "blotter/ma_crossover.h"
#include "blotter/replay.h"
#include "blotter/strategy.h"
#include "blotter/trading_system.h"
#include "cli_helpers.h"

using namespace blotter;
using namespace blotter::testing;

namespace {

// Long every n-th bar of a symbol, exit the bar after; keeps no state of its
// own beyond the counts (so it saves none: Strategy::saves_state).
class EveryNth final : public Strategy {
 public:
  explicit EveryNth(int n) : n_(n) {}
  std::string_view name() const override { return "every_nth"; }
  int version() const override { return 1; }
  void on_bar(const Event& bar, StrategyContext& ctx) override {
    const int count = ++bars_[bar.symbol];
    if (count % n_ == 0 && ctx.position().is_zero()) ctx.signal(Direction::kLong, "nth");
    if (count % n_ == 1 && !ctx.position().is_zero()) ctx.signal(Direction::kExit, "after");
  }

 private:
  int n_;
  std::map<std::string, int> bars_;
};

StrategyRegistry with_every_nth() {
  StrategyRegistry r = StrategyRegistry::builtin();
  r.add("every_nth", 1,
        [](const StrategyParams& p) { return std::make_unique<EveryNth>(p.get_int("n", 5)); });
  return r;
}

// every_nth (n=7) over the GOOG bars into `journal`, a snapshot every 200 events.
RunConfig every_nth_config(const std::string& journal) {
  RunConfig c;
  c.input_path = goog_csv();
  c.input.symbol = "GOOG";
  c.journal_location = journal;
  c.version = "test";
  c.snapshot_every = 200;
  c.batch_rows = 50;
  c.trading.strategy = "every_nth";
  c.trading.params.set("n", "7");
  return c;
}

std::string every_nth_journal(const TempDir& dir) {
  const RunConfig c = every_nth_config(dir.file("nth.db"));
  run_paper_trading(c, with_every_nth());
  return c.journal_location;
}

std::string bars_run(const std::string& journal, const std::string& options) {
  return "run --bars " + quote(goog_csv()) + " --symbol GOOG --journal " + quote(journal) + " " +
         options;
}

// The stock blotter's strategies, as its messages list them.
std::string builtin_names() {
  return fmt::format("{}", fmt::join(StrategyRegistry::builtin().names(), ", "));
}

bool one_line(const std::string& text) {
  return !text.empty() && text.back() == '\n' && text.find('\n') == text.size() - 1;
}

}  // namespace

TEST_SUITE("strategy_cli") {
  TEST_CASE("bad --strategy or --param input is one line, exit 2, and creates no journal") {
    TempDir dir;
    const std::string db = dir.file("j.db");
    const std::map<std::string, std::string> cases = {
        {"--strategy nope",
         "blotter: unknown strategy 'nope' (this program has: " + builtin_names() + ")\n"},
        {"--param windw=5",
         "blotter: strategy 'ma_crossover' has no parameter 'windw' (it reads: window)\n"},
        {"--param window=abc", "blotter: parameter 'window': 'abc' is not an integer\n"},
        {"--param window=3 --param window=4", "blotter: parameter 'window' is given twice\n"},
        {"--window 3 --param window=4",
         "blotter: --window N is --param window=N: give one of them\n"},
        {"--param window", "blotter: parameter 'window': expected key=value\n"},
    };
    for (const auto& [options, expected] : cases) {
      CAPTURE(options);
      const CliResult r = run_cli(bars_run(db, options));
      CHECK(r.exit_code == 2);
      CHECK(one_line(r.err));
      CHECK(r.err == expected);
      CHECK_FALSE(std::filesystem::exists(db));
    }
  }

  TEST_CASE("the manifest records name, version, parameters with defaults, and their digest") {
    TempDir dir;
    const std::string a = goog_journal_in(dir, "a.db");
    const std::string b = goog_journal_in(dir, "b.db", "--param window=20");
    const std::string c = goog_journal_in(dir, "c.db", "--window 12");
    const char* sql =
        "SELECT json_extract(config, '$.strategy') || ' ' || "
        "json_extract(config, '$.strategy_version') || ' ' || json_extract(config, '$.params') "
        "|| ' ' || json_extract(config, '$.strategy_sha256') FROM runs";
    const auto row = [&](const std::string& db) {
      SQLite::Database d(db);
      return d.execAndGet(sql).getString();
    };
    RunStarted m;
    m.params = "window=20";
    CHECK(row(a) == "ma_crossover 1 window=20 " + strategy_sha256(m));
    CHECK(strategy_configuration(m) == "strategy=ma_crossover\nversion=1\nparams=window=20");
    CHECK(row(b) == row(a));
    m.params = "window=12";
    CHECK(row(c) == "ma_crossover 1 window=12 " + strategy_sha256(m));
    const CliResult runs = run_cli("runs " + quote(c));
    CHECK(runs.exit_code == 0);
    CHECK(runs.out.ends_with("  ma_crossover                 1  window=12  in snapshots\n"));
  }

  TEST_CASE("resim --param changes a recorded parameter, and --window is its shorthand") {
    TempDir dir;
    const std::string db = goog_journal_in(dir, "g.db");
    CHECK(run_cli("resim " + quote(db)).exit_code == 0);
    const CliResult param = run_cli("resim " + quote(db) + " --param window=10");
    CHECK(param.exit_code == 1);
    const CliResult window = run_cli("resim " + quote(db) + " --window 10");
    CHECK(window.out == param.out);
    const CliResult both = run_cli("resim " + quote(db) + " --window 10 --param window=3");
    CHECK(both.exit_code == 2);
    CHECK(both.err == "blotter: --window N is --param window=N: give one of them\n");
    const CliResult typo = run_cli("resim " + quote(db) + " --param windw=3");
    CHECK(typo.err ==
          "blotter: strategy 'ma_crossover' has no parameter 'windw' (it reads: window)\n");
  }

  TEST_CASE(
      "a journal of a strategy blotter lacks: state and audit work, resim and snapshot refuse") {
    TempDir dir;
    const std::string db = every_nth_journal(dir);
    CHECK(count(db, "SELECT count(*) FROM events WHERE type = 'SIGNAL'") > 10);
    CHECK(count(db, "SELECT count(*) FROM events WHERE type = 'FILL'") > 10);
    const CliResult runs = run_cli("runs " + quote(db));
    const auto last_line = runs.out.substr(runs.out.rfind('\n', runs.out.size() - 2) + 1);
    CHECK(last_line.find("  every_nth ") != std::string::npos);
    CHECK(last_line.find(" 1  n=7 ") != std::string::npos);
    CHECK(last_line.ends_with("  replay from run start\n"));
    // A run without snapshots is rebuilt from its start too, and says so.
    const std::string bare = dir.file("bare.db");
    REQUIRE(run_cli("run --bars " + quote(goog_csv()) + " --symbol GOOG --journal " + quote(bare) +
                    " --snapshot-every 0")
                .exit_code == 0);
    CHECK(run_cli("runs " + quote(bare)).out.ends_with("  replay from run start\n"));

    const std::string refusal =
        "blotter: seq 1: the run used strategy 'every_nth' version 1, which this program does "
        "not have (it has: " +
        builtin_names() + ")\n";
    const CliResult resim = run_cli("resim " + quote(db));
    CHECK(resim.exit_code == 2);
    CHECK(resim.err == refusal);
    const CliResult snapshot = run_cli("snapshot " + quote(db));
    CHECK(snapshot.exit_code == 2);
    CHECK(snapshot.err == refusal);

    // The books, rebuilt by the stock program, are those the run ended with.
    const CliResult state = run_cli("state " + quote(db) + " --format json");
    REQUIRE(state.exit_code == 0);
    RunConfig again;
    again.input_path = goog_csv();
    again.input.symbol = "GOOG";
    again.journal_location = db;
    again.version = "test";
    again.trading.strategy = "every_nth";
    again.trading.params.set("n", "7");
    const RunSummary finished = run_paper_trading(again, with_every_nth());
    CHECK(finished.outcome == RunSummary::Outcome::kAlreadyFinished);
    CHECK(state.out.find(fmt::format("\"realized_pnl\": \"{}\"",
                                     finished.realized_pnl.to_string())) != std::string::npos);
    CHECK(run_cli("audit " + quote(db) + " --day 2005-03-01").exit_code == 0);
    CHECK(run_cli("verify " + quote(db)).exit_code == 0);
    CHECK(run_cli("replay " + quote(db) + " --to '#5'").exit_code == 0);
  }

  TEST_CASE("a strategy that saves no state resumes and re-simulates from its run's start") {
    TempDir dir;
    const std::string db = every_nth_journal(dir);
    SQLite::Database d(db);
    CHECK(d.execAndGet("SELECT count(*) FROM snapshots").getInt() > 2);
    // resim from mid-run: the counts come from replaying the run's events.
    auto journal = open_journal(db, Journal::Mode::kRead);
    ScanRange mid;
    mid.from_seq = 700;
    const auto runs = resimulate(*journal, mid, 0, {}, with_every_nth());
    REQUIRE(runs.size() == 1);
    CHECK(runs[0].result.identical);
    CHECK(runs[0].result.matched > 0);
    ResimOverrides other;
    other.params.set("n", "4");
    CHECK_FALSE(resimulate(*journal, ScanRange(), 0, other, with_every_nth())[0].result.identical);
  }

  TEST_CASE("an interrupted run of a strategy that saves no state resumes to the same events") {
    TempDir dir;
    const std::string whole = every_nth_journal(dir);
    RunConfig c = every_nth_config(dir.file("cut.db"));
    // Batches close (and on_progress runs) only once the input is checked:
    // checked first, the eighth batch comes however loaded the machine is.
    c.check_input_first = true;
    std::atomic<bool> stop{false};
    int batches = 0;
    c.stop = &stop;
    c.on_progress = [&](const MarketDataSource&) {
      if (++batches == 8) stop = true;
    };
    CHECK_THROWS_AS(run_paper_trading(c, with_every_nth()), RunInterrupted);
    c.stop = nullptr;
    c.on_progress = nullptr;
    const RunSummary resumed = run_paper_trading(c, with_every_nth());
    CHECK(resumed.outcome == RunSummary::Outcome::kResumed);
    CHECK(resumed.skipped_rows > 100);
    CHECK(trading_events(c.journal_location) == trading_events(whole));
  }

  TEST_CASE("resim of a run whose strategy is here in another version says so on stderr") {
    TempDir dir;
    RunConfig c;
    c.input_path = goog_csv();
    c.input.symbol = "GOOG";
    c.journal_location = dir.file("v2.db");
    c.version = "test";
    StrategyRegistry v2;
    v2.add("ma_crossover", 2, [](const StrategyParams& p) {
      return std::make_unique<MovingAverageCrossover>(SignalConfig{p.get_int("window", 20)});
    });
    run_paper_trading(c, v2);
    const CliResult r = run_cli("resim " + quote(c.journal_location));
    CHECK(r.exit_code == 0);
    CHECK(r.err ==
          "blotter resim: note: run 1 used strategy 'ma_crossover' version 2; this program has "
          "version 1\n");
  }
}
