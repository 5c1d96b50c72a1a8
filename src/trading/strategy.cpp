#include "blotter/strategy.h"

#include <fmt/format.h>

#include <cassert>

#include "blotter/error.h"
#include "blotter/portfolio.h"

namespace blotter {

Seq StrategyContext::signal(Direction direction, std::string reason) {
  assert(event_ != nullptr);
  const Event& e = *event_;
  Decimal price;
  if (const auto* bar = e.get_if<Bar>())
    price = bar->close;
  else if (const auto* tick = e.get_if<Tick>())
    price = tick->price;
  else
    price = e.as<Fill>().price;
  // The event's own symbol object: the bus keeps its id without a lookup.
  return bus_.publish(e.ts_ns, e.symbol, Signal{direction, price, std::move(reason)});
}

Decimal StrategyContext::position() const {
  assert(event_ != nullptr);
  if (!portfolio_) return Decimal();
  const Position* p = portfolio_->position(*event_);
  return p ? p->quantity : Decimal();
}

void Strategy::on_bar(const Event&, StrategyContext&) {}
void Strategy::on_tick(const Event&, StrategyContext&) {}
void Strategy::on_fill(const Event&, StrategyContext&) {}

std::string Strategy::save_state() const { return "null"; }

void Strategy::restore_state(std::string_view json) {
  if (json != "null")
    throw Error(fmt::format("strategy '{}' keeps no state, and was given one", name()));
}

}  // namespace blotter
