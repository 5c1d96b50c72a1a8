// The blotter command line: a thin layer over the library.
#include <fmt/format.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

#include "blotter/annotation.h"
#include "blotter/audit.h"
#include "blotter/error.h"
#include "blotter/export.h"
#include "blotter/query.h"
#include "blotter/replay.h"
#include "blotter/snapshot.h"
#include "blotter/sqlite_journal.h"
#include "blotter/trading_system.h"
#include "blotter/verify.h"

namespace {

using blotter::Decimal;

constexpr int kExitFinding = 1;
constexpr int kExitError = 2;
// `run` journaled its run, but a component failed on some events
// (HANDLER_ERROR): the books may lack what it would have done.
constexpr int kExitHandlerErrors = 3;

// CLI11 validator and converter for exact decimals.
Decimal to_decimal(const std::string& option, const std::string& text) {
  std::string why;
  auto d = Decimal::parse(text, &why);
  if (!d) throw blotter::ConfigError(fmt::format("{}: '{}' is {}", option, text, why));
  return *d;
}

using blotter::SqliteJournal;

std::unique_ptr<SqliteJournal> open_read(const std::string& path) {
  return SqliteJournal::open(path, SqliteJournal::Mode::kRead);
}

// The events a command reads: the options replay and export share.
struct RangeOptions {
  std::string from, to, types, symbol;
};

void add_range_options(CLI::App* cmd, RangeOptions& o) {
  cmd->add_option("--from", o.from,
                  "first event: #SEQ, YYYY-MM-DD or an ISO date-time (inclusive)");
  cmd->add_option("--to", o.to,
                  "last event: #SEQ, YYYY-MM-DD (end of that day) or a date-time (inclusive)");
  cmd->add_option("--type", o.types, "event types, comma-separated (BAR,FILL,...)");
  cmd->add_option("--symbol", o.symbol, "only this symbol's events");
}

// Bare dates are days in `calendar`. Throws blotter::ConfigError.
blotter::ScanRange scan_range_of(const RangeOptions& o, const blotter::Calendar& calendar) {
  blotter::ScanRange range;
  if (!o.from.empty()) blotter::apply_bound(o.from, false, calendar, range);
  if (!o.to.empty()) blotter::apply_bound(o.to, true, calendar, range);
  range.symbol = o.symbol;
  std::stringstream list(o.types);
  for (std::string name; std::getline(list, name, ',');) {
    const auto type = blotter::parse_event_type(name);
    if (!type) throw blotter::ConfigError(fmt::format("--type: unknown event type '{}'", name));
    range.types.push_back(*type);
  }
  return range;
}

// Writes `text` to `path`, replacing it. Throws blotter::Error naming the file.
void write_file(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (out) out << text;
  if (out) out.close();
  if (!out) throw blotter::Error(fmt::format("{}: cannot write: {}", path, std::strerror(errno)));
}

struct AuditArgs {
  std::string day, from, to, html, format = "table";
  blotter::Seq run = 0;
};

int audit_command(const std::string& journal, const AuditArgs& o) {
  auto store = open_read(journal);
  blotter::AuditOptions options;
  options.journal = journal;
  options.run_seq = o.run;
  std::string html, report;
  if (!o.day.empty()) {
    const auto day = blotter::audit_day(*store, blotter::Calendar::parse_day(o.day), options);
    if (!o.html.empty()) html = blotter::day_report_html(day);
    report = o.format == "json" ? blotter::day_report_json(day) : blotter::day_report_text(day);
  } else {
    if (o.from.empty() && o.to.empty())
      throw blotter::ConfigError("give --day DAY, or a range with --from DAY and/or --to DAY");
    std::optional<std::int32_t> from, to;
    if (!o.from.empty()) from = blotter::Calendar::parse_day(o.from);
    if (!o.to.empty()) to = blotter::Calendar::parse_day(o.to);
    const auto range = blotter::audit_range(*store, from, to, options);
    if (!o.html.empty()) html = blotter::range_report_html(range);
    report =
        o.format == "json" ? blotter::range_report_json(range) : blotter::range_report_text(range);
  }
  // The file first: a reader that stops reading stdout early must not cost it.
  if (!o.html.empty()) {
    write_file(o.html, html);
    fmt::print(stderr, "blotter audit: wrote {}\n", o.html);
  }
  std::cout << report;
  return 0;
}

struct RunOptions {
  std::string bars, ticks, symbol, journal, tz = "UTC";
  int window = 20;
  std::string quantity, capital, risk_per_trade, max_daily_loss, max_position;
  std::string fill = "signal", slippage_bps = "0", commission = "0";
  std::int64_t snapshot_every = blotter::kSnapshotEvery;
  std::string durability = "normal";
};

void print_summary(const blotter::RunConfig& config, const blotter::RunSummary& s) {
  using Outcome = blotter::RunSummary::Outcome;
  if (s.outcome == Outcome::kAlreadyFinished) {
    fmt::print(
        "blotter run: {} already holds this run (seq {}, finished): same input and options; "
        "nothing appended\n\n",
        config.journal_path, s.run_seq);
  } else {
    if (s.outcome == Outcome::kResumed)
      fmt::print("blotter run: resumed run {} after {} rows already journaled\n", s.run_seq,
                 s.skipped_rows);
    fmt::print("blotter run: {} rows from {} journaled in {} (seq {}..{})\n", s.rows,
               config.input_path, config.journal_path, s.first_seq, s.last_seq);
    fmt::print("events:");
    for (std::size_t t = 0; t < blotter::kEventTypeCount; ++t)
      fmt::print(" {} {}", blotter::to_string(static_cast<blotter::EventType>(t)),
                 s.events_by_type[t]);
    fmt::print("\n");
  }
  if (s.unfilled_orders)
    fmt::print("orders still open at the end of the data: {}\n", s.unfilled_orders);
  fmt::print("trading days in {}\n\n", config.trading.tz);
  constexpr std::size_t kShownDays = 15;
  fmt::print("{}", blotter::books_table(s.positions, s.realized_pnl, s.unrealized_pnl, s.days,
                                        kShownDays));
}

// Exit status of a journaled run: kExitHandlerErrors, with one line saying
// where to look, if a component failed on any of its events.
int handler_errors_status(const blotter::RunConfig& config, const blotter::RunSummary& s) {
  if (s.handler_errors == 0) return 0;
  std::cout.flush();
  fmt::print(
      stderr,
      "blotter: run {} journaled with {} handler error{}: the books may be incomplete; "
      "see `blotter query {} \"SELECT * FROM handler_errors WHERE seq BETWEEN {} AND {}\"`\n",
      s.run_seq, s.handler_errors, s.handler_errors == 1 ? "" : "s", config.journal_path, s.run_seq,
      s.last_seq);
  return kExitHandlerErrors;
}

int run_command(const RunOptions& o) {
  blotter::RunConfig config;
  if (o.bars.empty() == o.ticks.empty())
    throw blotter::ConfigError("give exactly one of --bars FILE and --ticks FILE");
  config.input_path = o.bars.empty() ? o.ticks : o.bars;
  config.input.kind =
      o.bars.empty() ? blotter::MarketDataKind::kTicks : blotter::MarketDataKind::kBars;
  config.input.symbol = o.symbol;
  config.journal_path = o.journal;
  auto& t = config.trading;
  t.tz = o.tz;
  t.signal.window = o.window;
  if (!o.quantity.empty() && !o.risk_per_trade.empty())
    throw blotter::ConfigError("--quantity and --risk-per-trade are two sizing rules: give one");
  if (!o.quantity.empty()) t.risk.quantity = to_decimal("--quantity", o.quantity);
  if (!o.capital.empty()) t.risk.capital = to_decimal("--capital", o.capital);
  if (!o.risk_per_trade.empty())
    t.risk.risk_per_trade = to_decimal("--risk-per-trade", o.risk_per_trade);
  if (!o.max_daily_loss.empty())
    t.risk.max_daily_loss = to_decimal("--max-daily-loss", o.max_daily_loss);
  if (!o.max_position.empty()) t.risk.max_position = to_decimal("--max-position", o.max_position);
  t.execution.fill =
      o.fill == "next-open" ? blotter::FillModel::kNextOpen : blotter::FillModel::kSignal;
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
  config.version = BLOTTER_VERSION_STRING;
  config.snapshot_every = o.snapshot_every;
  config.durability =
      o.durability == "full" ? blotter::Durability::kFull : blotter::Durability::kNormal;
  const auto summary = blotter::run_paper_trading(config);
  print_summary(config, summary);
  return handler_errors_status(config, summary);
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"blotter: an event-sourced trading journal on SQLite"};
  app.require_subcommand(1);
  app.set_version_flag("--version", std::string("blotter ") + BLOTTER_VERSION_STRING);

