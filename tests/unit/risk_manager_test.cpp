#include "blotter/risk_manager.h"

#include <doctest/doctest.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "blotter/error.h"
#include "blotter/execution_engine.h"
#include "blotter/store.h"
#include "test_support.h"

namespace {

using namespace blotter;
using blotter::testing::D;
using blotter::testing::T;

// A RiskManager on a bus over a MemoryStore. With `fills`, an ExecutionEngine
// (subscribed first, as in TradingSystem) fills every ORDER at its price.
struct Rig {
  explicit Rig(RiskConfig config, bool fills = true, Calendar calendar = Calendar()) {
    if (fills) execution = std::make_unique<ExecutionEngine>(bus);
    risk = std::make_unique<RiskManager>(bus, std::move(config), std::move(calendar));
  }
  Seq bar(const char* time, const char* close, const std::string& symbol = "GOOG") {
    const Decimal c = D(close);
    return bus.publish(make_event(T(time), symbol, Bar{c, c, c, c, D("1000")}));
  }
  Seq signal(const char* time, Direction direction, const char* price,
             const std::string& symbol = "GOOG") {
    return bus.publish(make_event(T(time), symbol, Signal{direction, D(price), "test"}));
  }
  Seq go_long(const char* time, const char* price, const std::string& symbol = "GOOG") {
    return signal(time, Direction::kLong, price, symbol);
  }
  Seq go_exit(const char* time, const char* price, const std::string& symbol = "GOOG") {
    return signal(time, Direction::kExit, price, symbol);
  }
  // The events that followed `seq` in the journal.
  std::vector<Event> after(Seq seq) const {
    return {store.events().begin() + seq, store.events().end()};
  }
  // The ORDER for signal `seq`, or nullptr if there is none (or several).
  const Event* order_for(Seq seq) const { return answer(seq, EventType::kOrder); }
  // The RISK_REJECTED for signal `seq`, or nullptr.
  const Event* rejection_for(Seq seq) const { return answer(seq, EventType::kRiskRejected); }
  const Event* answer(Seq seq, EventType type) const {
    const Event* found = nullptr;
    for (const Event& e : store.events()) {
      const Order* o = e.get_if<Order>();
      const RiskRejected* r = e.get_if<RiskRejected>();
      const Seq cause = o ? o->signal_seq : r ? r->signal_seq : 0;
      if (e.type() != type || cause != seq) continue;
      if (found) return nullptr;
      found = &e;
    }
    return found;
  }

  MemoryStore store;
  EventBus bus{store};
  std::unique_ptr<ExecutionEngine> execution;
  std::unique_ptr<RiskManager> risk;
};

RiskConfig quantity(const char* q) {
  RiskConfig c;
  c.quantity = D(q);
  return c;
}

}  // namespace

