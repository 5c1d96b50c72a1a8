// The strategy seam: what turns market events (BAR, TICK) into SIGNALs.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "blotter/bus.h"
#include "blotter/event.h"

namespace blotter {

// What a strategy may do while it handles one market event. Made by the
// trading system, valid only during the on_bar/on_tick call it is passed to.
// Not thread-safe: the bus's thread only.
class StrategyContext {
 public:
  // `bus` must outlive the context.
  explicit StrategyContext(EventBus& bus) : bus_(bus) {}

  // The market event being handled.
  const Event& event() const { return *event_; }

  // Publishes a SIGNAL for the event being handled: its symbol, its time, and
  // as price the bar's close or the tick's price. The SIGNAL is journaled at
  // once and handled (by the risk manager) after the strategy returns.
  // Returns its seq (0 during a replay, which journals nothing).
  Seq signal(Direction direction, std::string reason);
  // Whether a replay is rebuilding state: signal() then journals nothing
  // (the journal holds the SIGNALs already), so a strategy may skip the work
  // of writing a reason. Its own state must change exactly as in the run.
  bool replaying() const { return bus_.replaying(); }

  // The bus's dense id of the event's symbol (EventBus::symbol_id), for
  // strategies that keep per-symbol state in vectors.
  std::uint32_t symbol_id() { return bus_.symbol_id(*event_); }

  // Sets the event being handled; the trading system calls it before each
  // on_bar/on_tick.
  void begin(const Event& market_event) { event_ = &market_event; }

 private:
  EventBus& bus_;
  const Event* event_ = nullptr;
};

// A trading strategy: it sees every market event of the run, in journal
// order, and publishes SIGNALs through its context; everything after the
// SIGNAL (sizing, orders, fills) is the other components' work.
//
// Contract:
//  * Deterministic: the same events in the same order (from a fresh object or
//    one given restore_state()) give the same SIGNALs. It never reads the wall
//    clock, the journal or anything outside the events it is given.
//  * Called on the bus's thread only, one event at a time; never concurrently.
//  * It is subscribed to the bus right after the broker, under the handler
//    name "SignalGenerator": a throw from on_bar/on_tick is journaled as a
//    HANDLER_ERROR naming that handler, and the run goes on with the next
//    event. Throw blotter::Error (or a subclass) for a failure of its own.
//  * During a replay the same calls are made and the SIGNALs published are
//    discarded: the state after a replay equals the state after the run.
// The implementations blotter has are made by name by make_strategy
// (trading_system.h); the run records the name in its manifest.
class Strategy {
 public:
  virtual ~Strategy() = default;

  // The name the run's manifest records ("ma_crossover") and the version of
  // its logic: a different version may decide differently on the same data.
  virtual std::string_view name() const = 0;
  virtual int version() const = 0;

  // A BAR or TICK of any symbol. The defaults do nothing.
  virtual void on_bar(const Event& bar, StrategyContext& ctx);
  virtual void on_tick(const Event& tick, StrategyContext& ctx);

  // The strategy's whole state as one JSON value, which snapshots store
  // verbatim: equal states give equal text. Only between events.
  virtual std::string save_state() const = 0;
  // Replaces the state with one save_state() gave (in any JSON layout), so
  // that the strategy goes on exactly as the one that saved it. Only between
  // events, before the first or after a whole one. Throws blotter::Error if
  // `json` is not such a state; the strategy is then unchanged.
  virtual void restore_state(std::string_view json) = 0;

 protected:
  Strategy() = default;
  Strategy(const Strategy&) = default;
  Strategy& operator=(const Strategy&) = default;
};

}  // namespace blotter
