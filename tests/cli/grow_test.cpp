// A grown input file continues its run: the journal ends equal, trading event
// for trading event, to one run over the whole file; a changed row is refused.
#include <doctest/doctest.h>
#include <fmt/format.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "blotter/trading_system.h"
#include "cli_helpers.h"
#include "core/digest.h"

using namespace blotter;
using namespace blotter::testing;

namespace {

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

// The lines of `path`, each without its newline.
std::vector<std::string> lines_of(const std::string& path) {
  std::vector<std::string> lines;
  std::istringstream in(read_file(path));
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

// The header and the first `rows` rows of `lines`, each ending in a newline.
std::string first_rows(const std::vector<std::string>& lines, std::size_t rows) {
  std::string text;
  for (std::size_t i = 0; i <= rows && i < lines.size(); ++i) text += lines[i] + "\n";
  return text;
}

CliResult run_goog(const std::string& csv, const std::string& db, const std::string& options) {
  return run_cli("run --bars " + quote(csv) + " --symbol GOOG --journal " + quote(db) + " " +
                 options);
}

// Whether the latest runs of two journals have the same trading events
// (`blotter diff`, which compares seq references by position).
bool same_trading_events(const std::string& db1, const std::string& db2) {
  const CliResult r = run_cli("diff " + quote(db1) + " " + quote(db2));
  INFO(r.out, r.err);
  return r.exit_code == 0;
}

// The rows before each ORDER of a run of the GOOG series with `options`: cut
// there, the order is still open (next-open) at the end of the cut file.
std::vector<std::int64_t> rows_before_orders(const std::string& db) {
  SQLite::Database d(db, SQLite::OPEN_READONLY);
  SQLite::Statement q(d,
                      "SELECT (SELECT count(*) FROM events b WHERE b.type = 'BAR' AND b.seq < "
                      "o.seq) FROM events o WHERE o.type = 'ORDER' ORDER BY o.seq");
  std::vector<std::int64_t> rows;
  while (q.executeStep()) rows.push_back(q.getColumn(0).getInt64());
  return rows;
}

// The seq of the `n`th BAR (1-based) of a journal.
std::int64_t seq_of_bar(const std::string& db, std::int64_t n) {
  return count(db, fmt::format("SELECT seq FROM events WHERE type = 'BAR' ORDER BY seq LIMIT 1 "
                               "OFFSET {}",
                               n - 1));
}

}  // namespace

TEST_SUITE("grow") {
  TEST_CASE("a file grown in three steps continues one run, equal to one run over the whole file") {
    for (const std::string options : {"--quantity 1", "--quantity 1 --fill next-open --window 5"}) {
      CAPTURE(options);
      TempDir dir;
      const std::vector<std::string> lines = lines_of(goog_csv());
      const std::size_t all = lines.size() - 1;
      const std::string whole = dir.write("whole.csv", first_rows(lines, all));
      const std::string single = dir.file("single.db");
      REQUIRE(run_goog(whole, single, options).exit_code == 0);

      // Cut where an order is open at the end of the cut file (it fills on
      // the next bar with next-open, on the same bar with signal fills).
      const std::vector<std::int64_t> cuts = rows_before_orders(single);
      REQUIRE(cuts.size() >= 6);
      const auto cut1 = static_cast<std::size_t>(cuts[2]);
      const auto cut2 = static_cast<std::size_t>(cuts[cuts.size() / 2]);
      REQUIRE(cut1 < cut2);
      REQUIRE(cut2 < all);

      const std::string csv = dir.file("grow.csv");
      const std::string db = dir.file("grow.db");
      dir.write("grow.csv", first_rows(lines, cut1));
      const CliResult first = run_goog(csv, db, options);
      REQUIRE_MESSAGE(first.exit_code == 0, first.err);
      CHECK(count(db, "SELECT count(*) FROM events WHERE type = 'BAR'") ==
            static_cast<std::int64_t>(cut1));
      if (contains(options, "next-open")) CHECK(contains(first.out, "orders still open"));

      dir.write("grow.csv", first_rows(lines, cut2));
      const CliResult second = run_goog(csv, db, options);
      REQUIRE_MESSAGE(second.exit_code == 0, second.err);
      CHECK(contains(second.out,
                     fmt::format("continued run 1 after {} rows already journaled", cut1)));

      dir.write("grow.csv", first_rows(lines, all));
      const CliResult third = run_goog(csv, db, options);
      REQUIRE_MESSAGE(third.exit_code == 0, third.err);
      CHECK(contains(third.out,
                     fmt::format("continued run 1 after {} rows already journaled", cut2)));

      CHECK(same_trading_events(single, db));
      // One run, finished three times, continued twice; the runs view shows
      // it once, with the last RUN_FINISHED.
      CHECK(count(db, "SELECT count(*) FROM events WHERE type = 'RUN_STARTED'") == 1);
      CHECK(count(db, "SELECT count(*) FROM events WHERE type = 'RUN_FINISHED'") == 3);
      CHECK(count(db, "SELECT count(*) FROM run_resumptions") == 2);
      CHECK(count(db, "SELECT count(*) FROM runs") == 1);
      CHECK(count(db, "SELECT rows FROM runs") == static_cast<std::int64_t>(all));
      CHECK(count(db, "SELECT finished_seq FROM runs") == count(db, "SELECT max(seq) FROM events"));
      CHECK(count(db,
                  "SELECT json_array_length(payload, '$.resumed_at') FROM events WHERE seq = "
                  "(SELECT max(seq) FROM events)") == 2);
      const CliResult verify = run_cli("verify " + quote(db));
      CHECK_MESSAGE(verify.exit_code == 0, verify.out, verify.err);

      // Unchanged since: nothing more to append.
      const std::int64_t last = last_seq_of(db);
      const CliResult again = run_goog(csv, db, options);
      CHECK(again.exit_code == 0);
      CHECK(contains(again.out, "already holds this run"));
      CHECK(last_seq_of(db) == last);
    }
  }

  TEST_CASE("a changed row the run consumed is refused naming its line and seq") {
    TempDir dir;
    const std::vector<std::string> lines = lines_of(goog_csv());
    const std::string csv = dir.file("in.csv");
    const std::string db = dir.file("j.db");
    dir.write("in.csv", first_rows(lines, 100));
    REQUIRE(run_goog(csv, db, "").exit_code == 0);
    const std::int64_t last = last_seq_of(db);
    const std::vector<std::string> before = trading_events(db);

    SUBCASE("a changed value") {
      std::vector<std::string> changed = lines;
      changed[40] = changed[40].substr(0, changed[40].rfind(',')) + ",1";  // row 40's volume
      dir.write("in.csv", first_rows(changed, 150));
      const CliResult r = run_goog(csv, db, "");
      CHECK(r.exit_code == 2);
      CHECK(r.err == fmt::format("blotter: {}:41: differs from the row the journal's run consumed "
                                 "(seq {}); start a new journal or a new run with --new-run\n",
                                 csv, seq_of_bar(db, 40)));
    }
    SUBCASE("only the formatting changed") {
      std::vector<std::string> changed = lines;
      changed[7].insert(changed[7].find(',') + 1, " ");  // the same values
      dir.write("in.csv", first_rows(changed, 150));
      const CliResult r = run_goog(csv, db, "");
      CHECK(r.exit_code == 2);
      CHECK(contains(r.err, fmt::format("blotter: {}: its first ", csv)));
      CHECK(contains(r.err, "though every row the run journaled reads the same"));
      CHECK(contains(r.err, "with --new-run"));
    }
    SUBCASE("a shrunk file") {
      dir.write("in.csv", first_rows(lines, 60));
      const CliResult r = run_goog(csv, db, "");
      CHECK(r.exit_code == 2);
      CHECK(r.err == fmt::format("blotter: {}: ends after 60 rows, before the row the journal's "
                                 "run consumed (seq {}); start a new journal or a new run with "
                                 "--new-run\n",
                                 csv, seq_of_bar(db, 61)));
    }
    // The journal as it was.
    CHECK(last_seq_of(db) == last);
    CHECK(trading_events(db) == before);

    // --new-run starts a second run of the file as it is now.
    const CliResult fresh = run_goog(csv, db, "--new-run");
    REQUIRE_MESSAGE(fresh.exit_code == 0, fresh.err);
    CHECK(count(db, "SELECT count(*) FROM runs") == 2);
    CHECK(count(db, "SELECT count(*) FROM run_resumptions") == 0);
    const std::string alone = dir.file("alone.db");
    REQUIRE(run_goog(csv, alone, "").exit_code == 0);
    CHECK(same_trading_events(alone, db));
  }

  TEST_CASE("--new-run starts a new run of an input the latest run already holds") {
    TempDir dir;
    const std::string db = dir.file("j.db");
    REQUIRE(run_goog(goog_csv(), db, "").exit_code == 0);
    CHECK(contains(run_goog(goog_csv(), db, "").out, "already holds this run"));
    const CliResult r = run_goog(goog_csv(), db, "--new-run");
    REQUIRE_MESSAGE(r.exit_code == 0, r.err);
    CHECK(count(db, "SELECT count(*) FROM runs") == 2);
    CHECK(count(db, "SELECT count(*) FROM runs WHERE finished_seq IS NOT NULL") == 2);
    CHECK(run_cli("diff " + quote(db) + " " + quote(db)).exit_code == 0);
  }

  TEST_CASE("another file with other rows starts a new run, as before") {
    TempDir dir;
    const std::vector<std::string> lines = lines_of(goog_csv());
    const std::string db = dir.file("j.db");
    const std::string a = dir.write("a.csv", first_rows(lines, 100));
    std::vector<std::string> changed = lines;
    changed[3] = changed[3].substr(0, changed[3].rfind(',')) + ",1";
    const std::string b = dir.write("b.csv", first_rows(changed, 120));
    REQUIRE(run_goog(a, db, "").exit_code == 0);
    const CliResult r = run_goog(b, db, "");
    REQUIRE_MESSAGE(r.exit_code == 0, r.err);
    CHECK(count(db, "SELECT count(*) FROM runs") == 2);
  }

  TEST_CASE("an interrupted continuation, run again, ends equal to one run") {
    TempDir dir;
    const std::string whole = synthetic_bars(dir, "whole.csv", 600, 3);
    const std::vector<std::string> lines = lines_of(whole);
    const std::size_t all = lines.size() - 1;
    const std::string csv = dir.file("grow.csv");
    const std::string db = dir.file("grow.db");
    const std::string single = dir.file("single.db");
    auto config_for = [](const std::string& input, const std::string& journal) {
      RunConfig c = busy_run_config(input, journal);
      c.batch_rows = 50;
      c.batch_latency = std::chrono::hours(1);
      c.check_input_first = true;
      c.snapshot_every = 300;
      return c;
    };
    run_paper_trading(config_for(whole, single));

    dir.write("grow.csv", first_rows(lines, all / 3));
    CHECK(run_paper_trading(config_for(csv, db)).outcome == RunSummary::Outcome::kNew);
    dir.write("grow.csv", first_rows(lines, all));
    {
      std::atomic<bool> stop{false};
      int batches = 0;
      RunConfig c = config_for(csv, db);
      c.stop = &stop;
      c.on_progress = [&](const MarketDataSource&) {
        if (++batches == 4) stop.store(true);
      };
      CHECK_THROWS_AS(run_paper_trading(c), RunInterrupted);
    }
    // Part of the continuation is committed, its RUN_FINISHED not.
    CHECK(count(db, "SELECT count(*) FROM events WHERE type = 'BAR'") >
          static_cast<std::int64_t>(all / 3));
    CHECK(count(db, "SELECT count(*) FROM events WHERE type = 'RUN_FINISHED'") == 1);
    CHECK(count(db, "SELECT count(*) FROM runs WHERE finished_seq IS NULL") == 1);

    const RunSummary resumed = run_paper_trading(config_for(csv, db));
    CHECK(resumed.outcome == RunSummary::Outcome::kResumed);
    CHECK(count(db, "SELECT count(*) FROM run_resumptions") == 2);
    CHECK(count(db, "SELECT rows FROM runs") == static_cast<std::int64_t>(all));
    CHECK(same_trading_events(single, db));
    CHECK(run_paper_trading(config_for(csv, db)).outcome == RunSummary::Outcome::kAlreadyFinished);
  }

  TEST_CASE("rows appended during a run are the next run's, which continues it") {
    TempDir dir;
    const std::string whole = synthetic_bars(dir, "whole.csv", 600, 3);
    const std::vector<std::string> lines = lines_of(whole);
    const std::size_t all = lines.size() - 1;
    const std::string csv = dir.write("grow.csv", first_rows(lines, all / 2));
    const std::string db = dir.file("grow.db");
    const std::string single = dir.file("single.db");
    auto config_for = [](const std::string& input, const std::string& journal) {
      RunConfig c = busy_run_config(input, journal);
      c.batch_rows = 50;
      c.batch_latency = std::chrono::hours(1);
      return c;
    };
    run_paper_trading(config_for(whole, single));

    // A recorder appends the rest of the rows while the run is under way,
    // after its first batch (the input check may have read the file by then).
    RunConfig c = config_for(csv, db);
    bool appended = false;
    c.on_progress = [&](const MarketDataSource&) {
      if (appended) return;
      appended = true;
      std::ofstream(csv, std::ios::app | std::ios::binary)
          << first_rows(lines, all).substr(first_rows(lines, all / 2).size());
    };
    const RunSummary first = run_paper_trading(c);
    REQUIRE(appended);
    CHECK(first.rows == static_cast<std::int64_t>(all / 2));
    // The manifest is of the bytes the run read: the digest and the size agree.
    const std::string read = dir.write("read.csv", first_rows(lines, all / 2));
    {
      SQLite::Database d(db, SQLite::OPEN_READONLY);
      CHECK(d.execAndGet("SELECT input_sha256 FROM runs").getString() == detail::sha256_file(read));
      CHECK(d.execAndGet("SELECT json_extract(config, '$.input_bytes') FROM runs").getInt64() ==
            static_cast<std::int64_t>(std::filesystem::file_size(read)));
    }

    const RunSummary second = run_paper_trading(config_for(csv, db));
    CHECK(second.outcome == RunSummary::Outcome::kContinued);
    CHECK(count(db, "SELECT rows FROM runs") == static_cast<std::int64_t>(all));
    CHECK(same_trading_events(single, db));
  }
}
