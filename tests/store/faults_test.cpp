// Faults: a full disk, a read-only place, a second writer, a long reader. Each
// gives one clear error or keeps working, and every committed event stays.
#include <SQLiteCpp/SQLiteCpp.h>
#include <doctest/doctest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "blotter/sqlite_journal.h"
#include "cli_helpers.h"

using namespace blotter::testing;

namespace {

const std::string kOptions = " --window 5 --fill next-open --snapshot-every 5000";

// The number of lines in `text`.
std::size_t lines(const std::string& text) {
  return static_cast<std::size_t>(std::count(text.begin(), text.end(), '\n'));
}

// Whether the journal's events are a prefix of `expected`'s, ending at a row's end.
bool whole_prefix_of(const std::vector<std::string>& got,
                     const std::vector<std::string>& expected) {
  if (got.size() > expected.size()) return false;
  for (std::size_t i = 0; i < got.size(); ++i)
    if (got[i] != expected[i]) return false;
  return got.size() == expected.size() || expected[got.size()].find("|BAR|") != std::string::npos;
}

}  // namespace

TEST_SUITE("faults") {
  TEST_CASE("a full disk stops the run with one clear line, keeps every committed batch, resumes") {
    TempDir dir;
    const std::string csv = synthetic_bars(dir, "bars.csv", 4000, 10);
    const std::string whole = dir.file("whole.db");
    REQUIRE(
        run_cli("run --bars " + quote(csv) + " --journal " + quote(whole) + kOptions).exit_code ==
        0);
    const auto expected = trading_events(whole);

    // The file size limit makes writes fail as on a full disk (EFBIG, with
    // SIGXFSZ ignored, as ENOSPC would without it). --durability full checks
    // the whole input before the first commit: with the check running beside
    // the run (normal durability), the first batch stays open until the check
    // passes, and on a loaded machine it could grow past the limit, leaving
    // nothing committed.
    const std::string db = dir.file("full.db");
    const CliResult full = run_cli("--version >/dev/null; ulimit -f 6144; trap '' XFSZ; " +
                                   std::string(BLOTTER_CLI) + " run --bars " + quote(csv) +
                                   " --journal " + quote(db) + kOptions + " --durability full");
    CHECK(full.exit_code == 2);
    CHECK(lines(full.err) == 1);
    CHECK(full.err.rfind("blotter: " + db + ": ", 0) == 0);
    // SQLite's message ("database or disk is full" for ENOSPC; EFBIG here).
    CHECK(full.err.find("cannot commit to the journal: disk I/O error") != std::string::npos);
    const auto kept = trading_events(db);
    CHECK_FALSE(kept.empty());
    CHECK(whole_prefix_of(kept, expected));

    const CliResult resumed = run_cli("run --bars " + quote(csv) + " --journal " + quote(db) +
                                      kOptions + " --durability full");
    CHECK(resumed.exit_code == 0);
    CHECK(resumed.out.find("resumed run 1") != std::string::npos);
    CHECK(trading_events(db) == expected);
  }

  TEST_CASE("in a read-only directory, writers fail clearly and readers still read") {
    TempDir dir;
    const std::string ro = dir.file("ro");
    std::filesystem::create_directories(ro);
    const std::string db = ro + "/g.db";
    REQUIRE(run_cli("run --bars " + quote(goog_csv()) + " --symbol GOOG --quantity 1 --journal " +
                    quote(db))
                .exit_code == 0);
    REQUIRE_FALSE(std::filesystem::exists(db + "-wal"));
    const auto before = trading_events(db);
    std::filesystem::permissions(ro, std::filesystem::perms::owner_write,
                                 std::filesystem::perm_options::remove);
    // Root ignores permissions: run the CLI as nobody then.
    const std::string as =
        ::geteuid() == 0 ? "setpriv --reuid=65534 --regid=65534 --clear-groups " : "";
    const auto cli = [&](const std::string& args) {
      return run_cli("--version >/dev/null; " + as + BLOTTER_CLI + " " + args);
    };
    const CliResult fresh = cli("run --bars " + quote(goog_csv()) + " --symbol GOOG --journal " +
                                quote(ro + "/new.db"));
    CHECK(fresh.exit_code == 2);
    CHECK(fresh.err == "blotter: " + ro + "/new.db: cannot write the journal: directory '" + ro +
                           "' is not writable (a journal needs its -wal and -shm files beside "
                           "it)\n");
    const CliResult again =
        cli("run --bars " + quote(goog_csv()) + " --symbol GOOG --window 9 --journal " + quote(db));
    CHECK(again.exit_code == 2);
    CHECK(lines(again.err) == 1);
    CHECK(again.err.find("cannot write the journal") != std::string::npos);
    const CliResult state = cli("state " + quote(db) + " --format json");
    CHECK(state.exit_code == 0);
    CHECK(state.out.find("\"realized_pnl\": \"278.75\"") != std::string::npos);
    const CliResult query = cli("query " + quote(db) + " \"SELECT count(*) FROM fills\"");
    CHECK(query.exit_code == 0);
    CHECK(query.out.find("76") != std::string::npos);
    CHECK(cli("verify " + quote(db)).exit_code == 0);
    CHECK(cli("replay " + quote(db) + " --type FILL --format jsonl").exit_code == 0);
    std::filesystem::permissions(ro, std::filesystem::perms::owner_write,
                                 std::filesystem::perm_options::add);
    CHECK(trading_events(db) == before);
    CHECK_FALSE(std::filesystem::exists(ro + "/new.db"));
  }

  TEST_CASE("a reader holding a long transaction does not stop the writer") {
    TempDir dir;
    const std::string csv = synthetic_bars(dir, "bars.csv", 3000, 10);
    const std::string db = dir.file("j.db");
    REQUIRE(run_cli("run --bars " + quote(goog_csv()) + " --symbol GOOG --journal " + quote(db))
                .exit_code == 0);
    const std::int64_t before = last_seq_of(db);
    SQLite::Database reader(db, SQLite::OPEN_READONLY);
    SQLite::Transaction snapshot(reader, SQLite::TransactionBehavior::DEFERRED);
    CHECK(reader.execAndGet("SELECT count(*) FROM events").getInt64() == before);
    // The writer appends a whole second run while the reader's transaction is open.
    const CliResult run =
        run_cli("run --bars " + quote(csv) + " --journal " + quote(db) + kOptions);
    CHECK(run.exit_code == 0);
    CHECK(reader.execAndGet("SELECT count(*) FROM events").getInt64() == before);
    snapshot.commit();
    CHECK(reader.execAndGet("SELECT count(*) FROM events").getInt64() > before);
    CHECK(last_seq_of(db) == count(db, "SELECT count(*) FROM events"));
  }

  TEST_CASE("a second blotter run on a journal in use fails clearly and writes nothing") {
    TempDir dir;
    const std::string db = dir.file("j.db");
    REQUIRE(run_cli("run --bars " + quote(goog_csv()) + " --symbol GOOG --journal " + quote(db))
                .exit_code == 0);
    const auto before = trading_events(db);
    {
      // Another writer has the journal open (this process, through the library).
      auto writer = blotter::SqliteJournal::open(db, blotter::SqliteJournal::Mode::kWrite);
      const CliResult second = run_cli("run --bars " + quote(goog_csv()) +
                                       " --symbol GOOG --window 9 --journal " + quote(db));
      CHECK(second.exit_code == 2);
      CHECK(second.err == "blotter: " + db +
                              ": another blotter is writing to this journal (waited 3 s); a "
                              "journal has one writer at a time\n");
      // Readers are not stopped by the writer.
      CHECK(run_cli("state " + quote(db)).exit_code == 0);
    }
    CHECK(trading_events(db) == before);
    CHECK(count(db, "SELECT count(*) FROM runs") == 1);
  }
}
