// End to end: `blotter diff` on runs made by `blotter run`, its findings
// checked against the journals with SQL and against `blotter state`; and
// diff_runs on hand-made runs in memory.
#include "blotter/diff.h"

#include <SQLiteCpp/SQLiteCpp.h>
#include <doctest/doctest.h>
#include <fmt/format.h>

#include <algorithm>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "cli_helpers.h"

using namespace blotter::testing;
using Json = nlohmann::json;

namespace {

// One trading event as SQL sees it: every event of the run but RUN_STARTED,
// RUN_FINISHED and ANNOTATION.
struct Row {
  std::int64_t seq = 0;
  std::string rest;  // ts_ns, type, symbol, payload
};

// The trading events of the run of `db` whose RUN_STARTED is `run_seq`.
std::vector<Row> trading_rows(const std::string& db, std::int64_t run_seq) {
  SQLite::Database d(db, SQLite::OPEN_READONLY);
  SQLite::Statement q(d,
                      "SELECT seq, ts_ns, type, coalesce(symbol, ''), payload FROM events "
                      "WHERE seq >= ?1 AND seq < coalesce((SELECT min(seq) FROM events WHERE "
                      "type = 'RUN_STARTED' AND seq > ?1), 1e18) AND type NOT IN "
                      "('RUN_STARTED', 'RUN_FINISHED', 'ANNOTATION') ORDER BY seq");
  q.bind(1, static_cast<std::int64_t>(run_seq));
  std::vector<Row> rows;
  while (q.executeStep())
    rows.push_back({q.getColumn(0).getInt64(),
                    q.getColumn(1).getString() + "|" + q.getColumn(2).getString() + "|" +
                        q.getColumn(3).getString() + "|" + q.getColumn(4).getString()});
  return rows;
}

// The 1-based position of the first trading event where the runs starting at
// seq 1 of `a` and `b` differ (payloads compared as stored), or 0.
std::size_t first_difference(const std::string& a, const std::string& b) {
  const auto x = trading_rows(a, 1), y = trading_rows(b, 1);
  for (std::size_t i = 0; i < std::max(x.size(), y.size()); ++i)
    if (i >= x.size() || i >= y.size() || x[i].rest != y[i].rest) return i + 1;
  return 0;
}

std::int64_t latest_run(const std::string& db) {
  return count(db, "SELECT max(seq) FROM events WHERE type = 'RUN_STARTED'");
}

Json diff_json(const std::vector<std::string>& args, int expected_exit) {
  std::vector<std::string> all = {"diff"};
  all.insert(all.end(), args.begin(), args.end());
  all.insert(all.end(), {"--format", "json"});
  const CliResult r = run_cli_args(all);
  INFO(r.err);
  REQUIRE(r.exit_code == expected_exit);
  REQUIRE(r.err.empty());
  return Json::parse(r.out);
}

// The configuration difference of `field` in a JSON diff, or null.
Json config_field(const Json& diff, const std::string& field) {
  for (const Json& c : diff["configuration"])
    if (c["field"] == field) return c;
  return nullptr;
}

void check_one_line_error(const CliResult& r, const std::string& what) {
  INFO(r.err);
  CHECK(r.exit_code == 2);
  CHECK(r.out.empty());
  CHECK(r.err.starts_with("blotter: "));
  CHECK(std::count(r.err.begin(), r.err.end(), '\n') == 1);
  CHECK(r.err.find(what) != std::string::npos);
}

// Two journals of the GOOG series, with `--window 10` and `--window 20`.
struct WindowJournals {
  TempDir dir;
  std::string w10 = goog_journal_in(dir, "w10.db", "--quantity 1 --window 10");
  std::string w20 = goog_journal_in(dir, "w20.db", "--quantity 1 --window 20");
};

// Appends a run to `store`: a bar, a signal, its order, its fill, a
// handler error about the bar; with an annotation after the bar if
// `annotated`, and the fill pointing at the signal instead of the order if
// `misfiled`. Returns the RUN_STARTED's seq.
blotter::Seq append_run(blotter::EventStore& store, bool annotated, bool misfiled = false) {
  using namespace blotter;
  const auto add = [&](Event e) { return store.append(e); };
  const TimestampNs t = 1'700'000'000'000'000'000;
  const auto d = [](const char* text) { return Decimal::from_string(text); };
  RunStarted manifest;
  manifest.window = 2;
  manifest.quantity = "1";
  manifest.capital = "100000";
  const Seq run = add(make_event(t, "", manifest));
  const Seq bar = add(make_event(t, "X", Bar{d("10"), d("11"), d("9"), d("10.5"), d("100")}));
  if (annotated) add(make_event(t, "X", Annotation{bar, "", "", "a note"}));
  const Seq signal = add(make_event(t, "X", Signal{Direction::kLong, d("10.5"), "test"}));
  const Seq order = add(make_event(t, "X", Order{Side::kBuy, d("1"), d("10.5"), signal}));
  add(make_event(t, "X", Fill{Side::kBuy, d("1"), d("10.5"), d("0"), misfiled ? signal : order}));
  add(make_event(t, "X", HandlerError{"Watcher", bar, "boom"}));
  add(make_event(t, "", RunFinished{run, 1, 7, {}}));
  store.commit();
  return run;
}

}  // namespace

