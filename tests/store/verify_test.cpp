// blotter verify and blotter head on real journals, sound and tampered with.
#include "blotter/verify.h"

#include <SQLiteCpp/SQLiteCpp.h>
#include <doctest/doctest.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <poll.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include "blotter/sqlite_journal.h"
#include "cli_helpers.h"

using namespace blotter::testing;

namespace {

// A GOOG journal whose append-only triggers are gone, so a test can tamper with it.
std::string tamperable_journal(const TempDir& dir) {
  const std::string db = goog_journal_in(dir);
  SQLite::Database rw(db, SQLite::OPEN_READWRITE);
  rw.exec("DROP TRIGGER events_no_update");
  rw.exec("DROP TRIGGER events_no_delete");
  return db;
}

std::int64_t seq_of(const std::string& db, const std::string& where) {
  return count(db, "SELECT min(seq) FROM events WHERE " + where);
}

// Rewrites every hash from `from` on, as a writer that knows the chain would:
// the chain is then sound and only the other checks can find the fault.
void rechain(SQLite::Database& db, blotter::Seq from) {
  blotter::ChainHash previous = blotter::kGenesisHash;
  if (from > 1) {
    SQLite::Statement q(db, "SELECT hash FROM events WHERE seq = ?");
    q.bind(1, static_cast<std::int64_t>(from - 1));
    REQUIRE(q.executeStep());
    std::copy_n(static_cast<const std::uint8_t*>(q.getColumn(0).getBlob()), previous.size(),
                previous.begin());
  }
  SQLite::Statement rows(
      db,
      "SELECT seq, ts_ns, type, symbol, payload, recorded_ns FROM events WHERE seq >= ? ORDER BY "
      "seq");
  rows.bind(1, static_cast<std::int64_t>(from));
  std::vector<std::pair<blotter::Seq, blotter::ChainHash>> hashes;
  while (rows.executeStep()) {
    blotter::JournalRow r;
    r.seq = rows.getColumn(0).getInt64();
    r.ts_ns = rows.getColumn(1).getInt64();
    r.type = rows.getColumn(2).getString();
    if (!rows.getColumn(3).isNull()) r.symbol = rows.getColumn(3).getString();
    r.payload = rows.getColumn(4).getString();
    r.recorded_ns = rows.getColumn(5).getInt64();
    previous = blotter::chain_hash(previous, r);
    hashes.emplace_back(r.seq, previous);
  }
  SQLite::Transaction txn(db);
  SQLite::Statement update(db, "UPDATE events SET hash = ? WHERE seq = ?");
  for (const auto& [seq, hash] : hashes) {
    update.reset();
    update.bind(1, hash.data(), static_cast<int>(hash.size()));
    update.bind(2, static_cast<std::int64_t>(seq));
    update.exec();
  }
  txn.commit();
}

void check_finding(const std::string& db, const std::string& problem) {
  const CliResult r = run_cli("verify " + quote(db));
  CHECK(r.exit_code == 1);
  CHECK(r.out == problem + "\n");
  CHECK(r.err.empty());
}

}  // namespace