  RunOptions run;
  auto* run_cmd =
      app.add_subcommand("run", "paper-trade a CSV file of bars or ticks into a journal");
  run_cmd->add_option("--bars", run.bars,
                      "CSV of bars: timestamp,open,high,low,close,volume[,symbol]");
  run_cmd->add_option("--ticks", run.ticks, "CSV of ticks: timestamp,price[,volume][,symbol]");
  run_cmd->add_option("--symbol", run.symbol,
                      "the symbol of every row (required without a symbol column; with one, "
                      "trade only this symbol)");
  run_cmd->add_option("--journal", run.journal, "the journal (SQLite file), created if missing")
      ->required();
  run_cmd->add_option("--window", run.window, "moving-average window in bars")
      ->capture_default_str();
  run_cmd->add_option("--quantity", run.quantity, "fixed order size (default 1)");
  run_cmd->add_option("--capital", run.capital,
                      "account capital for sizing and the loss limit (default 100000)");
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
  run_cmd->add_option("--commission", run.commission, "commission per unit filled")
      ->capture_default_str();
  run_cmd->add_option("--tz", run.tz, "IANA time zone of the trading day")->capture_default_str();
  run_cmd
      ->add_option("--snapshot-every", run.snapshot_every,
                   "store a snapshot of the state every this many events (0: none)")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  run_cmd
      ->add_option("--durability", run.durability,
                   "normal: batches committed by a writer thread (WAL, synchronous=NORMAL); "
                   "full: synchronous=FULL and each ORDER committed before it is executed")
      ->check(CLI::IsMember({"normal", "full"}))
      ->capture_default_str();

