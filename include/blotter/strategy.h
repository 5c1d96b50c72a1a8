// The strategy seam: what turns market events (BAR, TICK) into SIGNALs.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "blotter/bus.h"
#include "blotter/decimal.h"
#include "blotter/event.h"

namespace blotter {

class Portfolio;

// What a strategy may do while it handles one event. Made by the trading
// system, valid only during the on_bar/on_tick/on_fill call it is passed to.
// Not thread-safe: the bus's thread only.
class StrategyContext {
 public:
  // `bus` and `portfolio` (if given) must outlive the context; the portfolio
  // is only read, once events come.
  explicit StrategyContext(EventBus& bus, const Portfolio* portfolio = nullptr)
      : bus_(bus), portfolio_(portfolio) {}

  // The event being handled (a BAR, TICK or FILL).
  const Event& event() const { return *event_; }

  // Publishes a SIGNAL for the event being handled: its symbol, its time, and
  // as price the bar's close, the tick's price or the fill's price. The
  // SIGNAL is journaled at once and handled (by the risk manager) after the
  // strategy returns. Returns its seq (0 during a replay, which journals
  // nothing).
  Seq signal(Direction direction, std::string reason);
  // Whether a replay is rebuilding state: signal() then journals nothing
  // (the journal holds the SIGNALs already), so a strategy may skip the work
  // of writing a reason. Its own state must change exactly as in the run.
  bool replaying() const { return bus_.replaying(); }

  // The current position (signed quantity, exact) in the symbol of the event
  // being handled, as the portfolio holds it: in on_fill, that fill
  // included. Zero without a portfolio or before the symbol's first fill.
  Decimal position() const;

  // The portfolio of the run (positions, PnL), or nullptr if the context has
  // none. Read-only; as of the event being handled (see position()).
  const Portfolio* portfolio() const { return portfolio_; }

  // The bus's dense id of the event's symbol (EventBus::symbol_id), for
  // strategies that keep per-symbol state in vectors.
  std::uint32_t symbol_id() { return bus_.symbol_id(*event_); }

  // Sets the event being handled; the trading system calls it before each
  // on_bar/on_tick/on_fill.
  void begin(const Event& event) { event_ = &event; }

 private:
  EventBus& bus_;
  const Portfolio* portfolio_;
  const Event* event_ = nullptr;
};

// A trading strategy: it sees every market event of the run, in journal
// order, and publishes SIGNALs through its context; everything after the
// SIGNAL (sizing, orders, fills) is the other components' work.
//
// Contract:
//  * Deterministic: the same events in the same order (from a fresh object or
//    one given restore_state()) give the same SIGNALs. It never reads the wall
//    clock, the journal or anything outside the events it is given.
//  * Called on the bus's thread only, one event at a time; never concurrently.
//  * It is subscribed to the bus right after the broker, under the handler
//    name "SignalGenerator": a throw from on_bar/on_tick/on_fill is journaled as a
//    HANDLER_ERROR naming that handler, and the run goes on with the next
//    event. Throw blotter::Error (or a subclass) for a failure of its own.
//  * During a replay the same calls are made and the SIGNALs published are
//    discarded: the state after a replay equals the state after the run.
//  * on_fill sees each FILL (of any symbol) after the portfolio has booked
//    it, so ctx.position() includes it; it runs after every other handler of
//    the FILL, under the same handler name.
// Strategies are made by name from a StrategyRegistry (blotter's own:
// StrategyRegistry::builtin()); the run records the name, the version and
// the parameters in its manifest.
class Strategy {
 public:
  virtual ~Strategy() = default;

  // Its name ("ma_crossover") and the version of its logic: a different
  // version may decide differently on the same data. The manifest records
  // the name and version of the StrategyRegistry entry that made it, which
  // should be these.
  virtual std::string_view name() const = 0;
  virtual int version() const = 0;

  // A BAR or TICK of any symbol. The defaults do nothing.
  virtual void on_bar(const Event& bar, StrategyContext& ctx);
  virtual void on_tick(const Event& tick, StrategyContext& ctx);
  // A FILL of any symbol, after the portfolio booked it. The default does nothing.
  virtual void on_fill(const Event& fill, StrategyContext& ctx);

