// End to end: live sessions. Rows are fed to `blotter run --bars -` through a
// pipe with pauses (or appended to a followed file), and the journal is read
// by another connection while the session runs; the final journal is
// compared with a file run over the same rows.
#include <doctest/doctest.h>
#include <signal.h>

#include <sstream>
#include <string>
#include <vector>

#include "cli_helpers.h"
#include "live_process.h"

using namespace blotter;
using namespace blotter::testing;

namespace {

// The options of every run here: a short window, so that the rows make
// signals, orders and fills.
const std::vector<std::string> kOptions = {"--param", "window=5", "--fill", "next-open"};

// A feed: the header line and the data lines of a CSV of two symbols.
struct Feed {
  std::string header;
  std::vector<std::string> rows;
  std::string text(std::size_t from = 0, std::size_t to = SIZE_MAX) const {
    std::string t;
    for (std::size_t i = from; i < std::min(to, rows.size()); ++i) t += rows[i] + "\n";
    return t;
  }
};

Feed make_feed(const TempDir& dir, int minutes = 40) {
  std::istringstream in(read_file(synthetic_bars(dir, "bars.csv", minutes, 2)));
  Feed feed;
  std::getline(in, feed.header);
  for (std::string line; std::getline(in, line);) feed.rows.push_back(line);
  return feed;
}

std::vector<std::string> run_args(const std::string& input, const std::string& db,
                                  std::vector<std::string> more = {}) {
  std::vector<std::string> args = {"run", "--bars", input, "--journal", db};
  args.insert(args.end(), kOptions.begin(), kOptions.end());
  args.insert(args.end(), more.begin(), more.end());
  return args;
}

// The journal of a file run over `rows` of the feed.
std::string file_run(const TempDir& dir, const Feed& feed, const std::string& name,
                     std::size_t rows = SIZE_MAX) {
  const std::string csv = dir.write(name + ".csv", feed.header + "\n" + feed.text(0, rows));
  const std::string db = dir.file(name + ".db");
  const CliResult r = run_cli_args(run_args(csv, db));
  REQUIRE_MESSAGE(r.exit_code == 0, r.err);
  return db;
}

// A journal query's one number; -1 while the journal cannot be read (not
// created yet).
std::int64_t number(const std::string& db, const std::string& sql) {
  try {
    return count(db, sql);
  } catch (const std::exception&) {
    return -1;
  }
}

std::int64_t bars(const std::string& db) {
  return number(db, "SELECT count(*) FROM events WHERE type = 'BAR'");
}

std::string text_of(const std::string& db, const std::string& sql) {
  SQLite::Database d(db, SQLite::OPEN_READONLY);
  return d.execAndGet(sql).getString();
}

std::string ended(const std::string& db) {
  return text_of(db,
                 "SELECT coalesce(json_extract(payload, '$.ended'), 'end_of_input') FROM events "
                 "WHERE type = "
                 "'RUN_FINISHED' ORDER BY seq DESC LIMIT 1");
}

// The market events and the number of each type of trading event: what a
// journal with INPUT_REJECTED events between them has in common with a file
// run's (the seqs, and the payloads that refer to seqs, differ).
std::vector<std::string> market_and_counts(const std::string& db) {
  SQLite::Database d(db, SQLite::OPEN_READONLY);
  SQLite::Statement q(d,
                      "SELECT ts_ns || '|' || symbol || '|' || payload FROM events WHERE type = "
                      "'BAR' UNION ALL SELECT * FROM (SELECT type || ' ' || count(*) FROM events "
                      "WHERE type IN ('SIGNAL','ORDER','FILL','RISK_REJECTED') GROUP BY type "
                      "ORDER BY type)");
  std::vector<std::string> rows;
  while (q.executeStep()) rows.push_back(q.getColumn(0).getString());
  return rows;
}

}  // namespace

