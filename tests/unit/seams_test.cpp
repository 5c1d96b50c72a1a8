// The strategy, broker and market-data source seams: a second implementation
// of each plugs in through its interface and trades through the real
// components; the manifest records the implementations a run used.
#include <SQLiteCpp/SQLiteCpp.h>
#include <doctest/doctest.h>
#include <fmt/format.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "blotter/broker.h"
#include "blotter/error.h"
#include "blotter/hash_chain.h"
#include "blotter/ma_crossover.h"
#include "blotter/market_data_source.h"
#include "blotter/snapshot.h"
#include "blotter/sqlite_journal.h"
#include "blotter/strategy.h"
#include "blotter/trading_system.h"
#include "blotter/verify.h"
#include "cli_helpers.h"
#include "test_support.h"

using namespace blotter;
using namespace blotter::testing;

namespace {

// Signals long on every `n`th bar of a symbol and exit on the bar after it.
class EveryNthBar final : public Strategy {
 public:
  explicit EveryNthBar(int n) : n_(n) {}
  std::string_view name() const override { return "every_nth"; }
  int version() const override { return 1; }
  bool saves_state() const override { return true; }
  void on_bar(const Event& bar, StrategyContext& ctx) override {
    const int count = ++bars_[bar.symbol];
    if (count % n_ == 0) ctx.signal(Direction::kLong, fmt::format("bar {}", count));
    if (count % n_ == 1 && count > 1) ctx.signal(Direction::kExit, fmt::format("bar {}", count));
  }
  std::string save_state() const override {
    std::string out = "{";
    for (const auto& [symbol, count] : bars_)
      out += fmt::format("{}\"{}\":{}", out.size() > 1 ? "," : "", symbol, count);
    return out + "}";
  }
  void restore_state(std::string_view json) override {
    // Enough for the symbols of these tests: {"A":1,"B":2}.
    std::map<std::string, int> bars;
    std::string text(json);
    if (text.size() < 2 || text.front() != '{' || text.back() != '}')
      throw Error("every_nth: not a state");
    for (std::size_t at = 1; at + 1 < text.size();) {
      const auto colon = text.find(':', at);
      auto end = text.find(',', colon);
      if (end == std::string::npos) end = text.size() - 1;
      bars[text.substr(at + 1, colon - at - 2)] =
          std::stoi(text.substr(colon + 1, end - colon - 1));
      at = end + 1;
    }
    bars_ = std::move(bars);
  }

 private:
  int n_;
  std::map<std::string, int> bars_;
};

// Fills every ORDER at once at a fixed price, without commission.
class FixedPriceBroker final : public Broker {
 public:
  explicit FixedPriceBroker(Decimal price) : price_(price) {}
  std::string_view name() const override { return "fixed_price"; }
  void attach(EventBus& bus) override {
    bus.subscribe(EventType::kOrder, "ExecutionEngine", [this, &bus](const Event& e) {
      const Order& o = e.as<Order>();
      bus.publish(e.ts_ns, e.symbol, Fill{o.side, o.quantity, price_, Decimal(), e.seq});
    });
  }
  std::size_t pending_orders() const override { return 0; }
  State state() const override { return {}; }
  void restore(State) override {}

 private:
  Decimal price_;
};

// Market events held in memory: a source that cannot be read twice.
class VectorSource final : public MarketDataSource {
 public:
  explicit VectorSource(std::vector<Event> events) : events_(std::move(events)) {}
  std::string_view kind() const override { return "memory"; }
  const std::string& name() const override { return name_; }
  std::optional<Event> next() override {
    if (at_ == events_.size()) return std::nullopt;
    return events_[at_++];
  }
  std::int64_t line() const override { return static_cast<std::int64_t>(at_); }
  std::int64_t rows() const override { return static_cast<std::int64_t>(at_); }
  std::uint64_t bytes_read() const override { return 0; }
  std::optional<std::uint64_t> size() const override { return std::nullopt; }
  std::optional<std::string> sha256() const override { return std::nullopt; }

