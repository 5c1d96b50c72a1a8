// End to end: every command that opens a journal, given a file that is not a
// good journal. Each gives one line on stderr and exit status 2 (or its
// documented outcome), never a crash, and a command that fails leaves the
// file as it was.
#include <doctest/doctest.h>
#include <fmt/format.h>

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "blotter/sqlite_journal.h"
#include "cli_helpers.h"

using namespace blotter::testing;
namespace fs = std::filesystem;

namespace {

// The commands, each with the arguments it runs with; JOURNAL stands for the file.
const std::vector<std::pair<std::string, std::vector<std::string>>>& commands() {
  static const std::vector<std::pair<std::string, std::vector<std::string>>> all = {
      {"state", {"state", "JOURNAL"}},
      {"replay", {"replay", "JOURNAL", "--format", "jsonl"}},
      {"query", {"query", "JOURNAL", "SELECT count(*) FROM events"}},
      {"runs", {"runs", "JOURNAL"}},
      {"resim", {"resim", "JOURNAL"}},
      {"run", {"run", "--bars", goog_csv(), "--symbol", "GOOG", "--journal", "JOURNAL"}},
      {"snapshot", {"snapshot", "JOURNAL"}},
      {"migrate", {"migrate", "JOURNAL"}},
  };
  return all;
}

bool writes(const std::string& command) {
  return command == "run" || command == "snapshot" || command == "migrate";
}

// What a command does with a journal: its exit status and, for status 2, the
// start of its one line on stderr after "blotter: " (JOURNAL stands for the
// file's path).
struct Outcome {
  int exit_code = 2;
  std::string error;
};

Outcome ok() { return {0, ""}; }
Outcome error(std::string message) { return {2, std::move(message)}; }

struct BadJournal {
  const char* what;
  std::function<void(const std::string& path)> make;
  Outcome reads;                               // state, replay, query, runs, resim
  Outcome writes;                              // run, snapshot, migrate
  std::map<std::string, Outcome> except = {};  // per command, instead of the above
};

std::string replace_all(std::string text, const std::string& from, const std::string& to) {
  for (std::size_t at = 0; (at = text.find(from, at)) != std::string::npos; at += to.size())
    text.replace(at, from.size(), to);
  return text;
}

void write_bytes(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  out.close();
  REQUIRE(out.good());
}

// A copy of `journal`, its WAL checkpointed into the main file first.
void copy_journal(const std::string& journal, const std::string& path) {
  {
    SQLite::Database db(journal, SQLite::OPEN_READWRITE);
    db.exec("PRAGMA wal_checkpoint(TRUNCATE)");
  }
  fs::copy_file(journal, path, fs::copy_options::overwrite_existing);
}

// A copy of `journal` changed by `sql`, with the append-only triggers dropped
// first as someone editing the file by hand would.
std::function<void(const std::string&)> edited(const std::string& journal, std::string sql) {
  return [journal, sql](const std::string& path) {
    copy_journal(journal, path);
    SQLite::Database db(path, SQLite::OPEN_READWRITE);
    db.exec("DROP TRIGGER events_no_update; DROP TRIGGER events_no_delete;");
    db.exec(sql);
    db.exec("PRAGMA wal_checkpoint(TRUNCATE)");
  };
}

// A copy of `journal` with the middle leaf page of table or index `name` zeroed.
std::function<void(const std::string&)> zero_page(const std::string& journal, std::string name) {
  return [journal, name](const std::string& path) {
    copy_journal(journal, path);
    std::int64_t page = 0, page_size = 0;
    {
      SQLite::Database db(path, SQLite::OPEN_READONLY);
      SQLite::Statement q(db,
                          "SELECT pageno FROM dbstat WHERE name = ?1 AND pagetype = 'leaf' "
                          "ORDER BY pageno LIMIT 1 OFFSET (SELECT count(*) / 2 FROM dbstat "
                          "WHERE name = ?1 AND pagetype = 'leaf')");
      q.bind(1, name);
      REQUIRE(q.executeStep());
      page = q.getColumn(0).getInt64();
      page_size = db.execAndGet("PRAGMA page_size").getInt64();
    }
    std::string bytes = read_file(path);
    REQUIRE(static_cast<std::int64_t>(bytes.size()) >= page * page_size);
    std::fill_n(bytes.begin() + (page - 1) * page_size, page_size, '\0');
    write_bytes(path, bytes);
  };
}

std::string random_bytes(std::size_t n) {
  std::string bytes;
  std::uint64_t state = 0x2545F4914F6CDD1Dull;
  for (std::size_t i = 0; i < n; ++i) {
    state = state * 6364136223846793005ull + 1442695040888963407ull;
    bytes += static_cast<char>(state >> 56);
  }
  return bytes;
}

}  // namespace

