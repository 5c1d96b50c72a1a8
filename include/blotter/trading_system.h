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
RunSummary run_paper_trading(const RunConfig& config);

}  // namespace blotter
