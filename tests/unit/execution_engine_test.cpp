#include "blotter/execution_engine.h"

#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "blotter/error.h"
#include "blotter/store.h"
#include "test_support.h"

namespace {

using namespace blotter;
using blotter::testing::D;
using blotter::testing::T;

// An ExecutionEngine on a bus over a MemoryStore; ORDERs and market events are
// published by hand and the FILLs collected.
struct Rig {
  explicit Rig(ExecutionConfig config = {}) : engine(bus, config) {
    bus.subscribe(EventType::kFill, "Collector", [this](const Event& e) { fills.push_back(e); });
  }
  Seq order(TimestampNs ts, const std::string& symbol, Side side, const char* quantity,
            const char* price) {
    return bus.publish(make_event(ts, symbol, Order{side, D(quantity), D(price), 7}));
  }
  Seq bar(TimestampNs ts, const std::string& symbol, const char* open, const char* close) {
    return bus.publish(make_event(ts, symbol, Bar{D(open), D(open), D(close), D(close), D("10")}));
  }

  MemoryStore store;
  EventBus bus{store};
  ExecutionEngine engine;
  std::vector<Event> fills;
};

ExecutionConfig next_open() {
  ExecutionConfig c;
  c.fill = FillModel::kNextOpen;
  return c;
}

}  // namespace

