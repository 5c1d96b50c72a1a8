// Resuming an interrupted run: the journal ends up with exactly the events of
// an uninterrupted run, whether the run stopped on an error or was killed.
#include <SQLiteCpp/SQLiteCpp.h>
#include <doctest/doctest.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>

#include <algorithm>
#include <chrono>
#include <thread>
#include <vector>

#include "blotter/error.h"
#include "blotter/snapshot.h"
#include "blotter/sqlite_journal.h"
#include "blotter/trading_system.h"
#include "cli_helpers.h"

using namespace blotter;
using namespace blotter::testing;

namespace {

struct Interrupted : std::runtime_error {
  Interrupted() : std::runtime_error("interrupted") {}
};

RunConfig busy_config(const std::string& input, const std::string& journal) {
  RunConfig c = busy_run_config(input, journal);
  c.batch_rows = 50;
  c.batch_latency = std::chrono::hours(1);  // batches of exactly 50 rows,
  c.check_input_first = true;               // from the first one on
  c.snapshot_every = 700;
  return c;
}

// Runs `c`, stopping it (as a failure would) after `batches` committed batches.
void run_interrupted(RunConfig c, int batches) {
  int seen = 0;
  c.on_progress = [&](const MarketDataSource&) {
    if (++seen == batches) throw Interrupted();
  };
  CHECK_THROWS_AS(run_paper_trading(c), Interrupted);
}

// Runs the CLI and kills it with SIGKILL once the journal holds `kill_at`
// events (at once if 0). Returns true if it was killed before it finished.
bool run_and_kill(const std::vector<std::string>& args, const std::string& db, Seq kill_at) {
  const pid_t pid = spawn_cli(args);
  int status = 0;
  while (kill_at > 0 && last_seq_of(db) < kill_at) {
    if (waitpid(pid, &status, WNOHANG) == pid) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  ::kill(pid, SIGKILL);
  REQUIRE(waitpid(pid, &status, 0) == pid);
  return WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL;
}

// The number after `label` in `text` ("BAR 123" for label "BAR "); -1 if absent.
std::int64_t number_after(const std::string& text, const std::string& label) {
  const auto at = text.find(label);
  return at == std::string::npos ? -1 : std::stoll(text.substr(at + label.size()));
}

}  // namespace

TEST_SUITE("resume") {
  TEST_CASE("regression: a resumed run's summary counts the last journaled row's events twice") {
    TempDir dir;
    const std::string csv = synthetic_bars(dir, "bars.csv", 400, 3);
    for (int batches : {1, 4, 9}) {
      CAPTURE(batches);
      const RunConfig c = busy_config(csv, dir.file("b" + std::to_string(batches) + ".db"));
      run_interrupted(c, batches);
      const RunSummary resumed = run_paper_trading(c);
      REQUIRE(resumed.outcome == RunSummary::Outcome::kResumed);
      // The row journaled last is run again, but its events are not appended again.
      CHECK(resumed.events_by_type[static_cast<std::size_t>(EventType::kBar)] ==
            static_cast<std::uint64_t>(resumed.rows));
      std::uint64_t appended = 0;
      for (const std::uint64_t n : resumed.events_by_type) appended += n;
      CHECK(appended == static_cast<std::uint64_t>(resumed.last_seq - resumed.first_seq + 1));
      CHECK(resumed.last_seq == last_seq_of(c.journal_location));
    }
  }

  TEST_CASE("Ctrl-C or SIGTERM stops a run with a line saying what it committed; it resumes") {
    TempDir dir;
    const std::string csv = synthetic_bars(dir, "bars.csv", 6000, 10);
    const auto args = [&](const std::string& db) {
      return std::vector<std::string>{
          "run",    "--bars",    csv,    "--journal",       db, "--window", "5",
          "--fill", "next-open", "--tz", "America/New_York"};
    };
    const std::string whole = dir.file("whole.db");
    REQUIRE(run_cli_args(args(whole)).exit_code == 0);
    const auto expected = trading_events(whole);
    const Seq total = last_seq_of(whole);

    for (const int sig : {SIGINT, SIGTERM}) {
      const std::string name = sig == SIGINT ? "SIGINT" : "SIGTERM";
      CAPTURE(name);
      const std::string db = dir.file(name + ".db"), err = dir.file(name + ".err");
      const pid_t pid = spawn_cli(args(db), err);
      int status = 0;
      bool finished = false;
      while (last_seq_of(db) < total / 4) {
        if (waitpid(pid, &status, WNOHANG) == pid) {
          finished = true;
          break;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
      }
      REQUIRE_FALSE(finished);
      // Stopped while the signal is sent, so it cannot finish in between: the
      // signal is handled, mid-run, once it continues.
      REQUIRE(::kill(pid, SIGSTOP) == 0);
      REQUIRE(waitpid(pid, &status, WUNTRACED) == pid);
      REQUIRE(WIFSTOPPED(status));
      REQUIRE(last_seq_of(db) < total / 2);
      ::kill(pid, sig);
      ::kill(pid, SIGCONT);
      REQUIRE(waitpid(pid, &status, 0) == pid);
      // Ended by the signal, as a shell reports with 128 + its number.
      CHECK(WIFSIGNALED(status));
      CHECK(WTERMSIG(status) == sig);
      const std::string said = read_file(err);
      INFO(said);
      const Seq committed = last_seq_of(db);
      REQUIRE(committed < total);
      CHECK(std::count(said.begin(), said.end(), '\n') == 1);
      CHECK(said.starts_with(fmt::format(
          "blotter run: interrupted by {}: {} holds run 1 up to seq {} (", name, db, committed)));
      CHECK(said.find(fmt::format("rows of {}; seq 1..{} committed now", csv, committed)) !=
            std::string::npos);
      CHECK(said.ends_with("; the same command resumes it\n"));
      CHECK(number_after(said, "up to seq " + std::to_string(committed) + " (") ==
            count(db, "SELECT count(*) FROM bars"));

      const CliResult again = run_cli_args(args(db));
      INFO(again.err);
      CHECK(again.exit_code == 0);
      CHECK(again.out.find("resumed run 1 after ") != std::string::npos);
      CHECK(trading_events(db) == expected);
      // The summary's rows and BAR count are the rows this process appended.
      const std::int64_t rows = number_after(again.out, "already journaled\nblotter run: ");
      CHECK(rows > 0);
      CHECK(number_after(again.out, " BAR ") == rows);
      CHECK(rows + count(db, "SELECT skipped_rows FROM run_resumptions") ==
            count(db, "SELECT count(*) FROM bars"));
    }
  }

  TEST_CASE("a run stopped after any batch resumes to the uninterrupted run's events") {
    TempDir dir;
    const std::string csv = synthetic_bars(dir, "bars.csv", 400, 3);
    const RunConfig whole = busy_config(csv, dir.file("whole.db"));
    const RunSummary uninterrupted = run_paper_trading(whole);
    const auto expected = trading_events(whole.journal_location);
    REQUIRE(uninterrupted.rows == 1200);
    REQUIRE(count(whole.journal_location, "SELECT count(*) FROM fills") > 50);

    for (int batches = 1; batches <= 24; ++batches) {
      CAPTURE(batches);
      const RunConfig c = busy_config(csv, dir.file("b" + std::to_string(batches) + ".db"));
      run_interrupted(c, batches);
      REQUIRE(count(c.journal_location, "SELECT count(*) FROM bars") == 50 * batches);
      const RunSummary resumed = run_paper_trading(c);
      CHECK(resumed.outcome == RunSummary::Outcome::kResumed);
      CHECK(resumed.skipped_rows == 50 * batches);
      CHECK(resumed.rows == 1200 - 50 * batches);
      CHECK(resumed.run_seq == 1);
      REQUIRE(trading_events(c.journal_location) == expected);
      auto journal = SqliteJournal::open(c.journal_location, SqliteJournal::Mode::kRead);
      CHECK_FALSE(check_snapshots(*journal).has_value());
    }
  }

  TEST_CASE("ticks at the same time resume to the uninterrupted run's events") {
    // Resuming skips rows by count, not by time: a batch that ends inside a
    // run of ticks at one time resumes at the right tick.
    TempDir dir;
    std::string text = "timestamp,symbol,price\n";
    for (int i = 0; i < 600; ++i)
      text += fmt::format("{},T,{}.{:02}\n", 1704205800 + i / 7, 100 + (i * 7) % 13, i % 100);
    const std::string csv = dir.write("ticks.csv", text);
    RunConfig whole = busy_config(csv, dir.file("whole.db"));
    whole.input.kind = MarketDataKind::kTicks;
    REQUIRE(run_paper_trading(whole).rows == 600);
    const auto expected = trading_events(whole.journal_location);
    REQUIRE(count(whole.journal_location, "SELECT count(*) FROM fills") > 0);
    for (int batches : {1, 3, 7}) {
      CAPTURE(batches);
      RunConfig c = busy_config(csv, dir.file("t" + std::to_string(batches) + ".db"));
      c.input.kind = MarketDataKind::kTicks;
      run_interrupted(c, batches);
      const RunSummary resumed = run_paper_trading(c);
      CHECK(resumed.outcome == RunSummary::Outcome::kResumed);
      CHECK(resumed.skipped_rows == 50 * batches);
      CHECK(trading_events(c.journal_location) == expected);
    }
  }

  TEST_CASE("a run resumed twice lists both resumptions and counts the whole run") {
    TempDir dir;
    const std::string csv = synthetic_bars(dir, "bars.csv", 400, 3);
    const RunConfig c = busy_config(csv, dir.file("twice.db"));
    run_interrupted(c, 3);
    const Seq first_resume = last_seq_of(c.journal_location) + 1;
    run_interrupted(c, 5);
    const Seq second_resume = last_seq_of(c.journal_location) + 1;
    CHECK(run_paper_trading(c).outcome == RunSummary::Outcome::kResumed);
    const std::string& db = c.journal_location;
    CHECK(count(db, "SELECT count(*) FROM runs") == 1);
    CHECK(count(db, "SELECT resumptions FROM runs") == 2);
    CHECK(count(db, "SELECT rows FROM runs") == 1200);
    CHECK(count(db, "SELECT events FROM runs") == count(db, "SELECT count(*) FROM events"));
    CHECK(count(db, "SELECT skipped_rows FROM run_resumptions ORDER BY seq LIMIT 1") == 150);
    SQLite::Database d(db, SQLite::OPEN_READONLY);
    CHECK(d.execAndGet("SELECT json_extract(payload, '$.resumed_at') FROM events WHERE type = "
                       "'RUN_FINISHED'")
              .getString() == fmt::format("[{},{}]", first_resume, second_resume));
  }

  TEST_CASE("a finished run is not run again; other options start a new run") {
    TempDir dir;
    const std::string csv = synthetic_bars(dir, "bars.csv", 100, 2);
    RunConfig c = busy_config(csv, dir.file("j.db"));
    const RunSummary first = run_paper_trading(c);
    const auto events = last_seq_of(c.journal_location);
    const RunSummary again = run_paper_trading(c);
    CHECK(again.outcome == RunSummary::Outcome::kAlreadyFinished);
    CHECK(again.run_seq == 1);
    CHECK(again.realized_pnl == first.realized_pnl);
    CHECK(last_seq_of(c.journal_location) == events);
    // The same bytes under another name are the same input.
    c.input_path = dir.write("copy.csv", read_file(csv));
    CHECK(run_paper_trading(c).outcome == RunSummary::Outcome::kAlreadyFinished);
    c.trading.params = StrategyParams::from_canonical("window=6");
    const RunSummary other = run_paper_trading(c);
    CHECK(other.outcome == RunSummary::Outcome::kNew);
    CHECK(other.run_seq == events + 1);
    CHECK(count(c.journal_location, "SELECT count(*) FROM runs") == 2);
  }

  TEST_CASE("an unfinished run of other input is left as it is and a new run starts") {
    TempDir dir;
    const RunConfig c = busy_config(synthetic_bars(dir, "a.csv", 400, 3), dir.file("j.db"));
    run_interrupted(c, 2);
    RunConfig other = c;
    other.input_path = synthetic_bars(dir, "b.csv", 390, 3);
    const RunSummary s = run_paper_trading(other);
    CHECK(s.outcome == RunSummary::Outcome::kNew);
    CHECK(count(c.journal_location, "SELECT count(*) FROM runs WHERE finished_seq IS NULL") == 1);
    CHECK(count(c.journal_location, "SELECT count(*) FROM runs") == 2);
  }

  TEST_CASE("blotter run killed with SIGKILL at several points resumes to the uninterrupted run") {
    TempDir dir;
    const std::string csv = synthetic_bars(dir, "bars.csv", 6000, 10);
    const auto args = [&](const std::string& db) {
      return std::vector<std::string>{
          "run",    "--bars",    csv,    "--journal",       db, "--window", "5",
          "--fill", "next-open", "--tz", "America/New_York"};
    };
    const std::string whole = dir.file("whole.db");
    REQUIRE(run_cli("run --bars " + quote(csv) + " --journal " + quote(whole) +
                    " --window 5 --fill next-open --tz America/New_York")
                .exit_code == 0);
    const auto expected = trading_events(whole);
    const Seq total = last_seq_of(whole);

    // One journal killed three times, further on each time, then finished.
    const std::string db = dir.file("killed.db");
    int kills = 0;
    for (const double at : {0.2, 0.5, 0.85}) {
      CAPTURE(at);
      if (run_and_kill(args(db), db, static_cast<Seq>(at * static_cast<double>(total)))) ++kills;
      CHECK(count(db, "SELECT count(*) FROM runs WHERE finished_seq IS NULL") == 1);
      CHECK(count(db, "SELECT count(*) FROM snapshots WHERE seq > (SELECT max(seq) FROM events)") ==
            0);
    }
    CHECK(kills == 3);
    const CliResult finish = run_cli("run --bars " + quote(csv) + " --journal " + quote(db) +
                                     " --window 5 --fill next-open --tz America/New_York");
    CHECK(finish.exit_code == 0);
    CHECK(finish.out.find("resumed run 1 after ") != std::string::npos);
    CHECK(trading_events(db) == expected);
    CHECK(count(db, "SELECT resumptions FROM runs") == 3);

    // Killed before it could commit anything: the rerun starts from nothing.
    const std::string early = dir.file("early.db");
    run_and_kill(args(early), early, 0);
    REQUIRE(run_cli("run --bars " + quote(csv) + " --journal " + quote(early) +
                    " --window 5 --fill next-open --tz America/New_York")
                .exit_code == 0);
    CHECK(trading_events(early) == expected);
    auto journal = SqliteJournal::open(db, SqliteJournal::Mode::kRead);
    CHECK_FALSE(check_snapshots(*journal).has_value());
  }
}
