#include "blotter/trading_system.h"

#include "blotter/sqlite_journal.h"

namespace blotter {

TradingSystem::TradingSystem(EventStore& store, const TradingConfig& config)
    : bus_(store),
      feed_(bus_),
      execution_(bus_, config.execution),
      signals_(bus_, config.signal),
      risk_(bus_, config.risk, Calendar(config.tz)),
      portfolio_(Calendar(config.tz)) {
  portfolio_.attach(bus_);
}

RunSummary run_paper_trading(const RunConfig& config) {
  {
    // Validate everything before the journal is touched.
    CsvMarketData check(config.input_path, config.input);
    while (check.next()) {
    }
  }
  auto journal = SqliteJournal::open(config.journal_path, SqliteJournal::Mode::kWrite);
  TradingSystem system(*journal, config.trading);
  CsvMarketData source(config.input_path, config.input);

  RunSummary summary;
  summary.first_seq = journal->last_seq() + 1;
  std::int64_t in_batch = 0;
  try {
    summary.rows = system.feed().publish_all(source, [&](const CsvMarketData& src) {
      if (++in_batch < config.batch_rows) return;
      journal->commit();
      in_batch = 0;
      if (config.on_progress) config.on_progress(src);
    });
    journal->commit();
  } catch (...) {
    journal->rollback();
    throw;
  }
  if (config.on_progress) config.on_progress(source);

  summary.last_seq = journal->last_seq();
  for (std::size_t t = 0; t < kEventTypeCount; ++t)
    summary.events_by_type[t] = system.bus().published(static_cast<EventType>(t));
  const Portfolio& book = system.portfolio();
  summary.positions = book.positions();
  summary.realized_pnl = book.realized_pnl();
  summary.unrealized_pnl = book.unrealized_pnl();
  summary.days = book.days();
  summary.unfilled_orders = system.execution().pending_orders();
  return summary;
}

}  // namespace blotter
