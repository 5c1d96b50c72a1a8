// The moving-average crossover strategy.
#pragma once

#include <deque>
#include <map>
#include <string>

#include "blotter/bus.h"

namespace blotter {

struct SignalConfig {
  int window = 20;  // closes in the moving average, the current one included; >= 2
};

// For each BAR close (or TICK price) of a symbol, once `window` prices are
// known, with ma the mean of the last `window` prices including this one:
//   SIGNAL long when close > ma and previous close <= ma;
//   SIGNAL exit when close < ma and previous close >= ma.
// The comparison is exact: window * close against the window's sum, so a
// tie is a tie. Each SIGNAL carries the market event's time. Not thread-safe.
class SignalGenerator {
 public:
  // Throws blotter::ConfigError if the window is below 2.
  SignalGenerator(EventBus& bus, SignalConfig config = {});

  void on_price(const Event& market_event, Decimal close);

  // What the generator remembers of one symbol's prices.
  struct History {
    std::deque<Decimal> window;  // the last `window` closes, oldest first
    Decimal sum;                 // their sum
    Decimal previous;            // the close before the current one
    bool has_previous = false;
  };
  // For snapshots: restore(state()) leaves the generator unchanged.
  using State = std::map<std::string, History>;
  const State& state() const { return history_; }
  void restore(State state) { history_ = std::move(state); }

 private:
  EventBus& bus_;
  SignalConfig config_;
  std::map<std::string, History> history_;
};

}  // namespace blotter