  // Whether the strategy saves and restores its state (the two functions
  // below). The default, false: snapshots then hold no state of the
  // strategy, and its state is rebuilt by replaying its run from the start.
  virtual bool saves_state() const { return false; }
  // The strategy's whole state as one JSON value, which snapshots store
  // verbatim: equal states give equal text. Only between events. The
  // default: "null".
  virtual std::string save_state() const;
  // Replaces the state with one save_state() gave (in any JSON layout), so
  // that the strategy goes on exactly as the one that saved it. Only between
  // events, before the first or after a whole one. Throws blotter::Error if
  // `json` is not such a state; the strategy is then unchanged. The default
  // accepts only "null" (and changes nothing).
  virtual void restore_state(std::string_view json);

 protected:
  Strategy() = default;
  Strategy(const Strategy&) = default;
  Strategy& operator=(const Strategy&) = default;
};

// The parameters of one run's strategy: key=value pairs of text, read by
// the strategy's factory through typed getters with a default. Every key
// given must be read: StrategyRegistry::make refuses a key the factory never
// asked for (a misspelt parameter is an error, not ignored). Keys are letters,
// digits, '_', '-' and '.', starting with a letter or '_'; values are text
// without ',' or control characters. Not thread-safe (the getters record
// what was read).
class StrategyParams {
 public:
  StrategyParams() = default;
  // Parses the canonical text (canonical()). Throws blotter::ConfigError for
  // a malformed pair or a repeated key.
  static StrategyParams from_canonical(std::string_view text);

  // Adds `key`=`value`. Throws blotter::ConfigError naming the key if it is
  // already set or not a valid key, or if the value is not valid.
  void set(std::string key, std::string value);
  // Adds "key=value" text. Throws blotter::ConfigError as set() does, or if
  // there is no '='.
  void set(std::string_view key_value);

  // The value of `key` as an integer (decimal digits, an optional '-'), or
  // `fallback` if it is not set. Throws blotter::ConfigError naming the key
  // for another value.
  int get_int(std::string_view key, int fallback) const;
  // The value of `key` as an exact decimal, or `fallback` parsed. Throws
  // blotter::ConfigError naming the key for a value that is not a decimal.
  Decimal get_decimal(std::string_view key, std::string_view fallback) const;
  // The value of `key`, or `fallback`.
  std::string get_string(std::string_view key, std::string fallback) const;

  bool empty() const { return values_.empty(); }
  bool contains(std::string_view key) const { return values_.contains(std::string(key)); }
  // The pairs given, by key.
  const std::map<std::string, std::string, std::less<>>& values() const { return values_; }
  // The keys the getters were asked for, given or not.
  const std::set<std::string, std::less<>>& read() const { return read_; }
  // The given keys no getter was asked for, sorted.
  std::vector<std::string> unread() const;

  // The canonical text: "key=value" pairs sorted by key, joined by ',', each
  // value as given (exact text). With `with_defaults`, also the keys the
  // getters were asked for but not given, each with its default as text.
  std::string canonical(bool with_defaults = false) const;

 private:
  std::map<std::string, std::string, std::less<>> values_;
  mutable std::set<std::string, std::less<>> read_;
  mutable std::map<std::string, std::string, std::less<>> defaults_;
};

// Strategies by name: what a program can run, resimulate and rebuild. A
// value type: copy builtin() and add your own. Not thread-safe to add to;
// const use from many threads is safe.
class StrategyRegistry {
 public:
  // Makes a strategy from its parameters; throws blotter::ConfigError for an
  // invalid one. It must read every parameter it uses through the getters.
  using Factory = std::function<std::unique_ptr<Strategy>(const StrategyParams&)>;

  struct Entry {
    std::string name;
    int version = 1;
    Factory factory;
  };

  // Adds a strategy. `name` is what --strategy and the manifest say;
  // `version` the version of its logic (>= 1), recorded with every run.
  // Throws blotter::ConfigError if `name` is taken, empty or not a valid
  // key (as for StrategyParams), or `version` is below 1. Returns *this.
  StrategyRegistry& add(std::string name, int version, Factory factory);

  // blotter's own strategies: ma_crossover (parameter `window`, default 20)
  // and breakout (`entry`, default 20, and `exit`, default 10).
  static const StrategyRegistry& builtin();

  // The entry of `name`, or nullptr.
  const Entry* find(std::string_view name) const;
  // The names, sorted.
  std::vector<std::string> names() const;

  // The strategy `name` made with `params`; afterwards params.read() holds
  // the keys it reads. Throws blotter::ConfigError for an unknown name
  // (naming the names there are), a key the factory did not read (naming it
  // and the keys it reads), or what the factory throws.
  std::unique_ptr<Strategy> make(std::string_view name, const StrategyParams& params) const;

 private:
  std::map<std::string, Entry, std::less<>> entries_;
};

}  // namespace blotter