 private:
  std::vector<Event> events_;
  std::size_t at_ = 0;
  std::string name_ = "memory";
};

std::vector<Event> goog_bars() {
  CsvMarketData csv(goog_csv(), CsvOptions{MarketDataKind::kBars, "GOOG"});
  std::vector<Event> bars;
  while (auto e = csv.next()) bars.push_back(std::move(*e));
  return bars;
}

Event bar(TimestampNs ts, const std::string& symbol, const char* close) {
  const Decimal c = D(close);
  return make_event(ts, symbol, Bar{c, c, c, c, D("100")});
}

std::vector<const Event*> of_type(const MemoryStore& store, EventType type) {
  std::vector<const Event*> out;
  for (const Event& e : store.events())
    if (e.type() == type) out.push_back(&e);
  return out;
}

// The RUN_STARTED payload of `db`'s first run.
std::string manifest_payload(const std::string& db) {
  SQLite::Database d(db, SQLite::OPEN_READONLY);
  return d.execAndGet("SELECT payload FROM events WHERE type = 'RUN_STARTED' ORDER BY seq LIMIT 1")
      .getString();
}

// Rewrites `db`'s RUN_STARTED payloads without the seams' names, as a
// release before them wrote it, with the hash chain recomputed to match.
void write_as_before_the_seams(const std::string& db) {
  SQLite::Database d(db, SQLite::OPEN_READWRITE);
  const std::string trigger =
      d.execAndGet("SELECT sql FROM sqlite_master WHERE name = 'events_no_update'").getString();
  d.exec("DROP TRIGGER events_no_update");
  // The seams' names and everything after them (the strategy's version,
  // parameters and digest came later still).
  const std::string seams = R"(,"strategy":"ma_crossover","broker":"paper","source":"csv",)";
  SQLite::Statement rows(d,
                         "SELECT seq, ts_ns, type, symbol, payload, recorded_ns FROM events "
                         "ORDER BY seq");
  SQLite::Statement update(d, "UPDATE events SET payload = ?, hash = ? WHERE seq = ?");
  ChainHash previous = kGenesisHash;
  int rewritten = 0;
  while (rows.executeStep()) {
    JournalRow row;
    row.seq = rows.getColumn(0).getInt64();
    row.ts_ns = rows.getColumn(1).getInt64();
    row.type = rows.getColumn(2).getString();
    if (!rows.getColumn(3).isNull()) row.symbol = rows.getColumn(3).getString();
    row.payload = rows.getColumn(4).getString();
    row.recorded_ns = rows.getColumn(5).getInt64();
    if (row.type == "RUN_STARTED") {
      const auto at = row.payload.find(seams);
      REQUIRE(at != std::string::npos);
      row.payload = row.payload.substr(0, at) + "}";
      ++rewritten;
    }
    previous = chain_hash(previous, row);
    update.bind(1, row.payload);
    update.bind(2, previous.data(), static_cast<int>(previous.size()));
    update.bind(3, row.seq);
    update.exec();
    update.reset();
  }
  d.exec(trigger);
  REQUIRE(rewritten == 1);
}

}  // namespace