TEST_SUITE("live") {
  TEST_CASE("rows fed through a pipe are committed as they come, and end as a file run's") {
    TempDir dir;
    const Feed feed = make_feed(dir);
    const std::string db = dir.file("live.db");
    const std::size_t half = feed.rows.size() / 2;
    LiveProcess blotter(run_args("-", db), dir.file("out"), dir.file("err"));
    REQUIRE(blotter.write(feed.header + "\n" + feed.text(0, half)));
    // Read by another connection while the input is still open.
    CHECK(wait_for([&] { return bars(db) == static_cast<std::int64_t>(half); }));
    for (std::size_t i = half; i < feed.rows.size(); ++i) {
      REQUIRE(blotter.write(feed.rows[i] + "\n"));
      if (i % 10 == 0) std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    blotter.close_input();
    REQUIRE(blotter.wait() == 0);
    CHECK(trading_events(db) == trading_events(file_run(dir, feed, "file")));
    CHECK(ended(db) == "end_of_input");
    CHECK(text_of(db, "SELECT input FROM runs") == "-");
    CHECK(text_of(db, "SELECT json_extract(payload, '$.source') FROM events WHERE seq = 1") ==
          "stdin");
  }

  TEST_CASE("a slow row is committed without waiting for the next") {
    TempDir dir;
    const Feed feed = make_feed(dir);
    const std::string db = dir.file("live.db");
    LiveProcess blotter(run_args("-", db, {"--batch-latency", "5"}), dir.file("out"),
                        dir.file("err"));
    REQUIRE(blotter.write(feed.header + "\n"));
    for (std::size_t i = 0; i < 5; ++i) {
      REQUIRE(blotter.write(feed.rows[i] + "\n"));
      CHECK(wait_for([&] { return bars(db) == static_cast<std::int64_t>(i + 1); }));
    }
    blotter.close_input();
    CHECK(blotter.wait() == 0);
  }

  TEST_CASE("SIGTERM and SIGINT end a live session cleanly with RUN_FINISHED saying how") {
    for (const int sig : {SIGTERM, SIGINT}) {
      CAPTURE(sig);
      TempDir dir;
      const Feed feed = make_feed(dir);
      const std::string db = dir.file("live.db");
      const std::size_t part = 30;
      LiveProcess blotter(run_args("-", db), dir.file("out"), dir.file("err"));
      REQUIRE(blotter.write(feed.header + "\n" + feed.text(0, part)));
      REQUIRE(wait_for([&] { return bars(db) == static_cast<std::int64_t>(part); }));
      blotter.signal(sig);
      CHECK(blotter.wait() == 0);
      CHECK(ended(db) == (sig == SIGTERM ? "sigterm" : "sigint"));
      CHECK(text_of(db,
                    "SELECT json_extract(payload, '$.rows') FROM events WHERE type = "
                    "'RUN_FINISHED'") == std::to_string(part));
      CHECK(trading_events(db) == trading_events(file_run(dir, feed, "file", part)));
    }
  }

  TEST_CASE("a bad row is journaled as INPUT_REJECTED and the session goes on") {
    TempDir dir;
    const Feed feed = make_feed(dir);
    const std::string db = dir.file("live.db");
    LiveProcess blotter(run_args("-", db), dir.file("out"), dir.file("err"));
    REQUIRE(blotter.write(feed.header + "\n" + feed.text(0, 20)));
    REQUIRE(blotter.write("1704205800,1,2,3,oops,5,S0\n"));  // line 22
    REQUIRE(blotter.write(feed.text(20)));
    blotter.close_input();
    REQUIRE(blotter.wait() == 0);
    CHECK(number(db, "SELECT count(*) FROM events WHERE type = 'INPUT_REJECTED'") == 1);
    CHECK(text_of(db,
                  "SELECT json_extract(payload, '$.line') || ' ' || "
                  "json_extract(payload, '$.field') FROM events WHERE type = "
                  "'INPUT_REJECTED'") == "22 close");
    CHECK(text_of(db,
                  "SELECT json_extract(payload, '$.row') FROM events WHERE type = "
                  "'INPUT_REJECTED'") == "1704205800,1,2,3,oops,5,S0");
    // Its event time is the last good row's.
    CHECK(number(db,
                 "SELECT r.ts_ns = b.ts_ns FROM events r, events b WHERE r.type = "
                 "'INPUT_REJECTED' AND b.seq = (SELECT max(seq) FROM events WHERE type = "
                 "'BAR' AND seq < r.seq)") == 1);
    CHECK(market_and_counts(db) == market_and_counts(file_run(dir, feed, "file")));
    CHECK(ended(db) == "end_of_input");
  }

  TEST_CASE("a line too long is a bad row too: journaled by its first bytes, the session goes on") {
    for (const bool whole_at_once : {true, false}) {
      CAPTURE(whole_at_once);
      TempDir dir;
      const Feed feed = make_feed(dir);
      const std::string db = dir.file("live.db");
      LiveProcess blotter(run_args("-", db), dir.file("out"), dir.file("err"));
      const std::string huge(1024 * 1024 + 100, 'x');
      REQUIRE(blotter.write(feed.header + "\n" + feed.text(0, 20)));
      if (whole_at_once) {
        REQUIRE(blotter.write(huge + "\n"));  // line 22
      } else {
        // Its newline long after the limit has passed.
        REQUIRE(blotter.write(huge));
        REQUIRE(wait_for([&] { return bars(db) == 20; }));
        REQUIRE(blotter.write(huge + "\n"));
      }
      REQUIRE(blotter.write(feed.text(20)));
      blotter.close_input();
      REQUIRE(blotter.wait() == 0);
      CHECK(number(db, "SELECT count(*) FROM events WHERE type = 'INPUT_REJECTED'") == 1);
      CHECK(text_of(db,
                    "SELECT json_extract(payload, '$.line') || ' ' || "
                    "json_extract(payload, '$.message') FROM events WHERE type = "
                    "'INPUT_REJECTED'") ==
            "22 -:22: line longer than 1048576 bytes (is this a CSV file?)");
      CHECK(text_of(db,
                    "SELECT json_extract(payload, '$.row') FROM events WHERE type = "
                    "'INPUT_REJECTED'") == std::string(64, 'x'));
      CHECK(market_and_counts(db) == market_and_counts(file_run(dir, feed, "file")));
      CHECK(ended(db) == "end_of_input");
    }
  }

  TEST_CASE("--on-bad-row stop ends the session at a bad row, exit 2, the rows before kept") {
    TempDir dir;
    const Feed feed = make_feed(dir);
    const std::string db = dir.file("live.db");
    LiveProcess blotter(run_args("-", db, {"--on-bad-row", "stop"}), dir.file("out"),
                        dir.file("err"));
    REQUIRE(blotter.write(feed.header + "\n" + feed.text(0, 20)));
    REQUIRE(wait_for([&] { return bars(db) == 20; }));
    REQUIRE(blotter.write("1704205800,1,2,3,oops,5,S0\n"));
    blotter.write(feed.text(20));  // the session may have ended already
    CHECK(blotter.wait() == 2);
    const std::string err = read_file(dir.file("err"));
    CHECK(err.find("-:22: field 'close'") != std::string::npos);
    CHECK(std::count(err.begin(), err.end(), '\n') == 1);
    CHECK(bars(db) == 20);
    CHECK(ended(db) == "bad_row");
    CHECK(trading_events(db) == trading_events(file_run(dir, feed, "file", 20)));
  }

  TEST_CASE("--follow FILE runs the file's rows, then the rows appended to it") {
    TempDir dir;
    const Feed feed = make_feed(dir);
    const std::string db = dir.file("live.db");
    const std::string csv = dir.write("followed.csv", feed.header + "\n" + feed.text(0, 10));
    LiveProcess blotter(run_args(csv, db, {"--follow"}), dir.file("out"), dir.file("err"));
    REQUIRE(wait_for([&] { return bars(db) == 10; }));
    {
      std::ofstream out(csv, std::ios::app | std::ios::binary);
      // A partial line waits for its newline.
      out << feed.text(10, 30) << feed.rows[30].substr(0, 10) << std::flush;
      REQUIRE(wait_for([&] { return bars(db) == 30; }));
      out << feed.rows[30].substr(10) << "\n" << feed.text(31) << std::flush;
    }
    REQUIRE(wait_for([&] { return bars(db) == static_cast<std::int64_t>(feed.rows.size()); }));
    blotter.signal(SIGTERM);
    CHECK(blotter.wait() == 0);
    CHECK(ended(db) == "sigterm");
    CHECK(trading_events(db) == trading_events(file_run(dir, feed, "file")));
  }

  TEST_CASE("--until ends the session before the first row after its time") {
    TempDir dir;
    const Feed feed = make_feed(dir);
    const std::string db = dir.file("live.db");
    // Row 20 is S0's minute 10: the rows up to S1's minute 9 are run.
    const std::string until = feed.rows[19].substr(0, feed.rows[19].find(','));
    LiveProcess blotter(run_args("-", db, {"--until", until}), dir.file("out"), dir.file("err"));
    REQUIRE(blotter.write(feed.header + "\n"));
    blotter.write(feed.text());  // the session ends reading it
    CHECK(blotter.wait() == 0);
    CHECK(ended(db) == "until");
    CHECK(trading_events(db) == trading_events(file_run(dir, feed, "file", 20)));
  }

  TEST_CASE("a live session killed with SIGKILL and fed again ends as the uninterrupted one") {
    for (const std::string durability : {"normal", "full"}) {
      CAPTURE(durability);
      TempDir dir;
      const Feed feed = make_feed(dir);
      const std::string db = dir.file("live.db");
      const auto args = run_args("-", db, {"--durability", durability});
      {
        LiveProcess blotter(args, dir.file("out"), dir.file("err"));
        REQUIRE(blotter.write(feed.header + "\n" + feed.text(0, 30)));
        REQUIRE(wait_for([&] { return bars(db) >= 25; }));
        blotter.signal(SIGKILL);
        CHECK(blotter.wait() == -SIGKILL);
      }
      CHECK(number(db, "SELECT count(*) FROM events WHERE type = 'RUN_FINISHED'") == 0);
      {
        // The whole feed again, from its start.
        LiveProcess blotter(args, dir.file("out2"), dir.file("err2"));
        REQUIRE(blotter.write(feed.header + "\n" + feed.text()));
        blotter.close_input();
        REQUIRE(blotter.wait() == 0);
      }
      CHECK(read_file(dir.file("out2")).find("resumed run 1") != std::string::npos);
      CHECK(number(db, "SELECT count(*) FROM events WHERE type = 'RUN_STARTED'") == 1);
      CHECK(trading_events(db) == trading_events(file_run(dir, feed, "file")));
      // A finished session, then the same command: a new session.
      {
        LiveProcess blotter(args, dir.file("out3"), dir.file("err3"));
        REQUIRE(blotter.write(feed.header + "\n" + feed.text(0, 5)));
        blotter.close_input();
        REQUIRE(blotter.wait() == 0);
      }
      CHECK(number(db, "SELECT count(*) FROM events WHERE type = 'RUN_STARTED'") == 2);
    }
  }

  TEST_CASE("a killed session following one file is not resumed by following another") {
    TempDir dir;
    const Feed feed = make_feed(dir);
    const std::string db = dir.file("live.db");
    const std::string monday = dir.write("monday.csv", feed.header + "\n" + feed.text(0, 20));
    {
      LiveProcess blotter(run_args(monday, db, {"--follow"}), dir.file("out"), dir.file("err"));
      REQUIRE(wait_for([&] { return bars(db) == 20; }));
      blotter.signal(SIGKILL);
      blotter.wait();
    }
    // The same options, another file: its rows are a new run's, none skipped.
    const std::string tuesday = dir.write("tuesday.csv", feed.header + "\n" + feed.text(0, 30));
    LiveProcess blotter(run_args(tuesday, db, {"--follow"}), dir.file("out2"), dir.file("err2"));
    REQUIRE(wait_for([&] { return bars(db) == 50; }));
    blotter.signal(SIGTERM);
    CHECK(blotter.wait() == 0);
    CHECK(number(db, "SELECT count(*) FROM events WHERE type = 'RUN_STARTED'") == 2);
    CHECK(number(db, "SELECT count(*) FROM run_resumptions") == 0);
    CHECK(text_of(db, "SELECT input FROM runs ORDER BY seq DESC LIMIT 1") == tuesday);
  }

  TEST_CASE("a killed session fed again from a later row skips the rows and bad rows it holds") {
    TempDir dir;
    const Feed feed = make_feed(dir);
    const std::string db = dir.file("live.db");
    const auto args = run_args("-", db);
    const std::string bad = "1704205800,1,2,3,oops,5,S0\n";
    {
      LiveProcess blotter(args, dir.file("out"), dir.file("err"));
      REQUIRE(blotter.write(feed.header + "\n" + feed.text(0, 25) + bad + feed.text(25, 30)));
      REQUIRE(wait_for([&] { return bars(db) == 30; }));
      blotter.signal(SIGKILL);
      blotter.wait();
    }
    LiveProcess blotter(args, dir.file("out2"), dir.file("err2"));
    REQUIRE(blotter.write(feed.header + "\n" + feed.text(20, 25) + bad + feed.text(25)));
    blotter.close_input();
    REQUIRE(blotter.wait() == 0);
    CHECK(number(db, "SELECT count(*) FROM events WHERE type = 'INPUT_REJECTED'") == 1);
    CHECK(market_and_counts(db) == market_and_counts(file_run(dir, feed, "file")));
  }
}