TEST_SUITE("verify") {
  TEST_CASE(
      "a fresh journal verifies with its event count and head, the head blotter head prints") {
    TempDir dir;
    const std::string db = goog_journal_in(dir);
    const std::int64_t events = count(db, "SELECT count(*) FROM events");
    CHECK(events > 1047);
    const CliResult head = run_cli("head " + quote(db));
    REQUIRE(head.exit_code == 0);
    const std::string prefix = fmt::format("seq {} hash ", events);
    REQUIRE(head.out.rfind(prefix, 0) == 0);
    const std::string hash = head.out.substr(prefix.size(), 64);
    CHECK(head.out == prefix + hash + "\n");
    CHECK(hash.find_first_not_of("0123456789abcdef") == std::string::npos);

    const CliResult verify = run_cli("verify " + quote(db));
    CHECK(verify.exit_code == 0);
    CHECK(verify.out == fmt::format("ok: {} events, head {}\n", events, hash));

    const CliResult json = run_cli("head " + quote(db) + " --format json");
    CHECK(json.exit_code == 0);
    CHECK(json.out == fmt::format("{{\"seq\": {}, \"hash\": \"{}\"}}\n", events, hash));
  }

  TEST_CASE("an edited payload is named by its seq") {
    TempDir dir;
    const std::string db = tamperable_journal(dir);
    const auto seq = seq_of(db, "type = 'FILL' AND seq > 500");
    SQLite::Database(db, SQLite::OPEN_READWRITE)
        .exec(fmt::format(
            "UPDATE events SET payload = json_set(payload, '$.quantity', '2') WHERE seq = {}",
            seq));
    check_finding(db, fmt::format("seq {}: hash mismatch (payload, ts or order changed)", seq));
  }

  TEST_CASE("a deleted row is named as the gap it leaves") {
    TempDir dir;
    const std::string db = tamperable_journal(dir);
    SQLite::Database(db, SQLite::OPEN_READWRITE).exec("DELETE FROM events WHERE seq = 300");
    check_finding(db, "seq 300 missing (gap after 299)");
  }

  TEST_CASE("a deleted first row is named") {
    TempDir dir;
    const std::string db = tamperable_journal(dir);
    SQLite::Database(db, SQLite::OPEN_READWRITE).exec("DELETE FROM events WHERE seq = 1");
    check_finding(db, "seq 1 missing (the journal starts at 2)");
  }

  TEST_CASE("two rows with their payloads swapped are named by the first") {
    TempDir dir;
    const std::string db = tamperable_journal(dir);
    const auto a = seq_of(db, "type = 'BAR' AND seq >= 400");
    const auto b = seq_of(db, "type = 'BAR' AND seq > 410");
    {
      SQLite::Database rw(db, SQLite::OPEN_READWRITE);
      const auto payload = [&](std::int64_t seq) {
        return rw.execAndGet(fmt::format("SELECT payload FROM events WHERE seq = {}", seq))
            .getString();
      };
      const std::string pa = payload(a), pb = payload(b);
      REQUIRE(pa != pb);
      SQLite::Statement set(rw, "UPDATE events SET payload = ? WHERE seq = ?");
      for (const auto& [seq, text] : {std::pair{a, pb}, std::pair{b, pa}}) {
        set.reset();
        set.bind(1, text);
        set.bind(2, seq);
        set.exec();
      }
      CHECK(payload(a) == pb);
    }
    check_finding(db, fmt::format("seq {}: hash mismatch (payload, ts or order changed)", a));
  }

  TEST_CASE("a changed event time is named by its seq") {
    TempDir dir;
    const std::string db = tamperable_journal(dir);
    SQLite::Database(db, SQLite::OPEN_READWRITE)
        .exec("UPDATE events SET ts_ns = ts_ns + 1000000000 WHERE seq = 700");
    check_finding(db, "seq 700: hash mismatch (payload, ts or order changed)");
  }

  TEST_CASE("a row cannot lose its hash") {
    TempDir dir;
    const std::string db = tamperable_journal(dir);
    CHECK_THROWS_WITH(SQLite::Database(db, SQLite::OPEN_READWRITE)
                          .exec("UPDATE events SET hash = NULL WHERE seq = 5"),
                      doctest::Contains("NOT NULL constraint failed: events.hash"));
    CHECK(blotter::verify_journal(db).ok);
  }

  TEST_CASE("a payload of the wrong shape is named even when the chain was recomputed") {
    TempDir dir;
    const std::string db = tamperable_journal(dir);
    const auto fill = seq_of(db, "type = 'FILL'");
    {
      SQLite::Database rw(db, SQLite::OPEN_READWRITE);
      rw.exec(
          fmt::format("UPDATE events SET payload = json_remove(payload, '$.order_seq') "
                      "WHERE seq = {}",
                      fill));
      rechain(rw, fill);
    }
    check_finding(
        db, fmt::format("seq {}: payload is not a valid FILL: field 'order_seq': missing", fill));
  }

  TEST_CASE("a decimal given as a JSON number is named") {
    TempDir dir;
    const std::string db = tamperable_journal(dir);
    const auto bar = seq_of(db, "type = 'BAR' AND seq > 100");
    {
      SQLite::Database rw(db, SQLite::OPEN_READWRITE);
      rw.exec(fmt::format(
          "UPDATE events SET payload = json_set(payload, '$.close', 101.5) WHERE seq = {}", bar));
      rechain(rw, bar);
    }
    check_finding(db, fmt::format("seq {}: payload is not a valid BAR: field 'close': expected a "
                                  "string",
                                  bar));
  }

  TEST_CASE("a field a type does not have is named") {
    TempDir dir;
    const std::string db = tamperable_journal(dir);
    const auto order = seq_of(db, "type = 'ORDER'");
    {
      SQLite::Database rw(db, SQLite::OPEN_READWRITE);
      rw.exec(fmt::format(
          "UPDATE events SET payload = json_set(payload, '$.venue', 'X') WHERE seq = {}", order));
      rechain(rw, order);
    }
    check_finding(db, fmt::format("seq {}: payload is not a valid ORDER: field 'venue': not a "
                                  "field of ORDER",
                                  order));
  }

  TEST_CASE("an unknown event type is named") {
    TempDir dir;
    const std::string db = tamperable_journal(dir);
    {
      SQLite::Database rw(db, SQLite::OPEN_READWRITE);
      rw.exec("UPDATE events SET type = 'DIVIDEND' WHERE seq = 50");
      rechain(rw, 50);
    }
    check_finding(db, "seq 50: unknown event type 'DIVIDEND'");
  }

  TEST_CASE("removing the last event keeps the chain sound but changes the head") {
    TempDir dir;
    const std::string db = tamperable_journal(dir);
    const CliResult before = run_cli("head " + quote(db));
    const auto last = count(db, "SELECT max(seq) FROM events");
    SQLite::Database(db, SQLite::OPEN_READWRITE)
        .exec(fmt::format("DELETE FROM events WHERE seq = {}", last));
    // The time index covers every committed event, so it gives it away.
    const CliResult with_index = run_cli("verify " + quote(db));
    CHECK(with_index.exit_code == 1);
    // (Batches close on a count or after 10 ms, so a slow build has several.)
    const auto span =
        count(db, fmt::format("SELECT first_seq FROM time_index WHERE last_seq = {}", last));
    CHECK(with_index.out ==
          fmt::format("time_index row {}..{}: the events end at seq {}\n", span, last, last - 1));
    // Mended there too, the run's last snapshot, taken after that event, still does.
    SQLite::Database(db, SQLite::OPEN_READWRITE)
        .exec(fmt::format("UPDATE time_index SET last_seq = {0}, max_ts = (SELECT max(ts_ns) FROM "
                          "events WHERE seq BETWEEN first_seq AND {0}) WHERE last_seq = {1}",
                          last - 1, last));
    const CliResult with_snapshot = run_cli("verify " + quote(db));
    CHECK(with_snapshot.exit_code == 1);
    CHECK(with_snapshot.out ==
          fmt::format("snapshot at seq {}: is past the last event ({})\n", last, last - 1));
    // Snapshots are derived data, and can be rebuilt: then nothing tells.
    REQUIRE(run_cli("snapshot " + quote(db)).exit_code == 0);
    const CliResult verify = run_cli("verify " + quote(db));
    CHECK(verify.exit_code == 0);
    CHECK(verify.out.rfind(fmt::format("ok: {} events, head ", last - 1), 0) == 0);
    const CliResult after = run_cli("head " + quote(db));
    CHECK(after.out.rfind(fmt::format("seq {} hash ", last - 1), 0) == 0);
    CHECK(after.out != before.out);
  }

  TEST_CASE("a time_index row that would hide events from a time range is named") {
    TempDir dir;
    const std::string db = tamperable_journal(dir);
    const auto spans = count(db, "SELECT count(*) FROM time_index");
    const auto first_span_end = count(db, "SELECT min(last_seq) FROM time_index");
    SUBCASE("narrowed times") {
      SQLite::Database(db, SQLite::OPEN_READWRITE)
          .exec(
              "UPDATE time_index SET min_ts = min_ts + 1, max_ts = max(max_ts, min_ts + 1) "
              "WHERE first_seq = 1");
      const blotter::VerifyResult r = blotter::verify_journal(db);
      CHECK_FALSE(r.ok);
      CHECK(r.problem.find(fmt::format("time_index row 1..{}: times ", first_span_end)) == 0);
    }
    SUBCASE("a row removed") {
      REQUIRE(spans >= 1);
      SQLite::Database(db, SQLite::OPEN_READWRITE)
          .exec("DELETE FROM time_index WHERE first_seq = 1");
      check_finding(db, "seq 1: not in time_index (no row covers it)");
    }
  }

  TEST_CASE("an empty journal verifies with the genesis head") {
    TempDir dir;
    const std::string db = dir.file("empty.db");
    blotter::SqliteJournal::open(db, blotter::SqliteJournal::Mode::kWrite);
    const blotter::VerifyResult result = blotter::verify_journal(db);
    CHECK(result.ok);
    CHECK(result.events == 0);
    CHECK(result.head.seq == 0);
    CHECK(result.head.hash == blotter::kGenesisHash);
    CHECK(run_cli("verify " + quote(db)).out ==
          "ok: 0 events, head " + std::string(64, '0') + "\n");
    CHECK(run_cli("head " + quote(db)).out == "seq 0 hash " + std::string(64, '0') + "\n");
  }

  TEST_CASE("verify_journal reports the first bad seq and stops there") {
    TempDir dir;
    const std::string db = tamperable_journal(dir);
    {
      SQLite::Database rw(db, SQLite::OPEN_READWRITE);
      rw.exec("UPDATE events SET recorded_ns = recorded_ns + 1 WHERE seq = 20");
      rw.exec("DELETE FROM events WHERE seq = 10");
    }
    const blotter::VerifyResult result = blotter::verify_journal(db);
    CHECK_FALSE(result.ok);
    CHECK(result.bad_seq == 10);
    CHECK(result.events == 9);
    CHECK(result.head.seq == 9);
    CHECK(result.problem == "seq 10 missing (gap after 9)");
  }

  TEST_CASE("verify and head of something that is not a journal exit 2 with one line") {
    TempDir dir;
    for (const std::string command : {"verify", "head"}) {
      CAPTURE(command);
      const CliResult missing = run_cli(command + " " + quote(dir.file("nope.db")));
      CHECK(missing.exit_code == 2);
      CHECK(missing.err == "blotter: " + dir.file("nope.db") + ": no such journal\n");
      const CliResult csv = run_cli(command + " " + quote(goog_csv()));
      CHECK(csv.exit_code == 2);
      CHECK(csv.err.find("not a SQLite database") != std::string::npos);
    }
    CHECK_FALSE(std::filesystem::exists(dir.file("nope.db")));
  }

  TEST_CASE("verify writes nothing to the journal") {
    TempDir dir;
    const std::string db = goog_journal_in(dir);
    const std::string before = read_file(db);
    CHECK(run_cli("verify " + quote(db)).exit_code == 0);
    CHECK(run_cli("head " + quote(db)).exit_code == 0);
    CHECK(read_file(db) == before);
  }
  TEST_CASE("verify shows its progress on a terminal, and only there") {
    TempDir dir;
    // Over 65536 events: progress is shown every 65536.
    const std::string csv = synthetic_bars(dir, "bars.csv", 7000, 10);
    const std::string db = dir.file("big.db");
    REQUIRE(run_cli("run --bars " + quote(csv) + " --journal " + quote(db)).exit_code == 0);
    REQUIRE(last_seq_of(db) > 65536);

    const CliResult piped = run_cli("verify " + quote(db));
    CHECK(piped.exit_code == 0);
    CHECK(piped.err.empty());

    // stderr on a pseudo-terminal.
    const int master = ::posix_openpt(O_RDWR | O_NOCTTY);
    REQUIRE(master >= 0);
    REQUIRE(::grantpt(master) == 0);
    REQUIRE(::unlockpt(master) == 0);
    const std::string terminal = ::ptsname(master);
    posix_spawn_file_actions_t files;
    posix_spawn_file_actions_init(&files);
    posix_spawn_file_actions_addopen(&files, 1, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_addopen(&files, 2, terminal.c_str(), O_RDWR | O_NOCTTY, 0);
    std::vector<std::string> argv_text = {BLOTTER_CLI, "verify", db};
    std::vector<char*> argv;
    for (std::string& a : argv_text) argv.push_back(a.data());
    argv.push_back(nullptr);
    pid_t pid = 0;
    REQUIRE(posix_spawn(&pid, BLOTTER_CLI, &files, nullptr, argv.data(), environ) == 0);
    posix_spawn_file_actions_destroy(&files);
    int status = 0;
    REQUIRE(waitpid(pid, &status, 0) == pid);
    CHECK(WIFEXITED(status));
    CHECK(WEXITSTATUS(status) == 0);
    std::string shown;
    char buffer[4096];
    pollfd ready{master, POLLIN, 0};
    while (::poll(&ready, 1, 0) > 0 && (ready.revents & POLLIN)) {
      const ssize_t n = ::read(master, buffer, sizeof buffer);
      if (n <= 0) break;
      shown.append(buffer, static_cast<std::size_t>(n));
    }
    ::close(master);
    INFO(shown);
    CHECK(shown.starts_with("\r" + db + ": "));
    CHECK(shown.find(" 65536 events checked") != std::string::npos);
    CHECK(shown.ends_with("events checked\r\n"));  // the terminal's line end
  }
}
