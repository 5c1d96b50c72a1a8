#include "blotter/ma_crossover.h"

#include <doctest/doctest.h>

#include <deque>
#include <string>
#include <vector>

#include "blotter/error.h"
#include "blotter/market_data.h"
#include "blotter/store.h"
#include "blotter/trading_system.h"
#include "test_support.h"

namespace {

using namespace blotter;
using blotter::testing::D;
using blotter::testing::T;

constexpr TimestampNs kDay = 86'400LL * 1'000'000'000;

// A MovingAverageCrossover on a bus over a MemoryStore, subscribed as the
// trading system subscribes a strategy, fed closes one bar a day.
struct Rig {
  explicit Rig(int window) : generator(SignalConfig{window}) {
    bus.subscribe(EventType::kBar, "SignalGenerator", [this](const Event& e) {
      context.begin(e);
      generator.on_bar(e, context);
    });
    bus.subscribe(EventType::kTick, "SignalGenerator", [this](const Event& e) {
      context.begin(e);
      generator.on_tick(e, context);
    });
    bus.subscribe(EventType::kSignal, "Collector",
                  [this](const Event& e) { signals.push_back(e); });
  }
  // Publishes one BAR per close for `symbol`; returns the bars' seqs.
  std::vector<Seq> bars(const std::string& symbol, std::initializer_list<const char*> closes) {
    std::vector<Seq> seqs;
    for (const char* c : closes) {
      const Decimal close = D(c);
      seqs.push_back(
          bus.publish(make_event(next_ts(), symbol, Bar{close, close, close, close, D("10")})));
    }
    return seqs;
  }
  TimestampNs next_ts() { return ts += kDay; }
  std::string directions() const {
    std::string out;
    for (const Event& e : signals) out += e.as<Signal>().direction == Direction::kLong ? 'L' : 'X';
    return out;
  }

  MemoryStore store;
  EventBus bus{store};
  MovingAverageCrossover generator;
  StrategyContext context{bus};
  std::vector<Event> signals;
  TimestampNs ts = 0;
};

}  // namespace

