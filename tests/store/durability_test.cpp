// --durability full against the default: the same journal, and the
// write-ahead guarantee for ORDER events; resuming after a commit mid-row.
#include <SQLiteCpp/SQLiteCpp.h>
#include <doctest/doctest.h>
#include <fmt/format.h>
#include <signal.h>
#include <sys/wait.h>

#include <chrono>
#include <thread>

#include "blotter/error.h"
#include "blotter/sqlite_journal.h"
#include "blotter/trading_system.h"
#include "blotter/verify.h"
#include "cli_helpers.h"

using namespace blotter;
using namespace blotter::testing;

namespace {

RunConfig busy_config(const std::string& input, const std::string& journal) {
  RunConfig c = busy_run_config(input, journal);
  c.snapshot_every = 300;
  return c;
}

std::vector<Event> events_of(const std::string& db) {
  auto journal = SqliteJournal::open(db, SqliteJournal::Mode::kRead);
  std::vector<Event> events;
  journal->scan({}, [&](const Event& e) {
    events.push_back(e);
    return true;
  });
  return events;
}

// A journal holding the first `n` events of `events`, as a run stopped
// right after committing event `n` leaves it.
void write_prefix(const std::string& db, const std::vector<Event>& events, std::size_t n) {
  auto journal = SqliteJournal::open(db, SqliteJournal::Mode::kWrite);
  for (std::size_t i = 0; i < n; ++i) {
    Event e = events[i];
    journal->append(e);
  }
  journal->commit();
}

}  // namespace

TEST_SUITE("durability") {
  TEST_CASE("--durability full journals exactly the events of the default") {
    TempDir dir;
    SUBCASE("GOOG daily, fills at the signal") {
      const std::string normal = goog_journal_in(dir, "normal.db", "--quantity 1");
      const std::string full = goog_journal_in(dir, "full.db", "--quantity 1 --durability full");
      REQUIRE(count(full, "SELECT count(*) FROM orders") > 10);
      CHECK(trading_events(full) == trading_events(normal));
      CHECK(verify_journal(full).ok);
    }
    SUBCASE("three symbols, next-open fills, a loss limit") {
      const std::string csv = synthetic_bars(dir, "bars.csv", 400, 3);
      RunConfig normal = busy_config(csv, dir.file("normal.db"));
      RunConfig full = busy_config(csv, dir.file("full.db"));
      full.durability = Durability::kFull;
      const RunSummary a = run_paper_trading(normal);
      const RunSummary b = run_paper_trading(full);
      REQUIRE(count(full.journal_location, "SELECT count(*) FROM fills") > 50);
      CHECK(trading_events(full.journal_location) == trading_events(normal.journal_location));
      CHECK(a.realized_pnl == b.realized_pnl);
      CHECK(a.last_seq == b.last_seq);
    }
  }

  TEST_CASE("a journal cut after any event resumes to the uninterrupted run's events") {
    // --durability full commits at each ORDER, mid-row: the resumed run must
    // append only what the last row lacks. Every cut point is tried.
    TempDir dir;
    const std::string csv = synthetic_bars(dir, "bars.csv", 60, 3);
    RunConfig whole = busy_config(csv, dir.file("whole.db"));
    whole.snapshot_every = 0;
    run_paper_trading(whole);
    const auto expected = trading_events(whole.journal_location);
    const std::vector<Event> events = events_of(whole.journal_location);
    REQUIRE(count(whole.journal_location, "SELECT count(*) FROM orders") > 5);
    REQUIRE(events.back().type() == EventType::kRunFinished);
    int mid_row_cuts = 0;
    for (std::size_t n = 1; n < events.size(); ++n) {
      CAPTURE(n);
      const std::string db = dir.file(fmt::format("cut{}.db", n));
      write_prefix(db, events, n);
      const EventType next = events[n].type();
      if (next != EventType::kBar && next != EventType::kRunFinished) ++mid_row_cuts;
      const RunSummary resumed = run_paper_trading(busy_config(csv, db));
      CHECK(resumed.outcome == RunSummary::Outcome::kResumed);
      const std::int64_t bars_before =
          std::count_if(events.begin(), events.begin() + static_cast<std::ptrdiff_t>(n),
                        [](const Event& e) { return e.type() == EventType::kBar; });
      CHECK(resumed.skipped_rows == bars_before);
      CHECK(resumed.rows == 180 - bars_before);
      REQUIRE(trading_events(db) == expected);
      CHECK(count(db, "SELECT rows FROM runs") == 180);
      CHECK(verify_journal(db).ok);
    }
    CHECK(mid_row_cuts > 20);
  }

  TEST_CASE("resuming refuses a journal whose last row differs from what the input gives") {
    TempDir dir;
    const std::string csv = synthetic_bars(dir, "bars.csv", 60, 3);
    RunConfig whole = busy_config(csv, dir.file("whole.db"));
    run_paper_trading(whole);
    std::vector<Event> events = events_of(whole.journal_location);
    // Cut right after a FILL whose price is then altered: the journal cannot
    // be the first part of this input's run.
    std::size_t n = 0;
    for (std::size_t i = 0; i < events.size(); ++i)
      if (events[i].type() == EventType::kFill) n = i + 1;
    REQUIRE(n > 0);
    std::get<Fill>(events[n - 1].payload).price = Decimal::from_string("1.23");
    const std::string db = dir.file("altered.db");
    write_prefix(db, events, n);
    const auto before = trading_events(db);
    try {
      run_paper_trading(busy_config(csv, db));
      FAIL("the resumed run went on");
    } catch (const StoreError& e) {
      CHECK(std::string(e.what()) ==
            fmt::format("{}: seq {}: the journal holds a FILL where going on with this input "
                        "gives a FILL (the payload differs): the journal does not match the "
                        "input",
                        db, n));
    }
    CHECK(trading_events(db) == before);
    CHECK(count(db, "SELECT count(*) FROM run_resumptions") == 0);
  }

  TEST_CASE("blotter run --durability full killed with SIGKILL resumes to the uninterrupted run") {
    TempDir dir;
    const std::string csv = synthetic_bars(dir, "bars.csv", 1500, 4);
    const std::string options = " --window 5 --fill next-open --tz America/New_York";
    const std::string whole = dir.file("whole.db");
    REQUIRE(
        run_cli("run --bars " + quote(csv) + " --journal " + quote(whole) + options).exit_code ==
        0);
    const auto expected = trading_events(whole);
    const Seq total = last_seq_of(whole);
    const std::string db = dir.file("killed.db");
    int kills = 0;
    for (const double at : {0.3, 0.7}) {
      CAPTURE(at);
      const pid_t pid =
          spawn_cli({"run", "--bars", csv, "--journal", db, "--window", "5", "--fill", "next-open",
                     "--tz", "America/New_York", "--durability", "full"});
      int status = 0;
      bool exited = false;
      while (last_seq_of(db) < static_cast<Seq>(at * static_cast<double>(total))) {
        if (waitpid(pid, &status, WNOHANG) == pid) {
          exited = true;
          break;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
      }
      if (!exited) {
        ::kill(pid, SIGKILL);
        REQUIRE(waitpid(pid, &status, 0) == pid);
        if (WIFSIGNALED(status)) ++kills;
      }
    }
    CHECK(kills == 2);
    const CliResult finish = run_cli("run --bars " + quote(csv) + " --journal " + quote(db) +
                                     options + " --durability full");
    CHECK(finish.exit_code == 0);
    CHECK(trading_events(db) == expected);
    CHECK(verify_journal(db).ok);
  }
}
