// Paper execution: turns ORDERs into FILLs.
#pragma once

#include <string>

#include "blotter/broker.h"
#include "blotter/bus.h"

namespace blotter {

enum class FillModel {
  kSignal,    // fill at once at the order's price (the signal's close)
  kNextOpen,  // fill at the open of the symbol's next BAR (or its next TICK's price)
};

struct ExecutionConfig {
  FillModel fill = FillModel::kSignal;
  // Adverse price move in basis points: buys fill higher, sells lower,
  // rounded half to even at 8 places.
  Decimal slippage_bps;
  // Commission per unit filled, charged on every fill.
  Decimal commission;
};

// The paper broker ("paper"), the first Broker: fills on the journal's own
// events, never on anything outside them. Each FILL carries the time of the
// event it filled on: the ORDER's for kSignal, the next market event's for
// kNextOpen. Orders still pending when the data ends stay unfilled (an ORDER
// without a FILL in the journal). Not thread-safe.
class ExecutionEngine final : public Broker {
 public:
  // Throws blotter::ConfigError for negative slippage or commission, or a
  // slippage of 10000 bps or more (prices of 0 or less). A fill whose
  // slipped price rounds to 0 or less throws blotter::Error (a HANDLER_ERROR).
  explicit ExecutionEngine(ExecutionConfig config = {});
  // ExecutionEngine(config), attached to `bus`.
  ExecutionEngine(EventBus& bus, ExecutionConfig config = {});

  std::string_view name() const override { return "paper"; }
  void attach(EventBus& bus) override;

  void on_order(const Event& order_event);
  void on_market(const Event& market_event, Decimal price);

  // Orders waiting for the next market event, all symbols.
  std::size_t pending_orders() const override;

  using Pending = PendingOrder;
  State state() const override { return pending_; }
  void restore(State state) override { pending_ = std::move(state); }

 private:
  void fill(const Event& cause, const std::string& symbol, const Order& order, Seq order_seq,
            Decimal market_price);

  EventBus* bus_ = nullptr;  // set by attach()
  ExecutionConfig config_;
  State pending_;
};

}  // namespace blotter
