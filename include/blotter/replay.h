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

// A bound given on the command line: "#SEQ", an ISO date or an ISO date-time.
// A bare date as an upper bound means the end of that day in `calendar`
// (the last nanosecond before the next day); as a lower bound, its start.
// Sets either range.from_*/to_* of `range`. Throws blotter::ConfigError.
void apply_bound(const std::string& text, bool upper, const Calendar& calendar, ScanRange& range);

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
// (ts_ns gap / X) between events, measured on `clock`. Returns the count.
std::int64_t replay_events(const EventStore& store, const ScanRange& range, double speed,
                           ReplayFormat format, std::ostream& out,
                           ReplayClock& clock = real_clock());

// One event as a JSON object line: {"seq","time","ts_ns","type","symbol","payload"}.
std::string event_json(const Event& e);
// The same for a row as stored; its payload text is embedded as it is.
std::string row_json(const JournalRow& row);

// Positions, total PnL and the PnL of each trading day with PnL or fills, as
// a terminal table; with `max_days` > 0 only the last `max_days` such days.
std::string books_table(const std::map<std::string, Position>& positions, Decimal realized_pnl,
                        Decimal unrealized_pnl, const std::vector<DayPnl>& days,
                        std::size_t max_days = 0);

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

// Feeds the recorded BAR/TICK events of `range` through fresh components
// configured with `config`, into a scratch in-memory store, and compares the
// derived events (SIGNAL, ORDER, FILL, RISK_REJECTED) with the recorded ones
// in order, on ts_ns, type, symbol and payload (seq references are compared
// by their position among the derived events, since seqs differ).
ResimResult resimulate(const EventStore& store, const ScanRange& range,
                       const TradingConfig& config);

}  // namespace blotter
