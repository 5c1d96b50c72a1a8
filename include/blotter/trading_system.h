// The paper-trading pipeline wired on one bus, and the journaled run.
#pragma once

#include <array>
#include <functional>
#include <memory>
#include <string>

#include "blotter/bus.h"
#include "blotter/calendar.h"
#include "blotter/execution_engine.h"
#include "blotter/market_data.h"
#include "blotter/portfolio.h"
#include "blotter/risk_manager.h"
#include "blotter/signal_generator.h"

namespace blotter {

struct TradingConfig {
  SignalConfig signal;
  RiskConfig risk;
  ExecutionConfig execution;
  std::string tz = "UTC";  // the trading-day boundary
};

// The components, each subscribed to the bus in this order (which is the
// order handlers of one event type run in): ExecutionEngine, SignalGenerator,
// RiskManager, Portfolio. They talk only through the bus. Not thread-safe.
class TradingSystem {
 public:
  // Throws blotter::ConfigError for invalid options. `store` must outlive this.
  TradingSystem(EventStore& store, const TradingConfig& config);

  EventBus& bus() { return bus_; }
  MarketDataFeed& feed() { return feed_; }
  const Portfolio& portfolio() const { return portfolio_; }
  const RiskManager& risk() const { return risk_; }
  const ExecutionEngine& execution() const { return execution_; }

 private:
  EventBus bus_;
  MarketDataFeed feed_;
  ExecutionEngine execution_;
  SignalGenerator signals_;
  RiskManager risk_;
  Portfolio portfolio_;
};

struct RunConfig {
  std::string input_path;
  CsvOptions input;
  std::string journal_path;
  TradingConfig trading;
  // Market rows per journal batch: a batch holds whole rows with every event
  // they caused, committed together.
  int batch_rows = 4096;
  std::string version = "unknown";  // recorded in the manifest
  // Called after each committed batch with the input read so far.
  std::function<void(const CsvMarketData&)> on_progress;
};

struct RunSummary {
  std::array<std::uint64_t, kEventTypeCount> events_by_type{};
  std::int64_t rows = 0;
  Seq first_seq = 0, last_seq = 0;
  std::map<std::string, Position> positions;
  Decimal realized_pnl, unrealized_pnl;
  std::vector<DayPnl> days;
  std::size_t unfilled_orders = 0;
};

// Paper-trades one CSV file into the journal. The input is validated in full
// first: bad input throws blotter::InputError before the journal is even
// opened, so a failed run leaves nothing behind. During the run, each batch
// of rows is committed with all its consequences; if the process dies, the
// journal holds every committed batch and never part of one. Throws
// blotter::StoreError if the journal cannot be written.
// The run writes RUN_STARTED (its manifest: configuration, input name and
// SHA-256, blotter version; event time of the first row) before the first row
// and RUN_FINISHED (counts; event time of the last row) after the last.
RunSummary run_paper_trading(const RunConfig& config);

// The manifest a run with `config` records; `input_sha256` is the input's digest.
RunStarted manifest_of(const RunConfig& config, const std::string& input_sha256);
// The trading configuration recorded in `manifest`. Throws blotter::Error if
// the manifest holds an invalid value.
TradingConfig trading_config_of(const RunStarted& manifest);

// The state of the books after one event of the journal, rebuilt by replaying
// the recorded events through the same components the run used (EventBus::replay),
// configured from the run's manifest.
struct RebuiltState {
  Seq seq = 0;                            // the last event replayed; 0 for an empty journal
  TimestampNs ts_ns = 0;                  // its event time
  Seq run_seq = 0;                        // the RUN_STARTED of the run it belongs to; 0 if none
  RunStarted manifest;                    // that run's configuration (defaults if none)
  std::unique_ptr<MemoryStore> scratch;   // the (unused) store of `system`
  std::unique_ptr<TradingSystem> system;  // components holding the state
};

// Replays events 1..`at_seq` of `store`. A RUN_STARTED that starts a new run
// (not a resume) resets the components with that run's configuration, so the
// state is that of the run containing `at_seq`. ANNOTATION events are
// skipped (`seq` is the last other event). Writes nothing to `store`.
RebuiltState rebuild_state(const EventStore& store, Seq at_seq);

}  // namespace blotter
