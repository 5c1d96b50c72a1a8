// Pre-trade risk: sizing, position limits and the daily loss limit.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "blotter/bus.h"
#include "blotter/portfolio.h"

namespace blotter {

struct RiskConfig {
  // Fixed sizing: every entry buys this quantity (default 1).
  Decimal quantity = Decimal::from_int(1);
  // Fixed-fractional sizing when set: an entry buys
  // floor(equity * risk_per_trade / price) whole units, equity being
  // capital plus realized and unrealized PnL at the signal.
  std::optional<Decimal> risk_per_trade;
  Decimal capital = Decimal::from_int(100'000);
  // Entries are refused for the rest of the trading day once the day's
  // realized + unrealized PnL is at or below -max_daily_loss * capital.
  Decimal max_daily_loss = Decimal::from_string("0.02");
  // Largest long position per symbol; unset: one order's size, so a long
  // signal while already long (or with an entry pending) is refused.
  std::optional<Decimal> max_position;
};

// Turns SIGNALs into ORDERs or RISK_REJECTED events. Long signals open or add
// to a long position within the limits; an exit signal sells the whole open
// (and pending) long position, and is ignored while flat. Exits are never
// refused, so a halted day can still get out. Keeps its own Portfolio, fed by
// the same FILL and market events, for the PnL the limit needs. Not thread-safe.
class RiskManager {
 public:
  // Throws blotter::ConfigError for a non-positive capital or quantity, or a
  // fraction outside (0, 1].
  RiskManager(EventBus& bus, RiskConfig config, Calendar calendar = Calendar());

  void on_signal(const Event& signal_event);
  void on_fill(const Event& fill_event);
  // A BAR or TICK whose price (close or price) is `price`.
  void on_market(const Event& market_event, Decimal price);

  const Portfolio& book() const { return book_; }
  // Whether entries are refused for the rest of the current trading day.
  bool entries_halted() const;
  // The day's loss that counts against the limit: while entries are halted,
  // the loss at the event that reached the limit (at least the limit, even
  // if the day's PnL recovered since); otherwise today's loss so far,
  // max(0, -day PnL).
  Decimal daily_loss_used() const;
  Decimal daily_loss_limit() const { return loss_limit_; }

  // What halted entries: the day's PnL at the event that reached the limit, and that event's time.
  struct Halt {
    Decimal day_pnl;
    TimestampNs ts_ns = 0;
  };
  // The halt of the current trading day; nullopt while entries are allowed.
  std::optional<Halt> halt() const;

  // For snapshots: restore(state()) leaves the manager unchanged.
  struct State {
    Portfolio::State book;
    std::map<std::string, Decimal> pending;  // ordered, not yet filled (signed)
    std::optional<std::int32_t> halted_day;
    // What halted halted_day; state() sets it only while that day is the
    // current one (it matters only then).
    std::optional<Halt> halt;
  };
  State state() const;
  void restore(State state);

 private:
  void reject(const Event& signal_event, Direction direction, std::string reason);
  // Halts entries for the day if its PnL is at or below the limit at the
  // event of time `ts`.
  void check_loss_limit(TimestampNs ts);
  Decimal exposure(const Event& event);
  // The pending quantity of `event`'s symbol, 0 if it has none yet.
  Decimal& pending_for(const Event& event);

  EventBus& bus_;
  RiskConfig config_;
  Decimal loss_limit_;  // capital * max_daily_loss
  Portfolio book_;
  // Ordered, not yet filled (signed), by symbol: a symbol has an entry once
  // it had an order or a fill. State::pending is this map.
  std::map<std::string, Decimal> pending_;
  // An index into pending_ by the bus's symbol id (nullptr: none yet); not
  // state, rebuilt by restore().
  std::vector<Decimal*> pending_by_id_;
  std::optional<std::int32_t> halted_day_;
  Halt halt_;  // what halted halted_day_
};

}  // namespace blotter
