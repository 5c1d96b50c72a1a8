// blotter annotate: notes appended as ANNOTATION events, which nothing replays.
#include "blotter/annotation.h"

#include <SQLiteCpp/SQLiteCpp.h>
#include <doctest/doctest.h>
#include <fmt/format.h>

#include <algorithm>
#include <vector>

#include "blotter/error.h"
#include "cli_helpers.h"
#include "test_support.h"

using namespace blotter::testing;

namespace {

std::string text_of(const std::string& db, const std::string& sql) {
  SQLite::Database d(db, SQLite::OPEN_READONLY);
  const SQLite::Column c = d.execAndGet(sql);
  return c.isNull() ? "NULL" : c.getString();
}

}  // namespace

TEST_SUITE("annotation") {
  TEST_CASE("annotate --seq appends an ANNOTATION with the referenced event's time and symbol") {
    TempDir dir;
    const std::string db = goog_journal_in(dir);
    const auto last = count(db, "SELECT max(seq) FROM events");
    const auto fill = count(db, "SELECT min(seq) FROM events WHERE type = 'FILL'");
    const CliResult r = run_cli("annotate " + quote(db) + fmt::format(" --seq {}", fill) +
                                " 'fill looks late, checking' --tag review");
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    CHECK(r.out == fmt::format("seq {}: annotation of seq {}\n", last + 1, fill));
    CHECK(count(db, "SELECT max(seq) FROM events") == last + 1);
    CHECK(text_of(db, fmt::format("SELECT type FROM events WHERE seq = {}", last + 1)) ==
          "ANNOTATION");
    CHECK(count(db, fmt::format("SELECT ts_ns FROM events WHERE seq = {}", last + 1)) ==
          count(db, fmt::format("SELECT ts_ns FROM events WHERE seq = {}", fill)));
    CHECK(text_of(db, fmt::format("SELECT symbol FROM events WHERE seq = {}", last + 1)) == "GOOG");

    SQLite::Database d(db, SQLite::OPEN_READONLY);
    SQLite::Statement q(d, "SELECT seq, time, refers_to_seq, day, tag, text FROM annotations");
    REQUIRE(q.executeStep());
    CHECK(q.getColumn(0).getInt64() == last + 1);
    CHECK(q.getColumn(1).getString() ==
          text_of(db, fmt::format("SELECT time FROM fills WHERE seq = {}", fill)));
    CHECK(q.getColumn(2).getInt64() == fill);
    CHECK(q.getColumn(3).isNull());
    CHECK(q.getColumn(4).getString() == "review");
    CHECK(q.getColumn(5).getString() == "fill looks late, checking");
    CHECK_FALSE(q.executeStep());
  }

  TEST_CASE("annotate --day starts at that trading day in the time zone of the latest run") {
    TempDir dir;
    const std::string db = goog_journal_in(dir, "ny.db", "--tz America/New_York");
    const CliResult r = run_cli("annotate " + quote(db) + " --day 2006-09-11 'markets reopened'");
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    CHECK(r.out.find(": annotation of 2006-09-11\n") != std::string::npos);
    CHECK(text_of(db, "SELECT time FROM annotations") == "2006-09-11T04:00:00Z");  // EDT
    CHECK(text_of(db, "SELECT day FROM annotations") == "2006-09-11");
    CHECK(text_of(db, "SELECT refers_to_seq FROM annotations") == "NULL");
    CHECK(text_of(db, "SELECT tag FROM annotations") == "NULL");
    CHECK(text_of(db, "SELECT symbol FROM events WHERE type = 'ANNOTATION'") == "NULL");
  }

  TEST_CASE("a correction is a new annotation that refers to the first, which stays as it was") {
    TempDir dir;
    const std::string db = goog_journal_in(dir);
    REQUIRE(run_cli("annotate " + quote(db) + " --seq 2 'first bar is wrong'").exit_code == 0);
    const auto first = count(db, "SELECT max(seq) FROM events");
    const std::string before = text_of(db, "SELECT payload FROM events WHERE type = 'ANNOTATION'");
    const CliResult r = run_cli("annotate " + quote(db) + fmt::format(" --seq {}", first) +
                                " 'no, it is right' --tag correction");
    REQUIRE(r.exit_code == 0);
    CHECK(count(db, "SELECT count(*) FROM annotations") == 2);
    CHECK(count(db, "SELECT refers_to_seq FROM annotations WHERE tag = 'correction'") == first);
    CHECK(text_of(db, fmt::format("SELECT payload FROM events WHERE seq = {}", first)) == before);
    CHECK(run_cli("verify " + quote(db)).exit_code == 0);
  }

  TEST_CASE("bad input is one line on stderr, exit 2, and nothing written") {
    TempDir dir;
    const std::string db = goog_journal_in(dir);
    const auto events = count(db, "SELECT count(*) FROM events");
    const std::pair<const char*, const char*> cases[] = {
        {"--seq 999999 'x'", "--seq 999999: no such event"},
        {"--seq 0 'x'", "--seq 0: no such event"},
        {"--seq -3 'x'", "--seq -3: no such event"},
        {"--day 2006-02-30 'x'", "'2006-02-30' is not a date"},
        {"--day yesterday 'x'", "'yesterday' is not a date"},
        {"--day 2006-9-11 'x'", "'2006-9-11' is not a date"},
        {"--seq 5 ''", "text is empty"},
        {"--seq 5 '  '", "text is empty"},
        {"--seq 5 --day 2006-09-11 'x'", "one event (--seq) or one day (--day), not both"},
        {"'x'", "one event (--seq) or one day (--day): give one"},
    };
    for (const auto& [args, why] : cases) {
      CAPTURE(args);
      const CliResult r = run_cli("annotate " + quote(db) + " " + args);
      CHECK(r.exit_code == 2);
      CHECK(r.out.empty());
      CHECK(r.err.rfind("blotter: ", 0) == 0);
      CHECK(r.err.find(why) != std::string::npos);
      CHECK(std::count(r.err.begin(), r.err.end(), '\n') == 1);
      CHECK(count(db, "SELECT count(*) FROM events") == events);
    }
    const CliResult missing = run_cli("annotate " + quote(dir.file("nope.db")) + " --seq 1 'x'");
    CHECK(missing.exit_code == 2);
    CHECK(missing.err == "blotter: " + dir.file("nope.db") + ": no such journal\n");
    CHECK_FALSE(std::filesystem::exists(dir.file("nope.db")));
    const std::string csv = dir.write("bars.csv", read_file(goog_csv()));
    const CliResult not_journal = run_cli("annotate " + quote(csv) + " --seq 1 'x'");
    CHECK(not_journal.exit_code == 2);
    CHECK(read_file(csv) == read_file(goog_csv()));
  }

  TEST_CASE("annotations change neither state, state --at, resim nor what verify finds") {
    TempDir dir;
    const std::string db = goog_journal_in(dir);
    const auto state = [&] { return run_cli("state " + quote(db) + " --format json"); };
    const auto state_at = [&] {
      return run_cli("state " + quote(db) + " --at 2005-06-15 --format json");
    };
    const auto resim = [&] { return run_cli("resim " + quote(db)); };
    const CliResult state_before = state(), at_before = state_at(), resim_before = resim();
    REQUIRE(state_before.exit_code == 0);
    REQUIRE(at_before.exit_code == 0);
    REQUIRE(resim_before.exit_code == 0);
    const auto last = count(db, "SELECT max(seq) FROM events");

    // About an early event, an early day, and the last event: the journal
    // then ends with annotations carrying times long past.
    for (const std::string& args :
         std::vector<std::string>{"--seq 3 'early'", "--day 2005-01-03 'a day'",
                                  fmt::format("--seq {} 'the end'", last)})
      REQUIRE(run_cli("annotate " + quote(db) + " " + args).exit_code == 0);
    REQUIRE(count(db, "SELECT count(*) FROM annotations") == 3);

    CHECK(state().out == state_before.out);
    CHECK(state_at().out == at_before.out);
    CHECK(resim().out == resim_before.out);
    CHECK(resim_before.out == "identical: 245 derived events matched\n");
    const CliResult verify = run_cli("verify " + quote(db));
    CHECK(verify.exit_code == 0);
    CHECK(verify.out.rfind(fmt::format("ok: {} events, head ", last + 3), 0) == 0);
    // Replay lists them with the rest of the journal.
    const CliResult replay = run_cli("replay " + quote(db) + " --type ANNOTATION --format jsonl");
    CHECK(std::count(replay.out.begin(), replay.out.end(), '\n') == 3);
  }

  TEST_CASE("annotate refuses an unknown seq before appending anything") {
    blotter::MemoryStore store;
    blotter::Event bar = blotter::make_event(T("2024-03-01T00:00:00Z"), "X",
                                             blotter::Bar{D("1"), D("2"), D("1"), D("2"), D("5")});
    store.append(bar);
    store.commit();
    CHECK_THROWS_AS(blotter::annotate(store, {2, "", "", "x"}), blotter::ConfigError);
    CHECK(store.last_seq() == 1);

    const blotter::Event e = blotter::annotate(store, {1, "", "t", "about the bar"});
    CHECK(e.seq == 2);
    CHECK(e.ts_ns == bar.ts_ns);
    CHECK(e.symbol == "X");
    CHECK(e.as<blotter::Annotation>().text == "about the bar");
    // Without a run, a day is a UTC day.
    const blotter::Event day = blotter::annotate(store, {0, "2024-03-04", "", "monday"});
    CHECK(day.ts_ns == T("2024-03-04T00:00:00Z"));
    CHECK(day.symbol.empty());
    CHECK(store.last_seq() == 3);
    // State, looked up by time, skips annotations.
    CHECK(store.last_seq_at_or_before(T("2024-03-05T00:00:00Z")) == 1);
  }
}
