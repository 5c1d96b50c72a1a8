#include "blotter/strategy.h"

#include <cassert>

namespace blotter {

Seq StrategyContext::signal(Direction direction, std::string reason) {
  assert(event_ != nullptr);
  const Event& e = *event_;
  const Decimal price = e.type() == EventType::kBar ? e.as<Bar>().close : e.as<Tick>().price;
  // The event's own symbol object: the bus keeps its id without a lookup.
  return bus_.publish(e.ts_ns, e.symbol, Signal{direction, price, std::move(reason)});
}

void Strategy::on_bar(const Event&, StrategyContext&) {}
void Strategy::on_tick(const Event&, StrategyContext&) {}

}  // namespace blotter