  std::string journal, sql, format = "table";
  double timeout = 0;
  auto* query_cmd = app.add_subcommand("query", "run read-only SQL against a journal");
  query_cmd->add_option("journal", journal, "the journal")->required();
  query_cmd->add_option("sql", sql, "SQL; see docs/JOURNAL_FORMAT.md for the tables and views")
      ->required();
  query_cmd->add_option("--format", format, "output format")
      ->check(CLI::IsMember({"table", "csv", "json"}))
      ->capture_default_str();
  query_cmd->add_option("--timeout", timeout, "interrupt the query after this many seconds");

  RangeOptions range_options;
  std::string at;
  double speed = 0;
  auto* replay_cmd = app.add_subcommand("replay", "stream recorded events in seq order");
  replay_cmd->add_option("journal", journal, "the journal")->required();
  add_range_options(replay_cmd, range_options);
  replay_cmd->add_option("--speed", speed, "0: as fast as possible; X: X times the recorded pace")
      ->capture_default_str();
  std::string replay_format = "table";
  replay_cmd->add_option("--format", replay_format, "output format")
      ->check(CLI::IsMember({"table", "jsonl"}))
      ->capture_default_str();

  auto* state_cmd = app.add_subcommand("state", "positions, PnL and risk state rebuilt by replay");
  state_cmd->add_option("journal", journal, "the journal")->required();
  state_cmd->add_option("--at", at, "#SEQ, YYYY-MM-DD (end of that trading day) or a date-time");
  std::string state_format = "table";
  state_cmd->add_option("--format", state_format, "output format")
      ->check(CLI::IsMember({"table", "json"}))
      ->capture_default_str();

  auto* runs_cmd = app.add_subcommand("runs", "list the runs recorded in a journal");
  runs_cmd->add_option("journal", journal, "the journal")->required();

  RunOptions resim;
  std::vector<std::string> resim_overrides;
  auto* resim_cmd = app.add_subcommand(
      "resim", "re-simulate the recorded market events and compare with the recorded decisions");
  resim_cmd->add_option("journal", journal, "the journal")->required();
  resim_cmd->add_option("--from", range_options.from,
                        "first market event: #SEQ, YYYY-MM-DD or a date-time");
  resim_cmd->add_option("--to", range_options.to,
                        "last market event: #SEQ, YYYY-MM-DD or a date-time");
  resim_cmd->add_option("--window", resim.window, "override the recorded window");
  resim_cmd->add_option("--quantity", resim.quantity, "override the recorded quantity");
  resim_cmd->add_option("--max-daily-loss", resim.max_daily_loss,
                        "override the recorded loss limit");
  resim_cmd->add_option("--fill", resim.fill, "override the recorded fill model")
      ->check(CLI::IsMember({"signal", "next-open"}));
  resim_cmd->add_option("--slippage-bps", resim.slippage_bps, "override the recorded slippage");
  resim_cmd->add_option("--commission", resim.commission, "override the recorded commission");
  resim.window = 0;
  resim.fill.clear();
  resim.slippage_bps.clear();
  resim.commission.clear();

