// Snapshots: encoding, rebuilding from them, and checking them against a full replay.
#include "blotter/snapshot.h"

#include <SQLiteCpp/SQLiteCpp.h>
#include <doctest/doctest.h>
#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "blotter/error.h"
#include "blotter/replay.h"
#include "blotter/sqlite_journal.h"
#include "cli_helpers.h"
#include "test_support.h"

using namespace blotter;
using namespace blotter::testing;

namespace {

RunConfig config_for(const std::string& input, const std::string& journal) {
  RunConfig c;
  c.input_path = input;
  c.journal_location = journal;
  c.batch_rows = 64;
  c.batch_latency = std::chrono::hours(1);  // batches of exactly 64 rows,
  c.check_input_first = true;               // from the first one on
  c.version = "test";
  return c;
}

// A multi-symbol journal with next-open fills, so snapshots hold pending
// orders, open positions and several days. Made once for the suite.
const std::string& busy_journal() {
  static TempDir dir;
  static const std::string db = [] {
    const std::string csv = synthetic_bars(dir, "bars.csv", 3000, 3);
    RunConfig c = config_for(csv, dir.file("busy.db"));
    c.trading.params.set("window", "5");
    c.trading.execution.fill = FillModel::kNextOpen;
    c.trading.execution.commission = Decimal::from_string("0.01");
    c.trading.risk.max_daily_loss = Decimal::from_string("0.0001");
    c.trading.tz = "America/New_York";
    c.snapshot_every = 500;
    run_paper_trading(c);
    return c.journal_location;
  }();
  return db;
}

// `state` as a system restored with it encodes it: the strategy's part in
// its own canonical layout (decode_state leaves that part to the strategy).
std::string restored_text(const TradingSystem::State& state) {
  MemoryStore scratch;
  TradingSystem system(scratch, TradingConfig{});
  system.restore(state);
  return encode_state(system.state());
}

}  // namespace

