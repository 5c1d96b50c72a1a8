// The Donchian-channel breakout strategy ("breakout"), a built-in Strategy.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "blotter/decimal.h"
#include "blotter/strategy.h"

namespace blotter {

struct BreakoutConfig {
  int entry = 20;  // previous bars whose highest high a close must exceed; >= 1
  int exit = 10;   // previous bars whose lowest low a close must fall below; >= 1
};

// For each BAR of a symbol, with the channel of its previous bars (the
// current bar is never part of its own channel):
//   above: at least `entry` previous bars, and the close is above the highest
//          high of the last `entry` of them;
//   below: at least `exit` previous bars, and the close is below the lowest
//          low of the last `exit` of them.
// SIGNAL long on a bar that is above while the symbol's previous bar was not
// (or had too few bars before it); else SIGNAL exit on a bar that is below
// while the previous bar was not. A signal marks where the condition starts,
// not every bar it holds on: the risk manager refuses a long signal while
// long (each such bar would journal a RISK_REJECTED) and, with a position
// limit, would add to the position on each one. A refused entry is therefore
// not signalled again until the close has gone back into the channel and out.
// (With every bar's high >= low, above and below exclude each other.)
// A TICK counts as a bar whose high, low and close are its price.
// Comparisons are exact (Decimal). Each SIGNAL carries the market event's
// time and close, and a reason naming the close and the channel bound.
// Not thread-safe (a Strategy: the bus's thread only).
class Breakout final : public Strategy {
 public:
  static constexpr std::string_view kName = "breakout";

  // Throws blotter::ConfigError naming the field if entry or exit is below 1.
  explicit Breakout(BreakoutConfig config = {});
  // A copy has the same state and its own index.
  Breakout(const Breakout& other) : Strategy(other), config_(other.config_), state_(other.state_) {}
  Breakout& operator=(const Breakout& other) {
    config_ = other.config_;
    restore(other.state_);
    return *this;
  }

  std::string_view name() const override { return kName; }
  int version() const override { return 1; }
  bool saves_state() const override { return true; }
  void on_bar(const Event& bar, StrategyContext& ctx) override;
  void on_tick(const Event& tick, StrategyContext& ctx) override;

  const BreakoutConfig& config() const { return config_; }

  // One previous bar, as the channel sees it.
  struct Range {
    Decimal high, low;
  };
  // What the strategy remembers of one symbol.
  struct Channel {
    std::deque<Range> bars;  // the last max(entry, exit) bars at most, oldest first
    bool above = false;      // the last bar was above its entry channel
    bool below = false;      // the last bar was below its exit channel
  };
  // Its whole state, by symbol: restore(state()) leaves it unchanged. A
  // channel of more than max(entry, exit) bars (a state saved with longer
  // windows) is cut to its latest bars.
  using State = std::map<std::string, Channel>;
  const State& state() const { return state_; }
  void restore(State state);

  // state() as JSON: {"SYMBOL":{"bars":[["HIGH","LOW"],...],"above":BOOL,
  // "below":BOOL},...}, symbols in order, decimals as exact strings, no
  // whitespace.
  std::string save_state() const override;
  void restore_state(std::string_view json) override;

 private:
  void on_prices(Decimal high, Decimal low, Decimal close, StrategyContext& ctx);
  Channel& channel_of(StrategyContext& ctx);

  BreakoutConfig config_;
  State state_;
  // state_'s channels by the bus's symbol id (nullptr: not looked up yet);
  // not state: cleared by restore(), filled as symbols come.
  std::vector<Channel*> by_symbol_id_;
};

}  // namespace blotter