  std::int64_t snapshot_every = blotter::kSnapshotEvery;
  auto* snapshot_cmd = app.add_subcommand(
      "snapshot", "rebuild the journal's snapshots (derived state that speeds up state --at)");
  snapshot_cmd->add_option("journal", journal, "the journal")->required();
  snapshot_cmd->add_option("--every", snapshot_every, "events between snapshots")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);

  auto* export_cmd = app.add_subcommand(
      "export", "write recorded events as CSV or JSON lines, for pandas, jq or a spreadsheet");
  export_cmd->add_option("journal", journal, "the journal")->required();
  add_range_options(export_cmd, range_options);
  std::string export_format;
  export_cmd->add_option("--format", export_format, "output format")
      ->check(CLI::IsMember({"csv", "jsonl"}))
      ->required();

  auto* verify_cmd = app.add_subcommand(
      "verify", "check the hash chain, the sequence and every payload; exit 1 at the first fault");
  verify_cmd->add_option("journal", journal, "the journal")->required();

  auto* head_cmd =
      app.add_subcommand("head", "the last event's seq and hash, to record and compare later");
  head_cmd->add_option("journal", journal, "the journal")->required();
  std::string head_format = "text";
  head_cmd->add_option("--format", head_format, "output format")
      ->check(CLI::IsMember({"text", "json"}))
      ->capture_default_str();

  blotter::Annotation note;
  auto* annotate_cmd = app.add_subcommand(
      "annotate", "append a note about one recorded event or one trading day (ANNOTATION)");
  annotate_cmd->add_option("journal", journal, "the journal")->required();
  annotate_cmd->add_option("text", note.text, "the note")->required();
  auto* annotate_seq =
      annotate_cmd->add_option("--seq", note.refers_to_seq, "the event the note is about");
  annotate_cmd->add_option("--day", note.day,
                           "the trading day (YYYY-MM-DD) the note is about, in the run's --tz");
  annotate_cmd->add_option("--tag", note.tag, "a tag to find the note by");

  AuditArgs audit;
  auto* audit_cmd = app.add_subcommand(
      "audit", "the report of one trading day, or one row per trading day of a range");
  audit_cmd->add_option("journal", journal, "the journal")->required();
  auto* audit_day = audit_cmd->add_option(
      "--day", audit.day, "the trading day YYYY-MM-DD, in the time zone of its run (--tz)");
  auto* audit_from = audit_cmd->add_option("--from", audit.from, "first trading day YYYY-MM-DD");
  auto* audit_to =
      audit_cmd->add_option("--to", audit.to, "last trading day YYYY-MM-DD (inclusive)");
  audit_day->excludes(audit_from)->excludes(audit_to);
  audit_cmd->add_option("--run", audit.run,
                        "the run, by the seq of its RUN_STARTED (default: the latest run with "
                        "events on those days)");
  audit_cmd->add_option("--html", audit.html,
                        "also write the report as one self-contained HTML page to this file");
  audit_cmd->add_option("--format", audit.format, "output format")
      ->check(CLI::IsMember({"table", "json"}))
      ->capture_default_str();

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
    if (*replay_cmd) {
      auto store = open_read(journal);
      // The journal's time zone matters only for bare dates.
      const bool dated = !range_options.from.empty() || !range_options.to.empty();
      const auto range = scan_range_of(
          range_options, dated ? blotter::journal_calendar(*store) : blotter::Calendar("UTC"));
      blotter::replay_events(
          *store, range, speed,
          replay_format == "jsonl" ? blotter::ReplayFormat::kJsonl : blotter::ReplayFormat::kTable,
          std::cout);
      return 0;
    }
    if (*state_cmd) {
      auto store = open_read(journal);
      blotter::Seq at_seq = store->last_seq();
      if (!at.empty()) {
        blotter::ScanRange range;
        blotter::apply_bound(at, true, blotter::journal_calendar(*store), range);
        at_seq = range.to_ts != INT64_MAX ? store->last_seq_at_or_before(range.to_ts)
                                          : std::min(range.to_seq, at_seq);
      }
      const auto state = blotter::rebuild_state(*store, at_seq);
      std::cout << (state_format == "json" ? blotter::state_json(state)
                                           : blotter::state_table(state));
      return 0;
    }
    if (*runs_cmd) {
      open_read(journal);
      blotter::QueryOptions options;
      blotter::run_query(
          journal,
          "SELECT seq, time, input, substr(input_sha256, 1, 12) AS sha256, version, tz, "
          "resumptions, finished_seq, rows, events FROM runs ORDER BY seq",
          options, std::cout);
      return 0;
    }
    if (*resim_cmd) {
      auto store = open_read(journal);
      const auto range = scan_range_of(range_options, blotter::journal_calendar(*store));
      // The recorded configuration: the latest run started at or before the range.
      blotter::RunStarted manifest;
      const auto runs = blotter::list_runs(*store);
      for (const auto& [seq, m] : runs)
        if (seq <= range.from_seq || &m == &runs.front().second) manifest = m;
      auto config = blotter::trading_config_of(manifest);
      if (resim.window) config.signal.window = resim.window;
      if (!resim.quantity.empty()) config.risk.quantity = to_decimal("--quantity", resim.quantity);
      if (!resim.max_daily_loss.empty())
        config.risk.max_daily_loss = to_decimal("--max-daily-loss", resim.max_daily_loss);
      if (!resim.fill.empty())
        config.execution.fill =
            resim.fill == "next-open" ? blotter::FillModel::kNextOpen : blotter::FillModel::kSignal;
      if (!resim.slippage_bps.empty())
        config.execution.slippage_bps = to_decimal("--slippage-bps", resim.slippage_bps);
      if (!resim.commission.empty())
        config.execution.commission = to_decimal("--commission", resim.commission);
      const auto r = blotter::resimulate(*store, range, config);
      if (r.identical) {
        fmt::print("identical: {} derived events matched\n", r.matched);
        return 0;
      }
      fmt::print("diverged at seq {} after {} matching derived events\n", r.diverging_seq,
                 r.matched);
      fmt::print("\nbefore it (recorded):\n");
      for (const auto& e : r.context) fmt::print("  {}\n", blotter::event_json(e));
      fmt::print("\nrecorded:     {}\n",
                 r.recorded ? blotter::event_json(*r.recorded) : std::string("(no such event)"));
      fmt::print("re-simulated: {}\n", r.resimulated ? blotter::event_json(*r.resimulated)
                                                     : std::string("(no such event)"));
      return 1;
    }
    if (*audit_cmd) return audit_command(journal, audit);
    if (*snapshot_cmd) {
      auto store = SqliteJournal::open(journal, SqliteJournal::Mode::kWrite);
      const auto n = blotter::write_snapshots(*store, snapshot_every);
      fmt::print("{}: {} snapshots of {} events (every {} events)\n", journal, n, store->last_seq(),
                 snapshot_every);
      return 0;
    }
    if (*export_cmd) {
      auto store = open_read(journal);
      const auto range = scan_range_of(range_options, blotter::journal_calendar(*store));
      blotter::export_events(
          *store, range,
          export_format == "csv" ? blotter::ExportFormat::kCsv : blotter::ExportFormat::kJsonl,
          std::cout);
      return 0;
    }
    if (*verify_cmd) {
      const auto result = blotter::verify_journal(journal);
      if (!result.ok) {
        fmt::print("{}\n", result.problem);
        return kExitFinding;
      }
      fmt::print("ok: {} events, head {}\n", result.events, blotter::to_hex(result.head.hash));
      return 0;
    }
    if (*head_cmd) {
      const auto head = open_read(journal)->head();
      if (head_format == "json")
        fmt::print("{{\"seq\": {}, \"hash\": \"{}\"}}\n", head.seq, blotter::to_hex(head.hash));
      else
        fmt::print("seq {} hash {}\n", head.seq, blotter::to_hex(head.hash));
      return 0;
    }
    if (*annotate_cmd) {
      // Opening for writing would create a missing journal: refuse that first.
      if (!std::filesystem::exists(journal))
        throw blotter::StoreError(fmt::format("{}: no such journal", journal));
      if (annotate_seq->count() && note.refers_to_seq <= 0)
        throw blotter::ConfigError(fmt::format("--seq {}: no such event", note.refers_to_seq));
      auto store = SqliteJournal::open(journal, SqliteJournal::Mode::kWrite);
      const blotter::Event e = blotter::annotate(*store, note);
      fmt::print("seq {}: annotation of {}\n", e.seq,
                 note.day.empty() ? fmt::format("seq {}", note.refers_to_seq) : note.day);
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
