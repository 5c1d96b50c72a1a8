// Readers while a run writes: each sees a consistent prefix of the journal
// (whole batches, never part of one) and never blocks the writer.
#include <SQLiteCpp/SQLiteCpp.h>
#include <doctest/doctest.h>
#include <signal.h>
#include <sys/wait.h>

#include <chrono>
#include <filesystem>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "cli_helpers.h"

using namespace blotter::testing;

namespace {

// The seqs after which a committed prefix may end: the last event of each
// input row's consequences (the next event is a market event or RUN_FINISHED).
std::set<std::int64_t> row_ends(const std::string& db) {
  SQLite::Database d(db, SQLite::OPEN_READONLY);
  SQLite::Statement q(d,
                      "SELECT seq - 1 FROM events WHERE type IN ('BAR','TICK','RUN_FINISHED') "
                      "UNION SELECT max(seq) FROM events");
  std::set<std::int64_t> ends;
  while (q.executeStep()) ends.insert(q.getColumn(0).getInt64());
  return ends;
}

}  // namespace

TEST_SUITE("concurrency") {
  TEST_CASE("readers in a loop against a writer see whole batches and never stop it") {
    TempDir dir;
    const std::string csv = synthetic_bars(dir, "bars.csv", 8000, 10);
    const std::vector<std::string> options = {"--window",         "5",    "--fill", "next-open",
                                              "--snapshot-every", "20000"};
    const std::string whole = dir.file("whole.db");
    {
      std::vector<std::string> args = {"run", "--bars", csv, "--journal", whole};
      args.insert(args.end(), options.begin(), options.end());
      const pid_t pid = spawn_cli(args);
      int status = 0;
      REQUIRE(waitpid(pid, &status, 0) == pid);
      REQUIRE(WEXITSTATUS(status) == 0);
    }
    const auto expected = trading_events(whole);
    const auto ends = row_ends(whole);

    const std::string db = dir.file("live.db");
    std::vector<std::string> args = {"run", "--bars", csv, "--journal", db};
    args.insert(args.end(), options.begin(), options.end());
    const pid_t writer = spawn_cli(args);
    int status = 0;
    int prefixes = 0, cli_reads = 0;
    bool done = false;
    // Once it has committed, and until it nears its end, the writer is paused
    // (SIGSTOP) while the readers read, and runs for a few milliseconds
    // between reads: the readers see it at many points of its run however
    // fast this machine runs it, and a writer paused mid-batch must not stop
    // them. (Not near its end: closing, it holds the file's lock for its last
    // checkpoint, and new readers rightly wait for that.)
    const std::int64_t pause_until = last_seq_of(whole) * 9 / 10;
    struct Resume {
      pid_t pid;
      bool paused = false;
      void operator()() {
        if (paused) ::kill(pid, SIGCONT);
        paused = false;
      }
      ~Resume() { (*this)(); }
    } resume{writer};
    while (!done) {
      if (resume.paused) {
        resume();
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
      }
      done = waitpid(writer, &status, WNOHANG) == writer;
      const std::int64_t committed = last_seq_of(db);
      if (!done && committed > 0 && committed < pause_until)
        resume.paused = ::kill(writer, SIGSTOP) == 0;
      // A raw SQLite reader, as any client: one transaction sees one prefix.
      if (!std::filesystem::exists(db)) continue;
      try {
        // Like any client, it waits while the journal is being created.
        SQLite::Database d(db, SQLite::OPEN_READONLY, 5000);
        SQLite::Transaction read(d, SQLite::TransactionBehavior::DEFERRED);
        const std::int64_t last =
            d.execAndGet("SELECT coalesce(max(seq), 0) FROM events").getInt64();
        const std::int64_t n = d.execAndGet("SELECT count(*) FROM events").getInt64();
        CHECK(n == last);  // gap-free
        if (last > 0) {
          CHECK(ends.count(last) == 1);  // ends at the end of a row's consequences
          const std::string tail =
              d.execAndGet("SELECT payload FROM events WHERE seq = " + std::to_string(last))
                  .getString();
          CHECK(!tail.empty());
          ++prefixes;
        }
      } catch (const SQLite::Exception& e) {
        // Before the writer has created the schema there is nothing to read.
        INFO(std::string(e.what()));
        CHECK(std::string(e.what()).find("no such table") != std::string::npos);
      }
      // The CLI's readers work while the writer is paused mid-run (a few times).
      if (cli_reads < 5 && last_seq_of(db) > 0) {
        const CliResult state = run_cli("state " + quote(db) + " --format json");
        CHECK(state.exit_code == 0);
        const CliResult query = run_cli("query " + quote(db) + " \"SELECT count(*) FROM events\"");
        CHECK(query.exit_code == 0);
        const CliResult replay = run_cli("replay " + quote(db) + " --type FILL --format jsonl");
        CHECK(replay.exit_code == 0);
        ++cli_reads;
      }
    }
    CHECK(WIFEXITED(status));
    CHECK(WEXITSTATUS(status) == 0);
    CHECK(prefixes >= 3);
    CHECK(cli_reads >= 1);
    CHECK(trading_events(db) == expected);
  }
}