TEST_SUITE("seams") {
  TEST_CASE("a strategy plugged in through the interface trades through the real components") {
    MemoryStore store;
    TradingConfig config;
    TradingSystem system(store, config, std::make_unique<EveryNthBar>(3), make_broker(config));
    CHECK(system.strategy().name() == "every_nth");
    const char* closes[] = {"10", "11", "12", "13", "14", "15"};
    TimestampNs ts = 1'000;
    std::vector<Seq> bar_seqs;
    for (const char* c : closes) bar_seqs.push_back(system.bus().publish(bar(ts += 1'000, "A", c)));

    const auto signals = of_type(store, EventType::kSignal);
    REQUIRE(signals.size() == 3);  // bars 3 and 6 long, bar 4 exit
    CHECK(signals[0]->seq == bar_seqs[2] + 1);
    CHECK(signals[0]->ts_ns == store.events()[static_cast<std::size_t>(bar_seqs[2] - 1)].ts_ns);
    CHECK(signals[0]->symbol == "A");
    CHECK(signals[0]->as<Signal>().direction == Direction::kLong);
    CHECK(signals[0]->as<Signal>().price == D("12"));
    CHECK(signals[0]->as<Signal>().reason == "bar 3");
    CHECK(signals[1]->as<Signal>().direction == Direction::kExit);
    CHECK(signals[1]->as<Signal>().reason == "bar 4");
    CHECK(signals[2]->as<Signal>().reason == "bar 6");
    // The risk manager sized them, the paper broker filled them, the
    // portfolio booked them: bought at 12, sold at 13, bought at 15.
    CHECK(of_type(store, EventType::kOrder).size() == 3);
    const auto fills = of_type(store, EventType::kFill);
    REQUIRE(fills.size() == 3);
    CHECK(fills[1]->as<Fill>().side == Side::kSell);
    CHECK(system.portfolio().realized_pnl() == D("1"));
    REQUIRE(system.portfolio().position("A") != nullptr);
    CHECK(system.portfolio().position("A")->quantity == D("1"));

    // Its state goes through the trading system's, and a restored system
    // goes on alike.
    const TradingSystem::State state = system.state();
    CHECK(state.strategy == R"({"A":6})");
    MemoryStore other_store;
    TradingSystem other(other_store, config, std::make_unique<EveryNthBar>(3), make_broker(config));
    other.restore(state);
    other.bus().publish(bar(ts += 1'000, "A", "16"));
    system.bus().publish(bar(ts, "A", "16"));
    REQUIRE(of_type(other_store, EventType::kSignal).size() == 1);
    CHECK(of_type(other_store, EventType::kSignal)[0]->as<Signal>().reason == "bar 7");
    CHECK(of_type(other_store, EventType::kFill).size() == 1);  // the position restored, sold
    CHECK(other.state().strategy == system.state().strategy);
  }

  TEST_CASE("a broker plugged in through the interface fills the orders") {
    MemoryStore store;
    TradingConfig config;
    config.params.set("window", "2");
    TradingSystem system(store, config, make_strategy(config),
                         std::make_unique<FixedPriceBroker>(D("42")));
    CHECK(system.broker().name() == "fixed_price");
    TimestampNs ts = 0;
    for (const char* c : {"10", "12", "11", "13", "9"})
      system.bus().publish(bar(ts += 1'000, "A", c));

    const auto orders = of_type(store, EventType::kOrder);
    const auto fills = of_type(store, EventType::kFill);
    REQUIRE(orders.size() >= 2);
    REQUIRE(fills.size() == orders.size());
    for (std::size_t i = 0; i < fills.size(); ++i) {
      CAPTURE(i);
      CHECK(fills[i]->seq == orders[i]->seq + 1);
      CHECK(fills[i]->as<Fill>().order_seq == orders[i]->seq);
      CHECK(fills[i]->as<Fill>().price == D("42"));
      CHECK(fills[i]->as<Fill>().side == orders[i]->as<Order>().side);
    }
    // Every trade at 42: no realized PnL, whatever the bars' prices.
    CHECK(system.portfolio().realized_pnl() == D("0"));
    CHECK(system.broker().pending_orders() == 0);
  }

  TEST_CASE("a market-data source plugged in through the interface feeds the run as the CSV") {
    const std::vector<Event> bars = goog_bars();
    REQUIRE(bars.size() == 1047);
    TradingConfig config;
    MemoryStore from_csv, from_memory;
    {
      TradingSystem system(from_csv, config);
      CsvMarketData csv(goog_csv(), CsvOptions{MarketDataKind::kBars, "GOOG"});
      CHECK(csv.sha256().has_value());
      CHECK(system.feed().publish_all(csv) == 1047);
    }
    VectorSource source(bars);
    CHECK_FALSE(source.sha256().has_value());
    std::vector<std::int64_t> rows;
    {
      TradingSystem system(from_memory, config);
      CHECK(system.feed().publish_all(
                source, [&](const MarketDataSource& s) { rows.push_back(s.rows()); }) == 1047);
    }
    REQUIRE(rows.size() == 1047);
    CHECK(rows.front() == 1);
    CHECK(rows.back() == 1047);
    REQUIRE(from_memory.events().size() == from_csv.events().size());
    CHECK(of_type(from_memory, EventType::kFill).size() == 76);
    for (std::size_t i = 0; i < from_csv.events().size(); ++i) {
      const Event& a = from_csv.events()[i];
      const Event& b = from_memory.events()[i];
      REQUIRE(a.seq == b.seq);
      REQUIRE(a.ts_ns == b.ts_ns);
      REQUIRE(a.symbol == b.symbol);
      REQUIRE(encode_payload(a) == encode_payload(b));
    }
  }

  TEST_CASE("the manifest records the seams' implementations after every older field") {
    TempDir dir;
    RunConfig c = busy_run_config(synthetic_bars(dir, "bars.csv", 60, 2), dir.file("j.db"));
    run_paper_trading(c);
    const std::string payload = manifest_payload(c.journal_location);
    const std::string seams =
        R"("version":"test","strategy":"ma_crossover","broker":"paper","source":"csv",)"
        R"("strategy_version":1,"params":"window=5","strategy_sha256":")";
    CHECK(payload.find(seams) != std::string::npos);
    auto journal = SqliteJournal::open(c.journal_location, SqliteJournal::Mode::kRead);
    const RebuiltState state = rebuild_state(*journal, journal->last_seq());
    CHECK(state.manifest.strategy == "ma_crossover");
    CHECK(state.system->strategy().name() == "ma_crossover");
    CHECK(state.system->broker().name() == "paper");

    // same_run: another implementation of a seam is another run.
    const RunStarted m = manifest_of(c, "00");
    RunStarted other = m;
    CHECK(same_run(m, other));
    other.strategy = "every_nth";
    CHECK_FALSE(same_run(m, other));
    other = m;
    other.broker = "fix";
    CHECK_FALSE(same_run(m, other));
    other = m;
    other.source = "stdin";
    CHECK_FALSE(same_run(m, other));
  }

  TEST_CASE("another version of a run's strategy: verify checks the books only, snapshot refuses") {
    TempDir dir;
    const std::string csv = synthetic_bars(dir, "bars.csv", 300, 3);
    RunConfig c = busy_run_config(csv, dir.file("v1.db"));
    c.snapshot_every = 100;
    c.batch_rows = 50;
    run_paper_trading(c);
    // Version 2 of ma_crossover decides on a window of 3, whatever it is given.
    StrategyRegistry v2;
    v2.add("ma_crossover", 2, [](const StrategyParams& params) {
      params.get_int("window", 20);
      return std::make_unique<MovingAverageCrossover>(SignalConfig{3});
    });
    {
      auto journal = SqliteJournal::open(c.journal_location, SqliteJournal::Mode::kRead);
      REQUIRE(journal->snapshot_seqs().size() > 2);
      // Version 1 checks the strategy's state too; version 2 would rebuild another.
      CHECK_FALSE(check_snapshots(*journal).has_value());
      CHECK_FALSE(check_snapshots(*journal, v2).has_value());
    }
    CHECK(verify_journal(c.journal_location, {}, v2).ok);
    auto journal = SqliteJournal::open(c.journal_location, SqliteJournal::Mode::kWrite);
    try {
      write_snapshots(*journal, 100, v2);
      FAIL("write_snapshots took another version");
    } catch (const ConfigError& e) {
      CHECK(std::string(e.what()) ==
            "seq 1: the run used strategy 'ma_crossover' version 1, and this program has version "
            "2: its snapshots would not hold that version's state");
    }
    CHECK_FALSE(check_snapshots(*journal).has_value());
  }

  TEST_CASE("a journal whose manifest lacks the seams' names resumes and replays as before") {
    TempDir dir;
    const std::string csv = synthetic_bars(dir, "bars.csv", 300, 3);
    RunConfig whole = busy_run_config(csv, dir.file("whole.db"));
    run_paper_trading(whole);

    RunConfig c = busy_run_config(csv, dir.file("old.db"));
    c.batch_rows = 50;
    c.batch_latency = std::chrono::hours(1);
    c.check_input_first = true;
    int batches = 0;
    RunConfig interrupted = c;
    interrupted.on_progress = [&](const MarketDataSource&) {
      if (++batches == 3) throw InputError("test", 0, "", "interrupted");
    };
    CHECK_THROWS_AS(run_paper_trading(interrupted), InputError);
    write_as_before_the_seams(c.journal_location);
    CHECK(manifest_payload(c.journal_location).find("strategy") == std::string::npos);
    CHECK(verify_journal(c.journal_location).ok);

    const RunSummary resumed = run_paper_trading(c);
    CHECK(resumed.outcome == RunSummary::Outcome::kResumed);
    CHECK(resumed.skipped_rows > 0);
    CHECK(trading_events(c.journal_location) == trading_events(whole.journal_location));
    CHECK(verify_journal(c.journal_location).ok);
    auto journal = SqliteJournal::open(c.journal_location, SqliteJournal::Mode::kRead);
    CHECK(list_runs(*journal).size() == 1);
    const RebuiltState state = rebuild_state(*journal, journal->last_seq(), Snapshots::kIgnore);
    CHECK(state.manifest.strategy == "ma_crossover");
    CHECK(state.manifest.broker == "paper");
    CHECK(state.manifest.source == "csv");
    // Finished: running it again appends nothing.
    CHECK(run_paper_trading(c).outcome == RunSummary::Outcome::kAlreadyFinished);
  }

  TEST_CASE("an unknown strategy, broker or source is refused, naming it") {
    // Recorded in a manifest: the rebuild names the RUN_STARTED and the part.
    auto rebuild_error = [](const RunStarted& manifest) {
      MemoryStore store;
      Event run = make_event(0, "", manifest);
      store.append(run);
      Event b = bar(1, "X", "1");
      store.append(b);
      store.commit();
      try {
        rebuild_state(store, store.last_seq());
      } catch (const Error& e) {
        return std::string(e.what());
      }
      return std::string("(no error)");
    };
    RunStarted m;
    CHECK(rebuild_error(m) == "(no error)");
    // A strategy this program lacks: the books rebuild without it.
    m.strategy = "every_nth";
    CHECK(rebuild_error(m) == "(no error)");
    m = RunStarted{};
    m.broker = "fix";
    CHECK(rebuild_error(m) == "seq 1: RUN_STARTED: unknown broker 'fix' (blotter has: paper)");

    // Configured: a ConfigError before anything is read or written.
    MemoryStore store;
    TradingConfig config;
    config.strategy = "nope";
    CHECK_THROWS_WITH_AS(TradingSystem(store, config),
                         doctest::Contains("unknown strategy 'nope' (this program has: "),
                         ConfigError);
    TempDir dir;
    RunConfig c = busy_run_config(synthetic_bars(dir, "bars.csv", 10, 1), dir.file("j.db"));
    c.source = "kafka";
    CHECK_THROWS_WITH_AS(run_paper_trading(c),
                         "unknown market-data source 'kafka' (blotter has: csv, stdin, follow)",
                         ConfigError);
    CHECK_FALSE(std::filesystem::exists(c.journal_location));
  }
}

namespace {

// Records, at each FILL, the position its context reports, and publishes an
// exit from on_fill once long.
class FillWatcher final : public Strategy {
 public:
  std::string_view name() const override { return "fill_watcher"; }
  int version() const override { return 1; }
  void on_bar(const Event&, StrategyContext& ctx) override {
    if (ctx.position().is_zero()) ctx.signal(Direction::kLong, "enter");
  }
  void on_fill(const Event& fill, StrategyContext& ctx) override {
    positions.push_back(ctx.position().to_string() + "@" + fill.as<Fill>().price.to_string());
    if (!ctx.position().is_zero()) ctx.signal(Direction::kExit, "filled");
  }
  std::vector<std::string> positions;
};

}  // namespace

TEST_SUITE("seams") {
  TEST_CASE("on_fill sees the fill already booked, and may signal at the fill's price") {
    MemoryStore store;
    TradingConfig config;
    auto owned = std::make_unique<FillWatcher>();
    FillWatcher& watcher = *owned;
    TradingSystem system(store, config, std::move(owned), make_broker(config));
    system.bus().publish(bar(1'000, "A", "10"));
    // The entry fills at 10 (position 1), the exit from on_fill at 10 (position 0).
    CHECK(watcher.positions == std::vector<std::string>{"1@10", "0@10"});
    std::vector<std::string> signals;
    for (const Event& e : store.events())
      if (const auto* s = e.get_if<Signal>())
        signals.push_back(s->reason + "@" + s->price.to_string());
    CHECK(signals == std::vector<std::string>{"enter@10", "filled@10"});
    CHECK(system.portfolio().position("A")->quantity.is_zero());
  }

  TEST_CASE("a strategy that saves no state stores null, and refuses a state given to it") {
    MemoryStore store;
    TradingConfig config;
    TradingSystem system(store, config, std::make_unique<FillWatcher>(), make_broker(config));
    CHECK(system.state().strategy == "null");
    CHECK_NOTHROW(system.restore(system.state()));
    FillWatcher alone;
    CHECK_THROWS_AS(alone.restore_state(R"({"A":1})"), Error);
  }
}
