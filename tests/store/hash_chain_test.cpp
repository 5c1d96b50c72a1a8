// The hash chain: its bytes, how the journal keeps it, and how migration 0004
// gives it to journals written before it.
#include "blotter/hash_chain.h"

#include <SQLiteCpp/SQLiteCpp.h>
#include <doctest/doctest.h>
#include <fmt/format.h>

#include <vector>

#include "blotter/error.h"
#include "blotter/sqlite_journal.h"
#include "blotter/verify.h"
#include "cli_helpers.h"
#include "test_support.h"

using namespace blotter;
using namespace blotter::testing;

namespace {

std::string hex(const std::string& bytes) {
  std::string out;
  for (const char c : bytes) out += fmt::format("{:02x}", static_cast<unsigned char>(c));
  return out;
}

// The two rows of the example in docs/HASH_CHAIN.md.
JournalRow example_bar() {
  JournalRow row;
  row.seq = 1;
  row.ts_ns = 1'092'873'600'000'000'000;
  row.type = "BAR";
  row.symbol = "GOOG";
  row.payload =
      R"({"open":"100","high":"104.06","low":"95.96","close":"100.34","volume":"22351900"})";
  row.recorded_ns = 1'700'000'000'000'000'000;
  return row;
}

JournalRow example_handler_error() {
  JournalRow row;
  row.seq = 2;
  row.ts_ns = -1'500'000'000;
  row.type = "HANDLER_ERROR";
  row.payload = R"({"handler":"Portfolio","event_seq":1,"error":"x"})";
  row.recorded_ns = 1'700'000'001'000'000'000;
  return row;
}

std::vector<JournalRow> rows_of(const SqliteJournal& journal) {
  std::vector<JournalRow> rows;
  journal.scan_rows({}, [&](const JournalRow& r) {
    rows.push_back(r);
    return true;
  });
  return rows;
}

// Recomputes the chain of `rows` from the genesis value; the index of the
// first row whose stored hash differs, or rows.size().
std::size_t first_broken(const std::vector<JournalRow>& rows) {
  ChainHash previous = kGenesisHash;
  for (std::size_t i = 0; i < rows.size(); ++i) {
    if (!rows[i].hash || chain_hash(previous, rows[i]) != *rows[i].hash) return i;
    previous = *rows[i].hash;
  }
  return rows.size();
}

Event tick(const char* symbol) {
  return make_event(T("2024-03-01T14:30:00Z"), symbol, Tick{D("1.5"), D("2")});
}

// A journal at schema version 2, as blotter wrote it before the hash chain:
// migrations 0001 and 0002 applied from their files, then, if `source` is
// given, its events copied row for row (recorded_ns included) where `where` holds.
void make_v2_journal(const std::string& path, const std::string& source = "",
                     const std::string& where = "1") {
  SQLite::Database db(path, SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE);
  db.exec("PRAGMA journal_mode = WAL");
  if (!source.empty()) db.exec("ATTACH " + quote(source) + " AS src");
  SQLite::Transaction txn(db);
  const std::pair<int, const char*> migrations[] = {{1, "0001_events"}, {2, "0002_runs"}};
  for (const auto& [version, name] : migrations) {
    db.exec(read_file(std::string(BLOTTER_SOURCE_DIR) + "/migrations/sqlite/" + name + ".sql"));
    db.exec(fmt::format("INSERT INTO schema_migrations VALUES({}, '{}', 0)", version, name));
  }
  db.exec("PRAGMA user_version = 2");
  if (!source.empty())
    db.exec(
        "INSERT INTO main.events SELECT seq, ts_ns, type, symbol, payload, recorded_ns "
        "FROM src.events WHERE " +
        where + " ORDER BY seq");
  txn.commit();
}

std::string open_error(const std::string& path, SqliteJournal::Mode mode) {
  try {
    SqliteJournal::open(path, mode);
  } catch (const StoreError& e) {
    return e.what();
  }
  return "(no StoreError)";
}

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

// The ```python block of docs/HASH_CHAIN.md, written to a file in `dir`.
std::string doc_snippet(const TempDir& dir) {
  const std::string doc = read_file(std::string(BLOTTER_SOURCE_DIR) + "/docs/HASH_CHAIN.md");
  const std::string fence = "```python\n";
  const auto begin = doc.find(fence);
  REQUIRE(begin != std::string::npos);
  const auto end = doc.find("```", begin + fence.size());
  REQUIRE(end != std::string::npos);
  return dir.write("verify_chain.py", doc.substr(begin + fence.size(), end - begin - fence.size()));
}

}  // namespace

