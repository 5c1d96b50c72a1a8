#include "blotter/breakout.h"

#include <doctest/doctest.h>
#include <fmt/format.h>

#include <array>
#include <memory>
#include <string>
#include <vector>

#include "blotter/error.h"
#include "blotter/execution_engine.h"
#include "blotter/market_data.h"
#include "blotter/store.h"
#include "blotter/trading_system.h"
#include "breakout_reference.h"
#include "test_support.h"

namespace {

using namespace blotter;
using blotter::testing::BreakoutRig;
using blotter::testing::D;

constexpr TimestampNs kDay = 86'400LL * 1'000'000'000;

// A BreakoutRig fed bars by hand, one a day.
struct Rig : BreakoutRig {
  Rig(int entry, int exit) : BreakoutRig(BreakoutConfig{entry, exit}) {}
  // Publishes one BAR of `symbol`; returns its seq.
  Seq bar(const std::string& symbol, const char* high, const char* low, const char* close) {
    return bus.publish(
        make_event(ts += kDay, symbol, Bar{D(close), D(high), D(low), D(close), D("10")}));
  }
  Seq tick(const std::string& symbol, const char* price) {
    return bus.publish(make_event(ts += kDay, symbol, Tick{D(price), D("1")}));
  }
  std::string directions() const { return directions_of(""); }
  // The signals of `symbol` (every symbol's if empty): L for long, X for exit.
  std::string directions_of(const std::string& symbol) const {
    std::string out;
    for (const Event& e : signals)
      if (symbol.empty() || e.symbol == symbol)
        out += e.as<Signal>().direction == Direction::kLong ? 'L' : 'X';
    return out;
  }

  TimestampNs ts = 0;
};

// The bars of the GOOG series, as the CSV source gives them.
std::vector<Event> goog_bars() {
  CsvMarketData data(std::string(BLOTTER_TEST_DATA) + "/goog_daily.csv",
                     CsvOptions{MarketDataKind::kBars, "GOOG"});
  std::vector<Event> bars;
  while (auto e = data.next()) bars.push_back(std::move(*e));
  return bars;
}

// What a signal says, for comparing the signals of two runs.
std::string describe(const Event& e) {
  const Signal& s = e.as<Signal>();
  return fmt::format("{} {} {} {} {}", e.ts_ns, e.symbol,
                     s.direction == Direction::kLong ? "long" : "exit", s.price.to_string(),
                     s.reason);
}

}  // namespace

