// Reading a journal back: time bounds, paced replay, rebuilt state, re-simulation.
#pragma once

#include <chrono>
#include <functional>
#include <ostream>
#include <string>

#include "blotter/calendar.h"
#include "blotter/store.h"
#include "blotter/trading_system.h"

namespace blotter {

// Which end of a range a bound sets.
enum class Bound { kFrom, kTo };

// A bound given as text: "#SEQ", an ISO date or an ISO date-time. A bare
// date as the `kTo` bound means the end of that day in `calendar` (the last
// nanosecond before the next day); as the `kFrom` bound, its start. Sets
// range.from_* or range.to_*. Throws blotter::ConfigError.
void apply_bound(const std::string& text, Bound bound, const Calendar& calendar, ScanRange& range);

// The calendar of the journal's latest run: its --tz (UTC without a run).
// Throws blotter::ConfigError if the recorded zone is unknown here.
Calendar journal_calendar(const EventStore& store);

// Time as a replay sees it: tests substitute a fake that never sleeps.
class ReplayClock {
 public:
  virtual ~ReplayClock() = default;
  virtual std::chrono::nanoseconds now() = 0;
  virtual void sleep_for(std::chrono::nanoseconds d) = 0;
};
// The steady clock and std::this_thread::sleep_for.
ReplayClock& real_clock();

enum class ReplayFormat { kTable, kJsonl };

// Streams the events of `range` from `store` to `out` in seq order, through a
// cursor (constant memory). speed 0: as fast as possible; speed X > 0: waits
// (ts_ns gap / X) between events, measured on `clock`. kTable starts with its
// header line unless `header` is false (the next part of a followed journal).
// Returns the count.
std::int64_t replay_events(const EventStore& store, const ScanRange& range, double speed,
                           ReplayFormat format, std::ostream& out,
                           ReplayClock& clock = real_clock(), bool header = true);

// One event as a JSON object line: {"seq","time","ts_ns","type","symbol","payload"}.
std::string event_json(const Event& e);
// The same for a row as stored; its payload text is embedded as it is.
std::string row_json(const JournalRow& row);

// Positions, total PnL and the PnL of each trading day with PnL or fills, as
// a terminal table; with `max_days` > 0 only the last `max_days` such days.
std::string books_table(const std::map<std::string, Position>& positions, Decimal realized_pnl,
                        Decimal unrealized_pnl, const std::vector<DayPnl>& days,
                        std::size_t max_days = 0);

// The state `blotter state` shows: rebuilt (rebuild_state) after the last
// event, ANNOTATIONs aside, at or before bound `at` (as apply_bound reads an
// upper bound; empty: no bound) of the run whose RUN_STARTED is `run_seq`, or
// of the whole journal if `run_seq` is 0 (then the state is that of the run
// the event belongs to: the latest one that has an event by then). Bare dates
// are days in the time zone of that run (of the journal's latest run if
// `run_seq` is 0). If `at` is before the first event (of the journal, or of
// that run), the state is the empty one and `before` is that first event.
// Throws blotter::ConfigError for a bad bound or if there is no run at `run_seq`.
struct StateAt {
  RebuiltState state;
  std::optional<Event> before;
};
// The strategies' state is rebuilt where `strategies` has them (RebuiltState).
StateAt state_at(const EventStore& store, const std::string& at, Seq run_seq = 0,
                 const StrategyRegistry& strategies = StrategyRegistry::builtin());

// The rebuilt state as JSON (decimals as exact strings) or as a terminal table.
std::string state_json(const RebuiltState& state);
std::string state_table(const RebuiltState& state);

struct ResimResult {
  std::int64_t matched = 0;  // derived events equal to the recorded ones
  bool identical = true;
  Seq diverging_seq = 0;          // the recorded seq where they first differ (0: past the end)
  std::optional<Event> recorded;  // the first recorded event that differs, if any
  std::optional<Event> resimulated;
  std::vector<Event> context;  // up to 5 recorded events before the divergence
};

// Changes to the recorded configuration: each option set replaces the
// recorded one in every run re-simulated.
struct ResimOverrides {
  // Another strategy: its parameters are then `params` alone, not the
  // recorded ones.
  std::optional<std::string> strategy;
  // Strategy parameters replacing the recorded ones of the same key (the
  // others stay as recorded).
  StrategyParams params;
  std::optional<int> window;              // ma_crossover's: the parameter `window`
  std::optional<Decimal> quantity;        // fixed sizing: drops a recorded risk_per_trade
  std::optional<Decimal> risk_per_trade;  // fixed-fractional sizing
  std::optional<Decimal> capital, max_daily_loss, max_position;
  std::optional<FillModel> fill;
  std::optional<Decimal> slippage_bps, commission;
  std::optional<std::string> tz;

  // `config` with these changes. Throws blotter::ConfigError if both
  // quantity and risk_per_trade are set (two sizing rules), or both window
  // and a parameter `window`.
  TradingConfig applied_to(TradingConfig config) const;
};

// The re-simulation of one run.
struct RunResim {
  Seq run_seq = 0;   // its RUN_STARTED; 0: events before the journal's first run
  Seq from_seq = 0;  // the first market event re-simulated; the state before it is rebuilt
  ResimResult result;
};

// Re-simulates each run of `store` with market events in `range` (seq and
// time bounds; only the run whose RUN_STARTED is `run_seq` if that is not 0),
// in seq order, each with its own recorded configuration changed by
// `overrides`. A run starts from its state rebuilt (from a snapshot and
// replay) right before its first market event in the range: positions,
// windows, pending orders and halts as recorded. Its recorded BAR/TICK events
// up to the end of the range are then fed through components configured so,
// into a scratch store, and the derived events (SIGNAL, ORDER, FILL,
// RISK_REJECTED) compared with the recorded ones of that run in order, on
// ts_ns, type, symbol and payload (a seq reference compares by its position
// among the market, derived and handler-error events, since seqs differ).
// The strategies are made from `strategies`: without overrides.strategy, a
// run's recorded strategy must be there (require_strategy; another version
// of it is accepted). A strategy that saves no state gets its state by
// replaying its run from the start. Every configuration is validated before
// any run is re-simulated. Throws blotter::ConfigError for an invalid
// configuration, a strategy `strategies` lacks or no run at `run_seq`,
// blotter::Error if the journal cannot be read.
std::vector<RunResim> resimulate(const EventStore& store, const ScanRange& range, Seq run_seq = 0,
                                 const ResimOverrides& overrides = {},
                                 const StrategyRegistry& strategies = StrategyRegistry::builtin());

}  // namespace blotter
