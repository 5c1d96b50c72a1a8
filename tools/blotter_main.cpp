// The blotter command line: a thin layer over the library.
#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <unistd.h>

#include <iostream>

#include "blotter/error.h"
#include "blotter/query.h"
#include "blotter/sqlite_journal.h"
#include "blotter/trading_system.h"

namespace {

using blotter::Decimal;

constexpr int kExitError = 2;

// CLI11 validator and converter for exact decimals.
Decimal to_decimal(const std::string& option, const std::string& text) {
  std::string why;
  auto d = Decimal::parse(text, &why);
  if (!d) throw blotter::ConfigError(fmt::format("{}: '{}' is {}", option, text, why));
  return *d;
}

struct RunOptions {
  std::string bars, ticks, symbol, journal, tz = "UTC";
  int window = 20;
  std::string quantity, capital, risk_per_trade, max_daily_loss, max_position;
  std::string fill = "signal", slippage_bps = "0", commission = "0";
};

void print_summary(const blotter::RunConfig& config, const blotter::RunSummary& s) {
  using blotter::EventType;
  fmt::print("blotter run: {} rows from {} journaled in {} (seq {}..{})\n", s.rows, config.input_path,
             config.journal_path, s.first_seq, s.last_seq);
  fmt::print("events:");
  for (std::size_t t = 0; t < blotter::kEventTypeCount; ++t)
    fmt::print(" {} {}", blotter::to_string(static_cast<EventType>(t)), s.events_by_type[t]);
  fmt::print("\n");
  if (s.unfilled_orders)
    fmt::print("orders still open at the end of the data: {}\n", s.unfilled_orders);

  fmt::print("\npositions:\n  {:<10} {:>14} {:>14} {:>14} {:>14} {:>14}\n", "symbol", "quantity",
             "avg_price", "last_price", "realized_pnl", "unrealized_pnl");
  for (const auto& [symbol, p] : s.positions)
    fmt::print("  {:<10} {:>14} {:>14} {:>14} {:>14} {:>14}\n", symbol, p.quantity.to_string(),
               p.avg_price().to_string(), p.last_price.to_string(), p.realized_pnl.to_string(),
               p.unrealized_pnl().to_string());
  fmt::print("\nrealized PnL {}  unrealized PnL {}  total {}\n", s.realized_pnl.to_string(),
             s.unrealized_pnl.to_string(), (s.realized_pnl + s.unrealized_pnl).to_string());

  std::vector<const blotter::DayPnl*> active;
  for (const auto& d : s.days)
    if (!d.pnl().is_zero() || d.fills) active.push_back(&d);
  fmt::print("\nPnL per day ({} trading days, {} with PnL or fills, trading days in {}):\n",
             s.days.size(), active.size(), config.trading.tz);
  constexpr std::size_t kShown = 15;
  if (active.size() > kShown)
    fmt::print("  ... {} earlier days: blotter query {} \"SELECT ...\" has them all\n",
               active.size() - kShown, config.journal_path);
  fmt::print("  {:<10} {:>14} {:>14} {:>14} {:>6}\n", "day", "realized", "unrealized", "pnl", "fills");
  for (std::size_t i = active.size() > kShown ? active.size() - kShown : 0; i < active.size(); ++i) {
    const auto& d = *active[i];
    fmt::print("  {:<10} {:>14} {:>14} {:>14} {:>6}\n", blotter::Calendar::day_name(d.day),
               d.realized_pnl.to_string(), d.unrealized_pnl.to_string(), d.pnl().to_string(), d.fills);
  }
}

int run_command(const RunOptions& o) {
  blotter::RunConfig config;
  if (o.bars.empty() == o.ticks.empty())
    throw blotter::ConfigError("give exactly one of --bars FILE and --ticks FILE");
  config.input_path = o.bars.empty() ? o.ticks : o.bars;
  config.input.kind = o.bars.empty() ? blotter::MarketDataKind::kTicks : blotter::MarketDataKind::kBars;
  config.input.symbol = o.symbol;
  config.journal_path = o.journal;
  auto& t = config.trading;
  t.tz = o.tz;
  t.signal.window = o.window;
  if (!o.quantity.empty() && !o.risk_per_trade.empty())
    throw blotter::ConfigError("--quantity and --risk-per-trade are two sizing rules: give one");
  if (!o.quantity.empty()) t.risk.quantity = to_decimal("--quantity", o.quantity);
  if (!o.capital.empty()) t.risk.capital = to_decimal("--capital", o.capital);
  if (!o.risk_per_trade.empty()) t.risk.risk_per_trade = to_decimal("--risk-per-trade", o.risk_per_trade);
  if (!o.max_daily_loss.empty()) t.risk.max_daily_loss = to_decimal("--max-daily-loss", o.max_daily_loss);
  if (!o.max_position.empty()) t.risk.max_position = to_decimal("--max-position", o.max_position);
  t.execution.fill = o.fill == "next-open" ? blotter::FillModel::kNextOpen : blotter::FillModel::kSignal;
  t.execution.slippage_bps = to_decimal("--slippage-bps", o.slippage_bps);
  t.execution.commission = to_decimal("--commission", o.commission);
  if (::isatty(STDERR_FILENO)) {
    config.on_progress = [](const blotter::CsvMarketData& src) {
      const double pct = src.file_size() ? 100.0 * static_cast<double>(src.bytes_read()) /
                                               static_cast<double>(src.file_size())
                                         : 100.0;
      fmt::print(stderr, "\r{}: {:5.1f}% {} rows", src.path(), pct, src.rows());
      if (src.bytes_read() >= src.file_size()) fmt::print(stderr, "\n");
    };
  }
  const auto summary = blotter::run_paper_trading(config);
  print_summary(config, summary);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"blotter: an event-sourced trading journal on SQLite"};
  app.require_subcommand(1);
  app.set_version_flag("--version", std::string("blotter ") + BLOTTER_VERSION_STRING);

