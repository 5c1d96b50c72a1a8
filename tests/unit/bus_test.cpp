#include "blotter/bus.h"

#include <doctest/doctest.h>
#include <fmt/format.h>

#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "blotter/error.h"
#include "blotter/store.h"

namespace {

using namespace blotter;

Decimal D(const char* text) { return Decimal::from_string(text); }

Event bar(TimestampNs ts, const std::string& symbol, const char* close) {
  return make_event(ts, symbol, Bar{D(close), D(close), D(close), D(close), D("100")});
}

Event tick(TimestampNs ts, const std::string& symbol, const char* price) {
  return make_event(ts, symbol, Tick{D(price), D("1")});
}

Event signal(TimestampNs ts, const std::string& symbol) {
  return make_event(ts, symbol, Signal{Direction::kLong, D("1"), "test"});
}

std::vector<EventType> stored_types(const MemoryStore& store) {
  std::vector<EventType> types;
  for (const Event& e : store.events()) types.push_back(e.type());
  return types;
}

std::vector<const Event*> stored_of(const MemoryStore& store, EventType type) {
  std::vector<const Event*> out;
  for (const Event& e : store.events())
    if (e.type() == type) out.push_back(&e);
  return out;
}

// A store that fails like a full disk: the Nth append (1-based) and every one
// after it throw blotter::StoreError; the others go to a MemoryStore.
class FailingStore final : public EventStore {
 public:
  explicit FailingStore(int fail_at) : fail_at_(fail_at) {}
  Seq append(Event& event) override {
    if (++appends_ >= fail_at_) throw StoreError("journal.db: disk full");
    return inner_.append(event);
  }
  void commit() override { inner_.commit(); }
  void rollback() override { inner_.rollback(); }
  Seq last_seq() const override { return inner_.last_seq(); }
  Seq last_seq_at_or_before(TimestampNs ts) const override {
    return inner_.last_seq_at_or_before(ts);
  }
  void scan(const ScanRange& range, const std::function<bool(const Event&)>& visit) const override {
    inner_.scan(range, visit);
  }
  const MemoryStore& inner() const { return inner_; }
  void heal() { fail_at_ = INT32_MAX; }

 private:
  int fail_at_;
  int appends_ = 0;
  MemoryStore inner_;
};

}  // namespace

