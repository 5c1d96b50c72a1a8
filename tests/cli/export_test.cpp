// blotter export: CSV and JSON lines for other tools, checked against SQL.
#include "blotter/export.h"

#include <doctest/doctest.h>
#include <fmt/format.h>

#include <algorithm>
#include <nlohmann/json.hpp>
#include <sstream>

#include "blotter/sqlite_journal.h"
#include "cli_helpers.h"
#include "test_support.h"

using namespace blotter::testing;

namespace {

std::string export_check() {
  return std::string(BLOTTER_SOURCE_DIR) + "/tests/cli/export_check.py";
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

std::int64_t crlf_count(const std::string& text) {
  std::int64_t n = 0;
  for (std::size_t at = text.find("\r\n"); at != std::string::npos; at = text.find("\r\n", at + 2))
    ++n;
  return n;
}

std::vector<std::int64_t> seqs_of_jsonl(const std::string& text) {
  std::vector<std::int64_t> seqs;
  for (const std::string& line : lines_of(text))
    seqs.push_back(nlohmann::json::parse(line)["seq"].get<std::int64_t>());
  return seqs;
}

}  // namespace

TEST_SUITE("export") {
  TEST_CASE("a csv export has a header and one record per event, equal to the journal's rows") {
    TempDir dir;
    const std::string& db = goog_journal();
    const CliResult r = run_cli("export " + quote(db) + " --format csv");
    REQUIRE(r.exit_code == 0);
    const std::int64_t events = count(db, "SELECT count(*) FROM events");
    // No GOOG payload holds a line break, so records are lines.
    CHECK(crlf_count(r.out) == events + 1);
    CHECK(r.out.rfind("seq,time,ts_ns,type,symbol,payload,recorded_ns,hash\r\n", 0) == 0);
    const CliResult check =
        run_python(export_check(), quote(dir.write("all.csv", r.out)) + " " + quote(db));
    INFO(check.err);
    CHECK(check.exit_code == 0);
    CHECK(check.out == fmt::format("{} rows match\n", events));
  }

  TEST_CASE("a csv export of a range is the same range in SQL") {
    TempDir dir;
    const std::string& db = goog_journal();
    const CliResult r = run_cli("export " + quote(db) +
                                " --from 2006-01-01 --to 2006-03-31 --type BAR,FILL --symbol GOOG "
                                "--format csv");
    REQUIRE(r.exit_code == 0);
    const std::string where =
        "time >= '2006-01-01' AND time < '2006-04-01' AND type IN ('BAR', 'FILL') AND "
        "symbol = 'GOOG'";
    const std::int64_t events = count(db, "SELECT count(*) FROM timeline WHERE " + where);
    CHECK(events > 60);
    CHECK(count(db, "SELECT count(*) FROM timeline WHERE type = 'FILL' AND " + where) > 0);
    const CliResult check = run_python(export_check(), quote(dir.write("range.csv", r.out)) + " " +
                                                           quote(db) + " " + quote(where));
    INFO(check.err);
    CHECK(check.out == fmt::format("{} rows match\n", events));
  }

  TEST_CASE("commas, quotes, line breaks and a missing symbol survive the csv quoting") {
    TempDir dir;
    const std::string db = dir.file("text.db");
    {
      using namespace blotter;
      auto journal = SqliteJournal::open(db, SqliteJournal::Mode::kWrite);
      std::vector<Event> events = {
          make_event(T("2024-03-01T14:30:00Z"), "GOOG",
                     Signal{Direction::kLong, D("100.34"), "close \"100.34\", above MA20"}),
          make_event(T("2024-03-01T14:30:00.5Z"), "",
                     HandlerError{"Portfolio", 1, "line 1\r\nline 2\nüñï, \"quoted\""}),
          make_event(-1, "A,B\nC", Tick{D("1"), D("2")}),
      };
      for (Event& e : events) journal->append(e);
      journal->commit();
    }
    const CliResult r = run_cli("export " + quote(db) + " --format csv");
    REQUIRE(r.exit_code == 0);
    CHECK(r.out.find("\"close \\\"\"100.34\\\"\", above MA20\"") != std::string::npos);
    CHECK(r.out.find(",\"A,B\nC\",") != std::string::npos);
    const CliResult check =
        run_python(export_check(), quote(dir.write("text.csv", r.out)) + " " + quote(db));
    INFO(check.err);
    CHECK(check.out == "3 rows match\n");
  }

  TEST_CASE("a jsonl export has as many lines as SQL counts for the range") {
    const std::string& db = goog_journal();
    const CliResult r =
        run_cli("export " + quote(db) + " --from 2005-01-01 --to 2005-12-31 --format jsonl");
    REQUIRE(r.exit_code == 0);
    const auto lines = lines_of(r.out);
    const std::int64_t events = count(
        db, "SELECT count(*) FROM timeline WHERE time >= '2005-01-01' AND time < '2006-01-01'");
    CHECK(static_cast<std::int64_t>(lines.size()) == events);
    CHECK(events > 250);
    const auto seqs = seqs_of_jsonl(r.out);
    CHECK(std::is_sorted(seqs.begin(), seqs.end()));

    // The first line, field by field, against SQL.
    REQUIRE_FALSE(lines.empty());
    const auto j = nlohmann::ordered_json::parse(lines[0]);
    std::vector<std::string> keys;
    for (const auto& item : j.items()) keys.push_back(item.key());
    CHECK(keys == std::vector<std::string>{"seq", "time", "ts_ns", "type", "symbol", "payload",
                                           "recorded_ns", "hash"});
    SQLite::Database d(db, SQLite::OPEN_READONLY);
    SQLite::Statement q(d,
                        "SELECT t.time, t.ts_ns, t.type, t.symbol, t.payload, e.recorded_ns, "
                        "t.hash FROM timeline t "
                        "JOIN events e ON e.seq = t.seq WHERE t.seq = ?");
    q.bind(1, j["seq"].get<std::int64_t>());
    REQUIRE(q.executeStep());
    CHECK(j["time"] == q.getColumn(0).getString());
    CHECK(j["ts_ns"] == q.getColumn(1).getInt64());
    CHECK(j["type"] == q.getColumn(2).getString());
    CHECK(j["symbol"] == q.getColumn(3).getString());
    CHECK(j["payload"] == nlohmann::ordered_json::parse(q.getColumn(4).getString()));
    CHECK(j["recorded_ns"] == q.getColumn(5).getInt64());
    CHECK(j["hash"] == q.getColumn(6).getString());
  }

  TEST_CASE("each jsonl line is the compact JSON of its row, in the documented key order") {
    TempDir dir;
    const std::string db = goog_journal_in(dir);
    REQUIRE(run_cli("annotate " + quote(db) + " --seq 3 " +
                    quote("caf\xc3\xa9 \x01 \"quoted\" \\ tab\t") + " --tag " + quote("t\x7f"))
                .exit_code == 0);
    const CliResult r = run_cli("export " + quote(db) + " --format jsonl");
    REQUIRE(r.exit_code == 0);
    const auto lines = lines_of(r.out);
    REQUIRE(static_cast<std::int64_t>(lines.size()) == count(db, "SELECT count(*) FROM events"));
    for (const std::string& line : lines) {
      CAPTURE(line);
      const auto j = nlohmann::ordered_json::parse(line);
      CHECK(j.dump() == line);
      std::vector<std::string> keys;
      for (const auto& [key, value] : j.items()) keys.push_back(key);
      CHECK(keys == std::vector<std::string>{"seq", "time", "ts_ns", "type", "symbol", "payload",
                                             "recorded_ns", "hash"});
    }
    CHECK(lines.back().find("caf\xc3\xa9 \\u0001 \\\"quoted\\\" \\\\ tab\\t") != std::string::npos);
  }

  TEST_CASE("an event without a symbol has a null symbol in jsonl") {
    const std::string& db = goog_journal();
    const CliResult r = run_cli("export " + quote(db) + " --type RUN_STARTED --format jsonl");
    REQUIRE(r.exit_code == 0);
    const auto lines = lines_of(r.out);
    REQUIRE(lines.size() == 1);
    const auto j = nlohmann::json::parse(lines[0]);
    CHECK(j["symbol"].is_null());
    CHECK(j["payload"]["input_kind"] == "bars");
  }

  TEST_CASE("export and replay read the same events for the same options") {
    const std::string& db = goog_journal();
    const std::string range = " --from '#100' --to 2006-03-31 --type FILL,SIGNAL --symbol GOOG";
    const CliResult exported = run_cli("export " + quote(db) + range + " --format jsonl");
    const CliResult replayed = run_cli("replay " + quote(db) + range + " --format jsonl");
    REQUIRE(exported.exit_code == 0);
    REQUIRE(replayed.exit_code == 0);
    const auto seqs = seqs_of_jsonl(exported.out);
    CHECK(seqs.size() > 10);
    CHECK(seqs == seqs_of_jsonl(replayed.out));
    CHECK(seqs.front() >= 100);
  }

  TEST_CASE("export_events writes the requested format and returns the count") {
    auto journal =
        blotter::SqliteJournal::open(goog_journal(), blotter::SqliteJournal::Mode::kRead);
    blotter::ScanRange range(2, 11);
    std::ostringstream csv, jsonl;
    CHECK(blotter::export_events(*journal, range, blotter::ExportFormat::kCsv, csv) == 10);
    CHECK(crlf_count(csv.str()) == 11);
    CHECK(blotter::export_events(*journal, range, blotter::ExportFormat::kJsonl, jsonl) == 10);
    CHECK(lines_of(jsonl.str()).size() == 10);
  }

  TEST_CASE("bad options exit 2 with one line and create nothing") {
    TempDir dir;
    const std::string& db = goog_journal();
    for (const std::string options : {"--type NOPE --format csv", "--from yesterday --format csv",
                                      "--to '#x' --format jsonl"}) {
      CAPTURE(options);
      const CliResult r = run_cli("export " + quote(db) + " " + options);
      CHECK(r.exit_code == 2);
      CHECK(r.out.empty());
      CHECK(std::count(r.err.begin(), r.err.end(), '\n') == 1);
    }
    const CliResult missing = run_cli("export " + quote(dir.file("nope.db")) + " --format csv");
    CHECK(missing.exit_code == 2);
    CHECK_FALSE(std::filesystem::exists(dir.file("nope.db")));
    // --format is required, and only csv or jsonl.
    CHECK(run_cli("export " + quote(db)).exit_code != 0);
    CHECK(run_cli("export " + quote(db) + " --format table").exit_code != 0);
  }
}
