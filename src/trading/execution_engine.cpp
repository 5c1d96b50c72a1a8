#include "blotter/execution_engine.h"

#include <fmt/format.h>

#include <exception>

#include "blotter/error.h"

namespace blotter {
namespace {

constexpr Decimal kBpsPerUnit = Decimal::from_raw(10'000 * Decimal::kScale);

}  // namespace

ExecutionEngine::ExecutionEngine(ExecutionConfig config) : config_(config) {
  if (config_.slippage_bps.is_negative())
    throw ConfigError(Field{"slippage_bps"}, "must not be negative");
  // 10000 bps is the whole price: a sell would fill at 0, or below it beyond.
  if (config_.slippage_bps >= kBpsPerUnit)
    throw ConfigError(Field{"slippage_bps"},
                      fmt::format("{} must be below 10000 (100%): a sell would fill at a price "
                                  "of 0 or less",
                                  config_.slippage_bps.to_string()));
  if (config_.commission.is_negative())
    throw ConfigError(Field{"commission"}, "must not be negative");
}

ExecutionEngine::ExecutionEngine(EventBus& bus, ExecutionConfig config) : ExecutionEngine(config) {
  attach(bus);
}

void ExecutionEngine::attach(EventBus& bus) {
  bus_ = &bus;
  bus.subscribe(EventType::kOrder, "ExecutionEngine", [this](const Event& e) { on_order(e); });
  if (config_.fill == FillModel::kNextOpen) {
    bus.subscribe(EventType::kBar, "ExecutionEngine",
                  [this](const Event& e) { on_market(e, e.as<Bar>().open); });
    bus.subscribe(EventType::kTick, "ExecutionEngine",
                  [this](const Event& e) { on_market(e, e.as<Tick>().price); });
  }
}

std::size_t ExecutionEngine::pending_orders() const {
  std::size_t n = 0;
  for (const auto& [symbol, orders] : pending_) n += orders.size();
  return n;
}

void ExecutionEngine::on_order(const Event& e) {
  const Order& order = e.as<Order>();
  if (config_.fill == FillModel::kSignal) {
    fill(e, e.symbol, order, e.seq, order.price);
  } else {
    pending_[e.symbol].push_back({order, e.seq});
  }
}

void ExecutionEngine::on_market(const Event& e, Decimal price) {
  if (pending_.empty()) return;  // the common case: no lookup
  auto it = pending_.find(e.symbol);
  if (it == pending_.end()) return;
  std::deque<Pending> orders = std::move(it->second);
  pending_.erase(it);
  // An order that cannot be filled (its price or commission out of range)
  // does not take the orders queued after it down with it: they fill, and
  // the first failure is reported (a HANDLER_ERROR) once all have been tried.
  std::exception_ptr failed;
  for (const Pending& p : orders) {
    try {
      fill(e, e.symbol, p.order, p.seq, price);
    } catch (const Error&) {
      if (!failed) failed = std::current_exception();
    }
  }
  if (failed) std::rethrow_exception(failed);
}

void ExecutionEngine::fill(const Event& cause, const std::string& symbol, const Order& order,
                           Seq order_seq, Decimal market_price) {
  // No slippage is exactly no slip: the division is skipped.
  const Decimal slip = config_.slippage_bps.is_zero()
                           ? Decimal()
                           : Decimal::mul_div(market_price, config_.slippage_bps, kBpsPerUnit);
  const Decimal price = order.side == Side::kBuy ? market_price + slip : market_price - slip;
  // Below 10000 bps the slip is less than the price, but rounding can still
  // take a price of a few units of 1e-8 to 0.
  if (!price.is_positive())
    throw Error(fmt::format("a slippage of {} bps takes the price {} to {}",
                            config_.slippage_bps.to_string(), market_price.to_string(),
                            price.to_string()));
  bus_->publish(
      cause.ts_ns, symbol,
      Fill{order.side, order.quantity, price, config_.commission * order.quantity, order_seq});
}

}  // namespace blotter