TEST_SUITE("bus") {
  TEST_CASE("publish assigns gap-free seqs in publish order") {
    MemoryStore store;
    EventBus bus(store);
    CHECK(bus.publish(bar(10, "A", "1")) == 1);
    CHECK(bus.publish(tick(20, "B", "2")) == 2);
    CHECK(bus.publish(signal(30, "A")) == 3);

    REQUIRE(store.events().size() == 3);
    for (std::size_t i = 0; i < 3; ++i) CHECK(store.events()[i].seq == static_cast<Seq>(i + 1));
    CHECK(stored_types(store) ==
          std::vector<EventType>{EventType::kBar, EventType::kTick, EventType::kSignal});
    CHECK(store.events()[1].symbol == "B");
    CHECK(store.events()[1].ts_ns == 20);
  }

  TEST_CASE("a handler sees an event only after it is in the store") {
    MemoryStore store;
    EventBus bus(store);
    int checked = 0;
    auto in_store = [&](const Event& e) {
      CHECK(e.seq > 0);
      CHECK(store.last_seq() >= e.seq);
      bool found = false;
      ScanRange just_this;
      just_this.from_seq = just_this.to_seq = e.seq;
      store.scan(just_this, [&](const Event& stored) {
        found = stored.type() == e.type() && stored.ts_ns == e.ts_ns;
        return true;
      });
      CHECK(found);
      ++checked;
    };
    bus.subscribe(EventType::kBar, "bar", [&](const Event& e) {
      in_store(e);
      bus.publish(signal(e.ts_ns, e.symbol));
    });
    bus.subscribe(EventType::kSignal, "signal", in_store);
    bus.publish(bar(1, "A", "5"));
    bus.publish(bar(2, "A", "6"));
    CHECK(checked == 4);
  }

  TEST_CASE("handlers of one type run in subscription order") {
    MemoryStore store;
    EventBus bus(store);
    std::vector<std::string> calls;
    for (const char* name : {"first", "second", "third"})
      bus.subscribe(EventType::kBar, name, [&calls, name](const Event&) { calls.push_back(name); });
    bus.publish(bar(1, "A", "1"));
    CHECK(calls == std::vector<std::string>{"first", "second", "third"});
  }

  TEST_CASE("a handler receives only events of its type") {
    MemoryStore store;
    EventBus bus(store);
    std::vector<Seq> ticks;
    bus.subscribe(EventType::kTick, "ticks", [&](const Event& e) { ticks.push_back(e.seq); });
    bus.publish(bar(1, "A", "1"));
    bus.publish(tick(2, "A", "1"));
    bus.publish(signal(3, "A"));
    bus.publish(tick(4, "A", "1"));
    CHECK(ticks == std::vector<Seq>{2, 4});
  }

  TEST_CASE("events published by handlers are dispatched first-in first-out, not recursively") {
    MemoryStore store;
    EventBus bus(store);
    std::vector<std::string> log;
    auto record = [&](const char* who, const Event& e) {
      log.push_back(std::string(who) + ":" + std::to_string(e.seq));
    };
    // BAR(1) -> bar_a publishes SIGNAL(2) and TICK(3); bar_b publishes ORDER(4);
    // SIGNAL(2) -> publishes FILL(5). Breadth first: 1, 2, 3, 4, 5.
    bus.subscribe(EventType::kBar, "bar_a", [&](const Event& e) {
      record("bar_a", e);
      CHECK(bus.publish(signal(e.ts_ns, e.symbol)) == 2);
      CHECK(bus.publish(tick(e.ts_ns, e.symbol, "7")) == 3);
      // Not yet dispatched: the BAR's own handlers come first.
      CHECK(log.size() == 1);
    });
    bus.subscribe(EventType::kBar, "bar_b", [&](const Event& e) {
      record("bar_b", e);
      CHECK(bus.publish(make_event(e.ts_ns, e.symbol, Order{Side::kBuy, D("1"), D("7"), 2})) == 4);
    });
    bus.subscribe(EventType::kSignal, "signal", [&](const Event& e) {
      record("signal", e);
      CHECK(bus.publish(
                make_event(e.ts_ns, e.symbol, Fill{Side::kBuy, D("1"), D("7"), D("0"), 4})) == 5);
    });
    bus.subscribe(EventType::kTick, "tick", [&](const Event& e) { record("tick", e); });
    bus.subscribe(EventType::kOrder, "order", [&](const Event& e) { record("order", e); });
    bus.subscribe(EventType::kFill, "fill", [&](const Event& e) { record("fill", e); });

    CHECK(bus.publish(bar(100, "A", "7")) == 1);
    // All consequences are handled before the outer publish() returns.
    CHECK(log == std::vector<std::string>{"bar_a:1", "bar_b:1", "signal:2", "tick:3", "order:4",
                                          "fill:5"});
    CHECK(stored_types(store) == std::vector<EventType>{EventType::kBar, EventType::kSignal,
                                                        EventType::kTick, EventType::kOrder,
                                                        EventType::kFill});
  }

  TEST_CASE("events queued while a handler publishes many keep their order and contents") {
    MemoryStore store;
    EventBus bus(store);
    std::vector<std::string> reasons;
    bus.subscribe(EventType::kBar, "fan_out", [&](const Event& e) {
      // Enough to grow the queue several times while the BAR is dispatched.
      for (int i = 0; i < 200; ++i)
        bus.publish(
            make_event(e.ts_ns, e.symbol,
                       Signal{Direction::kLong, D("1"), std::string(40, 'a') + std::to_string(i)}));
    });
    bus.subscribe(EventType::kSignal, "collect",
                  [&](const Event& e) { reasons.push_back(e.as<Signal>().reason); });
    bus.publish(bar(100, "A", "7"));
    bus.publish(bar(200, "A", "8"));
    REQUIRE(reasons.size() == 400);
    for (std::size_t i = 0; i < 400; ++i)
      CHECK(reasons[i] == std::string(40, 'a') + std::to_string(i % 200));
    CHECK(store.events().back().seq == 402);
  }

  TEST_CASE("a queued event stays intact while its handlers publish many more") {
    MemoryStore store;
    EventBus bus(store);
    bus.subscribe(EventType::kBar, "signal", [&](const Event& e) {
      bus.publish(make_event(e.ts_ns, e.symbol, Signal{Direction::kLong, D("2"), "queued"}));
    });
    std::vector<std::string> seen;
    bus.subscribe(EventType::kSignal, "fan_out", [&](const Event& e) {
      // The SIGNAL is dispatched from the queue; this grows the queue many
      // times over while the handler still holds it.
      for (int i = 0; i < 300; ++i)
        bus.publish(make_event(e.ts_ns, e.symbol, Order{Side::kBuy, D("1"), D("2"), e.seq}));
      seen.push_back(fmt::format("{} {} {} {}", e.seq, e.symbol, e.as<Signal>().reason,
                                 e.as<Signal>().price.to_string()));
    });
    std::vector<Seq> order_causes;
    bus.subscribe(EventType::kOrder, "collect",
                  [&](const Event& e) { order_causes.push_back(e.as<Order>().signal_seq); });
    bus.publish(bar(100, "LONGER.SYMBOL.NAME", "7"));
    bus.publish(bar(200, "B", "8"));
    CHECK(seen == std::vector<std::string>{"2 LONGER.SYMBOL.NAME queued 2", "304 B queued 2"});
    REQUIRE(order_causes.size() == 600);
    CHECK(order_causes.front() == 2);
    CHECK(order_causes.back() == 304);
    CHECK(store.events().back().seq == 604);
  }

  TEST_CASE("an event published in place is the event make_event makes") {
    // Two buses whose handlers publish the same events, one through
    // make_event and one in place into the queue's reused slots: the slots
    // go from one type and symbol length to another, and the journals and
    // the events dispatched must be the same.
    struct Run {
      MemoryStore store{[] { return std::int64_t{0}; }};
      EventBus bus{store};
      std::vector<std::string> seen;
    };
    const auto run = [](Run& r, bool in_place) {
      r.bus.subscribe(EventType::kBar, "strategy", [&r, in_place](const Event& e) {
        const Signal signal{Direction::kExit, e.as<Bar>().close,
                            std::string(static_cast<std::size_t>(e.ts_ns), 'r')};
        const Order order{Side::kSell, D("3"), e.as<Bar>().close, 7};
        const std::string other = e.ts_ns % 2 ? "X" : "A.MUCH.LONGER.SYMBOL";
        if (in_place) {
          if (e.ts_ns % 3) r.bus.publish(e.ts_ns + 1, e.symbol, Signal(signal));
          r.bus.publish(e.ts_ns, other, Order(order));
          r.bus.publish(e.ts_ns + 2, e.symbol, Fill{Side::kBuy, D("1"), D("2"), D("0.5"), 9});
        } else {
          if (e.ts_ns % 3) r.bus.publish(make_event(e.ts_ns + 1, e.symbol, signal));
          r.bus.publish(make_event(e.ts_ns, other, order));
          r.bus.publish(
              make_event(e.ts_ns + 2, e.symbol, Fill{Side::kBuy, D("1"), D("2"), D("0.5"), 9}));
        }
      });
      for (const EventType type : {EventType::kSignal, EventType::kOrder, EventType::kFill})
        r.bus.subscribe(type, "collect", [&r](const Event& e) {
          r.seen.push_back(fmt::format("{} {} {} {} {}", e.seq, e.ts_ns, to_string(e.type()),
                                       e.symbol, encode_payload(e)));
        });
      for (int i = 1; i <= 40; ++i) r.bus.publish(bar(i, i % 4 ? "SYM" : "SYMBOL.LONG", "5"));
    };
    Run made, in_place;
    run(made, false);
    run(in_place, true);
    REQUIRE(made.seen.size() > 80);
    CHECK(in_place.seen == made.seen);
    REQUIRE(in_place.store.events().size() == made.store.events().size());
    for (std::size_t i = 0; i < made.store.events().size(); ++i) {
      const Event& a = made.store.events()[i];
      const Event& b = in_place.store.events()[i];
      CHECK(a.seq == b.seq);
      CHECK(a.ts_ns == b.ts_ns);
      CHECK(a.symbol == b.symbol);
      CHECK(a.type() == b.type());
      CHECK(encode_payload(a) == encode_payload(b));
    }
  }

  TEST_CASE(
      "an event published for the dispatched event's symbol keeps its id; others look it up") {
    MemoryStore store;
    EventBus bus(store);
    bool ask = true;
    const std::string other = "OTHER";
    bus.subscribe(EventType::kBar, "strategy", [&](const Event& e) {
      if (ask) bus.symbol_id(e);  // the BAR's id known before it publishes, or not
      const std::string same_text = e.symbol;
      bus.publish(e.ts_ns, e.symbol, Signal{Direction::kLong, D("1"), "the bar's own symbol"});
      bus.publish(e.ts_ns, other, Signal{Direction::kLong, D("1"), "another symbol"});
      bus.publish(e.ts_ns, same_text, Signal{Direction::kLong, D("1"), "the same text"});
    });
    std::vector<std::string> seen;
    bus.subscribe(EventType::kSignal, "check", [&](const Event& e) {
      seen.push_back(fmt::format("{} {}", e.symbol, bus.symbol_id(e)));
      CHECK(bus.symbol_id(e) == bus.symbol_id(std::string_view(e.symbol)));
    });
    bus.publish(bar(1, "MSFT", "5"));
    ask = false;
    bus.publish(bar(2, "GOOG", "5"));
    ask = true;
    bus.publish(bar(3, "AAPL", "5"));
    bus.publish(bar(4, "GOOG", "5"));
    CHECK(seen == std::vector<std::string>{"MSFT 0", "OTHER 1", "MSFT 0",  //
                                           "GOOG 2", "OTHER 1", "GOOG 2",  //
                                           "AAPL 3", "OTHER 1", "AAPL 3",  //
                                           "GOOG 2", "OTHER 1", "GOOG 2"});
  }

  TEST_CASE("symbol ids are dense, in first-asked order, and the same for events and names") {
    MemoryStore store;
    EventBus bus(store);
    std::vector<std::uint32_t> seen;
    // Two handlers of the same event get the same id.
    bus.subscribe(EventType::kBar, "a", [&](const Event& e) { seen.push_back(bus.symbol_id(e)); });
    bus.subscribe(EventType::kBar, "b", [&](const Event& e) { seen.push_back(bus.symbol_id(e)); });
    bus.publish(bar(1, "MSFT", "7"));
    bus.publish(bar(2, "GOOG", "7"));
    bus.publish(bar(3, "MSFT", "7"));
    CHECK(seen == std::vector<std::uint32_t>{0, 0, 1, 1, 0, 0});
    CHECK(bus.symbol_id("GOOG") == 1);
    CHECK(bus.symbol_id(bar(4, "AAPL", "1")) == 2);  // not being dispatched: looked up
    CHECK(bus.symbol(0) == "MSFT");
    CHECK(bus.symbol(2) == "AAPL");
    for (int i = 0; i < 100; ++i) CHECK(bus.symbol_id("S" + std::to_string(i)) == 3 + i);
    CHECK(bus.symbol_id("MSFT") == 0);
  }

  TEST_CASE("symbol ids tell apart texts that share bytes, lengths or their first eight bytes") {
    // The symbol table keys texts of up to eight bytes by one word read in
    // overlapping parts, and longer ones by their first eight bytes and then
    // the whole text: every text over {A, B} of length 0 to 11 (4095 of
    // them), plus long texts that differ only after byte 8 or only in length.
    MemoryStore store;
    EventBus bus(store);
    std::vector<std::string> texts;
    for (std::size_t n = 0; n <= 11; ++n)
      for (std::uint32_t bits = 0; bits < (1u << n); ++bits) {
        std::string t;
        for (std::size_t k = 0; k < n; ++k) t += (bits >> k & 1) ? 'B' : 'A';
        texts.push_back(t);
      }
    for (const char* t : {"ABCDEFGH_1", "ABCDEFGH_2", "ABCDEFGH_1x", "ABCDEFGHIJKLMNOPQRSTUVWXYZ0",
                          "ABCDEFGHIJKLMNOPQRSTUVWXYZ1", "ABCDEFGHIJKLMNOPQRSTUVWXYZ01"})
      texts.emplace_back(t);
    texts.push_back(std::string("A\0B", 3));
    texts.push_back(std::string("A\0\0", 3));
    for (std::size_t i = 0; i < texts.size(); ++i) REQUIRE(bus.symbol_id(texts[i]) == i);
    for (std::size_t i = 0; i < texts.size(); ++i) {
      CHECK(bus.symbol_id(texts[i]) == i);
      CHECK(bus.symbol(static_cast<std::uint32_t>(i)) == texts[i]);
    }
  }

  TEST_CASE("a throwing handler does not stop the others") {
    MemoryStore store;
    EventBus bus(store);
    std::vector<std::string> calls;
    bus.subscribe(EventType::kBar, "Before", [&](const Event&) { calls.push_back("before"); });
    bus.subscribe(EventType::kBar, "Thrower",
                  [&](const Event&) -> void { throw std::runtime_error("boom at the bar"); });
    bus.subscribe(EventType::kBar, "After", [&](const Event&) { calls.push_back("after"); });
    std::vector<Event> errors_seen;
    bus.subscribe(EventType::kHandlerError, "Watcher",
                  [&](const Event& e) { errors_seen.push_back(e); });

    CHECK(bus.publish(bar(42, "GOOG", "1")) == 1);
    CHECK(calls == std::vector<std::string>{"before", "after"});

    const auto errors = stored_of(store, EventType::kHandlerError);
    REQUIRE(errors.size() == 1);
    const Event& failure = *errors[0];
    CHECK(failure.seq == 2);
    CHECK(failure.ts_ns == 42);
    CHECK(failure.symbol == "GOOG");
    CHECK(failure.as<HandlerError>().handler == "Thrower");
    CHECK(failure.as<HandlerError>().event_seq == 1);
    CHECK(failure.as<HandlerError>().error == "boom at the bar");
    // The HANDLER_ERROR is an ordinary event: journaled, then dispatched.
    REQUIRE(errors_seen.size() == 1);
    CHECK(errors_seen[0].seq == 2);
    CHECK(bus.published(EventType::kHandlerError) == 1);
  }

  TEST_CASE("a handler's events published before it threw are kept and precede its HANDLER_ERROR") {
    MemoryStore store;
    EventBus bus(store);
    bus.subscribe(EventType::kBar, "Half", [&](const Event& e) {
      bus.publish(signal(e.ts_ns, e.symbol));
      throw std::logic_error("after the signal");
    });
    bus.publish(bar(1, "A", "1"));
    CHECK(stored_types(store) ==
          std::vector<EventType>{EventType::kBar, EventType::kSignal, EventType::kHandlerError});
    CHECK(store.events()[2].as<HandlerError>().error == "after the signal");
  }

  TEST_CASE("a handler that throws something other than std::exception is reported too") {
    MemoryStore store;
    EventBus bus(store);
    bus.subscribe(EventType::kTick, "Odd", [](const Event&) -> void { throw 42; });
    bus.publish(tick(1, "A", "1"));
    const auto errors = stored_of(store, EventType::kHandlerError);
    REQUIRE(errors.size() == 1);
    CHECK(errors[0]->as<HandlerError>().handler == "Odd");
    CHECK(errors[0]->as<HandlerError>().event_seq == 1);
    CHECK(errors[0]->as<HandlerError>().error == "unknown exception");
  }

  TEST_CASE("a throwing HANDLER_ERROR handler is journaled once and not dispatched again") {
    MemoryStore store;
    EventBus bus(store);
    int error_handler_calls = 0;
    bus.subscribe(EventType::kBar, "BadBar",
                  [](const Event&) -> void { throw std::runtime_error("bar failed"); });
    bus.subscribe(EventType::kHandlerError, "BadReporter", [&](const Event&) -> void {
      ++error_handler_calls;
      throw std::runtime_error("reporter failed");
    });

    CHECK(bus.publish(bar(5, "A", "1")) == 1);
    CHECK(error_handler_calls == 1);
    REQUIRE(store.events().size() == 3);
    const Event& second = store.events()[2];
    CHECK(second.seq == 3);
    CHECK(second.as<HandlerError>().handler == "BadReporter");
    CHECK(second.as<HandlerError>().event_seq == 2);
    CHECK(second.as<HandlerError>().error == "reporter failed");
    CHECK(bus.published(EventType::kHandlerError) == 2);
  }

  TEST_CASE("a store failure propagates out of publish and is not a HANDLER_ERROR") {
    SUBCASE("the market event itself cannot be appended") {
      FailingStore store(1);
      EventBus bus(store);
      int calls = 0;
      bus.subscribe(EventType::kBar, "Counter", [&](const Event&) { ++calls; });
      CHECK_THROWS_AS(bus.publish(bar(1, "A", "1")), StoreError);
      CHECK(calls == 0);
      CHECK(bus.published(EventType::kBar) == 0);
      CHECK(store.inner().events().empty());
    }
    SUBCASE("an event a handler publishes cannot be appended") {
      FailingStore store(2);
      EventBus bus(store);
      std::vector<std::string> calls;
      bus.subscribe(EventType::kBar, "Publisher", [&](const Event& e) {
        calls.push_back("publisher");
        bus.publish(signal(e.ts_ns, e.symbol));
      });
      bus.subscribe(EventType::kBar, "Later", [&](const Event&) { calls.push_back("later"); });
      try {
        bus.publish(bar(1, "A", "1"));
        FAIL("publish() did not throw");
      } catch (const StoreError& e) {
        CHECK(std::string(e.what()) == "journal.db: disk full");
      }
      CHECK(calls == std::vector<std::string>{"publisher"});
      CHECK(stored_types(store.inner()) == std::vector<EventType>{EventType::kBar});
      CHECK(bus.published(EventType::kHandlerError) == 0);
    }
    SUBCASE("a handler throws StoreError itself") {
      MemoryStore store;
      EventBus bus(store);
      bus.subscribe(EventType::kBar, "Writer",
                    [](const Event&) -> void { throw StoreError("side table is locked"); });
      CHECK_THROWS_AS(bus.publish(bar(1, "A", "1")), StoreError);
      CHECK(stored_types(store) == std::vector<EventType>{EventType::kBar});
    }
  }

  TEST_CASE("after a store failure the bus dispatches only events published later") {
    FailingStore store(3);
    EventBus bus(store);
    std::vector<Seq> bars, signals;
    bus.subscribe(EventType::kBar, "Bars", [&](const Event& e) {
      bars.push_back(e.seq);
      bus.publish(signal(e.ts_ns, e.symbol));  // append 2 succeeds
      bus.publish(signal(e.ts_ns, e.symbol));  // append 3 fails
    });
    bus.subscribe(EventType::kSignal, "Signals", [&](const Event& e) { signals.push_back(e.seq); });
    CHECK_THROWS_AS(bus.publish(bar(1, "A", "1")), StoreError);
    CHECK(signals.empty());  // the queued SIGNAL went with the failed batch

    store.rollback();
    store.heal();
    bars.clear();
    // The Bars handler publishes two signals again; nothing stale is dispatched.
    CHECK(bus.publish(bar(2, "A", "1")) == 1);
    CHECK(bars == std::vector<Seq>{1});
    CHECK(signals == std::vector<Seq>{2, 3});
  }

  TEST_CASE("published() counts every journaled event by type") {
    MemoryStore store;
    EventBus bus(store);
    bus.subscribe(EventType::kBar, "Signaller", [&](const Event& e) {
      bus.publish(signal(e.ts_ns, e.symbol));
      throw std::runtime_error("x");
    });
    bus.publish(bar(1, "A", "1"));
    bus.publish(bar(2, "A", "1"));
    bus.publish(tick(3, "A", "1"));
    CHECK(bus.published(EventType::kBar) == 2);
    CHECK(bus.published(EventType::kSignal) == 2);
    CHECK(bus.published(EventType::kHandlerError) == 2);
    CHECK(bus.published(EventType::kTick) == 1);
    CHECK(bus.published(EventType::kFill) == 0);
    CHECK(store.last_seq() == 7);
    CHECK(&bus.store() == &store);
  }
}