TEST_SUITE("diff") {
  TEST_CASE("references compare by position, annotations aside, across stores and seqs") {
    blotter::MemoryStore a, b;
    append_run(a, false);
    const blotter::Seq later = append_run(b, true);  // a second run, with an annotation
    REQUIRE(append_run(b, true) > later);
    blotter::DiffOptions options;
    options.run2 = later;
    const auto same = blotter::diff_runs(a, b, options);
    CHECK(same.identical());
    CHECK(same.matched == 5);
    CHECK(same.run2.tally.events == 5);
    CHECK(same.run2.tally.handler_errors == 1);
    CHECK(same.run2.tally.fills == 1);
    CHECK(same.configuration.empty());

    // A fill that names another event than its order differs, however placed.
    blotter::MemoryStore c;
    append_run(c, true, true);
    const auto differ = blotter::diff_runs(a, c);
    REQUIRE_FALSE(differ.identical());
    CHECK(differ.divergence->position == 4);
    CHECK(differ.divergence->run2->type() == blotter::EventType::kFill);
    CHECK(differ.divergence->context.size() == 3);
    CHECK(differ.matched == 3);
    CHECK(differ.run1.tally.events == 5);  // counted to the end after the divergence
    CHECK(differ.run2.tally.events == 5);
  }

  TEST_CASE("identical runs of two journals: exit 0, no configuration difference") {
    TempDir dir;
    const std::string a = goog_journal_in(dir, "a.db", "--quantity 1");
    const std::string b = goog_journal_in(dir, "b.db", "--quantity 1");
    const CliResult r = run_cli_args({"diff", a, b});
    INFO(r.err);
    CHECK(r.exit_code == 0);
    CHECK(r.err.empty());
    CHECK(r.out.find("configuration: identical") != std::string::npos);
    const std::size_t events = trading_rows(a, 1).size();
    REQUIRE(events > 1000);
    CHECK(r.out.find(fmt::format("trading events: identical, {} in each run", events)) !=
          std::string::npos);

    const Json j = diff_json({a, b}, 0);
    CHECK(j["identical"] == true);
    CHECK(j["configuration"].empty());
    CHECK(j["trading_events"]["divergence"].is_null());
    CHECK(j["trading_events"]["matched"] == events);
    CHECK(j["summary"]["difference"]["realized_pnl"] == "0");

    // An annotation is a note on the journal, not an event of the run.
    REQUIRE(run_cli_args({"annotate", b, "--seq", "20", "a note"}).exit_code == 0);
    REQUIRE(count(b, "SELECT count(*) FROM events WHERE type = 'ANNOTATION'") == 1);
    const Json annotated = diff_json({a, b}, 0);
    CHECK(annotated["trading_events"]["matched"] == events);
    CHECK(annotated["run2"]["last_seq"] == j["run2"]["last_seq"].get<std::int64_t>() + 1);
  }

  TEST_CASE("a parameter change: exit 1, the window side by side and the first diverging event") {
    WindowJournals w;
    const std::size_t position = first_difference(w.w10, w.w20);
    REQUIRE(position > 10);
    const auto rows10 = trading_rows(w.w10, 1), rows20 = trading_rows(w.w20, 1);

    const CliResult r = run_cli_args({"diff", w.w10, w.w20});
    INFO(r.out);
    INFO(r.err);
    CHECK(r.exit_code == 1);
    CHECK(r.err.empty());
    // The window option, the strategy's parameter of that name, and the hash
    // of the strategy's configuration.
    CHECK(r.out.find("configuration: 3 fields differ") != std::string::npos);
    CHECK(r.out.find("\n  params.window    10 ") != std::string::npos);
    CHECK(r.out.find(fmt::format("trading events: differ at trading event {} ({} equal before it)",
                                 position, position - 1)) != std::string::npos);
    CHECK(r.out.find(fmt::format("  run 1: {{\"seq\":{},", rows10[position - 1].seq)) !=
          std::string::npos);
    CHECK(r.out.find(fmt::format("  run 2: {{\"seq\":{},", rows20[position - 1].seq)) !=
          std::string::npos);

    const Json j = diff_json({w.w10, w.w20}, 1);
    CHECK(j["identical"] == false);
    REQUIRE(j["configuration"].size() == 3);
    CHECK(config_field(j, "window") == Json{{"field", "window"}, {"run1", 10}, {"run2", 20}});
    CHECK(config_field(j, "params.window") ==
          Json{{"field", "params.window"}, {"run1", "10"}, {"run2", "20"}});
    CHECK(config_field(j, "strategy_sha256")["run1"] != config_field(j, "strategy_sha256")["run2"]);
    const Json& d = j["trading_events"]["divergence"];
    CHECK(d["position"] == position);
    CHECK(d["run1"]["seq"] == rows10[position - 1].seq);
    CHECK(d["run2"]["seq"] == rows20[position - 1].seq);
    // With window 10 the first signal comes first; window 20 still has a bar.
    CHECK(d["run1"]["type"] == "SIGNAL");
    CHECK(d["run2"]["type"] == "BAR");
    REQUIRE(d["context"].size() == 5);
    for (std::size_t i = 0; i < 5; ++i) {
      CHECK(d["context"][i]["run1"]["seq"] == rows10[position - 6 + i].seq);
      CHECK(d["context"][i]["run2"]["seq"] == rows20[position - 6 + i].seq);
    }
  }

  TEST_CASE("the summary counts each run's events and takes PnL from its rebuilt books") {
    WindowJournals w;
    const Json j = diff_json({w.w10, w.w20}, 1);
    for (const auto& [key, db] : {std::pair{"run1", w.w10}, std::pair{"run2", w.w20}}) {
      CAPTURE(key);
      const Json& s = j["summary"][key];
      CHECK(s["trading_events"] == trading_rows(db, 1).size());
      CHECK(s["signals"] == count(db, "SELECT count(*) FROM events WHERE type = 'SIGNAL'"));
      CHECK(s["orders"] == count(db, "SELECT count(*) FROM events WHERE type = 'ORDER'"));
      CHECK(s["fills"] == count(db, "SELECT count(*) FROM events WHERE type = 'FILL'"));
      REQUIRE(s["fills"] > 0);
      const CliResult state = run_cli_args({"state", db, "--format", "json"});
      REQUIRE(state.exit_code == 0);
      const Json books = Json::parse(state.out);
      CHECK(s["realized_pnl"] == books["realized_pnl"]);
      CHECK(s["unrealized_pnl"] == books["unrealized_pnl"]);
    }
    const Json& s = j["summary"];
    CHECK(s["difference"]["fills"] ==
          s["run2"]["fills"].get<std::int64_t>() - s["run1"]["fills"].get<std::int64_t>());
    CHECK(s["run1"]["realized_pnl"] != s["run2"]["realized_pnl"]);
  }

  // Today's one strategy takes no other strategy: a change of fill model
  // stands for it until a second strategy exists to diff against.
  TEST_CASE("a strategy change: the strategy, its parameters and the trading events differ") {
    TempDir dir;
    const std::string ma = goog_journal_in(dir, "ma.db", "--quantity 1");
    const std::string breakout =
        goog_journal_in(dir, "breakout.db", "--quantity 1 --strategy breakout --param entry=20");
    const std::size_t position = first_difference(ma, breakout);
    REQUIRE(position > 0);
    const Json j = diff_json({ma, breakout}, 1);
    CHECK(config_field(j, "strategy") ==
          Json{{"field", "strategy"}, {"run1", "ma_crossover"}, {"run2", "breakout"}});
    // Each strategy's parameters, with the defaults it read: absent on the other side.
    CHECK(config_field(j, "params.window") ==
          Json{{"field", "params.window"}, {"run1", "20"}, {"run2", nullptr}});
    CHECK(config_field(j, "params.entry") ==
          Json{{"field", "params.entry"}, {"run1", nullptr}, {"run2", "20"}});
    CHECK(config_field(j, "params.exit") ==
          Json{{"field", "params.exit"}, {"run1", nullptr}, {"run2", "10"}});
    const Json& d = j["trading_events"]["divergence"];
    CHECK(d["position"] == position);
    // The first SIGNAL of one strategy meets a BAR, or another SIGNAL, of the other.
    CHECK((d["run1"]["type"] == "SIGNAL" || d["run2"]["type"] == "SIGNAL"));
    const CliResult r = run_cli_args({"diff", ma, breakout});
    CHECK(r.exit_code == 1);
    CHECK(r.out.find("ma_crossover") != std::string::npos);
  }

  TEST_CASE("regression: a run of the previous release and one of today with equal options") {
    // 0.1.0 recorded no params or strategy_sha256: read as blotter reads
    // them (window=10, version 1), they equal a run of today with --window 10.
    TempDir dir;
    std::filesystem::copy_file(
        std::filesystem::path(BLOTTER_TEST_DATA) / "release_0_1" / "journal.sqlite",
        dir.file("old.db"));
    const std::string today = goog_journal_in(dir, "new.db", "--window 10");
    const Json j = diff_json({dir.file("old.db"), today, "--run1", "1"}, 1);
    std::vector<std::string> fields;
    for (const Json& d : j["configuration"]) fields.push_back(d["field"].get<std::string>());
    // The input differs (the fixture's first 700 bars); the strategy does not.
    CHECK(fields == std::vector<std::string>{"input", "input_sha256"});
  }

  TEST_CASE("a fill model change: configuration and trading events differ") {
    TempDir dir;
    const std::string a = goog_journal_in(dir, "a.db", "--quantity 1");
    const std::string b = goog_journal_in(dir, "b.db", "--quantity 1 --fill next-open");
    const std::size_t position = first_difference(a, b);
    REQUIRE(position > 0);
    const Json j = diff_json({a, b}, 1);
    CHECK(config_field(j, "fill") ==
          Json{{"field", "fill"}, {"run1", "signal"}, {"run2", "next-open"}});
    const Json& d = j["trading_events"]["divergence"];
    CHECK(d["position"] == position);
    // At a signal's close, the fill follows its order; at the next open, a bar comes first.
    CHECK(d["run1"]["type"] == "FILL");
    CHECK(d["run2"]["type"] == "BAR");
    const CliResult r = run_cli_args({"diff", a, b});
    CHECK(r.exit_code == 1);
    CHECK(r.out.find("  fill   signal  next-open\n") != std::string::npos);
  }

  TEST_CASE(
      "one journal of two runs: the two latest by default, the same finding as two journals") {
    WindowJournals w;
    // w10's run, then w20's in the same journal: seqs differ from w20's own.
    TempDir dir;
    const std::string both = goog_journal_in(dir, "both.db", "--quantity 1 --window 10");
    goog_journal_in(dir, "both.db", "--quantity 1 --window 20");
    const std::int64_t second = latest_run(both);
    REQUIRE(second > 1);

    const Json apart = diff_json({w.w10, w.w20}, 1);
    const Json one = diff_json({both, both}, 1);
    CHECK(one["run1"]["run_seq"] == 1);
    CHECK(one["run2"]["run_seq"] == second);
    CHECK(one["trading_events"]["divergence"]["position"] ==
          apart["trading_events"]["divergence"]["position"]);
    CHECK(one["trading_events"]["divergence"]["run2"]["seq"] ==
          apart["trading_events"]["divergence"]["run2"]["seq"].get<std::int64_t>() + second - 1);
    CHECK(one["summary"] == apart["summary"]);
    CHECK(one["configuration"] == apart["configuration"]);
  }

  TEST_CASE(
      "--run1 and --run2 pick runs of one journal; ORDER and FILL references compare by "
      "position") {
    TempDir dir;
    const std::string db = goog_journal_in(dir, "three.db", "--quantity 1 --window 10");
    goog_journal_in(dir, "three.db", "--quantity 1 --window 20");
    const std::int64_t second = latest_run(db);
    // The first run again, but for a capital whose larger daily loss limit
    // is never reached: the same trading events.
    goog_journal_in(dir, "three.db", "--quantity 1 --window 10 --capital 1000000");
    const std::int64_t third = latest_run(db);
    REQUIRE(third > second);

    const std::string r1 = std::to_string(1), r2 = std::to_string(second),
                      r3 = std::to_string(third);
    const Json same = diff_json({db, db, "--run1", r1, "--run2", r3}, 0);
    CHECK(same["identical"] == true);
    CHECK(config_field(same, "capital") ==
          Json{{"field", "capital"}, {"run1", "100000"}, {"run2", "1000000"}});
    CHECK(same["trading_events"]["matched"] == trading_rows(db, 1).size());
    REQUIRE(same["summary"]["run1"]["orders"] > 0);

    const Json differ = diff_json({db, db, "--run1", r1, "--run2", r2}, 1);
    CHECK(differ["run2"]["run_seq"] == second);
    // Only --run1: run2 is the journal's latest.
    const Json latest = diff_json({db, db, "--run1", r2}, 1);
    CHECK(latest["run1"]["run_seq"] == second);
    CHECK(latest["run2"]["run_seq"] == third);
  }

  TEST_CASE("a --run that is not a RUN_STARTED: one line, exit 2") {
    WindowJournals w;
    check_one_line_error(run_cli_args({"diff", w.w10, w.w20, "--run1", "2"}),
                         "--run1 2: no run of " + w.w10 + " starts at that seq");
    check_one_line_error(run_cli_args({"diff", w.w10, w.w20, "--run2", "999999"}),
                         "--run2 999999: no run of " + w.w20 + " starts at that seq");
    check_one_line_error(run_cli_args({"diff", w.w10, w.w20, "--run1", "0"}), "--run1 0");
    // One journal of one run, given twice with no run: nothing to compare.
    check_one_line_error(run_cli_args({"diff", w.w10, w.w10}),
                         w.w10 + " holds one run (seq 1): nothing to compare it with");
  }

  TEST_CASE("a missing journal: one line naming it, exit 2, no file created") {
    WindowJournals w;
    TempDir dir;
    const std::string missing = dir.file("missing.db");
    check_one_line_error(run_cli_args({"diff", w.w10, missing}), missing);
    check_one_line_error(run_cli_args({"diff", missing, w.w10}), missing);
    CHECK_FALSE(std::filesystem::exists(missing));
    check_one_line_error(run_cli_args({"diff", w.w10, w.w20, "--format", "html"}), "--format");
  }
}