TEST_SUITE("snapshot") {
  TEST_CASE("a state encodes and decodes to the same text") {
    auto journal = SqliteJournal::open(busy_journal(), SqliteJournal::Mode::kRead);
    const RebuiltState s = rebuild_state(*journal, journal->last_seq() / 2, Snapshots::kIgnore);
    const std::string text = encode_state(s.system->state());
    CHECK(encode_state(decode_state(text)) == text);
    CHECK(text.find("\"pending\"") != std::string::npos);
  }

  TEST_CASE("a state written in another JSON layout decodes to the same state") {
    // The text encode_state writes is read in one pass; any other layout of
    // the same JSON (spaces, another key order) through a JSON tree.
    auto journal = SqliteJournal::open(busy_journal(), SqliteJournal::Mode::kRead);
    const RebuiltState s = rebuild_state(*journal, journal->last_seq() / 2, Snapshots::kIgnore);
    const std::string text = encode_state(s.system->state());
    REQUIRE(text.rfind(R"({"signals":)", 0) == 0);
    const std::string spaced = "{ " + text.substr(1);
    CHECK(restored_text(decode_state(spaced)) == text);
    const std::string reordered = nlohmann::json::parse(text).dump(2);  // keys sorted, indented
    CHECK(reordered != text);
    CHECK(restored_text(decode_state(reordered)) == text);
  }

  TEST_CASE("a state halted on its current day round-trips with what halted it") {
    auto journal = SqliteJournal::open(busy_journal(), SqliteJournal::Mode::kRead);
    const RebuiltState s = rebuild_state(*journal, journal->last_seq() / 2, Snapshots::kIgnore);
    TradingSystem::State state = s.system->state();
    REQUIRE_FALSE(state.risk.book.days.empty());
    state.risk.halted_day = state.risk.book.days.back().day;
    state.risk.halt = RiskManager::Halt{Decimal::from_string("-1234.56789012"), 1'700'000'000'123};
    const std::string text = encode_state(state);
    REQUIRE(text.find(R"("halt":{"day_pnl":"-1234.56789012","ts_ns":1700000000123})") !=
            std::string::npos);
    // The text as written (read in one pass) and other layouts of it.
    for (const std::string& layout :
         {text, "{ " + text.substr(1), nlohmann::json::parse(text).dump(2)}) {
      const TradingSystem::State decoded = decode_state(layout);
      REQUIRE(decoded.risk.halt.has_value());
      CHECK(decoded.risk.halt->day_pnl == state.risk.halt->day_pnl);
      CHECK(decoded.risk.halt->ts_ns == state.risk.halt->ts_ns);
      CHECK(decoded.risk.halted_day == state.risk.halted_day);
      CHECK(restored_text(decoded) == text);
    }
    // Without a halt the text has no "halt" key: as before it existed.
    state.risk.halt.reset();
    state.risk.halted_day.reset();
    CHECK(encode_state(state).find(R"("halt")") == std::string::npos);
  }

  TEST_CASE("a malformed state is refused with the path of the bad field") {
    CHECK_THROWS_WITH_AS(decode_state("[]"), doctest::Contains("expected an object"), Error);
    CHECK_THROWS_WITH_AS(decode_state("{"), doctest::Contains("invalid JSON"), Error);
    auto journal = SqliteJournal::open(busy_journal(), SqliteJournal::Mode::kRead);
    std::string text = encode_state(
        rebuild_state(*journal, journal->last_seq(), Snapshots::kIgnore).system->state());
    const auto at = text.find("\"realized_pnl\":\"");
    REQUIRE(at != std::string::npos);
    text.insert(at + 16, "x");
    CHECK_THROWS_WITH_AS(decode_state(text), doctest::Contains("realized_pnl"), Error);
  }

  TEST_CASE(
      "regression: a snapshot of a halted day keeps what halted it; an older one is passed over") {
    TempDir dir;
    const std::string db = dir.file("halts.db");
    REQUIRE(run_cli("run --bars " + quote(synthetic_bars(dir, "bars.csv", 1500, 2)) +
                    " --journal " + quote(db) + " --window 5 --quantity 20 --max-daily-loss 0.0005")
                .exit_code == 0);
    auto journal = SqliteJournal::open(db, SqliteJournal::Mode::kRead);
    RebuiltState s = rebuild_state(*journal, 0, Snapshots::kIgnore);
    bool halted = false;
    journal->scan(ScanRange(), [&](const Event& e) {
      replay_event(s, e);
      halted = s.system->risk().entries_halted();
      return !halted;
    });
    REQUIRE(halted);
    const auto halt = s.system->risk().halt();
    REQUIRE(halt.has_value());
    const std::string text = encode_state(s.system->state());
    const auto decoded = decode_state(text);
    REQUIRE(decoded.risk.halt.has_value());
    CHECK(decoded.risk.halt->day_pnl == halt->day_pnl);
    CHECK(decoded.risk.halt->ts_ns == halt->ts_ns);
    CHECK(encode_state(decoded) == text);

    // Without "halt" (written by an older blotter) on the halted day itself:
    // refused, so a rebuild passes it over for a replay.
    auto older = nlohmann::ordered_json::parse(text);
    REQUIRE(older["risk"].contains("halt"));
    older["risk"].erase("halt");
    CHECK_THROWS_WITH_AS(decode_state(older.dump()), doctest::Contains("state.risk"), Error);
    // On a later day the halt no longer matters: it loads.
    older["risk"]["halted_day"] = older["risk"]["halted_day"].get<std::int64_t>() - 1;
    CHECK_FALSE(decode_state(older.dump()).risk.halt.has_value());

    // Stored snapshots without it: state is unchanged, and verify finds nothing wrong.
    const CliResult before = run_cli("state " + quote(db) + " --format json");
    REQUIRE(run_cli("snapshot " + quote(db) + " --every 40").exit_code == 0);
    {
      SQLite::Database d(db, SQLite::OPEN_READWRITE);
      REQUIRE(
          d.execAndGet("SELECT count(*) FROM snapshots WHERE state LIKE '%\"halt\":%'").getInt() >
          0);
      d.exec("UPDATE snapshots SET state = json_remove(state, '$.risk.halt')");
    }
    journal = SqliteJournal::open(db, SqliteJournal::Mode::kRead);
    CHECK_FALSE(check_snapshots(*journal).has_value());
    CHECK(run_cli("state " + quote(db) + " --format json").out == before.out);
    CHECK(run_cli("verify " + quote(db)).exit_code == 0);
  }

  TEST_CASE("regression: a state with a number beyond a double's range is a blotter::Error") {
    // nlohmann throws out_of_range for "1e400": it escaped decode_state, so
    // state failed instead of passing over the unreadable snapshot.
    CHECK_THROWS_WITH_AS(decode_state(R"({"signals":1e400})"), doctest::Contains("invalid JSON"),
                         Error);
  }

  TEST_CASE("regression: an integer above INT64_MAX is refused, not wrapped to a negative") {
    auto journal = SqliteJournal::open(busy_journal(), SqliteJournal::Mode::kRead);
    std::string text = encode_state(
        rebuild_state(*journal, journal->last_seq(), Snapshots::kIgnore).system->state());
    const std::string key = "\"last_ts_ns\":";
    const auto at = text.find(key);
    REQUIRE(at != std::string::npos);
    const auto end = text.find_first_not_of("0123456789-", at + key.size());
    text.replace(at + key.size(), end - at - key.size(), "18446744073709551615");
    CHECK_THROWS_WITH_AS(decode_state(text), doctest::Contains("last_ts_ns: out of range"), Error);
  }

  TEST_CASE("regression: a recorded configuration the components refuse names its RUN_STARTED") {
    // The error of rebuilding a journal whose RUN_STARTED is `manifest`.
    auto rebuild_error = [](const RunStarted& manifest) {
      MemoryStore store;
      Event run = make_event(0, "", manifest);
      store.append(run);
      Event bar = make_event(0, "X", Bar{D("1"), D("1"), D("1"), D("1"), D("1")});
      store.append(bar);
      store.commit();
      try {
        rebuild_state(store, store.last_seq());
      } catch (const Error& e) {
        return std::string(e.what());
      }
      return std::string("(no error)");
    };
    const RunStarted good = manifest_of(config_for("in.csv", "j.db"), "00");
    CHECK(rebuild_error(good) == "(no error)");
    RunStarted bad_zone = good;
    bad_zone.tz = "Mars/Olympus";
    CHECK(rebuild_error(bad_zone).rfind("seq 1: RUN_STARTED: unknown time zone 'Mars/Olympus'",
                                        0) == 0);
    // Was cast to int: 2^32 + 1 became a window of 1.
    RunStarted huge_window = good;
    huge_window.window = 4294967297;
    CHECK(rebuild_error(huge_window) ==
          "seq 1: RUN_STARTED: invalid run manifest: window 4294967297 is out of range");
  }

  TEST_CASE("the snapshots a run writes equal a full replay") {
    auto journal = SqliteJournal::open(busy_journal(), SqliteJournal::Mode::kRead);
    const auto seqs = journal->snapshot_seqs();
    // Every 500 events at a batch end, and one at the end of the run.
    CHECK(seqs.size() >= static_cast<std::size_t>(journal->last_seq() / (500 + 64 * 3)));
    CHECK(seqs.back() == journal->last_seq());
    CHECK_FALSE(check_snapshots(*journal).has_value());
  }

  TEST_CASE("state from the nearest snapshot equals a full replay at every seq") {
    auto journal = SqliteJournal::open(busy_journal(), SqliteJournal::Mode::kRead);
    RebuiltState full = rebuild_state(*journal, 0, Snapshots::kIgnore);
    int from_snapshot = 0;
    for (Seq seq = 1; seq <= journal->last_seq(); seq += 7) {
      CAPTURE(seq);
      replay_into(full, *journal, seq);
      const RebuiltState fast = rebuild_state(*journal, seq);
      if (fast.from_snapshot) ++from_snapshot;
      REQUIRE(state_json(fast) == state_json(full));
      // Also what state_json leaves out: strategy windows, pending orders.
      REQUIRE(encode_state(fast.system->state()) == encode_state(full.system->state()));
    }
    CHECK(from_snapshot > 0);
  }

  TEST_CASE("regression: a snapshot of 20000 symbols round-trips to the state of a full replay") {
    // Encoding and decoding looked every symbol up linearly (quadratic in the
    // number of symbols); tools/bench_snapshots.sh measures the speed, this the
    // result: every symbol's window, position and pending order comes back.
    TempDir dir;
    RunConfig c = config_for(synthetic_bars(dir, "wide.csv", 4, 20'000), dir.file("wide.db"));
    c.batch_rows = 4096;
    c.trading.params.set("window", "3");
    c.trading.execution.fill = FillModel::kNextOpen;
    c.snapshot_every = 30'000;
    run_paper_trading(c);
    auto journal = SqliteJournal::open(c.journal_location, SqliteJournal::Mode::kRead);
    REQUIRE(journal->snapshot_seqs().size() >= 2);
    CHECK_FALSE(check_snapshots(*journal).has_value());
    for (const Seq seq : journal->snapshot_seqs()) {
      CAPTURE(seq);
      const RebuiltState fast = rebuild_state(*journal, seq);
      const RebuiltState full = rebuild_state(*journal, seq, Snapshots::kIgnore);
      REQUIRE(fast.from_snapshot == seq);
      const TradingSystem::State state = fast.system->state();
      const auto& strategy = dynamic_cast<const MovingAverageCrossover&>(fast.system->strategy());
      CHECK(strategy.state().size() == 20'000);
      CHECK(state.portfolio.positions.size() == 20'000);
      CHECK(encode_state(state) == encode_state(full.system->state()));
      CHECK(state_json(fast) == state_json(full));
    }
    const RebuiltState last = rebuild_state(*journal, journal->last_seq());
    CHECK_FALSE(last.system->state().broker.empty());
  }

  TEST_CASE("the state's text is the same, byte for byte, as snapshots stored before") {
    // Golden text: a snapshot written by an earlier blotter must still compare
    // equal with a fresh encoding of the same state (verify compares text).
    const std::string stored =
        R"({"signals":{"A\"B":{"window":["1.5","2"],"sum":"3.5","previous":"1.25","has_previous":true},)"
        R"("Z":{"window":[],"sum":"0","previous":"0","has_previous":false}},"risk":{"book":{"positions":)"
        R"([{"symbol":"Z","quantity":"-2","cost":"-3.00000001","realized_pnl":"0","last_price":"1.5",)"
        R"("marked":false}],"days":[{"day":19000,"realized_pnl":"-1","unrealized_pnl":"0.5",)"
        R"("unrealized_at_close":"0.5","fills":2}],"realized_pnl":"-1","unrealized_pnl":"0.5",)"
        R"("unrealized_at_open":"0","last_ts_ns":1641600000000000000},"pending":{"Z":"2"},)"
        R"("halted_day":18999},"execution":{"Z":[{"order_seq":7,"order":{"side":"buy","quantity":"2",)"
        R"("price":"1.5","signal_seq":6}}]},"portfolio":{"positions":[],"days":[],"realized_pnl":"0",)"
        R"("unrealized_pnl":"0","unrealized_at_open":"0","last_ts_ns":0}})";
    CHECK(encode_state(decode_state(stored)) == stored);
    // Halted on the current day: "halt" follows "halted_day", as ordered_json
    // (which wrote snapshots before) appends it.
    std::string halted = stored;
    const std::string day = R"("halted_day":18999})";
    REQUIRE(halted.find(day) != std::string::npos);
    halted.replace(halted.find(day), day.size(),
                   R"("halted_day":19000,"halt":{"day_pnl":"-1.5","ts_ns":1641590000000000000}})");
    CHECK(nlohmann::ordered_json::parse(halted).dump() == halted);
    const TradingSystem::State state = decode_state(halted);
    REQUIRE(state.risk.halt.has_value());
    CHECK(state.risk.halt->day_pnl == Decimal::from_string("-1.5"));
    CHECK(state.risk.halt->ts_ns == 1641590000000000000);
    CHECK(encode_state(state) == halted);
  }

  TEST_CASE("blotter snapshot rebuilds them from the events alone") {
    TempDir dir;
    const std::string db = dir.file("g.db");
    REQUIRE(run_cli("run --bars " + quote(goog_csv()) + " --symbol GOOG --journal " + quote(db) +
                    " --snapshot-every 0")
                .exit_code == 0);
    CHECK(count(db, "SELECT count(*) FROM snapshots") == 0);
    const CliResult r = run_cli("snapshot " + quote(db) + " --every 100");
    CHECK(r.exit_code == 0);
    const std::int64_t events = count(db, "SELECT count(*) FROM events");
    CHECK(count(db, "SELECT count(*) FROM snapshots") == (events + 99) / 100);
    CHECK(count(db, "SELECT max(seq) FROM snapshots") == events);
    // A tampered snapshot is found, and replaced by the next rebuild.
    {
      SQLite::Database d(db, SQLite::OPEN_READWRITE);
      d.exec(
          "UPDATE snapshots SET state = replace(state, '\"halted_day\":null', "
          "'\"halted_day\":12345') WHERE seq = 600");
    }
    {
      auto journal = SqliteJournal::open(db, SqliteJournal::Mode::kRead);
      const auto bad = check_snapshots(*journal);
      REQUIRE(bad.has_value());
      CHECK(bad->seq == 600);
      CHECK(bad->why == "state.risk differs from a full replay");
    }
    const CliResult verify = run_cli("verify " + quote(db));
    CHECK(verify.exit_code == 1);
    CHECK(verify.out == "snapshot at seq 600: state.risk differs from a full replay\n");
    CHECK(run_cli("snapshot " + quote(db) + " --every 100").exit_code == 0);
    auto journal = SqliteJournal::open(db, SqliteJournal::Mode::kRead);
    CHECK_FALSE(check_snapshots(*journal).has_value());
    const CliResult state = run_cli("state " + quote(db));
    CHECK(state.out.find(fmt::format("rebuilt from the snapshot at seq {}", events)) !=
          std::string::npos);
  }

  TEST_CASE("a snapshot that cannot be read is passed over") {
    TempDir dir;
    const std::string db = dir.file("g.db");
    REQUIRE(run_cli("run --bars " + quote(goog_csv()) + " --symbol GOOG --journal " + quote(db) +
                    " --quantity 1 --snapshot-every 300")
                .exit_code == 0);
    const CliResult before = run_cli("state " + quote(db) + " --format json");
    {
      SQLite::Database d(db, SQLite::OPEN_READWRITE);
      d.exec("UPDATE snapshots SET state = '{\"signals\": 1}'");
      d.exec("UPDATE snapshots SET format = 99 WHERE seq = (SELECT min(seq) FROM snapshots)");
    }
    const CliResult after = run_cli("state " + quote(db) + " --format json");
    CHECK(after.exit_code == 0);
    CHECK(after.out == before.out);
    CHECK(after.out.find("\"realized_pnl\": \"278.75\"") != std::string::npos);
    auto journal = SqliteJournal::open(db, SqliteJournal::Mode::kRead);
    const auto bad = check_snapshots(*journal);
    REQUIRE(bad.has_value());
    CHECK(bad->why.find("format 99") != std::string::npos);
  }

  TEST_CASE("a rebuild across runs starts each run afresh, from snapshots too") {
    TempDir dir;
    const std::string db = dir.file("two.db");
    RunConfig first = config_for(goog_csv(), db);
    first.input.symbol = "GOOG";
    first.snapshot_every = 200;
    run_paper_trading(first);
    RunConfig second = first;
    second.trading.params.set("window", "10");
    const auto s2 = run_paper_trading(second);
    REQUIRE(s2.outcome == RunSummary::Outcome::kNew);
    auto journal = SqliteJournal::open(db, SqliteJournal::Mode::kRead);
    CHECK_FALSE(check_snapshots(*journal).has_value());
    const RebuiltState at_end = rebuild_state(*journal, journal->last_seq());
    CHECK(at_end.run_seq == s2.run_seq);
    CHECK(at_end.manifest.window == 10);
    CHECK(at_end.from_snapshot == journal->last_seq());
    CHECK(state_json(at_end) ==
          state_json(rebuild_state(*journal, journal->last_seq(), Snapshots::kIgnore)));
    const RebuiltState in_first = rebuild_state(*journal, s2.run_seq - 1);
    CHECK(in_first.manifest.window == 20);
    CHECK(in_first.system->portfolio().positions().at("GOOG").realized_pnl ==
          Decimal::from_string("278.75"));
  }

  TEST_CASE("a memory store keeps snapshots and drops those of a rolled-back batch") {
    MemoryStore store;
    Event e = make_event(1, "X", Bar{});
    store.append(e);
    store.put_snapshot(Snapshot{1, 0, 1, kSnapshotFormat, "{}"});
    store.commit();
    store.append(e);
    store.put_snapshot(Snapshot{2, 0, 1, kSnapshotFormat, "{}"});
    store.rollback();
    CHECK(store.snapshot_seqs() == std::vector<Seq>{1});
    CHECK(store.snapshot_at_or_before(5)->seq == 1);
    CHECK_FALSE(store.snapshot_at_or_before(0).has_value());
  }
}
