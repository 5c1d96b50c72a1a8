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

  std::string_view name() const override { return kName; }
  int version() const override { return 1; }
  bool saves_state() const override { return true; }
  void on_bar(const Event& bar, StrategyContext& ctx) override;
  void on_tick(const Event& tick, StrategyContext& ctx) override;

  const SignalConfig& config() const { return config_; }

  // What the strategy remembers of one symbol's prices.
  struct History {
    std::deque<Decimal> window;  // the last `window` closes, oldest first
    Decimal sum;                 // their sum
    Decimal previous;            // the close before the current one
    bool has_previous = false;
  };
  // Its whole state, by symbol: restore(state()) leaves it unchanged. A
  // window longer than the configured one (a state saved with a longer
  // window) is cut to its latest closes, their sum recomputed.
  using State = std::map<std::string, History>;
  State state() const;
  void restore(const State& state);

  // state() as JSON: {"SYMBOL":{"window":["CLOSE",...],"sum":"S",
  // "previous":"P","has_previous":BOOL},...}, symbols in order, decimals as
  // exact strings, no whitespace.
  std::string save_state() const override;
  void restore_state(std::string_view json) override;

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
  // The close (or tick price) of the event `ctx` is handling.
  void on_price(Decimal close, StrategyContext& ctx);
  Series& series_of(StrategyContext& ctx) {
    const std::uint32_t symbol_id = ctx.symbol_id();
    if (symbol_id < series_.size() && !series_[symbol_id].closes.empty()) return series_[symbol_id];
    return new_series(symbol_id, ctx.event().symbol);
  }
  // series_of() for a symbol without a series yet: a fresh one, or the
  // restored history of `symbol`.
  Series& new_series(std::uint32_t symbol_id, const std::string& symbol);
  void publish_signal(StrategyContext& ctx, Direction direction, Decimal close, Decimal sum);

  SignalConfig config_;
  // By the bus's symbol id, with each series' symbol.
  std::vector<Series> series_;
  std::vector<std::string> symbols_;
  // Restored histories of symbols not seen since (their ids are unknown
  // until their next event).
  State restored_;
};

}  // namespace blotter