TEST_SUITE("execution_engine") {
  TEST_CASE("an order fills at once at its price and time") {
    Rig rig;
    const Seq o = rig.order(1'000, "GOOG", Side::kBuy, "3", "101.5");
    REQUIRE(rig.fills.size() == 1);
    const Event& f = rig.fills[0];
    CHECK(f.seq == o + 1);
    CHECK(f.ts_ns == 1'000);
    CHECK(f.symbol == "GOOG");
    CHECK(f.as<Fill>().side == Side::kBuy);
    CHECK(f.as<Fill>().quantity == D("3"));
    CHECK(f.as<Fill>().price == D("101.5"));
    CHECK(f.as<Fill>().commission == D("0"));
    CHECK(f.as<Fill>().order_seq == o);
    CHECK(rig.engine.pending_orders() == 0);
  }

  TEST_CASE("with signal fills, market events fill nothing") {
    Rig rig;
    rig.bar(1, "GOOG", "100", "101");
    rig.bus.publish(make_event(2, "GOOG", Tick{D("100"), D("1")}));
    CHECK(rig.fills.empty());
    CHECK(rig.store.last_seq() == 2);
  }

  TEST_CASE("slippage moves buys up and sells down by basis points") {
    ExecutionConfig config;
    config.slippage_bps = D("10");
    Rig rig(config);
    rig.order(1, "GOOG", Side::kBuy, "1", "100");
    rig.order(2, "GOOG", Side::kSell, "1", "100");
    REQUIRE(rig.fills.size() == 2);
    CHECK(rig.fills[0].as<Fill>().price == D("100.1"));
    CHECK(rig.fills[1].as<Fill>().price == D("99.9"));
  }

  TEST_CASE("slippage is rounded half to even at eight places") {
    ExecutionConfig config;
    config.slippage_bps = D("0.0001");  // 1e-8 of the price
    Rig rig(config);
    rig.order(1, "A", Side::kBuy, "1", "2.5");   // slip 2.5e-8 -> 2e-8
    rig.order(2, "A", Side::kBuy, "1", "1.5");   // slip 1.5e-8 -> 2e-8
    rig.order(3, "A", Side::kSell, "1", "3.5");  // slip 3.5e-8 -> 4e-8
    REQUIRE(rig.fills.size() == 3);
    CHECK(rig.fills[0].as<Fill>().price == D("2.50000002"));
    CHECK(rig.fills[1].as<Fill>().price == D("1.50000002"));
    CHECK(rig.fills[2].as<Fill>().price == D("3.49999996"));
  }

  TEST_CASE("commission is charged per unit on every fill") {
    ExecutionConfig config;
    config.commission = D("0.005");
    Rig rig(config);
    rig.order(1, "GOOG", Side::kBuy, "300", "10");
    rig.order(2, "GOOG", Side::kSell, "120", "11");
    REQUIRE(rig.fills.size() == 2);
    CHECK(rig.fills[0].as<Fill>().commission == D("1.5"));
    CHECK(rig.fills[1].as<Fill>().commission == D("0.6"));
    CHECK(rig.fills[0].as<Fill>().price == D("10"));  // commission does not move the price
  }

  TEST_CASE("next-open orders fill at the open of the symbol's next bar with its time") {
    ExecutionConfig config = next_open();
    config.slippage_bps = D("100");
    Rig rig(config);
    const Seq o = rig.order(1'000, "GOOG", Side::kBuy, "2", "150");
    CHECK(rig.fills.empty());
    CHECK(rig.engine.pending_orders() == 1);

    rig.bar(2'000, "MSFT", "300", "301");  // another symbol's bar fills nothing
    CHECK(rig.fills.empty());
    CHECK(rig.engine.pending_orders() == 1);

    const Seq b = rig.bar(3'000, "GOOG", "160", "170");
    REQUIRE(rig.fills.size() == 1);
    const Event& f = rig.fills[0];
    CHECK(f.ts_ns == 3'000);
    CHECK(f.symbol == "GOOG");
    CHECK(f.seq == b + 1);
    CHECK(f.as<Fill>().price == D("161.6"));  // the open plus 1%
    CHECK(f.as<Fill>().quantity == D("2"));
    CHECK(f.as<Fill>().order_seq == o);
    CHECK(rig.engine.pending_orders() == 0);

    rig.bar(4'000, "GOOG", "180", "180");  // filled orders do not fill again
    CHECK(rig.fills.size() == 1);
  }

  TEST_CASE("next-open orders of one symbol fill in order on the same bar") {
    Rig rig(next_open());
    const Seq first = rig.order(1, "A", Side::kBuy, "1", "10");
    const Seq second = rig.order(2, "A", Side::kSell, "1", "11");
    rig.bar(3, "A", "12", "12");
    REQUIRE(rig.fills.size() == 2);
    CHECK(rig.fills[0].as<Fill>().order_seq == first);
    CHECK(rig.fills[0].as<Fill>().side == Side::kBuy);
    CHECK(rig.fills[1].as<Fill>().order_seq == second);
    CHECK(rig.fills[1].as<Fill>().side == Side::kSell);
    CHECK(rig.fills[1].as<Fill>().price == D("12"));
  }

  TEST_CASE("next-open orders fill at the next tick's price") {
    Rig rig(next_open());
    const Seq o = rig.order(1, "EURUSD", Side::kSell, "1000", "1.08");
    rig.bus.publish(make_event(5, "EURUSD", Tick{D("1.0815"), D("1")}));
    REQUIRE(rig.fills.size() == 1);
    CHECK(rig.fills[0].ts_ns == 5);
    CHECK(rig.fills[0].as<Fill>().price == D("1.0815"));
    CHECK(rig.fills[0].as<Fill>().order_seq == o);
  }

  TEST_CASE("pending orders are counted across symbols") {
    Rig rig(next_open());
    rig.order(1, "A", Side::kBuy, "1", "10");
    rig.order(2, "A", Side::kBuy, "1", "10");
    rig.order(3, "B", Side::kBuy, "1", "20");
    CHECK(rig.engine.pending_orders() == 3);
    rig.bar(4, "A", "11", "11");
    CHECK(rig.engine.pending_orders() == 1);
    CHECK(rig.fills.size() == 2);
    rig.bar(5, "B", "21", "21");
    CHECK(rig.engine.pending_orders() == 0);
    CHECK(rig.fills.size() == 3);
  }

  TEST_CASE("regression: a slippage of 10000 bps or more is refused (prices of 0 or less)") {
    MemoryStore store;
    EventBus bus(store);
    for (const char* bps : {"10000", "20000", "10000.00000001"}) {
      CAPTURE(bps);
      ExecutionConfig c;
      c.slippage_bps = D(bps);
      CHECK_THROWS_WITH_AS(ExecutionEngine(bus, c), doctest::Contains("must be below 10000"),
                           ConfigError);
    }
    ExecutionConfig most;
    most.slippage_bps = D("9999.99999999");
    CHECK_NOTHROW(ExecutionEngine(bus, most));
  }

  TEST_CASE("a slipped price that rounds to 0 is a handler's error, not a fill") {
    ExecutionConfig c;
    c.slippage_bps = D("9999");
    Rig rig(c);
    rig.order(1, "X", Side::kSell, "1", "0.00000001");
    CHECK(rig.fills.empty());
    CHECK(rig.bus.published(EventType::kHandlerError) == 1);
  }

  TEST_CASE("regression: a queued order that cannot fill does not drop the orders after it") {
    ExecutionConfig c = next_open();
    c.slippage_bps = D("9999");
    Rig rig(c);
    rig.order(1, "X", Side::kSell, "1", "0.00000001");  // slips to 0: no fill
    const Seq buy = rig.order(2, "X", Side::kBuy, "1", "0.00000001");
    rig.bar(3, "X", "0.00000001", "0.00000001");
    REQUIRE(rig.fills.size() == 1);
    CHECK(rig.fills[0].as<Fill>().order_seq == buy);
    CHECK(rig.bus.published(EventType::kHandlerError) == 1);
    CHECK(rig.engine.pending_orders() == 0);
  }

  TEST_CASE("negative slippage or commission is refused") {
    MemoryStore store;
    EventBus bus(store);
    ExecutionConfig slippage;
    slippage.slippage_bps = D("-1");
    CHECK_THROWS_AS(ExecutionEngine(bus, slippage), ConfigError);
    ExecutionConfig commission;
    commission.commission = D("-0.01");
    CHECK_THROWS_AS(ExecutionEngine(bus, commission), ConfigError);
    CHECK_NOTHROW(ExecutionEngine(bus, ExecutionConfig{}));
  }
}