TEST_SUITE("risk_manager") {
  TEST_CASE("a long signal while flat becomes a buy ORDER of the fixed quantity") {
    Rig rig(quantity("5"), /*fills=*/false);
    const Seq s = rig.go_long("2024-03-01T15:00:00Z", "101.25");
    const auto events = rig.after(s);
    REQUIRE(events.size() == 1);
    const Event& order = events[0];
    REQUIRE(order.type() == EventType::kOrder);
    CHECK(order.ts_ns == T("2024-03-01T15:00:00Z"));
    CHECK(order.symbol == "GOOG");
    CHECK(order.as<Order>().side == Side::kBuy);
    CHECK(order.as<Order>().quantity == D("5"));
    CHECK(order.as<Order>().price == D("101.25"));
    CHECK(order.as<Order>().signal_seq == s);
  }

  TEST_CASE("a long signal while already long is rejected") {
    SUBCASE("the position is filled") {
      Rig rig(quantity("1"));
      rig.go_long("2024-03-01T15:00:00Z", "100");
      CHECK(rig.risk->book().position("GOOG")->quantity == D("1"));
      const Seq s = rig.go_long("2024-03-01T16:00:00Z", "102");
      const auto events = rig.after(s);
      REQUIRE(events.size() == 1);
      REQUIRE(events[0].type() == EventType::kRiskRejected);
      const auto& r = events[0].as<RiskRejected>();
      CHECK(r.direction == Direction::kLong);
      CHECK(r.signal_seq == s);
      CHECK(r.reason.find("position limit") != std::string::npos);
      CHECK(events[0].ts_ns == T("2024-03-01T16:00:00Z"));
      CHECK(events[0].symbol == "GOOG");
    }
    SUBCASE("the entry is still pending") {
      Rig rig(quantity("1"), /*fills=*/false);
      rig.go_long("2024-03-01T15:00:00Z", "100");
      const Seq s = rig.go_long("2024-03-01T16:00:00Z", "102");
      REQUIRE(rig.rejection_for(s) != nullptr);
      CHECK(rig.order_for(s) == nullptr);
    }
  }

  TEST_CASE("a long signal for another symbol is not limited by this one's position") {
    Rig rig(quantity("1"));
    rig.go_long("2024-03-01T15:00:00Z", "100", "GOOG");
    const Seq s = rig.go_long("2024-03-01T15:00:00Z", "50", "MSFT");
    const Event* order = rig.order_for(s);
    REQUIRE(order != nullptr);
    CHECK(order->symbol == "MSFT");
  }

  TEST_CASE("an exit signal while flat is ignored") {
    Rig rig(quantity("1"));
    const Seq s = rig.go_exit("2024-03-01T15:00:00Z", "100");
    CHECK(rig.store.last_seq() == s);
    // Also after a completed round trip.
    rig.go_long("2024-03-01T16:00:00Z", "100");
    rig.go_exit("2024-03-01T17:00:00Z", "101");
    const Seq again = rig.go_exit("2024-03-01T18:00:00Z", "99");
    CHECK(rig.store.last_seq() == again);
  }

  TEST_CASE("an exit sells the whole open and pending long position") {
    SUBCASE("filled") {
      Rig rig(quantity("3"));
      rig.go_long("2024-03-01T15:00:00Z", "100");
      const Seq s = rig.go_exit("2024-03-01T16:00:00Z", "104");
      const Event* order = rig.order_for(s);
      REQUIRE(order != nullptr);
      CHECK(order->as<Order>().side == Side::kSell);
      CHECK(order->as<Order>().quantity == D("3"));
      CHECK(order->as<Order>().price == D("104"));
      CHECK(order->as<Order>().signal_seq == s);
      CHECK(rig.risk->book().position("GOOG")->quantity == D("0"));
    }
    SUBCASE("pending") {
      Rig rig(quantity("3"), /*fills=*/false);
      rig.go_long("2024-03-01T15:00:00Z", "100");
      const Seq s = rig.go_exit("2024-03-01T16:00:00Z", "104");
      const Event* order = rig.order_for(s);
      REQUIRE(order != nullptr);
      CHECK(order->as<Order>().quantity == D("3"));
      // The pending exit offsets the pending entry: a second exit finds nothing to sell.
      const Seq again = rig.go_exit("2024-03-01T17:00:00Z", "103");
      CHECK(rig.store.last_seq() == again);
    }
  }

  TEST_CASE("state() lists pending quantities of every symbol that had an order, zero included") {
    Rig rig(quantity("3"), /*fills=*/false);
    rig.go_long("2024-03-01T15:00:00Z", "100", "AAA");
    rig.go_long("2024-03-01T15:00:00Z", "50", "BBB");
    rig.go_exit("2024-03-01T16:00:00Z", "104", "AAA");
    rig.go_exit("2024-03-01T16:00:00Z", "104", "CCC");  // flat: no order, no entry
    const RiskManager::State state = rig.risk->state();
    CHECK(state.pending == std::map<std::string, Decimal>{{"AAA", D("0")}, {"BBB", D("3")}});

    Rig restored(quantity("3"), /*fills=*/false);
    restored.risk->restore(state);
    CHECK(restored.risk->state().pending == state.pending);
    // The restored pending entry counts: BBB is already at its one order's size.
    const Seq s = restored.go_long("2024-03-01T17:00:00Z", "50", "BBB");
    CHECK(restored.rejection_for(s) != nullptr);
    const Seq a = restored.go_long("2024-03-01T17:00:00Z", "100", "AAA");
    CHECK(restored.order_for(a) != nullptr);
  }

  TEST_CASE("fixed-fractional sizing buys floor(equity * risk / price) units") {
    RiskConfig config;
    config.capital = D("10000");
    config.risk_per_trade = D("0.1");
    Rig rig(config);
    // 10000 * 0.1 / 33 = 30.3 -> 30.
    Seq s = rig.go_long("2024-03-01T15:00:00Z", "33");
    const Event* first = rig.order_for(s);
    REQUIRE(first != nullptr);
    CHECK(first->as<Order>().quantity == D("30"));

    // Equity includes unrealized PnL: marked at 43, 30 units gained 300.
    rig.bar("2024-03-01T16:00:00Z", "43");
    CHECK(rig.risk->book().unrealized_pnl() == D("300"));
    rig.go_exit("2024-03-01T16:00:00Z", "43");
    CHECK(rig.risk->book().realized_pnl() == D("300"));
    // And realized PnL: 10300 * 0.1 / 10 = 103.
    s = rig.go_long("2024-03-01T17:00:00Z", "10");
    const Event* second = rig.order_for(s);
    REQUIRE(second != nullptr);
    CHECK(second->as<Order>().quantity == D("103"));
  }

  TEST_CASE("fixed-fractional sizing rejects an entry that rounds down to zero units") {
    RiskConfig config;
    config.capital = D("100");
    config.risk_per_trade = D("0.01");
    Rig rig(config);
    // 100 * 0.01 / 50 = 0.02 -> 0.
    const Seq s = rig.go_long("2024-03-01T15:00:00Z", "50");
    const auto events = rig.after(s);
    REQUIRE(events.size() == 1);
    REQUIRE(events[0].type() == EventType::kRiskRejected);
    CHECK(events[0].as<RiskRejected>().signal_seq == s);
    CHECK(events[0].as<RiskRejected>().reason.find("size is zero") != std::string::npos);
    // One unit exactly is enough: 100 * 0.01 / 1 = 1.
    const Seq ok = rig.go_long("2024-03-01T16:00:00Z", "1");
    const Event* order = rig.order_for(ok);
    REQUIRE(order != nullptr);
    CHECK(order->as<Order>().quantity == D("1"));
  }

  TEST_CASE("max_position allows adding up to the limit, pending orders included") {
    RiskConfig config = quantity("4");
    config.max_position = D("10");
    Rig rig(config, /*fills=*/false);
    const Seq a = rig.go_long("2024-03-01T15:00:00Z", "100");
    const Seq b = rig.go_long("2024-03-01T15:01:00Z", "100");
    const Seq c = rig.go_long("2024-03-01T15:02:00Z", "100");  // 8 + 4 > 10
    CHECK(rig.order_for(a) != nullptr);
    CHECK(rig.order_for(b) != nullptr);
    CHECK(rig.order_for(c) == nullptr);
    const Event* rejected = rig.rejection_for(c);
    REQUIRE(rejected != nullptr);
    CHECK(rejected->as<RiskRejected>().signal_seq == c);

    RiskConfig exact = quantity("5");
    exact.max_position = D("10");
    Rig at_limit(exact);
    at_limit.go_long("2024-03-01T15:00:00Z", "100");
    const Seq full = at_limit.go_long("2024-03-01T15:01:00Z", "100");  // 5 + 5 = 10: allowed
    CHECK(at_limit.order_for(full) != nullptr);
    CHECK(at_limit.risk->book().position("GOOG")->quantity == D("10"));
  }

  TEST_CASE("the daily loss limit halts entries for the rest of the day but not exits") {
    RiskConfig config = quantity("1");
    config.capital = D("1000");  // limit: 2% of 1000 = 20
    Rig rig(config);
    CHECK(rig.risk->daily_loss_limit() == D("20"));
    rig.bar("2024-03-04T14:30:00Z", "100");
    rig.go_long("2024-03-04T14:30:00Z", "100");
    rig.bar("2024-03-04T15:00:00Z", "80.01");  // day PnL -19.99: not yet
    CHECK_FALSE(rig.risk->entries_halted());
    CHECK(rig.risk->daily_loss_used() == D("19.99"));
    rig.bar("2024-03-04T15:30:00Z", "80");  // -20: at the limit
    CHECK(rig.risk->entries_halted());
    CHECK(rig.risk->daily_loss_used() == D("20"));

    // The exit still gets out.
    const Seq exit = rig.go_exit("2024-03-04T16:00:00Z", "80");
    const Event* sell = rig.order_for(exit);
    REQUIRE(sell != nullptr);
    CHECK(sell->as<Order>().side == Side::kSell);
    CHECK(rig.risk->book().realized_pnl() == D("-20"));

    // Prices recover, but entries stay halted for the day.
    rig.bar("2024-03-04T17:00:00Z", "120");
    const Seq entry = rig.go_long("2024-03-04T23:59:59.999999999Z", "120");
    CHECK(rig.order_for(entry) == nullptr);
    const Event* rejected = rig.rejection_for(entry);
    REQUIRE(rejected != nullptr);
    CHECK(rejected->as<RiskRejected>().direction == Direction::kLong);
    CHECK(rejected->as<RiskRejected>().signal_seq == entry);
    CHECK(rejected->as<RiskRejected>().reason.find("daily loss limit") != std::string::npos);
  }

  TEST_CASE("regression: a rejection names the PnL and time that halted the day, not today's") {
    RiskConfig config = quantity("1");
    config.capital = D("1000");  // limit 20
    Rig rig(config);
    rig.go_long("2024-03-04T14:30:00Z", "100");
    rig.bar("2024-03-04T15:00:00Z", "79.5");  // day PnL -20.5: halted here
    REQUIRE(rig.risk->entries_halted());
    rig.bar("2024-03-04T16:00:00Z", "130");  // day PnL +30: recovered, still halted
    CHECK(rig.risk->book().day_pnl() == D("30"));
    CHECK(rig.risk->entries_halted());
    // The loss that counts is the one that halted the day, not 0.
    CHECK(rig.risk->daily_loss_used() == D("20.5"));
    REQUIRE(rig.risk->halt().has_value());
    CHECK(rig.risk->halt()->day_pnl == D("-20.5"));
    CHECK(rig.risk->halt()->ts_ns == T("2024-03-04T15:00:00Z"));

    const Seq entry = rig.go_long("2024-03-04T17:00:00Z", "130");
    const Event* rejected = rig.rejection_for(entry);
    REQUIRE(rejected != nullptr);
    const std::string& reason = rejected->as<RiskRejected>().reason;
    CHECK(reason ==
          "daily loss limit: entries halted for 2024-03-04: day PnL -20.5 reached the limit -20 "
          "(0.02 of capital 1000) at 2024-03-04T15:00:00Z");
    CHECK(reason.find("30") == std::string::npos);

    // The halt survives state() and restore().
    MemoryStore other_store;
    EventBus other_bus{other_store};
    RiskManager copy(other_bus, config);
    copy.restore(rig.risk->state());
    CHECK(copy.entries_halted());
    CHECK(copy.daily_loss_used() == D("20.5"));
    REQUIRE(copy.halt().has_value());
    CHECK(copy.halt()->ts_ns == T("2024-03-04T15:00:00Z"));

    // The next day: no halt, and the loss used is the day's own again.
    rig.bar("2024-03-05T14:30:00Z", "125");
    CHECK_FALSE(rig.risk->entries_halted());
    CHECK_FALSE(rig.risk->halt().has_value());
    CHECK_FALSE(rig.risk->state().halt.has_value());
    CHECK(rig.risk->daily_loss_used() == D("5"));
  }

  TEST_CASE("the daily loss limit resets at the next trading day") {
    RiskConfig config = quantity("1");
    config.capital = D("1000");
    Rig rig(config);
    rig.go_long("2024-03-04T14:30:00Z", "100");
    rig.bar("2024-03-04T15:00:00Z", "70");
    rig.go_exit("2024-03-04T15:00:00Z", "70");
    REQUIRE(rig.risk->entries_halted());

    SUBCASE("a signal is the first event of the new day") {
      const Seq entry = rig.go_long("2024-03-05T00:00:00Z", "70");
      CHECK_FALSE(rig.risk->entries_halted());
      CHECK(rig.risk->daily_loss_used() == D("0"));
      const Event* order = rig.order_for(entry);
      REQUIRE(order != nullptr);
      CHECK(order->as<Order>().signal_seq == entry);
    }
    SUBCASE("a bar opens the new day") {
      rig.bar("2024-03-05T14:30:00Z", "71");
      CHECK_FALSE(rig.risk->entries_halted());
      const Seq entry = rig.go_long("2024-03-05T14:30:00Z", "71");
      CHECK(rig.order_for(entry) != nullptr);
    }
  }

  TEST_CASE("with a New York calendar the daily loss limit resets at New York midnight") {
    RiskConfig config = quantity("1");
    config.capital = D("1000");
    // Monday 2024-03-04, 10:00 in New York (EST, UTC-5).
    Rig rig(config, true, Calendar("America/New_York"));
    rig.go_long("2024-03-04T15:00:00Z", "100");
    rig.bar("2024-03-04T16:00:00Z", "75");
    REQUIRE(rig.risk->entries_halted());

    // Past UTC midnight, still Monday 20:00 in New York: halted.
    const Seq monday = rig.go_long("2024-03-05T01:00:00Z", "75");
    CHECK(rig.rejection_for(monday) != nullptr);
    const Seq last_ns = rig.go_long("2024-03-05T04:59:59.999999999Z", "75");
    CHECK(rig.rejection_for(last_ns) != nullptr);
    CHECK(rig.risk->entries_halted());

    // Tuesday 00:00 in New York.
    rig.go_exit("2024-03-05T05:00:00Z", "75");
    const Seq tuesday = rig.go_long("2024-03-05T05:00:00Z", "75");
    CHECK_FALSE(rig.risk->entries_halted());
    CHECK(rig.rejection_for(tuesday) == nullptr);
    CHECK(rig.order_for(tuesday) != nullptr);
  }

  TEST_CASE("an invalid risk configuration is refused") {
    MemoryStore store;
    EventBus bus(store);
    auto with = [](auto change) {
      RiskConfig c;
      change(c);
      return c;
    };
    CHECK_THROWS_AS(RiskManager(bus, with([](RiskConfig& c) { c.capital = D("0"); })), ConfigError);
    CHECK_THROWS_AS(RiskManager(bus, with([](RiskConfig& c) { c.capital = D("-1"); })),
                    ConfigError);
    CHECK_THROWS_AS(RiskManager(bus, with([](RiskConfig& c) { c.quantity = D("0"); })),
                    ConfigError);
    CHECK_THROWS_AS(RiskManager(bus, with([](RiskConfig& c) { c.quantity = D("-2"); })),
                    ConfigError);
    CHECK_THROWS_AS(RiskManager(bus, with([](RiskConfig& c) { c.risk_per_trade = D("0"); })),
                    ConfigError);
    CHECK_THROWS_AS(RiskManager(bus, with([](RiskConfig& c) { c.risk_per_trade = D("-0.1"); })),
                    ConfigError);
    CHECK_THROWS_AS(RiskManager(bus, with([](RiskConfig& c) { c.risk_per_trade = D("1.01"); })),
                    ConfigError);
    CHECK_THROWS_AS(RiskManager(bus, with([](RiskConfig& c) { c.max_daily_loss = D("0"); })),
                    ConfigError);
    CHECK_THROWS_AS(RiskManager(bus, with([](RiskConfig& c) { c.max_daily_loss = D("1.5"); })),
                    ConfigError);
    CHECK_THROWS_AS(RiskManager(bus, with([](RiskConfig& c) { c.max_position = D("0"); })),
                    ConfigError);
    CHECK_NOTHROW(RiskManager(bus, with([](RiskConfig& c) { c.risk_per_trade = D("1"); })));
    CHECK_NOTHROW(RiskManager(bus, with([](RiskConfig& c) { c.max_daily_loss = D("1"); })));
  }
}
