// INPUT_REJECTED, the input rows a live session skipped, on the journal's
// side: the input_rejections view (TEMP for a read-only open of an older
// journal), audit listing them, and state, resim, diff and verify treating
// them as notes of the session, never as trading. And RUN_FINISHED's `ended`,
// which a file run leaves out and older journals lack.
#include <doctest/doctest.h>
#include <fmt/format.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "blotter/error.h"
#include "blotter/market_data_source.h"
#include "blotter/sqlite_journal.h"
#include "cli_helpers.h"

using namespace blotter;
using namespace blotter::testing;
namespace fs = std::filesystem;

namespace {

using Json = nlohmann::json;

// One rejected row in kEvery BARs.
constexpr int kEvery = 100;

// The rejection of input line `line`: a bad close, or (odd lines) a row with
// too few fields, which names no field. The raw row holds an escape sequence.
InputRejected rejection_at(std::int64_t line) {
  if (line % 2)
    return input_rejected(InputError("feed.csv", line, "", "expected 6 fields, got 3"),
                          "2006-01-03,1,\x1b[2J");
  return input_rejected(InputError("feed.csv", line, "close", "'x' is not a number"),
                        "2006-01-03,1,2,0.5,x,9");
}

// Copies every event of journal `from` into a new journal `to`, appending an
// INPUT_REJECTED (event time its BAR's, no symbol) after every kEvery-th BAR,
// as a live session that skipped bad rows there would have journaled it.
// The seqs the payloads refer to are renumbered, and each RUN_FINISHED counts
// the rejections among its run's events. Returns how many were added.
int copy_with_rejections(const std::string& from, const std::string& to) {
  const auto source = SqliteJournal::open(from, Journal::Mode::kRead);
  const auto target = SqliteJournal::open(to, Journal::Mode::kWrite);
  std::map<Seq, Seq> renumbered = {{0, 0}};
  const auto now = [&](Seq old) { return renumbered.at(old); };
  int added = 0, added_in_run = 0, bars = 0;
  std::int64_t line = 1;  // the header
  source->scan(ScanRange(1, source->last_seq()), [&](const Event& recorded) {
    Event e = recorded;
    e.seq = 0;
    if (e.type() == EventType::kRunStarted) added_in_run = 0;
    if (auto* o = std::get_if<Order>(&e.payload)) o->signal_seq = now(o->signal_seq);
    if (auto* f = std::get_if<Fill>(&e.payload)) f->order_seq = now(f->order_seq);
    if (auto* r = std::get_if<RiskRejected>(&e.payload)) r->signal_seq = now(r->signal_seq);
    if (auto* h = std::get_if<HandlerError>(&e.payload)) h->event_seq = now(h->event_seq);
    if (auto* a = std::get_if<Annotation>(&e.payload)) a->refers_to_seq = now(a->refers_to_seq);
    if (auto* f = std::get_if<RunFinished>(&e.payload)) {
      f->run_seq = now(f->run_seq);
      f->events += added_in_run;
    }
    renumbered[recorded.seq] = target->append(e);
    if (e.type() == EventType::kBar) {
      ++line;
      if (++bars % kEvery == 0) {
        Event rejected = make_event(e.ts_ns, "", rejection_at(++line));
        target->append(rejected);
        ++added;
        ++added_in_run;
      }
    }
    return true;
  });
  target->commit();
  return added;
}

// `blotter state` as JSON, without the seq it is at (which the rejections shift).
Json state_of(const std::string& db, const std::string& at = "") {
  std::vector<std::string> args = {"state", db, "--format", "json"};
  if (!at.empty()) args.insert(args.end(), {"--at", at});
  const CliResult r = run_cli_args(args);
  REQUIRE_MESSAGE(r.exit_code == 0, r.err);
  Json j = Json::parse(r.out);
  j.erase("seq");
  return j;
}

CliResult query(const std::string& db, const std::string& sql) {
  return run_cli_args({"query", db, sql, "--format", "csv"});
}

// The journals: a GOOG run, and the same with rejected rows among its events.
struct Journals {
  TempDir dir;
  std::string plain = goog_journal_in(dir, "plain.db", "--quantity 1");
  std::string live = dir.file("live.db");
  int rejected = copy_with_rejections(plain, live);
};

}  // namespace

