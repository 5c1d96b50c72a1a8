// Positions and PnL, rebuilt from FILL and market events.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "blotter/bus.h"
#include "blotter/calendar.h"
#include "blotter/decimal.h"
#include "blotter/event.h"

namespace blotter {
namespace detail {
class SymbolTable;
}

struct Position {
  Decimal quantity;      // signed: positive long, negative short
  Decimal cost;          // cost basis of the open quantity, signed like quantity
  Decimal realized_pnl;  // closed trades, net of every commission paid
  Decimal last_price;    // latest market price (BAR close or TICK price)
  bool marked = false;   // whether last_price came from the market yet

  // cost / quantity rounded to 8 places; 0 when flat.
  Decimal avg_price() const;
  // last_price * quantity - cost; 0 when flat. Inline: every fill computes it twice.
  Decimal unrealized_pnl() const {
    return quantity.is_zero() ? Decimal() : last_price * quantity - cost;
  }
};

// The PnL of one trading day: realized_pnl is what was realized during the
// day, unrealized_pnl the change of the open positions' unrealized PnL over
// the day, so pnl() is the change in equity from the day's open to its close.
struct DayPnl {
  std::int32_t day = 0;  // Calendar day number
  Decimal realized_pnl;
  Decimal unrealized_pnl;
  Decimal unrealized_at_close;  // level of unrealized PnL after the day's last event
  std::int64_t fills = 0;
  Decimal pnl() const { return realized_pnl + unrealized_pnl; }
};

// Books fills into positions with average cost, and marks open positions to
// the latest BAR close or TICK price. Commissions are charged to realized PnL
// when paid. A position carries its cost basis as a total, never as a rounded
// average: a fill's amount is price * quantity rounded half to even at 8
// places (exact for whole quantities); opening adds it to the basis, reducing
// realizes it minus the share of the basis removed (rounded half to even at 8
// places), and the whole basis goes when the position closes. So from flat to
// flat, the realized PnL equals the fills' amounts (sells minus buys) minus
// the commissions exactly. An update that would leave Decimal's range throws
// blotter::Error and changes no figure (the event's day may be opened, and
// its symbol listed, flat). Not thread-safe.
class Portfolio {
 public:
  explicit Portfolio(Calendar calendar = Calendar());
  ~Portfolio();
  Portfolio(const Portfolio& other);
  Portfolio& operator=(const Portfolio& other);

  // Subscribes on_event() to FILL, BAR and TICK on `bus` under `name`, and
  // finds positions by `bus`'s symbol ids (use_symbol_ids).
  void attach(EventBus& bus, const std::string& name = "Portfolio");
  // Makes on_event() find positions by `bus`'s symbol ids
  // (EventBus::symbol_id), which `bus` looks up once per dispatched event
  // for all its handlers. `bus` must outlive the book; a copy of the book
  // does not keep the link.
  void use_symbol_ids(EventBus& bus);
  // Books a FILL or marks a BAR/TICK; other events only advance the day.
  void on_event(const Event& event);
  // on_event() for a BAR or TICK whose price (close or price) is `price`,
  // when the caller knows the event's type, as a handler of that type does.
  // Returns whether the symbol has an open position, whose PnL the mark may
  // have changed; when it has none, no PnL changed.
  bool on_market(const Event& event, Decimal price) {
    return mark(event.ts_ns, position_for(event), price);
  }

  void on_fill(TimestampNs ts, const std::string& symbol, const Fill& fill);
  void on_mark(TimestampNs ts, const std::string& symbol, Decimal price);
  // Opens a new trading day if `ts` falls after the current one.
  void advance_to(TimestampNs ts) {
    // Most events share their time with the one before (one bar per symbol).
    if (ts != state_.last_ts || state_.days.empty()) advance_in_time(ts);
  }

