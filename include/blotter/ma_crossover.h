// The moving-average crossover strategy ("ma_crossover"), blotter's first Strategy.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "blotter/strategy.h"

namespace blotter {

struct SignalConfig {
  int window = 20;  // closes in the moving average, the current one included; >= 2
};

// For each BAR close (or TICK price) of a symbol, once `window` prices are
// known, with ma the mean of the last `window` prices including this one:
//   SIGNAL long when close > ma and previous close <= ma;
//   SIGNAL exit when close < ma and previous close >= ma.
// The comparison is exact: window * close against the window's sum, so a
// tie is a tie. Each SIGNAL carries the market event's time and the close.
// Not thread-safe (a Strategy: the bus's thread only).
class MovingAverageCrossover final : public Strategy {
 public:
  static constexpr std::string_view kName = "ma_crossover";

  // Throws blotter::ConfigError if the window is below 2.
  explicit MovingAverageCrossover(SignalConfig config = {});
  // A copy has the same state and its own index.
  MovingAverageCrossover(const MovingAverageCrossover& other)
      : Strategy(other), config_(other.config_), state_(other.state_) {}
  MovingAverageCrossover& operator=(const MovingAverageCrossover& other) {
    config_ = other.config_;
    restore(other.state_);
    return *this;
  }

  std::string_view name() const override { return kName; }
  int version() const override { return 1; }
  bool saves_state() const override { return true; }
  void on_bar(const Event& bar, StrategyContext& ctx) override;
  void on_tick(const Event& tick, StrategyContext& ctx) override;

  const SignalConfig& config() const { return config_; }

  // What the strategy remembers of one symbol's prices.
  struct History {
    std::deque<Decimal> window;  // the last `window` closes at most, oldest first
    Decimal sum;                 // their sum
    Decimal previous;            // the close before the current one
    bool has_previous = false;
  };
  // Its whole state, by symbol, and the only one it keeps: restore(state())
  // leaves it unchanged. A window longer than the configured one (a state
  // saved with a longer window) is cut to its latest closes, their sum
  // recomputed.
  using State = std::map<std::string, History>;
  const State& state() const { return state_; }
  void restore(const State& state);

  // state() as JSON: {"SYMBOL":{"window":["CLOSE",...],"sum":"S",
  // "previous":"P","has_previous":BOOL},...}, symbols in order, decimals as
  // exact strings, no whitespace.
  std::string save_state() const override;
  void restore_state(std::string_view json) override;

 private:
  // The close (or tick price) of the event `ctx` is handling.
  void on_price(Decimal close, StrategyContext& ctx);
  History& history_of(StrategyContext& ctx) {
    const std::uint32_t symbol_id = ctx.symbol_id();
    if (symbol_id < by_symbol_id_.size() && by_symbol_id_[symbol_id] != nullptr)
      return *by_symbol_id_[symbol_id];
    return index_history(symbol_id, ctx.event().symbol);
  }
  // history_of() for a symbol not yet indexed: its entry in state_ (made if
  // new), remembered under its bus id.
  History& index_history(std::uint32_t symbol_id, const std::string& symbol);
  void publish_signal(StrategyContext& ctx, Direction direction, Decimal close, Decimal sum);

  SignalConfig config_;
  State state_;
  // Not state: state_'s entries by the bus's symbol id (map entries do not
  // move), filled as symbols come and emptied by restore().
  std::vector<History*> by_symbol_id_;
};

}  // namespace blotter