TEST_SUITE("input_rejection") {
  TEST_CASE("the input_rejections view lists each rejected row with its line, field and text") {
    Journals j;
    REQUIRE(j.rejected >= 10);
    CHECK(count(j.live, "SELECT count(*) FROM input_rejections") == j.rejected);
    CHECK(count(j.live, "SELECT count(*) FROM events WHERE type = 'INPUT_REJECTED'") == j.rejected);
    const CliResult r = query(
        j.live, "SELECT line, field, message, row FROM input_rejections ORDER BY seq LIMIT 2");
    REQUIRE_MESSAGE(r.exit_code == 0, r.err);
    // The first rejection follows the 100th BAR, line 101; its row's escape
    // is text in the journal, and a row without a field has NULL there.
    CHECK(
        r.out ==
        "line,field,message,row\r\n"
        "102,close,feed.csv:102: field 'close': 'x' is not a number,\"2006-01-03,1,2,0.5,x,9\"\r\n"
        "203,,\"feed.csv:203: expected 6 fields, got 3\",\"2006-01-03,1,\\x1B[2J\"\r\n");
    // Its time is the BAR's it follows, as the other views show time.
    CHECK(count(j.live,
                "SELECT count(*) FROM input_rejections r JOIN timeline t ON t.seq = r.seq - 1 "
                "WHERE t.type = 'BAR' AND t.time = r.time") == j.rejected);
  }

  TEST_CASE("a journal of schema version 7 reads with the view as a TEMP view, unchanged") {
    Journals j;
    // The journal as blotter wrote it before migration 0008: its views are
    // those of 0007 (migrations after 0008 are views only too).
    const std::string script = j.dir.write("downgrade.py", R"py(import sqlite3, sys
con = sqlite3.connect(sys.argv[1])
con.execute("DROP VIEW input_rejections")
con.executescript(open(sys.argv[2]).read())
con.execute("DELETE FROM schema_migrations WHERE version >= 8")
con.execute("PRAGMA user_version = 7")
con.commit()
con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
con.close()
)py");
    REQUIRE(run_python(script, quote(j.live) + " " +
                                   quote(BLOTTER_MIGRATIONS_DIR "/0007_runs_strategy.sql"))
                .exit_code == 0);
    REQUIRE(count(j.live, "PRAGMA user_version") == 7);
    const std::string before = read_file(j.live);

    const CliResult r = query(j.live, "SELECT count(*), min(line) FROM input_rejections");
    CHECK_MESSAGE(r.exit_code == 0, r.err);
    CHECK(r.out == fmt::format("count(*),min(line)\r\n{},102\r\n", j.rejected));
    CHECK(read_file(j.live) == before);
    // Another SQLite client sees the journal's own views: not this one.
    CHECK(count(j.live, "SELECT count(*) FROM sqlite_master WHERE name = 'input_rejections'") == 0);

    const CliResult migrated = run_cli_args({"migrate", j.live});
    REQUIRE_MESSAGE(migrated.exit_code == 0, migrated.err);
    CHECK(count(j.live, "SELECT count(*) FROM input_rejections") == j.rejected);
  }

  TEST_CASE("state ignores rejected rows: the books are those of the run without them") {
    Journals j;
    CHECK(state_of(j.live) == state_of(j.plain));
    CHECK(state_of(j.live, "2006-01-03") == state_of(j.plain, "2006-01-03"));
    // At a rejection, the books are as they were right before it.
    const Seq rejected = count(j.live, "SELECT max(seq) FROM input_rejections");
    CHECK(state_of(j.live, fmt::format("#{}", rejected)) ==
          state_of(j.live, fmt::format("#{}", rejected - 1)));
  }

  TEST_CASE("resim re-simulates a run with rejected rows as the run without them") {
    Journals j;
    const CliResult plain = run_cli_args({"resim", j.plain});
    const CliResult live = run_cli_args({"resim", j.live});
    REQUIRE_MESSAGE(plain.exit_code == 0, plain.err);
    CHECK_MESSAGE(live.exit_code == 0, live.err);
    CHECK(live.out.find("identical") != std::string::npos);
    CHECK(live.out == plain.out);
  }

  TEST_CASE("diff counts no rejected row among a run's trading events") {
    Journals j;
    const CliResult r = run_cli_args({"diff", j.plain, j.live, "--format", "json"});
    CHECK_MESSAGE(r.exit_code == 0, r.out, r.err);
  }

  TEST_CASE("verify chains rejected rows like any event") {
    Journals j;
    const CliResult r = run_cli_args({"verify", j.live});
    CHECK_MESSAGE(r.exit_code == 0, r.out, r.err);
    // A changed rejection breaks the chain like any changed event.
    const std::string script = j.dir.write("tamper.py", R"py(import sqlite3, sys
con = sqlite3.connect(sys.argv[1])
con.execute("DROP TRIGGER events_no_update")
con.execute("UPDATE events SET payload = replace(payload, '\"line\":102', '\"line\":103') "
            "WHERE type = 'INPUT_REJECTED'")
con.commit()
)py");
    REQUIRE(run_python(script, quote(j.live) + " " +
                                   quote(BLOTTER_MIGRATIONS_DIR "/0007_runs_strategy.sql"))
                .exit_code == 0);
    const CliResult tampered = run_cli_args({"verify", j.live});
    CHECK(tampered.exit_code != 0);
  }

  TEST_CASE("audit lists a day's rejected rows, and counts them per day of a range") {
    Journals j;
    const CliResult day_of = query(j.live, "SELECT substr(min(time), 1, 10) FROM input_rejections");
    REQUIRE(day_of.exit_code == 0);
    const std::string day = day_of.out.substr(day_of.out.find('\n') + 1, 10);

    const CliResult text = run_cli_args({"audit", j.live, "--day", day});
    REQUIRE_MESSAGE(text.exit_code == 0, text.err);
    CHECK(text.out.find("rejected input rows (1):") != std::string::npos);
    CHECK(text.out.find("feed.csv:102: field 'close': 'x' is not a number") != std::string::npos);

    const CliResult json = run_cli_args({"audit", j.live, "--day", day, "--format", "json"});
    REQUIRE_MESSAGE(json.exit_code == 0, json.err);
    const Json report = Json::parse(json.out);
    REQUIRE(report["input_rejections"].size() == 1);
    CHECK(report["input_rejections"][0]["line"] == 102);
    CHECK(report["input_rejections"][0]["field"] == "close");
    CHECK(report["input_rejections"][0]["row"] == "2006-01-03,1,2,0.5,x,9");
    CHECK(report["events"]["INPUT_REJECTED"] == 1);
    const Json plain =
        Json::parse(run_cli_args({"audit", j.plain, "--day", day, "--format", "json"}).out);
    CHECK_FALSE(plain.contains("input_rejections"));
    CHECK(report["close"]["equity"] == plain["close"]["equity"]);
    CHECK(report["fills"].size() == plain["fills"].size());

    const CliResult range =
        run_cli_args({"audit", j.live, "--from", "2004-01-01", "--format", "json"});
    REQUIRE_MESSAGE(range.exit_code == 0, range.err);
    const Json days = Json::parse(range.out);
    CHECK(days["totals"]["input_rejections"] == j.rejected);
    CHECK(days["days"][0].contains("input_rejections"));
    const Json plain_days = Json::parse(
        run_cli_args({"audit", j.plain, "--from", "2004-01-01", "--format", "json"}).out);
    CHECK_FALSE(plain_days["totals"].contains("input_rejections"));
    CHECK(days["totals"]["pnl"] == plain_days["totals"]["pnl"]);
    const CliResult range_text = run_cli_args({"audit", j.live, "--from", "2004-01-01"});
    CHECK(range_text.out.find(fmt::format("rejected input rows: {} ({}: 1,", j.rejected, day)) !=
          std::string::npos);

    const std::string page = j.dir.file("day.html");
    REQUIRE(run_cli_args({"audit", j.live, "--day", day, "--html", page}).exit_code == 0);
    const std::string html = read_file(page);
    CHECK(html.find("Rejected input rows") != std::string::npos);
    CHECK(html.find("feed.csv:102: field &#39;close&#39;") != std::string::npos);
  }

  TEST_CASE("a file run's RUN_FINISHED has no ended, and reads as ended at the end of its input") {
    Journals j;
    CHECK(count(j.plain,
                "SELECT count(*) FROM events WHERE type = 'RUN_FINISHED' AND "
                "json_extract(payload, '$.ended') IS NULL") == 1);
    const auto journal = SqliteJournal::open(j.plain, Journal::Mode::kRead);
    int finished = 0;
    journal->scan(ScanRange(1, journal->last_seq()), [&](const Event& e) {
      if (const auto* f = e.get_if<RunFinished>()) {
        CHECK(f->ended == "end_of_input");
        ++finished;
      }
      return true;
    });
    CHECK(finished == 1);
  }

  TEST_CASE("regression: RUN_FINISHED of release 0.1.0 reads as ended at the end of input") {
    TempDir dir;
    fs::copy_file(fs::path(BLOTTER_TEST_DATA) / "release_0_1" / "journal.sqlite", dir.file("o.db"));
    const std::string db = dir.file("o.db");
    const auto journal = SqliteJournal::open(db, Journal::Mode::kRead);
    int finished = 0;
    ScanRange runs(1, journal->last_seq());
    runs.types = {EventType::kRunFinished};
    journal->scan(runs, [&](const Event& e) {
      CHECK(e.as<RunFinished>().ended == "end_of_input");
      ++finished;
      return true;
    });
    CHECK(finished == 2);
    const CliResult verify = run_cli_args({"verify", db});
    CHECK_MESSAGE(verify.exit_code == 0, verify.out, verify.err);
  }
}