TEST_SUITE("signal_generator") {
  TEST_CASE("a copy or an assigned strategy goes on with its own state, not the original's") {
    Rig original(3);
    original.bars("A", {"10", "11"});
    const MovingAverageCrossover copy(original.generator);
    Rig assigned(3);
    // A has the same bus id in both rigs: an index copied along would point
    // the assigned strategy at the original's history.
    assigned.bars("A", {"1"});
    assigned.generator = original.generator;
    CHECK(copy.state().at("A").window.size() == 2);
    // Each goes on from two closes of A: on its own bus, into its own state.
    assigned.bars("A", {"12"});
    original.bars("A", {"13", "14"});
    CHECK(assigned.generator.state().at("A").window ==
          std::deque<Decimal>{D("10"), D("11"), D("12")});
    CHECK(original.generator.state().at("A").window ==
          std::deque<Decimal>{D("11"), D("13"), D("14")});
    CHECK(copy.state().at("A").window == std::deque<Decimal>{D("10"), D("11")});
  }

  TEST_CASE("no signal before the window is full") {
    Rig rig(3);
    rig.bars("A", {"10", "5"});
    CHECK(rig.signals.empty());
    // Third close: MA 15, close 30 above it, previous 5 at or below it.
    const auto seqs = rig.bars("A", {"30"});
    REQUIRE(rig.signals.size() == 1);
    CHECK(rig.signals[0].as<Signal>().direction == Direction::kLong);
    CHECK(rig.signals[0].seq == seqs[0] + 1);
  }

  TEST_CASE("an up-cross gives a long signal and a down-cross an exit") {
    Rig rig(2);
    // 10, 20: MA 15, 20 > 15 and 10 <= 15 -> long.
    // 20, 5: MA 12.5, 5 < 12.5 and 20 >= 12.5 -> exit.
    rig.bars("A", {"10", "20", "5"});
    REQUIRE(rig.signals.size() == 2);
    const Signal& up = rig.signals[0].as<Signal>();
    CHECK(up.direction == Direction::kLong);
    CHECK(up.price == D("20"));
    CHECK_FALSE(up.reason.empty());
    const Signal& down = rig.signals[1].as<Signal>();
    CHECK(down.direction == Direction::kExit);
    CHECK(down.price == D("5"));
  }

  TEST_CASE("the previous close is compared with the current moving average") {
    // The rule is exactly the header's: with window 2 a steadily rising close
    // is above the MA that includes it while the previous one is below, so
    // every bar after the first window is a long signal.
    Rig rig(2);
    rig.bars("A", {"10", "20", "30", "40"});
    CHECK(rig.directions() == "LLL");
    Rig falling(2);
    falling.bars("A", {"40", "30", "20"});
    CHECK(falling.directions() == "XX");
  }

  TEST_CASE("no signal while the close stays above the moving average and the previous too") {
    Rig rig(3);
    // MA(10,10,40) = 20 -> long (previous 10 <= 20). MA(10,40,41) = 30.33:
    // 41 above and previous 40 above -> nothing. MA(40,41,42) = 41: 42 above,
    // previous 41 not above -> long again.
    rig.bars("A", {"10", "10", "40", "41", "42"});
    CHECK(rig.directions() == "LL");
    CHECK(rig.signals[0].as<Signal>().price == D("40"));
    CHECK(rig.signals[1].as<Signal>().price == D("42"));
  }

  TEST_CASE("a close exactly on the moving average is not a crossover") {
    Rig rig(3);
    // MA(8, 14, 11) = 11: the close ties the MA; the previous 14 is above.
    rig.bars("A", {"8", "14", "11"});
    CHECK(rig.signals.empty());
    // MA(14, 8, 11) = 11 from below.
    Rig below(3);
    below.bars("A", {"14", "8", "11"});
    CHECK(below.signals.empty());
  }

  TEST_CASE("a previous close exactly on the moving average counts as at or below it") {
    SUBCASE("long") {
      Rig rig(3);
      // MA(8, 10, 12) = 10 = the previous close; 12 above -> long.
      rig.bars("A", {"8", "10", "12"});
      CHECK(rig.directions() == "L");
    }
    SUBCASE("exit") {
      Rig rig(3);
      // MA(12, 10, 8) = 10 = the previous close; 8 below -> exit.
      rig.bars("A", {"12", "10", "8"});
      CHECK(rig.directions() == "X");
    }
    SUBCASE("a close that ties its MA is the previous close of an up-cross") {
      Rig rig(3);
      // Bar 3: MA(14, 8, 11) = 11, a tie, no signal. Bar 4: MA(8, 11, 14) = 11
      // again; 14 above and the tied 11 at or below -> long.
      rig.bars("A", {"14", "8", "11"});
      CHECK(rig.signals.empty());
      rig.bars("A", {"14"});
      CHECK(rig.directions() == "L");
      CHECK(rig.signals[0].as<Signal>().price == D("14"));
    }
    SUBCASE("a close that ties its MA is the previous close of a down-cross") {
      Rig rig(3);
      rig.bars("A", {"8", "14", "11"});
      CHECK(rig.signals.empty());
      rig.bars("A", {"8"});
      CHECK(rig.directions() == "X");
    }
  }

  TEST_CASE("the comparison is exact, not against a rounded moving average") {
    Rig rig(3);
    // Sum 3.00000002: the MA 1.0000000066... rounds to 1.00000001 at 8 places,
    // which would make the close a tie; exactly, the close is above it.
    rig.bars("A", {"1.00000001", "1", "1.00000001"});
    CHECK(rig.directions() == "L");
  }

  TEST_CASE("a window below 2 is refused") {
    CHECK_THROWS_AS(MovingAverageCrossover(SignalConfig{1}), ConfigError);
    CHECK_THROWS_AS(MovingAverageCrossover(SignalConfig{0}), ConfigError);
    CHECK_THROWS_AS(MovingAverageCrossover(SignalConfig{-5}), ConfigError);
    CHECK_NOTHROW(MovingAverageCrossover(SignalConfig{2}));
  }

  TEST_CASE("each symbol has its own moving average") {
    Rig rig(2);
    // Interleaved, A rises and B falls; mixed into one history they would not.
    rig.bars("A", {"10"});
    rig.bars("B", {"100"});
    const auto a = rig.bars("A", {"20"});
    const auto b = rig.bars("B", {"50"});
    REQUIRE(rig.signals.size() == 2);
    CHECK(rig.signals[0].symbol == "A");
    CHECK(rig.signals[0].as<Signal>().direction == Direction::kLong);
    CHECK(rig.signals[0].seq == a[0] + 1);
    CHECK(rig.signals[1].symbol == "B");
    CHECK(rig.signals[1].as<Signal>().direction == Direction::kExit);
    CHECK(rig.signals[1].seq == b[0] + 1);
  }

  TEST_CASE("many interleaved symbols keep their own moving averages") {
    // More symbols than the generator first makes room for, bars interleaved:
    // each symbol still signals exactly as it does alone.
    Rig together(3);
    std::vector<std::string> alone;
    for (int s = 0; s < 40; ++s) {
      Rig single(3);
      single.bars("S" + std::to_string(s), {"10", "10", "9", "12", "8"});
      alone.push_back(single.directions());
    }
    for (const char* close : {"10", "10", "9", "12", "8"})
      for (int s = 0; s < 40; ++s) together.bars("S" + std::to_string(s), {close});
    for (std::size_t s = 0; s < 40; ++s) {
      std::string directions;
      for (const Event& e : together.signals)
        if (e.symbol == "S" + std::to_string(s))
          directions += e.as<Signal>().direction == Direction::kLong ? "L" : "X";
      CHECK(directions == alone[s]);
      CHECK(!directions.empty());
    }
  }

  TEST_CASE("state() and restore() carry each symbol's window, oldest close first") {
    Rig original(3);
    original.bars("A", {"1", "2", "3", "4", "5"});
    original.bars("B", {"7"});
    const MovingAverageCrossover::State state = original.generator.state();
    REQUIRE(state.size() == 2);
    CHECK(state.at("A").window == std::deque<Decimal>{D("3"), D("4"), D("5")});
    CHECK(state.at("A").sum == D("12"));
    CHECK(state.at("A").previous == D("5"));
    CHECK(state.at("B").window == std::deque<Decimal>{D("7")});

    Rig restored(3);
    restored.generator.restore(state);
    CHECK(restored.generator.state().at("A").window == state.at("A").window);
    // Both go on alike: a fall below the average is an exit in each.
    CHECK(original.directions() == "LLL");
    original.bars("A", {"1"});
    restored.bars("A", {"1"});
    CHECK(original.directions() == "LLLX");
    CHECK(restored.directions() == "X");
  }

  TEST_CASE("a restored window longer than the configured one keeps its latest closes") {
    // As `resim --window` with a shorter window takes the recorded state.
    MovingAverageCrossover::State state;
    state["A"].window = {D("1"), D("2"), D("3"), D("4")};
    state["A"].sum = D("10");
    state["A"].previous = D("4");
    state["A"].has_previous = true;
    Rig rig(2);
    rig.generator.restore(state);
    CHECK(rig.generator.state().at("A").window == std::deque<Decimal>{D("3"), D("4")});
    CHECK(rig.generator.state().at("A").sum == D("7"));
    // 3, 4 then 1: the close falls below MA2 2.5 from 4 above 3.5: an exit.
    rig.bars("A", {"1"});
    CHECK(rig.directions() == "X");
    CHECK(rig.generator.state().at("A").window == std::deque<Decimal>{D("4"), D("1")});
  }

  TEST_CASE("save_state() text restores to the same state, in any JSON layout") {
    Rig original(3);
    original.bars("A\"B", {"1.5", "2", "2.5", "1"});
    original.bars("Z", {"7"});
    const std::string text = original.generator.save_state();
    CHECK(text ==
          R"({"A\"B":{"window":["2","2.5","1"],"sum":"5.5","previous":"1","has_previous":true},)"
          R"("Z":{"window":["7"],"sum":"7","previous":"7","has_previous":true}})");
    // The same state goes on alike: 3 crosses above MA3 2.1666...
    original.bars("A\"B", {"3"});
    REQUIRE(original.directions() == "LXL");
    const std::string after = original.generator.save_state();
    for (const std::string& layout :
         {text,
          std::string(R"({ "Z":{"has_previous":true,"previous":"7","sum":"7","window":["7"]},)"
                      R"( "A\"B":{"window":["2","2.5","1"],"sum":"5.5","previous":"1",)"
                      R"("has_previous":true}})")}) {
      Rig restored(3);
      restored.generator.restore_state(layout);
      CHECK(restored.generator.save_state() == text);
      restored.bars("A\"B", {"3"});
      CHECK(restored.directions() == "L");
      CHECK(restored.generator.save_state() == after);
    }
    Rig bad(3);
    CHECK_THROWS_WITH_AS(bad.generator.restore_state(R"({"A":{"window":[1]}})"),
                         doctest::Contains("state.signals.A.window[0]"), Error);
    CHECK_THROWS_WITH_AS(bad.generator.restore_state("{"), doctest::Contains("invalid JSON"),
                         Error);
    CHECK(bad.generator.save_state() == "{}");
  }

  TEST_CASE("a signal carries the market event's time and symbol and the close") {
    Rig rig(2);
    rig.ts = 1'709'303'400'123'456'789;  // 2024-03-01T14:30:00.123456789Z, advanced a day a bar
    rig.bars("GOOG", {"100", "101.5"});
    REQUIRE(rig.signals.size() == 1);
    const Event& s = rig.signals[0];
    CHECK(s.ts_ns == 1'709'303'400'123'456'789 + 2 * kDay);
    CHECK(s.symbol == "GOOG");
    CHECK(s.as<Signal>().price == D("101.5"));
    const Event& stored = rig.store.events().back();
    CHECK(stored.type() == EventType::kSignal);
    CHECK(stored.ts_ns == s.ts_ns);
  }

  TEST_CASE("ticks drive the moving average like bar closes") {
    Rig rig(2);
    std::vector<Event>& signals = rig.signals;
    rig.bus.publish(make_event(1000, "EURUSD", Tick{D("1.1"), D("5")}));
    rig.bus.publish(make_event(2000, "EURUSD", Tick{D("1.2"), D("5")}));
    rig.bus.publish(make_event(3000, "EURUSD", Tick{D("1.0"), D("5")}));
    REQUIRE(signals.size() == 2);
    CHECK(signals[0].as<Signal>().direction == Direction::kLong);
    CHECK(signals[0].as<Signal>().price == D("1.2"));
    CHECK(signals[0].ts_ns == 2000);
    CHECK(signals[1].as<Signal>().direction == Direction::kExit);
    CHECK(signals[1].as<Signal>().price == D("1"));
    CHECK(signals[1].ts_ns == 3000);
  }

  TEST_CASE("the GOOG daily series gives the seed's signals, fills and PnL") {
    MemoryStore store;
    TradingConfig config;
    config.risk.quantity = D("1");
    TradingSystem system(store, config);
    CsvMarketData data(std::string(BLOTTER_TEST_DATA) + "/goog_daily.csv",
                       CsvOptions{MarketDataKind::kBars, "GOOG"});
    CHECK(system.feed().publish_all(data) == 1047);

    int longs = 0, exits = 0;
    for (const Event& e : store.events()) {
      if (const auto* s = e.get_if<Signal>()) (s->direction == Direction::kLong ? longs : exits)++;
    }
    CHECK(longs == 41);
    CHECK(exits == 49);
    CHECK(system.bus().published(EventType::kSignal) == 90);
    CHECK(system.bus().published(EventType::kFill) == 76);
    CHECK(system.bus().published(EventType::kHandlerError) == 0);
    CHECK(system.portfolio().realized_pnl() == D("278.75"));
    const Position* goog = system.portfolio().position("GOOG");
    REQUIRE(goog != nullptr);
    CHECK(goog->quantity == D("0"));
    CHECK(goog->cost == D("0"));
  }
}