TEST_SUITE("bad_journal") {
  TEST_CASE("a file that is not a good journal gives one line and exit 2, never a crash") {
    TempDir dir;
    // A finished GOOG run, without snapshots (so state replays every event)
    // and with them (the default: one at the end).
    const std::string plain = dir.file("plain.db"), snapshotted = dir.file("snapshotted.db");
    for (const auto& [db, every] : {std::pair{plain, "0"}, std::pair{snapshotted, "100000"}}) {
      const CliResult r = run_cli_args({"run", "--bars", goog_csv(), "--symbol", "GOOG",
                                        "--journal", db, "--snapshot-every", every});
      INFO(r.err);
      REQUIRE(r.exit_code == 0);
    }
    REQUIRE(count(plain, "SELECT count(*) FROM snapshots") == 0);
    REQUIRE(count(snapshotted, "SELECT count(*) FROM snapshots") == 1);
    REQUIRE(count(plain, "SELECT count(*) FROM events WHERE seq = 5 AND type = 'BAR'") == 1);

    const std::string damaged = "JOURNAL: the database file is damaged (truncated or corrupt)";
    const std::string bad_bar = "JOURNAL: seq 5: BAR payload: field 'open': missing";
    const std::vector<BadJournal> rows = {
        {"a text file",
         [](const std::string& p) { write_bytes(p, "timestamp,open,high,low,close,volume\n"); },
         error("JOURNAL: not a SQLite database"), error("JOURNAL: not a SQLite database")},
        {"random bytes", [](const std::string& p) { write_bytes(p, random_bytes(8192)); },
         error("JOURNAL: not a SQLite database"), error("JOURNAL: not a SQLite database")},
        // An empty file is where `blotter run` starts a new journal; the
        // other commands say so instead of calling it an old journal.
        {"an empty file",
         [](const std::string& p) { write_bytes(p, ""); },
         error("JOURNAL: empty, not a journal yet (a run writing to it makes it one)"),
         error("JOURNAL: empty, not a journal yet (a run writing to it makes it one)"),
         {{"run", ok()}}},
        {"a SQLite database that is not a journal",
         [](const std::string& p) {
           SQLite::Database db(p, SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE);
           db.exec("CREATE TABLE events(seq INTEGER PRIMARY KEY, payload TEXT)");
         },
         error("JOURNAL: a SQLite database, but not a blotter journal"),
         error("JOURNAL: a SQLite database, but not a blotter journal")},
        {"a journal from a newer blotter",
         [&](const std::string& p) {
           copy_journal(plain, p);
           SQLite::Database db(p, SQLite::OPEN_READWRITE);
           db.exec(fmt::format("PRAGMA user_version = {}", blotter::journal_schema_version() + 1));
         },
         error(fmt::format("JOURNAL: written by a newer blotter (journal schema version {}, this "
                           "blotter knows up to {}); upgrade blotter to open it",
                           blotter::journal_schema_version() + 1,
                           blotter::journal_schema_version())),
         error(fmt::format("JOURNAL: written by a newer blotter (journal schema version {}",
                           blotter::journal_schema_version() + 1))},
        {"a journal cut to half its size",
         [&](const std::string& p) {
           copy_journal(plain, p);
           fs::resize_file(p, fs::file_size(p) / 2);
         },
         error(damaged), error(damaged)},
        {"a journal cut to its first page",
         [&](const std::string& p) {
           copy_journal(plain, p);
           fs::resize_file(p, 4096);
         },
         error(damaged), error(damaged)},
        // SQLite keeps no checksums: a damaged page is noticed when it is read.
        {"a journal with a page of its events zeroed",
         zero_page(plain, "events"),
         error("JOURNAL: cannot read the journal: database disk image is malformed"),
         error("JOURNAL: cannot read the journal: database disk image is malformed"),
         {{"query", error("SQL error: database disk image is malformed")},
          {"runs", error("SQL error: database disk image is malformed")},
          {"migrate", ok()}}},
        {"a journal with its time index's page zeroed", zero_page(plain, "time_index"), ok(), ok()},
        {"a BAR payload edited out of shape",
         edited(plain, "UPDATE events SET payload = '{\"x\":1}' WHERE seq = 5"),
         error(bad_bar),
         error(bad_bar),
         {{"query", ok()}, {"replay", ok()}, {"runs", ok()}, {"migrate", ok()}}},
        // Snapshots are trusted: state starts from the last one and reads no
        // event before it. Replay, like query, shows rows as stored, whatever
        // they hold. Checking every event is `blotter verify`'s job.
        {"a BAR payload edited out of shape, before a snapshot",
         edited(snapshotted, "UPDATE events SET payload = '{\"x\":1}' WHERE seq = 5"),
         error(bad_bar),
         error(bad_bar),
         {{"state", ok()},
          {"query", ok()},
          {"replay", ok()},
          {"runs", ok()},
          {"run", ok()},
          {"migrate", ok()}}},
        {"an event type edited to an unknown name",
         edited(plain, "UPDATE events SET type = 'XYZ' WHERE seq = 5"),
         error("JOURNAL: seq 5: unknown event type 'XYZ'"),
         error("JOURNAL: seq 5: unknown event type 'XYZ'"),
         {{"query", ok()}, {"replay", ok()}, {"runs", ok()}, {"migrate", ok()}}},
        {"a payload that is not JSON",
         edited(plain,
                "PRAGMA ignore_check_constraints = ON; "
                "UPDATE events SET payload = 'not json' WHERE seq = 5"),
         error("JOURNAL: seq 5: BAR payload: invalid JSON: "),
         error("JOURNAL: seq 5: BAR payload: invalid JSON: "),
         {{"query", ok()}, {"replay", ok()}, {"runs", ok()}, {"migrate", ok()}}},
        {"the run's time zone edited to one that does not exist",
         edited(plain,
                "UPDATE events SET payload = json_set(payload, '$.tz', 'Mars/Olympus') "
                "WHERE seq = 1"),
         error("seq 1: RUN_STARTED: unknown time zone 'Mars/Olympus'"),
         error("seq 1: RUN_STARTED: unknown time zone 'Mars/Olympus'"),
         {{"replay", ok()},
          {"query", ok()},
          {"runs", ok()},
          {"resim", error("unknown time zone 'Mars/Olympus'")},
          {"run", ok()},  // not the same run: another time zone; a new run is appended
          {"migrate", ok()}}},
        {"the run's window edited beyond an int",
         edited(plain,
                "UPDATE events SET payload = json_set(payload, '$.window', 4294967297) "
                "WHERE seq = 1"),
         error("seq 1: RUN_STARTED: invalid run manifest: window 4294967297 is out of range"),
         error("seq 1: RUN_STARTED: invalid run manifest: window 4294967297 is out of range"),
         {{"replay", ok()},
          {"query", ok()},
          {"runs", ok()},
          {"resim", error("invalid run manifest: window 4294967297 is out of range")},
          {"run", ok()},  // not the same run: another window; a new run is appended
          {"migrate", ok()}}},
        // Edits that leave every event well-formed are not errors here: only
        // `blotter verify` can tell them from what was recorded.
        {"a BAR's close edited to another price",
         edited(plain,
                "UPDATE events SET payload = json_set(payload, '$.close', '1000') WHERE seq = 5"),
         ok(), ok()},
        {"a FILL's quantity edited to the largest decimal",
         edited(plain,
                "UPDATE events SET payload = json_set(payload, '$.quantity', "
                "'92233720368.54775807') WHERE seq = (SELECT min(seq) FROM events "
                "WHERE type = 'FILL')"),
         ok(),
         ok(),
         {{"resim", {1, ""}}}},  // exit 1: the fills differ from the re-simulated
        {"an event deleted", edited(plain, "DELETE FROM events WHERE seq = 7"), ok(), ok()},
    };

    int n = 0;
    for (const BadJournal& row : rows) {
      for (const auto& [command, args] : commands()) {
        const std::string what = row.what;
        CAPTURE(what);
        CAPTURE(command);
        const std::string path = dir.file(fmt::format("journal{}.db", ++n));
        row.make(path);
        const std::string before = read_file(path);
        std::vector<std::string> argv;
        for (const std::string& a : args) argv.push_back(a == "JOURNAL" ? path : a);
        const CliResult r = run_cli_args(argv);

        auto it = row.except.find(command);
        const Outcome expected = it != row.except.end() ? it->second
                                 : writes(command)      ? row.writes
                                                        : row.reads;
        INFO(r.err);
        CHECK(r.signal == 0);
        CHECK(r.exit_code == expected.exit_code);
        if (expected.exit_code == 2) {
          const std::string line = "blotter: " + replace_all(expected.error, "JOURNAL", path);
          CHECK(r.err.rfind(line, 0) == 0);
          CHECK(std::count(r.err.begin(), r.err.end(), '\n') == 1);
          CHECK(r.err.ends_with('\n'));
        } else {
          CHECK(r.err.empty());
        }
        if (r.exit_code != 0 || !writes(command)) CHECK(read_file(path) == before);
      }
    }
  }
  TEST_CASE("regression: failed writer commands created or changed the journal") {
    TempDir dir;
    const std::string journal = goog_journal_in(dir, "g.db");
    const std::string empty_error = "empty, not a journal yet (a run writing to it makes it one)\n";
    struct Case {
      std::vector<std::string> args;  // PATH: the file
      bool exists;                    // an empty file at PATH, else none
      std::string error;              // after "blotter: PATH: "
    };
    const std::vector<Case> cases = {
        {{"annotate", "PATH", "--seq", "1", "x"}, true, empty_error},
        {{"annotate", "PATH", "--seq", "1", ""}, true, empty_error},
        {{"annotate", "PATH", "--day", "2007-05-03", "x"}, true, empty_error},
        {{"snapshot", "PATH"}, true, empty_error},
        {{"migrate", "PATH"}, true, empty_error},
        {{"annotate", "PATH", "--seq", "1", "x"}, false, "no such journal\n"},
        {{"snapshot", "PATH"}, false, "no such journal\n"},
        {{"migrate", "PATH"}, false, "no such journal\n"},
    };
    int n = 0;
    for (const Case& c : cases) {
      const std::string path = dir.file(fmt::format("z{}.db", ++n));
      if (c.exists) write_bytes(path, "");
      std::vector<std::string> argv;
      for (const std::string& a : c.args) argv.push_back(a == "PATH" ? path : a);
      CAPTURE(argv);
      const CliResult r = run_cli_args(argv);
      CHECK(r.exit_code == 2);
      CHECK(r.err == "blotter: " + path + ": " + fmt::format(fmt::runtime(c.error), path));
      CHECK(fs::exists(path) == c.exists);
      if (c.exists) CHECK(fs::file_size(path) == 0);
      for (const char* suffix : {"-wal", "-shm", "-journal"})
        CHECK_FALSE(fs::exists(path + suffix));
    }
    // A failed annotation of a good journal leaves it as it was, byte for byte.
    REQUIRE(run_cli_args({"head", journal}).exit_code == 0);
    const std::string before = read_file(journal), wal = read_file(journal + "-wal");
    const CliResult r = run_cli_args({"annotate", journal, "--seq", "99999", "x"});
    CHECK(r.exit_code == 2);
    CHECK(r.err.rfind("blotter: --seq 99999: no such event", 0) == 0);
    CHECK(read_file(journal) == before);
    CHECK(read_file(journal + "-wal") == wal);
  }
}