TEST_SUITE("hash_chain") {
  TEST_CASE("a row's bytes are the documented layout") {
    CHECK(hex(canonical_bytes(example_bar())) ==
          "0000000000000001"
          "0f2aaabfb8670000"
          "00000003424152"
          "0100000004474f4f47"
          "000000517b226f70656e223a22313030222c2268696768223a223130342e3036222c226c6f77223a2239"
          "352e3936222c22636c6f7365223a223130302e3334222c22766f6c756d65223a223232333531393030227d"
          "17979cfe362a0000");
    // A NULL symbol is one zero byte; a time before 1970 is two's complement.
    CHECK(hex(canonical_bytes(example_handler_error())) ==
          "0000000000000002"
          "ffffffffa697d100"
          "0000000d48414e444c45525f4552524f52"
          "00"
          "000000317b2268616e646c6572223a22506f7274666f6c696f222c226576656e745f736571223a312c2265"
          "72726f72223a2278227d"
          "17979cfe71c4ca00");
  }

  TEST_CASE("the documented example chains from 32 zero bytes to the documented hashes") {
    CHECK(to_hex(kGenesisHash) == std::string(64, '0'));
    const ChainHash first = chain_hash(kGenesisHash, example_bar());
    CHECK(to_hex(first) == "94dcd977bb24e2e021836271859b6589d36e0b1cede1006f4609b86d6d6dc1f6");
    CHECK(to_hex(chain_hash(first, example_handler_error())) ==
          "cf73bfe2d9530b2956b765ef2f451f662be418af0925a3f353e0c6fbc3336d84");
  }

  TEST_CASE("the bytes are unambiguous: moving text between fields changes them") {
    JournalRow a = example_bar(), b = example_bar();
    a.type = "AB";
    a.symbol = "C";
    b.type = "A";
    b.symbol = "BC";
    CHECK(canonical_bytes(a) != canonical_bytes(b));
    JournalRow empty = example_bar(), null = example_bar();
    empty.symbol = "";
    null.symbol.reset();
    CHECK(canonical_bytes(empty) != canonical_bytes(null));
    CHECK(chain_hash(kGenesisHash, empty) != chain_hash(kGenesisHash, null));
  }

  TEST_CASE("every field of the row and the previous hash change the hash") {
    const JournalRow base = example_bar();
    const ChainHash h = chain_hash(kGenesisHash, base);
    std::vector<JournalRow> changed(6, base);
    changed[0].seq = 2;
    changed[1].ts_ns += 1;
    changed[2].type = "TICK";
    changed[3].symbol = "GOOF";
    changed[4].payload[10] = '2';
    changed[5].recorded_ns += 1;
    for (std::size_t i = 0; i < changed.size(); ++i) {
      CAPTURE(i);
      CHECK(chain_hash(kGenesisHash, changed[i]) != h);
    }
    CHECK(chain_hash(h, base) != h);
  }

  TEST_CASE("append chains every event and head() is the last one") {
    TempDir dir;
    const std::string path = dir.file("j.db");
    auto journal = SqliteJournal::open(path, SqliteJournal::Mode::kWrite);
    CHECK(journal->head().seq == 0);
    CHECK(journal->head().hash == kGenesisHash);
    for (const char* s : {"A", "B", ""}) {
      Event e = tick(s);
      journal->append(e);
    }
    journal->commit();
    const auto rows = rows_of(*journal);
    REQUIRE(rows.size() == 3);
    CHECK(first_broken(rows) == 3);
    CHECK_FALSE(rows[2].symbol.has_value());  // stored as NULL, hashed as NULL
    CHECK(journal->head().seq == 3);
    CHECK(journal->head().hash == *rows[2].hash);
  }

  TEST_CASE("rollback restores the head and the next append chains from the committed one") {
    TempDir dir;
    const std::string path = dir.file("j.db");
    auto journal = SqliteJournal::open(path, SqliteJournal::Mode::kWrite);
    for (const char* s : {"A", "B"}) {
      Event e = tick(s);
      journal->append(e);
    }
    journal->commit();
    const ChainHead committed = journal->head();
    for (const char* s : {"X", "Y"}) {
      Event e = tick(s);
      journal->append(e);
    }
    CHECK(journal->head().seq == 4);
    CHECK(journal->head().hash != committed.hash);
    journal->rollback();
    CHECK(journal->head().seq == 2);
    CHECK(journal->head().hash == committed.hash);
    Event c = tick("C");
    journal->append(c);
    journal->commit();
    const auto rows = rows_of(*journal);
    REQUIRE(rows.size() == 3);
    CHECK(*rows[2].symbol == "C");
    CHECK(*rows[2].hash == chain_hash(committed.hash, rows[2]));
    CHECK(first_broken(rows) == 3);
  }

  TEST_CASE("a reopened journal continues the chain") {
    TempDir dir;
    const std::string path = dir.file("j.db");
    ChainHead before;
    {
      auto journal = SqliteJournal::open(path, SqliteJournal::Mode::kWrite);
      Event a = tick("A");
      journal->append(a);
      journal->commit();
      before = journal->head();
    }
    auto reader = SqliteJournal::open(path, SqliteJournal::Mode::kRead);
    CHECK(reader->head().seq == before.seq);
    CHECK(reader->head().hash == before.hash);
    auto journal = SqliteJournal::open(path, SqliteJournal::Mode::kWrite);
    Event b = tick("B");
    journal->append(b);
    journal->commit();
    const auto rows = rows_of(*journal);
    REQUIRE(rows.size() == 2);
    CHECK(*rows[1].hash == chain_hash(before.hash, rows[1]));
    CHECK(verify_journal(path).ok);
  }

  TEST_CASE("the events table refuses a row without a hash") {
    TempDir dir;
    const std::string path = dir.file("j.db");
    SqliteJournal::open(path, SqliteJournal::Mode::kWrite);
    SQLite::Database db(path, SQLite::OPEN_READWRITE);
    CHECK_THROWS_WITH(db.exec("INSERT INTO events(seq, ts_ns, type, payload, recorded_ns) "
                              "VALUES(1, 0, 'TICK', '{}', 0)"),
                      doctest::Contains("NOT NULL constraint failed: events.hash"));
    CHECK_THROWS_WITH(db.exec("INSERT INTO events VALUES(1, 0, 'TICK', NULL, '{}', 0, x'00')"),
                      doctest::Contains("CHECK constraint failed"));
    CHECK(db.execAndGet("SELECT count(*) FROM events").getInt() == 0);
  }

  TEST_CASE("the timeline view shows the hash as hex") {
    TempDir dir;
    const std::string path = dir.file("j.db");
    auto journal = SqliteJournal::open(path, SqliteJournal::Mode::kWrite);
    Event e = tick("A");
    journal->append(e);
    journal->commit();
    SQLite::Database db(path, SQLite::OPEN_READONLY);
    CHECK(db.execAndGet("SELECT hash FROM timeline WHERE seq = 1").getString() ==
          to_hex(journal->head().hash));
  }

  TEST_CASE("a journal of schema version 2 gets, on migration, the chain blotter writes") {
    TempDir dir;
    const std::string source = goog_journal_in(dir);
    const std::string path = dir.file("v2.db");
    make_v2_journal(path, source);
    CHECK(contains(open_error(path, SqliteJournal::Mode::kRead), "migrate"));

    ChainHead source_head = SqliteJournal::open(source, SqliteJournal::Mode::kRead)->head();
    {
      auto journal = SqliteJournal::open(path, SqliteJournal::Mode::kWrite);
      CHECK(journal->schema_version() == journal_schema_version());
      CHECK(journal->head().seq == source_head.seq);
      CHECK(journal->head().hash == source_head.hash);
    }
    SQLite::Database db(path, SQLite::OPEN_READWRITE);
    db.exec("ATTACH " + quote(source) + " AS src");
    const auto events = db.execAndGet("SELECT count(*) FROM src.events").getInt64();
    CHECK(events > 1047);
    CHECK(db.execAndGet("SELECT count(*) FROM main.events e JOIN src.events s USING (seq) "
                        "WHERE e.hash = s.hash")
              .getInt64() == events);
    CHECK(db.execAndGet("SELECT count(*) FROM main.events").getInt64() == events);
    // Migration 0006 rebuilt the table: its index and guards are back, the
    // views read the rebuilt table, and time_index covers every event once.
    CHECK(db.execAndGet("SELECT count(*) FROM main.sqlite_schema WHERE name IN ('time_index', "
                        "'events_runs', 'events_no_update', 'events_no_delete')")
              .getInt() == 4);
    CHECK(db.execAndGet("SELECT count(*) FROM main.sqlite_schema WHERE name = 'events_by_time'")
              .getInt() == 0);
    CHECK(db.execAndGet("SELECT sum(last_seq - first_seq + 1) FROM main.time_index").getInt64() ==
          events);
    CHECK(db.execAndGet("SELECT count(*) FROM main.time_index t WHERE min_ts <> (SELECT "
                        "min(ts_ns) FROM main.events WHERE seq BETWEEN t.first_seq AND "
                        "t.last_seq) OR max_ts <> (SELECT max(ts_ns) FROM main.events WHERE seq "
                        "BETWEEN t.first_seq AND t.last_seq)")
              .getInt() == 0);
    CHECK(db.execAndGet("SELECT count(*) FROM main.fills").getInt64() ==
          db.execAndGet("SELECT count(*) FROM src.events WHERE type = 'FILL'").getInt64());
    CHECK(db.execAndGet("PRAGMA main.integrity_check").getString() == "ok");
    // The append-only guard is back, and rows need their hash.
    CHECK_THROWS_WITH(db.exec("UPDATE main.events SET symbol = 'X' WHERE seq = 2"),
                      doctest::Contains("append-only"));
    CHECK_THROWS_WITH(db.exec("DELETE FROM main.events WHERE seq = 2"),
                      doctest::Contains("append-only"));
    CHECK_THROWS_WITH(db.exec("INSERT INTO main.events(seq, ts_ns, type, payload, recorded_ns) "
                              "VALUES(99999, 0, 'TICK', '{}', 0)"),
                      doctest::Contains("hash"));
    db.exec("DETACH src");

    const VerifyResult result = verify_journal(path);
    CHECK(result.ok);
    CHECK(result.events == events);
    CHECK(result.head.hash == source_head.hash);
    // Appending after the migration continues the chain.
    {
      auto journal = SqliteJournal::open(path, SqliteJournal::Mode::kWrite);
      Event e = tick("A");
      journal->append(e);
      journal->commit();
    }
    CHECK(verify_journal(path).events == events + 1);
  }

  TEST_CASE("the migration chains across a gap that verify then names") {
    TempDir dir;
    const std::string source = dir.file("five.db");
    {
      auto journal = SqliteJournal::open(source, SqliteJournal::Mode::kWrite);
      for (const char* s : {"A", "B", "C", "D", "E"}) {
        Event e = tick(s);
        journal->append(e);
      }
      journal->commit();
    }
    const std::string path = dir.file("v2.db");
    make_v2_journal(path, source, "seq <> 3");
    auto journal = SqliteJournal::open(path, SqliteJournal::Mode::kWrite);
    const auto rows = rows_of(*journal);
    REQUIRE(rows.size() == 4);
    CHECK(rows[2].seq == 4);
    for (const JournalRow& r : rows) CHECK(r.hash.has_value());
    CHECK(*rows[2].hash == chain_hash(*rows[1].hash, rows[2]));
    const VerifyResult result = verify_journal(path);
    CHECK_FALSE(result.ok);
    CHECK(result.bad_seq == 3);
    CHECK(result.problem == "seq 3 missing (gap after 2)");
  }

  TEST_CASE("an empty journal of schema version 2 migrates to an empty chain") {
    TempDir dir;
    const std::string path = dir.file("v2.db");
    make_v2_journal(path);
    auto journal = SqliteJournal::open(path, SqliteJournal::Mode::kWrite);
    CHECK(journal->schema_version() == journal_schema_version());
    CHECK(journal->head().seq == 0);
    CHECK(journal->head().hash == kGenesisHash);
  }

  TEST_CASE("blotter migrate upgrades a journal of schema version 2 that verify then accepts") {
    TempDir dir;
    const std::string source = goog_journal_in(dir);
    const std::string path = dir.file("v2.db");
    make_v2_journal(path, source);
    CHECK(run_cli("verify " + quote(path)).exit_code == 2);
    const CliResult migrate = run_cli("migrate " + quote(path));
    CHECK(migrate.exit_code == 0);
    CHECK(migrate.out == fmt::format("{}: schema version {}\n", path, journal_schema_version()));
    const CliResult verify = run_cli("verify " + quote(path));
    CHECK(verify.exit_code == 0);
    CHECK(run_cli("head " + quote(path)).out == run_cli("head " + quote(source)).out);
  }

  TEST_CASE("a migration missing from schema_migrations is applied even after later ones") {
    // What happens when numbered files are merged out of order: a journal at
    // the latest version that lacks an earlier migration still gets it.
    TempDir dir;
    const std::string path = dir.file("j.db");
    SqliteJournal::open(path, SqliteJournal::Mode::kWrite);
    {
      SQLite::Database db(path, SQLite::OPEN_READWRITE);
      db.exec("DROP VIEW runs; DELETE FROM schema_migrations WHERE version = 2");
    }
    const std::string refusal = open_error(path, SqliteJournal::Mode::kRead);
    CHECK(contains(refusal, "lacks migration 0002_runs"));
    CHECK(contains(refusal, "blotter migrate"));
    SqliteJournal::open(path, SqliteJournal::Mode::kWrite);
    SQLite::Database db(path, SQLite::OPEN_READONLY);
    CHECK(db.execAndGet("SELECT count(*) FROM sqlite_schema WHERE name = 'runs'").getInt() == 1);
    CHECK(db.execAndGet("SELECT name FROM schema_migrations WHERE version = 2").getString() ==
          "0002_runs");
    CHECK(db.execAndGet("PRAGMA user_version").getInt() == journal_schema_version());
  }

  TEST_CASE("the Python program in docs/HASH_CHAIN.md prints the head blotter prints") {
    TempDir dir;
    const std::string script = doc_snippet(dir);
    const std::string db = goog_journal_in(dir);
    REQUIRE(run_cli("annotate " + quote(db) + " --seq 2 'first bar'").exit_code == 0);
    const CliResult head = run_cli("head " + quote(db));
    REQUIRE(head.exit_code == 0);
    CHECK(head.out.rfind(fmt::format("seq {} hash ", count(db, "SELECT max(seq) FROM events")),
                         0) == 0);
    const CliResult python = run_python(script, quote(db));
    INFO(python.err);
    CHECK(python.exit_code == 0);
    CHECK(python.out == head.out);

    // A journal whose chain was computed by migration 0004.
    const std::string v2 = dir.file("v2.db");
    make_v2_journal(v2, db);
    REQUIRE(run_cli("migrate " + quote(v2)).exit_code == 0);
    CHECK(run_python(script, quote(v2)).out == head.out);

    // And it stops at a changed row, as blotter verify does.
    {
      SQLite::Database rw(db, SQLite::OPEN_READWRITE);
      rw.exec("DROP TRIGGER events_no_update");
      rw.exec("UPDATE events SET ts_ns = ts_ns + 1 WHERE seq = 10");
    }
    const CliResult tampered = run_python(script, quote(db));
    CHECK(tampered.exit_code != 0);
    CHECK(contains(tampered.err, "seq 10: hash mismatch"));
  }
}
