#include "blotter/portfolio.h"

#include <cassert>

#include "trading/symbol_table.h"

namespace blotter {

Decimal Position::avg_price() const { return quantity.is_zero() ? Decimal() : cost / quantity; }

Portfolio::Portfolio(Calendar calendar)
    : calendar_(std::move(calendar)), symbols_(std::make_unique<detail::SymbolTable>()) {}

Portfolio::~Portfolio() = default;

Portfolio::Portfolio(const Portfolio& other)
    : calendar_(other.calendar_),
      state_(other.state_),
      symbols_(std::make_unique<detail::SymbolTable>()) {
  index_positions();
}

Portfolio& Portfolio::operator=(const Portfolio& other) {
  if (this != &other) {
    calendar_ = other.calendar_;
    state_ = other.state_;
    index_positions();
  }
  return *this;
}

void Portfolio::index_positions() {
  symbols_->clear();
  by_id_.clear();
  by_bus_id_.clear();
  for (auto& [symbol, p] : state_.positions) {
    symbols_->add(symbol);
    by_id_.push_back(&p);
  }
}

Position& Portfolio::position_for(const std::string& symbol) {
  const std::uint32_t id = symbols_->add(symbol);
  if (id == by_id_.size()) by_id_.push_back(&state_.positions[symbol]);
  return *by_id_[id];
}

// Out of line, as the rare cases of hot functions below: they would make
// every call save registers that only they use.
[[gnu::noinline]] Position& Portfolio::link_position(const Event& event) {
  if (ids_ == nullptr) return position_for(event.symbol);
  const std::uint32_t id = ids_->symbol_id(event);
  if (id >= by_bus_id_.size()) by_bus_id_.resize(id + 1, nullptr);
  if (by_bus_id_[id] == nullptr) by_bus_id_[id] = &position_for(event.symbol);
  return *by_bus_id_[id];
}

void Portfolio::use_symbol_ids(EventBus& bus) {
  ids_ = &bus;
  by_bus_id_.clear();
}

void Portfolio::attach(EventBus& bus, const std::string& name) {
  use_symbol_ids(bus);
  // A handler per type: each knows its event's type, so none asks.
  bus.subscribe(EventType::kFill, name,
                [this](const Event& e) { book(e.ts_ns, position_for(e), e.as<Fill>()); });
  bus.subscribe(EventType::kBar, name, [this](const Event& e) { on_market(e, e.as<Bar>().close); });
  bus.subscribe(EventType::kTick, name,
                [this](const Event& e) { on_market(e, e.as<Tick>().price); });
}

void Portfolio::on_event(const Event& event) {
  if (const auto* fill = event.get_if<Fill>()) {
    book(event.ts_ns, position_for(event), *fill);
  } else if (const auto* bar = event.get_if<Bar>()) {
    on_market(event, bar->close);
  } else if (const auto* tick = event.get_if<Tick>()) {
    on_market(event, tick->price);
  } else {
    advance_to(event.ts_ns);
  }
}

void Portfolio::restore(State state) {
  state_ = std::move(state);
  index_positions();
}

const Position* Portfolio::position(const std::string& symbol) const {
  const std::uint32_t id = symbols_->find(symbol);
  return id == detail::SymbolTable::kNone ? nullptr : by_id_[id];
}

// ts == state_.last_ts with a day open changes nothing: that day opened when
// state_.last_ts was first seen. So advance_to() calls this only for other times.
void Portfolio::advance_in_time(TimestampNs ts) {
  if (ts > state_.last_ts || state_.days.empty()) state_.last_ts = ts;
  const std::int32_t day = calendar_.day_of(ts);
  if (state_.days.empty() || day > state_.days.back().day) open_day(day);
}

[[gnu::noinline]] void Portfolio::open_day(std::int32_t day) {
  state_.unrealized_at_open = state_.unrealized;
  state_.days.push_back(DayPnl{day, Decimal(), Decimal(), state_.unrealized, 0});
}

void Portfolio::on_mark(TimestampNs ts, const std::string& symbol, Decimal price) {
  mark(ts, position_for(symbol), price);
}

void Portfolio::on_fill(TimestampNs ts, const std::string& symbol, const Fill& fill) {
  book(ts, position_for(symbol), fill);
}

bool Portfolio::mark(TimestampNs ts, Position& position, Decimal price) {
  advance_to(ts);
  // Flat, its unrealized PnL is 0 before and after, so no total changes.
  if (position.quantity.is_zero()) {
    position.last_price = price;
    position.marked = true;
    return false;
  }
  // Open, its cost stays, so its unrealized PnL (value - cost) changes by
  // exactly the change of its value, each value rounded as before. A whole
  // quantity (the usual) makes both values exact, and multiplying by it as
  // an integer gives the same values, and the same overflow, without the
  // rounding.
  const Decimal q = position.quantity;
  const std::int64_t whole = q.raw() / Decimal::kScale;
  if (whole * Decimal::kScale == q.raw())
    add_unrealized(price * whole - position.last_price * whole);
  else
    add_unrealized(price * q - position.last_price * q);
  position.last_price = price;
  position.marked = true;
  return true;
}

void Portfolio::book(TimestampNs ts, Position& position, const Fill& fill) {
  advance_to(ts);
  // All or nothing: every new figure is computed first, any of which may
  // overflow (blotter::Error), and only then assigned, so a fill the books
  // cannot hold leaves them as they were.
  Position p = position;
  // No market price yet: value at the latest fill. That is not a mark, so
  // `marked` stays false and the next fill or market event replaces it.
  if (!p.marked) p.last_price = fill.price;
  const Decimal delta = fill.side == Side::kBuy ? fill.quantity : -fill.quantity;
  Decimal opening = delta;
  Decimal closing_amount;  // price * the closing part, signed like delta
  Decimal realized;
  const bool reducing = !p.quantity.is_zero() && (delta.is_negative() != p.quantity.is_negative());
  if (reducing) {
    // The part of delta that closes existing quantity (signed like delta).
    const Decimal closing = delta.abs() < p.quantity.abs() ? delta : -p.quantity;
    const Decimal removed_cost =
        closing == -p.quantity ? p.cost : Decimal::mul_div(p.cost, -closing, p.quantity);
    closing_amount = fill.price * closing;
    realized = -closing_amount - removed_cost;
    p.cost -= removed_cost;
    p.quantity += closing;
    opening = delta - closing;
  }
  if (!opening.is_zero()) {
    // A fill that closes one side and opens the other splits its amount,
    // rounded once, so every fill moves exactly price * quantity rounded.
    p.cost += reducing ? fill.price * delta - closing_amount : fill.price * opening;
    p.quantity += opening;
  }
  realized -= fill.commission;
  p.realized_pnl += realized;
  assert(!p.quantity.is_zero() || p.cost.is_zero());
  const Decimal unrealized = state_.unrealized + (p.unrealized_pnl() - position.unrealized_pnl());
  const Decimal total_realized = state_.realized + realized;
  DayPnl today = day_with(unrealized, total_realized, realized);
  ++today.fills;
  position = p;
  state_.realized = total_realized;
  state_.unrealized = unrealized;
  state_.days.back() = today;
}

}  // namespace blotter