TEST_SUITE("breakout") {
  TEST_CASE("entry and exit below 1 are refused, naming the field") {
    try {
      Breakout(BreakoutConfig{0, 10});
      FAIL("entry 0 accepted");
    } catch (const ConfigError& e) {
      CHECK(e.fields() == std::vector<std::string>{"entry"});
      CHECK(std::string(e.what()) == "entry must be at least 1 (got 0)");
    }
    try {
      Breakout(BreakoutConfig{20, -3});
      FAIL("exit -3 accepted");
    } catch (const ConfigError& e) {
      CHECK(e.fields() == std::vector<std::string>{"exit"});
      CHECK(std::string(e.what()) == "exit must be at least 1 (got -3)");
    }
    CHECK_NOTHROW(Breakout(BreakoutConfig{1, 1}));
    const Breakout defaults;
    CHECK(defaults.config().entry == 20);
    CHECK(defaults.config().exit == 10);
    CHECK(defaults.name() == "breakout");
    CHECK(defaults.version() == 1);
  }

  TEST_CASE("no long signal until there are entry previous bars") {
    Rig rig(3, 10);
    // Each close is above every high before it, but bars 2 and 3 have
    // fewer than 3 bars before them.
    rig.bar("A", "10", "9", "10");
    rig.bar("A", "11", "10", "11");
    rig.bar("A", "12", "11", "12");
    CHECK(rig.signals.empty());
    // Bar 4: 13 above the highest high of bars 1-3, 12.
    const Seq fourth = rig.bar("A", "13", "12", "13");
    REQUIRE(rig.signals.size() == 1);
    CHECK(rig.signals[0].seq == fourth + 1);
    CHECK(rig.signals[0].as<Signal>().direction == Direction::kLong);
    CHECK(rig.signals[0].as<Signal>().price == D("13"));
  }

  TEST_CASE("no exit signal until there are exit previous bars") {
    Rig rig(10, 2);
    rig.bar("A", "10", "9", "9.5");
    // Below the one low before it, 9, but one bar is not two.
    rig.bar("A", "9", "8", "7.5");
    CHECK(rig.signals.empty());
    // Below the lowest low of bars 1-2, 8.
    rig.bar("A", "8", "6", "6.5");
    CHECK(rig.directions() == "X");
    CHECK(rig.signals[0].as<Signal>().price == D("6.5"));
  }

  TEST_CASE("the current bar is never part of its own channel") {
    SUBCASE("long: a close below the bar's own high") {
      Rig rig(2, 2);
      rig.bar("A", "10", "9", "9.5");
      rig.bar("A", "10", "9", "9.5");
      // Its own high, 15, is above the close; the previous highs are not.
      rig.bar("A", "15", "9", "12");
      CHECK(rig.directions() == "L");
    }
    SUBCASE("exit: a close above the bar's own low") {
      Rig rig(2, 2);
      rig.bar("A", "10", "9", "9.5");
      rig.bar("A", "10", "9", "9.5");
      // Its own low, 5, is below the close; the previous lows are not.
      rig.bar("A", "10", "5", "8");
      CHECK(rig.directions() == "X");
    }
    SUBCASE("the oldest bar leaves the channel as the newest joins it") {
      Rig rig(2, 2);
      rig.bar("A", "20", "9", "10");
      rig.bar("A", "11", "9", "10");
      rig.bar("A", "11", "9", "10");
      // The channel is bars 2-3 (high 11), not 1-3 (high 20).
      rig.bar("A", "12", "9", "12");
      CHECK(rig.directions() == "L");
    }
  }

  TEST_CASE("a close equal to the channel bound is not a breakout") {
    Rig rig(2, 2);
    rig.bar("A", "10", "8", "9");
    rig.bar("A", "10", "8", "9");
    // The close ties the highest high, 10.
    rig.bar("A", "11", "7", "10");
    CHECK(rig.signals.empty());
    // The close ties the lowest low of bars 2-3, 7.
    rig.bar("A", "10", "7", "7");
    CHECK(rig.signals.empty());
    // One unit of the last place above the highest high of bars 3-4, 11.
    rig.bar("A", "12", "7", "11.00000001");
    CHECK(rig.directions() == "L");
  }

  TEST_CASE("a signal marks the bar the condition starts on, not every bar it holds") {
    Rig rig(2, 2);
    rig.bar("A", "10", "9", "9.5");
    rig.bar("A", "10", "9", "9.5");
    rig.bar("A", "12", "11", "11");    // above 10: long
    rig.bar("A", "13", "12", "12.5");  // above 12 still: nothing
    rig.bar("A", "14", "13", "13.5");  // above 13 still: nothing
    rig.bar("A", "13.5", "12", "12");  // not above 14
    rig.bar("A", "16", "15", "15");    // above 14 again: long
    CHECK(rig.directions() == "LL");
    CHECK(rig.signals[1].as<Signal>().price == D("15"));
    rig.bar("A", "15", "10", "11");  // below 12: exit
    rig.bar("A", "10", "9", "9");    // below 10 still: nothing
    rig.bar("A", "9", "8", "8.5");   // below 9 still: nothing
    rig.bar("A", "9", "8", "8.75");  // not below 8
    rig.bar("A", "8", "7", "7.5");   // below 8 again: exit
    CHECK(rig.directions() == "LLXX");
    CHECK(rig.signals[2].as<Signal>().price == D("11"));
    CHECK(rig.signals[3].as<Signal>().price == D("7.5"));
  }

  TEST_CASE("the entry and exit windows are counted separately") {
    Rig rig(3, 1);
    rig.bar("A", "10", "9", "9.5");
    // One bar before it is the whole exit window; the entry window needs three.
    rig.bar("A", "10", "9", "8.5");
    CHECK(rig.directions() == "X");
    Rig longer_exit(1, 3);
    longer_exit.bar("A", "10", "9", "9.5");
    longer_exit.bar("A", "10", "9", "10.5");
    longer_exit.bar("A", "10", "2", "3");
    longer_exit.bar("A", "10", "9", "1");  // below the lowest low of bars 1-3, 2
    CHECK(longer_exit.directions() == "LX");
  }

  TEST_CASE("each symbol has its own channel") {
    Rig rig(1, 1);
    // Interleaved, A rises and B falls; in one channel each would be
    // compared with the other's bar.
    rig.bar("A", "10", "9", "10");
    rig.bar("B", "100", "99", "100");
    const Seq a = rig.bar("A", "11", "10", "11");
    const Seq b = rig.bar("B", "50", "49", "50");
    REQUIRE(rig.signals.size() == 2);
    CHECK(rig.signals[0].symbol == "A");
    CHECK(rig.signals[0].seq == a + 1);
    CHECK(rig.signals[0].as<Signal>().direction == Direction::kLong);
    CHECK(rig.signals[1].symbol == "B");
    CHECK(rig.signals[1].seq == b + 1);
    CHECK(rig.signals[1].as<Signal>().direction == Direction::kExit);
  }

  TEST_CASE("many interleaved symbols signal as each does alone") {
    const std::vector<std::array<const char*, 3>> bars = {
        {"10", "9", "9.5"}, {"11", "9", "10"},  {"12", "10", "11.5"}, {"12", "11", "12.5"},
        {"13", "8", "9"},   {"10", "7", "7.5"}, {"9", "7", "8"},      {"14", "8", "13.5"}};
    Rig together(3, 2);
    std::vector<std::string> alone;
    for (int s = 0; s < 40; ++s) {
      Rig single(3, 2);
      for (const auto& [high, low, close] : bars)
        single.bar("S" + std::to_string(s), high, low, close);
      alone.push_back(single.directions());
    }
    for (const auto& [high, low, close] : bars)
      for (int s = 0; s < 40; ++s) together.bar("S" + std::to_string(s), high, low, close);
    CHECK(alone[0] == "LXL");
    for (std::size_t s = 0; s < 40; ++s)
      CHECK(together.directions_of("S" + std::to_string(s)) == alone[s]);
  }

  TEST_CASE("a tick counts as a bar whose high, low and close are its price") {
    Rig rig(2, 2);
    rig.tick("EURUSD", "1.1");
    rig.tick("EURUSD", "1.2");
    rig.tick("EURUSD", "1.3");  // above 1.2
    rig.tick("EURUSD", "1.0");  // below 1.2
    CHECK(rig.directions() == "LX");
    CHECK(rig.signals[0].as<Signal>().price == D("1.3"));
    CHECK(rig.signals[1].as<Signal>().price == D("1"));
    // Ticks and bars of one symbol share its channel: the bar's high 1.5
    // is the tick's bound.
    rig.bar("EURUSD", "1.5", "0.9", "1.2");
    rig.tick("EURUSD", "1.4");  // not above 1.5
    rig.tick("EURUSD", "1.6");  // above 1.5
    CHECK(rig.directions() == "LXL");
  }

  TEST_CASE("a signal carries the bar's time, symbol and close, and names the channel bound") {
    Rig rig(2, 3);
    rig.ts = 1'709'303'400'123'456'789;  // 2024-03-01T14:30:00.123456789Z, then a day a bar
    rig.bar("GOOG", "100.25", "99", "100");
    rig.bar("GOOG", "100.5", "98", "100");
    rig.bar("GOOG", "102", "99", "101.75");
    rig.bar("GOOG", "102", "97", "97.5");
    REQUIRE(rig.signals.size() == 2);
    const Event& up = rig.signals[0];
    CHECK(up.ts_ns == 1'709'303'400'123'456'789 + 3 * kDay);
    CHECK(up.symbol == "GOOG");
    CHECK(up.as<Signal>().price == D("101.75"));
    CHECK(up.as<Signal>().reason == "close 101.75 above the 2-bar high 100.5");
    CHECK(rig.signals[1].as<Signal>().reason == "close 97.5 below the 3-bar low 98");
    const Event& stored = rig.store.events().back();
    CHECK(stored.type() == EventType::kSignal);
    CHECK(stored.as<Signal>().reason == "close 97.5 below the 3-bar low 98");
  }

  TEST_CASE("the state holds the last max(entry, exit) bars of each symbol, oldest first") {
    Rig rig(2, 3);
    rig.bar("A", "10", "9", "9.5");
    rig.bar("A", "11", "10", "10.5");
    rig.bar("A", "12", "11", "12");  // above 11: long
    rig.bar("A", "13", "12", "13");  // above 12
    rig.bar("B", "5", "4", "4.5");
    const Breakout::State& state = rig.strategy.state();
    REQUIRE(state.size() == 2);
    const Breakout::Channel& a = state.at("A");
    REQUIRE(a.bars.size() == 3);
    CHECK(a.bars[0].high == D("11"));
    CHECK(a.bars[0].low == D("10"));
    CHECK(a.bars[2].high == D("13"));
    CHECK(a.above);
    CHECK_FALSE(a.below);
    CHECK(state.at("B").bars.size() == 1);
    CHECK_FALSE(state.at("B").above);
  }

  TEST_CASE("a copy or an assigned strategy goes on with its own state, not the original's") {
    Rig original(2, 3);
    original.bar("A", "10", "9", "9.5");
    original.bar("A", "11", "10", "10.5");
    const Breakout copy(original.strategy);
    Rig assigned(2, 3);
    // A has the same bus id in both rigs: an index copied along would
    // point the assigned strategy at the original's channel.
    assigned.bar("A", "5", "4", "4.5");
    assigned.strategy = original.strategy;
    // Each goes on from two bars of A: on its own bus, into its own state.
    assigned.bar("A", "12", "11", "12");
    original.bar("A", "20", "19", "19.5");
    original.bar("A", "21", "20", "20.5");
    REQUIRE(assigned.strategy.state().at("A").bars.size() == 3);
    CHECK(assigned.strategy.state().at("A").bars[2].high == D("12"));
    REQUIRE(original.strategy.state().at("A").bars.size() == 3);
    CHECK(original.strategy.state().at("A").bars[2].high == D("21"));
    CHECK(copy.state().at("A").bars.size() == 2);
    CHECK(assigned.strategy.state().at("A").bars[0].high == D("10"));
  }

  TEST_CASE("save_state() text restores to the same state, in any JSON layout") {
    Rig original(2, 2);
    original.bar("A\"B", "10", "9", "9.5");
    original.bar("A\"B", "10.5", "9", "10");
    original.bar("A\"B", "12", "10", "11");  // above 10.5: long
    original.bar("Z", "7", "6.5", "7");
    const std::string text = original.strategy.save_state();
    CHECK(text == R"({"A\"B":{"bars":[["10.5","9"],["12","10"]],"above":true,"below":false},)"
                  R"("Z":{"bars":[["7","6.5"]],"above":false,"below":false}})");
    // Still above: nothing; then below 10: exit.
    original.bar("A\"B", "13", "11", "12.5");
    original.bar("A\"B", "12", "9", "9.5");
    REQUIRE(original.directions() == "LX");
    const std::string after = original.strategy.save_state();
    for (const std::string& layout :
         {text, std::string(R"({ "Z": {"below":false,"above":false,"bars":[["7","6.5"]]},)"
                            R"( "A\"B":{"above":true, "bars":[ ["10.5","9"], ["12","10"] ],)"
                            R"( "below":false} })")}) {
      Rig restored(2, 2);
      restored.strategy.restore_state(layout);
      CHECK(restored.strategy.save_state() == text);
      restored.bar("A\"B", "13", "11", "12.5");
      restored.bar("A\"B", "12", "9", "9.5");
      CHECK(restored.directions() == "X");
      CHECK(restored.strategy.save_state() == after);
    }
    Rig bad(2, 2);
    bad.bar("A", "10", "9", "9.5");
    const std::string before = bad.strategy.save_state();
    CHECK_THROWS_WITH_AS(bad.strategy.restore_state(R"({"A":{"bars":[["1",2]]}})"),
                         doctest::Contains("state.signals.A.bars[0][1]"), Error);
    CHECK_THROWS_WITH_AS(bad.strategy.restore_state(R"({"A":{"bars":[["1"]]}})"),
                         doctest::Contains("state.signals.A.bars[0]: expected [high, low]"), Error);
    CHECK_THROWS_WITH_AS(bad.strategy.restore_state(R"({"A":{"bars":[],"above":false}})"),
                         doctest::Contains("state.signals.A.below: missing"), Error);
    CHECK_THROWS_WITH_AS(bad.strategy.restore_state("{"), doctest::Contains("invalid JSON"), Error);
    CHECK(bad.strategy.save_state() == before);
    CHECK(Breakout().save_state() == "{}");
  }

  TEST_CASE("a restored channel longer than the windows keeps its latest bars") {
    // As a state saved with longer windows, restored with shorter ones.
    Breakout::State state;
    for (const char* high : {"20", "11", "10"}) state["A"].bars.push_back({D(high), D("9")});
    Rig rig(2, 1);
    rig.strategy.restore(state);
    REQUIRE(rig.strategy.state().at("A").bars.size() == 2);
    CHECK(rig.strategy.state().at("A").bars[0].high == D("11"));
    // Above 11 (the 20 was cut): long.
    rig.bar("A", "12", "10", "11.5");
    CHECK(rig.directions() == "L");
  }

  TEST_CASE("a strategy restored mid-series signals as the one that ran through") {
    const std::vector<Event> bars = goog_bars();
    REQUIRE(bars.size() == 1047);
    Rig through(20, 10);
    for (const Event& e : bars) through.bus.publish(e);
    REQUIRE(through.signals.size() > 100);
    for (const std::size_t cut :
         {std::size_t{5}, std::size_t{15}, std::size_t{25}, std::size_t{300}, std::size_t{1000}}) {
      INFO("restored after bar ", cut);
      Rig first(20, 10);
      for (std::size_t i = 0; i < cut; ++i) first.bus.publish(bars[i]);
      const std::string saved = first.strategy.save_state();
      // Another bus, where GOOG gets another symbol id than it had.
      Rig second(20, 10);
      second.bus.symbol_id("OTHER");
      second.strategy.restore_state(saved);
      CHECK(second.strategy.save_state() == saved);
      // And the first strategy itself, given back its own state.
      first.strategy.restore_state(saved);
      const std::size_t first_before = first.signals.size();
      for (std::size_t i = cut; i < bars.size(); ++i) {
        second.bus.publish(bars[i]);
        first.bus.publish(bars[i]);
      }
      std::vector<std::string> expected, got, got_first;
      for (const Event& e : through.signals)
        if (e.ts_ns > bars[cut - 1].ts_ns) expected.push_back(describe(e));
      for (const Event& e : second.signals) got.push_back(describe(e));
      for (std::size_t i = first_before; i < first.signals.size(); ++i)
        got_first.push_back(describe(first.signals[i]));
      CHECK(got == expected);
      CHECK(got_first == expected);
      CHECK(second.strategy.save_state() == through.strategy.save_state());
    }
  }

  TEST_CASE("the GOOG series gives the reference signals") {
    const std::string csv = std::string(BLOTTER_TEST_DATA) + "/goog_daily.csv";
    SUBCASE("entry 20, exit 10") {
      blotter::testing::check_breakout_reference(csv, "GOOG", "goog", {20, 10});
    }
    SUBCASE("entry 55, exit 20") {
      blotter::testing::check_breakout_reference(csv, "GOOG", "goog", {55, 20});
    }
  }

  TEST_CASE("through the trading system, the GOOG series trades on the reference signals") {
    // The figures follow from goog_20_10.csv alone: a fill at the close of
    // each long signal while flat and of each exit signal while long,
    // quantity 1, no costs; a long signal while long is refused.
    MemoryStore store;
    TradingConfig config;
    config.risk.quantity = D("1");
    TradingSystem system(store, config, std::make_unique<Breakout>(BreakoutConfig{20, 10}),
                         std::make_unique<ExecutionEngine>(config.execution));
    CsvMarketData data(std::string(BLOTTER_TEST_DATA) + "/goog_daily.csv",
                       CsvOptions{MarketDataKind::kBars, "GOOG"});
    CHECK(system.feed().publish_all(data) == 1047);
    CHECK(system.strategy().name() == "breakout");
    CHECK(system.bus().published(EventType::kSignal) == 117);
    CHECK(system.bus().published(EventType::kRiskRejected) == 46);
    CHECK(system.bus().published(EventType::kFill) == 36);
    CHECK(system.bus().published(EventType::kHandlerError) == 0);
    CHECK(system.portfolio().realized_pnl() == D("280.4"));
    const Position* goog = system.portfolio().position("GOOG");
    REQUIRE(goog != nullptr);
    CHECK(goog->quantity == D("0"));
  }
}
