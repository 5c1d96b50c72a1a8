#include "blotter/query.h"

#include <SQLiteCpp/SQLiteCpp.h>
#include <doctest/doctest.h>
#include <stdlib.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>

#include "blotter/error.h"
#include "blotter/sqlite_journal.h"

namespace fs = std::filesystem;

namespace {

using namespace blotter;

Decimal D(const char* text) { return Decimal::from_string(text); }
TimestampNs T(const char* text) { return parse_timestamp(text).value(); }

// A fresh directory per case holding a small journal:
//   1 BAR GOOG, 2 BAR MSFT, 3 SIGNAL GOOG (reason with a comma and quotes),
//   4 HANDLER_ERROR without a symbol.
struct SmallJournal {
  SmallJournal() {
    std::string pattern = (fs::temp_directory_path() / "blotter-query-XXXXXX").string();
    REQUIRE(mkdtemp(pattern.data()) != nullptr);
    dir = pattern;
    path = (dir / "j.db").string();
    auto journal = SqliteJournal::open(path, SqliteJournal::Mode::kWrite);
    Event events[] = {
        make_event(T("2024-03-01T21:00:00Z"), "GOOG",
                   Bar{D("100"), D("101"), D("99"), D("100.34"), D("1000")}),
        make_event(T("2024-03-01T21:00:00Z"), "MSFT",
                   Bar{D("400"), D("401"), D("399"), D("400.5"), D("2000")}),
        make_event(T("2024-03-01T21:00:00Z"), "GOOG",
                   Signal{Direction::kLong, D("100.34"), "close 100.34, \"above\" MA"}),
        make_event(T("2024-03-01T21:00:00Z"), "", HandlerError{"Portfolio", 3, "boom"}),
    };
    for (Event& e : events) journal->append(e);
    journal->commit();
  }
  ~SmallJournal() {
    std::error_code ec;
    fs::remove_all(dir, ec);
  }
  std::int64_t event_count() const {
    SQLite::Database db(path, SQLite::OPEN_READONLY);
    return db.execAndGet("SELECT count(*) FROM events").getInt64();
  }

  fs::path dir;
  std::string path;
};

struct Result {
  std::int64_t rows = -1;
  std::string text;
  std::string error;  // what() of a blotter::Error, if one was thrown
};

Result query(const SmallJournal& j, const std::string& sql, QueryFormat format = QueryFormat::kCsv,
             double timeout = 0) {
  Result r;
  std::ostringstream out;
  try {
    r.rows = run_query(j.path, sql, QueryOptions{format, timeout}, out);
  } catch (const Error& e) {
    r.error = e.what();
  }
  r.text = out.str();
  return r;
}

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

}  // namespace