  RunOptions run;
  auto* run_cmd = app.add_subcommand("run", "paper-trade a CSV file of bars or ticks into a journal");
  run_cmd->add_option("--bars", run.bars, "CSV of bars: timestamp,open,high,low,close,volume[,symbol]");
  run_cmd->add_option("--ticks", run.ticks, "CSV of ticks: timestamp,price[,volume][,symbol]");
  run_cmd->add_option("--symbol", run.symbol,
                      "the symbol of every row (required without a symbol column; with one, "
                      "trade only this symbol)");
  run_cmd->add_option("--journal", run.journal, "the journal (SQLite file), created if missing")->required();
  run_cmd->add_option("--window", run.window, "moving-average window in bars")->capture_default_str();
  run_cmd->add_option("--quantity", run.quantity, "fixed order size (default 1)");
  run_cmd->add_option("--capital", run.capital, "account capital for sizing and the loss limit (default 100000)");
  run_cmd->add_option("--risk-per-trade", run.risk_per_trade,
                      "fixed-fractional sizing: fraction of equity per entry");
  run_cmd->add_option("--max-daily-loss", run.max_daily_loss,
                      "daily loss limit as a fraction of capital (default 0.02)");
  run_cmd->add_option("--max-position", run.max_position,
                      "largest long position per symbol (default: one order's size)");
  run_cmd->add_option("--fill", run.fill, "fill model")
      ->check(CLI::IsMember({"signal", "next-open"}))
      ->capture_default_str();
  run_cmd->add_option("--slippage-bps", run.slippage_bps, "adverse slippage in basis points")
      ->capture_default_str();
  run_cmd->add_option("--commission", run.commission, "commission per unit filled")->capture_default_str();
  run_cmd->add_option("--tz", run.tz, "IANA time zone of the trading day")->capture_default_str();

  std::string journal, sql, format = "table";
  double timeout = 0;
  auto* query_cmd = app.add_subcommand("query", "run read-only SQL against a journal");
  query_cmd->add_option("journal", journal, "the journal")->required();
  query_cmd->add_option("sql", sql, "SQL; see docs/JOURNAL_FORMAT.md for the tables and views")->required();
  query_cmd->add_option("--format", format, "output format")
      ->check(CLI::IsMember({"table", "csv", "json"}))
      ->capture_default_str();
  query_cmd->add_option("--timeout", timeout, "interrupt the query after this many seconds");

  std::string migrate_journal;
  auto* migrate_cmd = app.add_subcommand("migrate", "upgrade a journal to this blotter's schema");
  migrate_cmd->add_option("journal", migrate_journal, "the journal")->required();

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }

  try {
    if (*run_cmd) return run_command(run);
    if (*query_cmd) {
      blotter::QueryOptions options;
      options.format = format == "csv"    ? blotter::QueryFormat::kCsv
                       : format == "json" ? blotter::QueryFormat::kJson
                                          : blotter::QueryFormat::kTable;
      options.timeout_seconds = timeout;
      blotter::run_query(journal, sql, options, std::cout);
      return 0;
    }
    if (*migrate_cmd) {
      auto j = blotter::SqliteJournal::open(migrate_journal, blotter::SqliteJournal::Mode::kWrite);
      fmt::print("{}: schema version {}\n", migrate_journal, j->schema_version());
      return 0;
    }
  } catch (const std::exception& e) {
    std::cout.flush();
    fmt::print(stderr, "blotter: {}\n", e.what());
    return kExitError;
  }
  return 0;
}
