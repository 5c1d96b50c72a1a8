#include "blotter/trading_system.h"

#include <fmt/format.h>

#include "blotter/error.h"
#include "blotter/sqlite_journal.h"
#include "digest.h"

namespace blotter {
namespace {

std::string optional_text(const std::optional<Decimal>& d) { return d ? d->to_string() : ""; }

std::optional<Decimal> optional_decimal(const std::string& text) {
  if (text.empty()) return std::nullopt;
  return Decimal::from_string(text);
}

}  // namespace

TradingSystem::TradingSystem(EventStore& store, const TradingConfig& config)
    : bus_(store),
      feed_(bus_),
      execution_(bus_, config.execution),
      signals_(bus_, config.signal),
      risk_(bus_, config.risk, Calendar(config.tz)),
      portfolio_(Calendar(config.tz)) {
  portfolio_.attach(bus_);
}

RunStarted manifest_of(const RunConfig& config, const std::string& input_sha256) {
  const TradingConfig& t = config.trading;
  RunStarted m;
  m.input = config.input_path;
  m.input_sha256 = input_sha256;
  m.input_kind = config.input.kind == MarketDataKind::kBars ? "bars" : "ticks";
  m.symbol = config.input.symbol;
  m.window = t.signal.window;
  m.quantity = t.risk.quantity.to_string();
  m.risk_per_trade = optional_text(t.risk.risk_per_trade);
  m.capital = t.risk.capital.to_string();
  m.max_daily_loss = t.risk.max_daily_loss.to_string();
  m.max_position = optional_text(t.risk.max_position);
  m.fill = t.execution.fill == FillModel::kSignal ? "signal" : "next-open";
  m.slippage_bps = t.execution.slippage_bps.to_string();
  m.commission = t.execution.commission.to_string();
  m.tz = t.tz;
  m.version = config.version;
  return m;
}

TradingConfig trading_config_of(const RunStarted& m) {
  TradingConfig t;
  try {
    if (m.window) t.signal.window = static_cast<int>(m.window);
    if (!m.quantity.empty()) t.risk.quantity = Decimal::from_string(m.quantity);
    t.risk.risk_per_trade = optional_decimal(m.risk_per_trade);
    if (!m.capital.empty()) t.risk.capital = Decimal::from_string(m.capital);
    if (!m.max_daily_loss.empty()) t.risk.max_daily_loss = Decimal::from_string(m.max_daily_loss);
    t.risk.max_position = optional_decimal(m.max_position);
    t.execution.fill = m.fill == "next-open" ? FillModel::kNextOpen : FillModel::kSignal;
    if (!m.slippage_bps.empty()) t.execution.slippage_bps = Decimal::from_string(m.slippage_bps);
    if (!m.commission.empty()) t.execution.commission = Decimal::from_string(m.commission);
    if (!m.tz.empty()) t.tz = m.tz;
  } catch (const Error& e) {
    throw Error(fmt::format("invalid run manifest: {}", e.what()));
  }
  return t;
}

RunSummary run_paper_trading(const RunConfig& config) {
  TimestampNs first_ts = 0, last_ts = 0;
  {
    // Validate everything before the journal is touched.
    CsvMarketData check(config.input_path, config.input);
    bool first = true;
    while (auto e = check.next()) {
      if (first) first_ts = e->ts_ns;
      first = false;
      last_ts = e->ts_ns;
    }
  }
  const RunStarted manifest = manifest_of(config, detail::sha256_file(config.input_path));
  auto journal = SqliteJournal::open(config.journal_path, SqliteJournal::Mode::kWrite);
  TradingSystem system(*journal, config.trading);
  CsvMarketData source(config.input_path, config.input);

  RunSummary summary;
  summary.first_seq = journal->last_seq() + 1;
  std::int64_t in_batch = 0;
  try {
    const Seq run_seq = system.bus().publish(make_event(first_ts, "", manifest));
    summary.rows = system.feed().publish_all(source, [&](const CsvMarketData& src) {
      if (++in_batch < config.batch_rows) return;
      journal->commit();
      in_batch = 0;
      if (config.on_progress) config.on_progress(src);
    });
    const std::int64_t events = journal->last_seq() - summary.first_seq + 2;
    system.bus().publish(make_event(last_ts, "", RunFinished{run_seq, summary.rows, events}));
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

RebuiltState rebuild_state(const EventStore& store, Seq at_seq) {
  RebuiltState state;
  state.scratch = std::make_unique<MemoryStore>();
  state.system = std::make_unique<TradingSystem>(*state.scratch, trading_config_of(state.manifest));
  ScanRange range;
  range.to_seq = at_seq;
  store.scan(range, [&](const Event& e) {
    // An annotation is a note on the journal, not something that happened:
    // nothing handles it, and it carries an earlier event's time.
    if (e.type() == EventType::kAnnotation) return true;
    if (const auto* run = e.get_if<RunStarted>(); run && run->resumes == 0) {
      state.run_seq = e.seq;
      state.manifest = *run;
      state.system = std::make_unique<TradingSystem>(*state.scratch, trading_config_of(*run));
    }
    state.system->bus().replay(e);
    state.seq = e.seq;
    state.ts_ns = e.ts_ns;
    return true;
  });
  return state;
}

}  // namespace blotter
