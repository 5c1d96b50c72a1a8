// The moving-average crossover strategy.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <string>
#include <vector>

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
  State state() const;
  void restore(const State& state);

 private:
  // A History kept flat: the window is a ring of closes in `closes`, whose
  // capacity exceeds the longest the window gets (so a push never overwrites).
  // Empty `closes`: the symbol has no history.
  struct Series {
    std::vector<Decimal> closes;
    std::size_t oldest = 0;  // index of the oldest close in the window
    std::size_t count = 0;   // closes in the window
    Decimal sum;
    Decimal previous;
    bool has_previous = false;
  };
  Series& series_of(std::uint32_t symbol_id) {
    if (symbol_id < series_.size() && !series_[symbol_id].closes.empty()) return series_[symbol_id];
    return new_series(symbol_id);
  }
  // series_of() for a symbol without a series yet.
  Series& new_series(std::uint32_t symbol_id);
  void publish_signal(const Event& market_event, Direction direction, Decimal close, Decimal sum);

  EventBus& bus_;
  SignalConfig config_;
  std::vector<Series> series_;  // by the bus's symbol id
};

}  // namespace blotter