TEST_SUITE("query") {
  TEST_CASE("table format aligns columns, numbers to the right") {
    SmallJournal j;
    const Result r = query(j, "SELECT seq, type, symbol FROM events WHERE seq <= 3 ORDER BY seq",
                           QueryFormat::kTable);
    CHECK(r.error == "");
    CHECK(r.rows == 3);
    CHECK(r.text ==
          "seq  type    symbol\n"
          "---  ------  ------\n"
          "  1  BAR     GOOG\n"
          "  2  BAR     MSFT\n"
          "  3  SIGNAL  GOOG\n");
  }

  TEST_CASE("csv format has a header, CRLF line ends and RFC 4180 quoting") {
    SmallJournal j;
    const Result r =
        query(j, "SELECT seq, symbol, reason FROM signals UNION ALL SELECT 9, NULL, 'plain'");
    CHECK(r.error == "");
    CHECK(r.rows == 2);
    CHECK(r.text ==
          "seq,symbol,reason\r\n"
          "3,GOOG,\"close 100.34, \"\"above\"\" MA\"\r\n"
          "9,,plain\r\n");
  }

  TEST_CASE("json format is an array of objects with typed values") {
    SmallJournal j;
    const Result r = query(j,
                           "SELECT seq, symbol, close, volume FROM bars UNION ALL "
                           "SELECT seq, symbol, NULL, NULL FROM handler_errors ORDER BY seq",
                           QueryFormat::kJson);
    CHECK(r.error == "");
    CHECK(r.rows == 3);
    CHECK(r.text ==
          "[\n"
          " {\"seq\": 1, \"symbol\": \"GOOG\", \"close\": 100.34, \"volume\": 1000},\n"
          " {\"seq\": 2, \"symbol\": \"MSFT\", \"close\": 400.5, \"volume\": 2000},\n"
          " {\"seq\": 4, \"symbol\": null, \"close\": null, \"volume\": null}\n"
          "]\n");
  }

  TEST_CASE("an empty result is a header or an empty array") {
    SmallJournal j;
    const char* none = "SELECT seq, type FROM events WHERE seq > 100";
    CHECK(query(j, none, QueryFormat::kJson).text == "[]\n");
    CHECK(query(j, none, QueryFormat::kCsv).text == "seq,type\r\n");
    const Result table = query(j, none, QueryFormat::kTable);
    CHECK(table.rows == 0);
    CHECK(table.text == "seq  type\n---  ----\n");
  }

  TEST_CASE("regression: a second statement is refused instead of silently dropped") {
    SmallJournal j;
    for (QueryFormat format : {QueryFormat::kJson, QueryFormat::kCsv, QueryFormat::kTable}) {
      const Result r = query(j, "SELECT 1 AS a; SELECT 2 AS b", format);
      CHECK(r.error == "one SQL statement at a time: this SQL holds 2 (run each as its own query)");
      CHECK(r.text == "");
    }
    // What follows the one statement may be whitespace, semicolons and comments.
    const Result r =
        query(j, "SELECT count(*) AS n FROM events;\n ; -- done\n/* end */ ;", QueryFormat::kJson);
    CHECK(r.error == "");
    CHECK(r.text == "[\n {\"n\": 4}\n]\n");
  }

  TEST_CASE("regression: query json is valid JSON: infinities, BLOBs, exact doubles") {
    SmallJournal j;
    const Result r = query(j,
                           "SELECT 1e300 * 1e300 AS inf, -1e300 * 1e300 AS minus_inf, "
                           "0.1 + 0.2 AS sum, 2.0 AS whole, x'ab01ff' AS blob, "
                           "'esc' || char(27) || '[2J' || char(7) AS text, hash "
                           "FROM events WHERE seq = 1",
                           QueryFormat::kJson);
    CHECK(r.error == "");
    CHECK(r.text.find("Inf") == std::string::npos);
    CHECK(r.text.find("\xef\xbf\xbd") == std::string::npos);  // U+FFFD
    CHECK(r.text.find('\x1b') == std::string::npos);
    const auto rows = nlohmann::json::parse(r.text);  // throws if it is not JSON
    REQUIRE(rows.size() == 1);
    const auto& row = rows[0];
    CHECK(row["inf"].is_null());
    CHECK(row["minus_inf"].is_null());
    CHECK(row["sum"].get<double>() == 0.1 + 0.2);
    CHECK(r.text.find("\"sum\": 0.30000000000000004,") != std::string::npos);
    CHECK(r.text.find("\"whole\": 2.0,") != std::string::npos);
    CHECK(row["blob"] == "ab01ff");
    CHECK(row["text"] == "esc\x1b[2J\x07");
    CHECK(r.text.find("\"esc\\u001b[2J\\u0007\"") != std::string::npos);
    SQLite::Database db(j.path, SQLite::OPEN_READONLY);
    const std::string hash =
        db.execAndGet("SELECT lower(hex(hash)) FROM events WHERE seq = 1").getString();
    CHECK(hash.size() == 64);
    CHECK(row["hash"] == hash);
  }

  TEST_CASE("regression: query table escapes control characters and shows BLOBs as hex") {
    SmallJournal j;
    const char* sql =
        "SELECT 'a' || char(27) || '[2J' || char(7) || 'b' AS text, x'ab01' AS blob, "
        "0.1 + 0.2 AS sum";
    const Result table = query(j, sql, QueryFormat::kTable);
    CHECK(table.error == "");
    CHECK(table.text ==
          "text           blob                     sum\n"
          "-------------  -------  -------------------\n"
          "a\\x1B[2J\\x07b  x'ab01'  0.30000000000000004\n");
    // CSV is data for programs: text exactly as stored; BLOBs as hex digits.
    const Result csv = query(j, sql, QueryFormat::kCsv);
    CHECK(csv.error == "");
    CHECK(csv.text ==
          "text,blob,sum\r\na\x1b[2J\x07"
          "b,ab01,0.30000000000000004\r\n");
  }

  TEST_CASE("table columns align by display width with UTF-8 text") {
    SmallJournal j;
    const Result r = query(j,
                           "SELECT '\xe2\x82\xac' AS s, 1 AS n UNION ALL "
                           "SELECT '\xe6\xa0\xaa\xe5\xbc\x8f', 22 UNION ALL SELECT 'GOOG', 333",
                           QueryFormat::kTable);
    CHECK(r.error == "");
    CHECK(r.text ==
          "s       n\n"
          "----  ---\n"
          "\xe2\x82\xac       1\n"
          "\xe6\xa0\xaa\xe5\xbc\x8f   22\n"
          "GOOG  333\n");
  }

  TEST_CASE("a statement that would write is refused and the journal is unchanged") {
    SmallJournal j;
    for (const char* sql : {"DELETE FROM events", "UPDATE events SET symbol = 'X'",
                            "INSERT INTO events(seq, ts_ns, type, payload, recorded_ns) VALUES "
                            "(99, 0, 'BAR', '{}', 0)",
                            "CREATE TABLE notes(x)", "CREATE TEMP TABLE notes(x)", "DROP VIEW bars",
                            "REPLACE INTO events SELECT * FROM events", "VACUUM"}) {
      INFO(sql);
      const Result r = query(j, sql);
      CHECK(contains(r.error, "read-only"));
      CHECK(r.text == "");
      CHECK(j.event_count() == 4);
    }
    SQLite::Database db(j.path, SQLite::OPEN_READONLY);
    CHECK(db.execAndGet("SELECT count(*) FROM sqlite_schema WHERE name = 'notes'").getInt() == 0);
    CHECK(db.execAndGet("SELECT count(*) FROM sqlite_schema WHERE name = 'bars'").getInt() == 1);
  }

  TEST_CASE("a refused statement stops the script before anything runs") {
    SmallJournal j;
    const Result r = query(j, "SELECT count(*) AS n FROM events; DELETE FROM events");
    CHECK(contains(r.error, "read-only"));
    CHECK(r.text == "");
    CHECK(j.event_count() == 4);
  }

  TEST_CASE("ATTACH is refused and creates no file") {
    SmallJournal j;
    const std::string other = (j.dir / "other.db").string();
    const Result r = query(j, "ATTACH DATABASE '" + other + "' AS other");
    CHECK(contains(r.error, "ATTACH"));
    CHECK_FALSE(fs::exists(other));
    const Result detach = query(j, "DETACH DATABASE main");
    CHECK(contains(detach.error, "DETACH"));
  }

  TEST_CASE("a PRAGMA that sets a value is refused, one that reads is allowed") {
    SmallJournal j;
    const Result set = query(j, "PRAGMA user_version = 5");
    CHECK(contains(set.error, "PRAGMA user_version"));
    CHECK(set.text == "");
    {
      SQLite::Database db(j.path, SQLite::OPEN_READONLY);
      CHECK(db.execAndGet("PRAGMA user_version").getInt() == journal_schema_version());
    }
    CHECK(contains(query(j, "PRAGMA journal_mode = DELETE").error, "PRAGMA journal_mode"));
    CHECK(contains(query(j, "PRAGMA wal_checkpoint(TRUNCATE)").error, "PRAGMA wal_checkpoint"));
    CHECK(contains(query(j, "PRAGMA wal_checkpoint").error, "PRAGMA wal_checkpoint"));

    const Result info = query(j, "PRAGMA table_info(events)");
    CHECK(info.error == "");
    CHECK(info.rows == 7);
    CHECK(info.text ==
          "cid,name,type,notnull,dflt_value,pk\r\n"
          "0,seq,INTEGER,0,,1\r\n"
          "1,ts_ns,INTEGER,1,,0\r\n"
          "2,type,TEXT,1,,0\r\n"
          "3,symbol,TEXT,0,,0\r\n"
          "4,payload,TEXT,1,,0\r\n"
          "5,recorded_ns,INTEGER,1,,0\r\n"
          "6,hash,BLOB,1,,0\r\n");
    const Result version = query(j, "PRAGMA user_version");
    CHECK(version.text == "user_version\r\n" + std::to_string(journal_schema_version()) + "\r\n");
  }

  TEST_CASE("extension loading is refused") {
    SmallJournal j;
    const Result r = query(j, "SELECT load_extension('/tmp/libnothing.so')");
    CHECK(contains(r.error, "load_extension"));
    CHECK(r.text == "");
  }

  TEST_CASE("a timeout interrupts a runaway query") {
    SmallJournal j;
    const Result r = query(
        j, "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT count(*) FROM c",
        QueryFormat::kCsv, 0.2);
    CHECK(contains(r.error, "timeout"));
    CHECK(r.rows == -1);
  }

  TEST_CASE("a timeout does not interrupt a query that finishes") {
    SmallJournal j;
    const Result r = query(j, "SELECT count(*) AS n FROM events", QueryFormat::kCsv, 30);
    CHECK(r.error == "");
    CHECK(r.text == "n\r\n4\r\n");
  }

  TEST_CASE("SQL errors and empty scripts are reported") {
    SmallJournal j;
    CHECK(contains(query(j, "SELEC 1").error, "SQL error"));
    CHECK(contains(query(j, "SELECT nope FROM events").error, "no such column"));
    CHECK(contains(query(j, "  -- only a comment\n").error, "no SQL statement"));
  }

  TEST_CASE("a missing file or one that is not a journal is refused") {
    SmallJournal j;
    std::ostringstream out;
    const std::string missing = (j.dir / "missing.db").string();
    CHECK_THROWS_AS(run_query(missing, "SELECT 1", {}, out), StoreError);
    CHECK_FALSE(fs::exists(missing));
    const std::string other = (j.dir / "other.db").string();
    {
      SQLite::Database db(other, SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE);
      db.exec("CREATE TABLE t(x)");
    }
    CHECK_THROWS_AS(run_query(other, "SELECT * FROM t", {}, out), StoreError);
    CHECK(out.str() == "");
  }
}