  const std::map<std::string, Position>& positions() const { return state_.positions; }
  // nullptr if the symbol never traded or was never marked. Valid until the
  // next event or restore().
  const Position* position(const std::string& symbol) const;
  // position(event.symbol), by the bus's symbol id when use_symbol_ids().
  const Position* position(const Event& event) const {
    if (const Position* p = linked_position(event)) return p;
    return position(event.symbol);
  }
  Decimal realized_pnl() const { return state_.realized; }
  Decimal unrealized_pnl() const { return state_.unrealized; }
  // Every trading day that had an event, oldest first; back() is the current day.
  const std::vector<DayPnl>& days() const { return state_.days; }
  // The current trading day's PnL (0 before the first event).
  Decimal day_pnl() const { return state_.days.empty() ? Decimal() : state_.days.back().pnl(); }
  const Calendar& calendar() const { return calendar_; }
  TimestampNs last_ts() const { return state_.last_ts; }

  // Everything the book holds: the book's one representation of its state,
  // which snapshots store. restore(state()) leaves the book unchanged, and a
  // restored book goes on exactly as the original would.
  struct State {
    std::map<std::string, Position> positions;
    std::vector<DayPnl> days;
    Decimal realized, unrealized, unrealized_at_open;
    TimestampNs last_ts = 0;
  };
  const State& state() const { return state_; }
  void restore(State state);

 private:
  // Adds `change` to the unrealized total and the current day's figures;
  // all or nothing, as day_with().
  void add_unrealized(Decimal change) {
    const Decimal unrealized = state_.unrealized + change;
    const DayPnl today = day_with(unrealized, state_.realized, Decimal());
    state_.unrealized = unrealized;
    state_.days.back() = today;
  }
  // The current day's figures once the unrealized total is `unrealized`, the
  // realized total `realized` and `realized_today` more was realized today.
  // Throws blotter::Error if any of them, the day's PnL or the equity (realized
  // + unrealized) leaves Decimal's range; the caller then assigns nothing, so
  // an overflow leaves the books as they were and every sum a reader takes
  // of them stays in range.
  DayPnl day_with(Decimal unrealized, Decimal realized, Decimal realized_today) const {
    DayPnl today = state_.days.back();
    today.realized_pnl += realized_today;
    today.unrealized_pnl = unrealized - state_.unrealized_at_open;
    today.unrealized_at_close = unrealized;
    static_cast<void>(today.pnl());
    static_cast<void>(realized + unrealized);
    return today;
  }
  // The position of `symbol`, created flat if there is none.
  Position& position_for(const std::string& symbol);
  // The same for `event`'s symbol, by the bus's id when linked to one.
  // Inline: every market event of both books comes here.
  Position& position_for(const Event& event) {
    if (Position* p = linked_position(event)) [[likely]]
      return *p;
    return link_position(event);
  }
  // The position of `event`'s symbol by the bus's id, nullptr if there is
  // none yet or no bus.
  Position* linked_position(const Event& event) const {
    if (ids_ == nullptr) return nullptr;
    const std::uint32_t id = ids_->symbol_id(event);
    return id < by_bus_id_.size() ? by_bus_id_[id] : nullptr;
  }
  // position_for(event) the first time a bus id is seen, or with no bus.
  Position& link_position(const Event& event);
  // advance_to() for an event time other than the latest.
  void advance_in_time(TimestampNs ts);
  // Opens trading day `day` (advance_to's rare case).
  void open_day(std::int32_t day);
  void index_positions();
  // Returns whether `position` is open (on_market()).
  bool mark(TimestampNs ts, Position& position, Decimal price);
  void book(TimestampNs ts, Position& position, const Fill& fill);

  Calendar calendar_;
  State state_;
  // Indexes into state_.positions, not state: by interned symbol, and by the
  // bus's symbol id. Map nodes never move, so the pointers stay valid as
  // positions are added; restore() and copies rebuild them.
  std::unique_ptr<detail::SymbolTable> symbols_;
  std::vector<Position*> by_id_;
  EventBus* ids_ = nullptr;           // use_symbol_ids()
  std::vector<Position*> by_bus_id_;  // nullptr: not looked up yet
};

}  // namespace blotter
