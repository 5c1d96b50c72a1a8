// The broker seam: what turns ORDERs into FILLs.
#pragma once

#include <cstddef>
#include <deque>
#include <map>
#include <string>
#include <string_view>

#include "blotter/bus.h"
#include "blotter/event.h"

namespace blotter {

// An ORDER a broker has accepted and not yet filled.
struct PendingOrder {
  Order order;
  Seq seq = 0;  // the ORDER's
};

// A broker: it receives every ORDER of the run and publishes the FILLs
// that execute it, each with the ORDER's seq as order_seq.
//
// Contract:
//  * attach() is called once, before any other component subscribes: the
//    broker subscribes its handlers (ORDER, and the market events it fills
//    on) under the handler name "ExecutionEngine", so it sees each event
//    before the strategy, the risk manager and the portfolio. Its handlers
//    publish FILLs through the bus; a throw is journaled as a HANDLER_ERROR
//    naming that handler, and the run goes on. Throw blotter::Error for a
//    fill it cannot make.
//  * Threading: the bus is not thread-safe, and every event is published on
//    the bus's thread (the run loop's). A broker whose fills arrive on a
//    thread of its own (a FIX session) never publishes from that thread:
//    it hands them to a thread-safe inbox of its own, and the run loop
//    drains the inbox on the bus's thread, between input rows (never during
//    a dispatch), publishing each as a FILL in the order received. So the
//    journal's order is the order in which the run took them in, and a
//    replay, which reads the FILLs from the journal, needs no broker thread.
//  * During a replay its handlers see the recorded ORDERs and market events
//    and what they publish is discarded: the FILLs come from the journal.
//    A broker keeps no state that the recorded events do not rebuild, other
//    than what state() returns.
//  * state()/restore() hold the orders it has accepted and not filled,
//    which snapshots store and a resumed run restores. Only between events.
// The implementations blotter has are made by name by make_broker
// (trading_system.h); the run records the name in its manifest.
class Broker {
 public:
  virtual ~Broker() = default;

  // The name the run's manifest records ("paper").
  virtual std::string_view name() const = 0;

  // Subscribes the broker's handlers on `bus`, which must outlive it.
  virtual void attach(EventBus& bus) = 0;

  // Orders accepted and not yet filled, all symbols.
  virtual std::size_t pending_orders() const = 0;

  // Those orders per symbol, oldest first: restore(state()) leaves the
  // broker unchanged.
  using State = std::map<std::string, std::deque<PendingOrder>>;
  virtual State state() const = 0;
  virtual void restore(State state) = 0;

 protected:
  Broker() = default;
  Broker(const Broker&) = default;
  Broker& operator=(const Broker&) = default;
};

}  // namespace blotter
