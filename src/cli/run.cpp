// blotter run: paper-trade a CSV file, or a live feed, into a journal.
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <iostream>

#include "blotter/error.h"
#include "blotter/journal_location.h"
#include "blotter/replay.h"
#include "blotter/snapshot.h"
#include "blotter/terminal_text.h"
#include "blotter/trading_system.h"
#include "cli/cli.h"

namespace blotter::cli {
namespace {

struct RunOptions {
  std::string bars, ticks, symbol, journal, tz = "UTC";
  std::string strategy = "ma_crossover";
  std::vector<std::string> params;
  std::optional<int> window;
  std::string quantity, capital, risk_per_trade, max_daily_loss, max_position;
  std::string fill = "signal", slippage_bps = "0", commission = "0";
  std::int64_t snapshot_every = blotter::kSnapshotEvery;
  std::string durability = "normal";
  bool new_run = false;
  std::int64_t sync_interval_ms = blotter::kDefaultSyncInterval.count();
  bool follow = false;
  std::string until, on_bad_row;
  int batch_latency_ms = 10;
};

void print_summary(const blotter::RunConfig& config, const blotter::RunSummary& s) {
  using Outcome = blotter::RunSummary::Outcome;
  if (s.outcome == Outcome::kAlreadyFinished) {
    fmt::print(
        "blotter run: {} already holds this run (seq {}, finished): same input and options; "
        "nothing appended\n\n",
        blotter::terminal_text(config.journal_location), s.run_seq);
  } else {
    if (s.outcome == Outcome::kResumed)
      fmt::print("blotter run: resumed run {} after {} rows already journaled\n", s.run_seq,
                 s.skipped_rows);
    if (s.outcome == Outcome::kContinued)
      fmt::print("blotter run: continued run {} after {} rows already journaled\n", s.run_seq,
                 s.skipped_rows);
    fmt::print("blotter run: {} rows from {} journaled in {} (seq {}..{})\n", s.rows,
               blotter::terminal_text(config.input_path),
               blotter::terminal_text(config.journal_location), s.first_seq, s.last_seq);
    fmt::print("events:");
    for (std::size_t t = 0; t < blotter::kEventTypeCount; ++t)
      fmt::print(" {} {}", blotter::to_string(static_cast<blotter::EventType>(t)),
                 s.events_by_type[t]);
    fmt::print("\n");
  }
  if (!s.ended.empty()) fmt::print("live session ended: {}\n", s.ended);
  if (s.unfilled_orders)
    fmt::print("orders still open at the end of the data: {}\n", s.unfilled_orders);
  fmt::print("trading days in {}\n\n", config.trading.tz);
  constexpr std::size_t kShownDays = 15;
  fmt::print("{}", blotter::books_table(s.positions, s.realized_pnl, s.unrealized_pnl, s.days,
                                        kShownDays));
}

// `text` as one POSIX shell word.
std::string shell_quoted(const std::string& text) {
  if (!text.empty() && text.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                              "0123456789_-./+,:@%") == std::string::npos)
    return text;
  std::string quoted = "'";
  for (const char c : text) quoted += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return quoted + "'";
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
      s.run_seq, s.handler_errors, s.handler_errors == 1 ? "" : "s",
      blotter::terminal_text(shell_quoted(config.journal_location)), s.run_seq, s.last_seq);
  return kExitHandlerErrors;
}

// SIGINT and SIGTERM stop a run before its next row (RunConfig::stop); a
// second one ends the process at once, as the handler resets itself.
static_assert(std::atomic<bool>::is_always_lock_free);
std::atomic<bool> stop_requested{false};
volatile std::sig_atomic_t stop_signal = 0;

extern "C" void request_stop(int sig) {
  stop_signal = sig;
  stop_requested.store(true, std::memory_order_relaxed);
}

void stop_on_signals() {
  struct sigaction action = {};
  action.sa_handler = request_stop;
  sigemptyset(&action.sa_mask);
  // SA_RESTART: a write to a pipe that the signal interrupts goes on.
  // sa_flags is an int and glibc's SA_RESETHAND the unsigned 0x80000000: the
  // cast keeps its bits (C++20 defines the conversion as modular).
  action.sa_flags = static_cast<int>(SA_RESETHAND | SA_RESTART);
  ::sigaction(SIGINT, &action, nullptr);
  ::sigaction(SIGTERM, &action, nullptr);
}

// Says what an interrupted run left in the journal, on a line of its own,
// then ends the process by the signal that stopped it (exit status 130 for
// SIGINT, 143 for SIGTERM in a shell).
[[noreturn]] void report_interrupted(const blotter::RunConfig& config,
                                     const blotter::RunInterrupted& stopped, bool progress_shown) {
  const int sig = stop_signal ? static_cast<int>(stop_signal) : SIGINT;
  const char* name = sig == SIGTERM ? "SIGTERM" : "SIGINT";
  if (progress_shown) fmt::print(stderr, "\n");
  if (!stopped.run_seq) {
    fmt::print(stderr,
               "blotter run: interrupted by {} before the first commit: nothing of the run was "
               "committed to {}; the same command starts it again\n",
               name, blotter::terminal_text(config.journal_location));
  } else {
    const std::string now = stopped.first_seq ? fmt::format("seq {}..{} committed now",
                                                            stopped.first_seq, stopped.last_seq)
                                              : std::string("nothing more committed now");
    fmt::print(stderr,
               "blotter run: interrupted by {}: {} holds run {} up to seq {} ({} rows of {}; "
               "{}); the same command resumes it\n",
               name, blotter::terminal_text(config.journal_location), stopped.run_seq,
               stopped.last_seq, stopped.rows, blotter::terminal_text(config.input_path), now);
  }
  std::cout.flush();
  std::fflush(stdout);
  std::signal(sig, SIG_DFL);
  std::raise(sig);
  std::_Exit(128 + sig);
}

// The options of a live session: standard input ("-") or a followed file.
void set_live_options(const RunOptions& o, blotter::RunConfig& config) {
  if (config.input_path == "-") {
    if (o.follow)
      throw blotter::ConfigError("--follow reads a file: '-' (standard input) is followed anyway");
    config.source = "stdin";
  } else if (o.follow) {
    config.source = "follow";
  }
  const bool live = config.source != "csv";
  if (!live && !o.until.empty())
    throw blotter::ConfigError("--until ends a live session: give it with FILE '-' or --follow");
  if (!live && !o.on_bad_row.empty())
    throw blotter::ConfigError(
        "--on-bad-row is for a live session (FILE '-' or --follow): a file is checked whole");
  if (!o.until.empty()) {
    std::string why;
    config.until = blotter::parse_timestamp(o.until, &why);
    if (!config.until)
      throw blotter::ConfigError(fmt::format("--until '{}' is not a timestamp ({})",
                                             blotter::terminal_text(o.until), why));
  }
  if (o.on_bad_row == "stop") config.on_bad_row = blotter::RunConfig::OnBadRow::kStop;
  if (o.batch_latency_ms < 0)
    throw blotter::ConfigError(
        fmt::format("--batch-latency {}: must be 0 or more milliseconds", o.batch_latency_ms));
  config.batch_latency = std::chrono::milliseconds(o.batch_latency_ms);
}

int run_command(const RunOptions& o, const blotter::StrategyRegistry& strategies) {
  blotter::RunConfig config;
  if (o.bars.empty() == o.ticks.empty())
    throw blotter::ConfigError("give exactly one of --bars FILE and --ticks FILE");
  config.input_path = o.bars.empty() ? o.ticks : o.bars;
  set_live_options(o, config);
  config.input.kind =
      o.bars.empty() ? blotter::MarketDataKind::kTicks : blotter::MarketDataKind::kBars;
  config.input.symbol = o.symbol;
  config.journal_location = o.journal;
  auto& t = config.trading;
  t.tz = o.tz;
  t.strategy = o.strategy;
  t.params = strategy_params_of(o.params, o.window);
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
  if (o.snapshot_every < 0)
    throw blotter::ConfigError(
        fmt::format("--snapshot-every {}: must be 0 (no snapshots) or more", o.snapshot_every));
  if (o.sync_interval_ms < 0)
    throw blotter::ConfigError(fmt::format(
        "--sync-interval {}: must be 0 (sync each commit) or more", o.sync_interval_ms));
  static bool progress_shown = false;
  if (::isatty(STDERR_FILENO) && config.source == "csv") {
    config.on_progress = [](const blotter::MarketDataSource& src) {
      progress_shown = true;
      const std::uint64_t size = src.size().value_or(0);
      const double pct =
          size ? 100.0 * static_cast<double>(src.bytes_read()) / static_cast<double>(size) : 100.0;
      fmt::print(stderr, "\r{}: {:5.1f}% {} rows", blotter::terminal_text(src.name()), pct,
                 src.rows());
      if (src.bytes_read() >= size) {
        fmt::print(stderr, "\n");
        progress_shown = false;
      }
    };
  }
  config.version = BLOTTER_VERSION_STRING;
  config.snapshot_every = o.snapshot_every;
  config.durability =
      o.durability == "full" ? blotter::Durability::kFull : blotter::Durability::kNormal;
  config.sync_interval = std::chrono::milliseconds(o.sync_interval_ms);
  config.stop = &stop_requested;
  config.new_run = o.new_run;
  config.stop_reason = [] { return stop_signal == SIGTERM ? "sigterm" : "sigint"; };
  stop_on_signals();
  blotter::RunSummary summary;
  try {
    summary = blotter::run_paper_trading(config, strategies);
  } catch (const blotter::RunInterrupted& stopped) {
    report_interrupted(config, stopped, progress_shown);
  } catch (const blotter::InputChanged& changed) {
    // The library names no flag: the one that starts a new run is added here.
    throw blotter::Error(fmt::format("{} with --new-run", changed.what()));
  }
  print_summary(config, summary);
  return handler_errors_status(config, summary);
}

}  // namespace

Subcommand add_run(CLI::App& app, const StrategyRegistry& strategies) {
  auto o = std::make_shared<RunOptions>();
  auto* cmd = app.add_subcommand(
      "run", "paper-trade a CSV file of bars or ticks, or a live feed of them, into a journal");
  cmd->add_option("--bars", o->bars,
                  "CSV of bars: timestamp,open,high,low,close,volume[,symbol]; '-': a live "
                  "session reading standard input");
  cmd->add_option("--ticks", o->ticks,
                  "CSV of ticks: timestamp,price[,volume][,symbol]; '-': a live session reading "
                  "standard input");
  cmd->add_flag("--follow", o->follow,
                "a live session: read the --bars/--ticks FILE, then the rows appended to it as "
                "they come (like tail -f), until SIGINT, SIGTERM or --until");
  cmd->add_option(
      "--until", o->until,
      "live: end the session at the first row whose event time is after TIME (that row is not "
      "run)");
  cmd->add_option("--on-bad-row", o->on_bad_row,
                  "live: skip (journal a bad row as INPUT_REJECTED and go on; the default) or "
                  "stop (journal it, end the session and exit 2)")
      ->check(CLI::IsMember({"skip", "stop"}));
  cmd->add_option("--batch-latency", o->batch_latency_ms,
                  "live sessions: commit each row's batch within this many milliseconds of its "
                  "arrival (at once when no further row is waiting)")
      ->capture_default_str();
  cmd->add_option("--symbol", o->symbol,
                  "the symbol of every row (required without a symbol column; with one, "
                  "trade only this symbol)");
  cmd->add_option("--journal", o->journal, "the journal (SQLite file), created if missing")
      ->required();
  cmd->add_option(
         "--strategy", o->strategy,
         fmt::format("the strategy (this program has: {})", fmt::join(strategies.names(), ", ")))
      ->capture_default_str();
  cmd->add_option("--param", o->params,
                  "a parameter of the strategy, KEY=VALUE (repeatable; ma_crossover: window)");
  cmd->add_option("--window", o->window,
                  "ma_crossover's moving-average window in bars: --param window=N (default 20)");
  cmd->add_option("--quantity", o->quantity, "fixed order size (default 1)");
  cmd->add_option("--capital", o->capital,
                  "account capital for sizing and the loss limit (default 100000)");
  cmd->add_option("--risk-per-trade", o->risk_per_trade,
                  "fixed-fractional sizing: fraction of equity per entry");
  cmd->add_option("--max-daily-loss", o->max_daily_loss,
                  "daily loss limit as a fraction of capital (default 0.02)");
  cmd->add_option("--max-position", o->max_position,
                  "largest long position per symbol (default: one order's size)");
  cmd->add_option("--fill", o->fill, "fill model")
      ->check(CLI::IsMember({"signal", "next-open"}))
      ->capture_default_str();
  cmd->add_option("--slippage-bps", o->slippage_bps, "adverse slippage in basis points")
      ->capture_default_str();
  cmd->add_option("--commission", o->commission, "commission per unit filled")
      ->capture_default_str();
  cmd->add_option("--tz", o->tz, "IANA time zone of the trading day")->capture_default_str();
  cmd->add_option("--snapshot-every", o->snapshot_every,
                  "store a snapshot of the state every this many events (0: none)")
      ->capture_default_str();
  cmd->add_option("--durability", o->durability,
                  "normal: batches committed by a writer thread (WAL, synchronous=NORMAL); "
                  "full: synchronous=FULL and each ORDER committed before it is executed")
      ->check(CLI::IsMember({"normal", "full"}))
      ->capture_default_str();
  cmd->add_flag("--new-run", o->new_run,
                "start a new run even where the journal's latest run (same input and options) "
                "would be resumed or continued, or its input refused as changed");
  cmd->add_option("--sync-interval", o->sync_interval_ms,
                  "durability normal: sync the journal at most MS after each commit, so a power "
                  "loss loses at most that much (0: sync each commit)")
      ->capture_default_str();
  cmd->footer(
      "Live sessions (FILE '-' or --follow): each row is run as it arrives and committed within "
      "--batch-latency of its arrival. The session ends at the end of standard input, on SIGINT "
      "or SIGTERM, or at --until: what was read is committed, RUN_FINISHED records how it "
      "ended, and the exit status is 0. A session that was killed is resumed by the same "
      "command fed the feed again, from its start or from any point up to the first row at the "
      "last journaled event time (every row at that time fed again): a row is skipped if its time "
      "is before the last journaled row of its symbol, "
      "and so are as many rows at exactly that time as the journal holds (and, until the first "
      "new row, the bad rows the journal holds). After a session that finished, the same "
      "command starts a new one.");
  return {cmd, [cmd, o, &strategies] {
            refuse_empty_path(*cmd, "--bars", o->bars);
            refuse_empty_path(*cmd, "--ticks", o->ticks);
            refuse_empty_path(*cmd, "--journal", o->journal);
            blotter::check_journal_location(o->journal);
            refuse_journal_as_stdout(o->journal);
            return run_command(*o, strategies);
          }};
}

}  // namespace blotter::cli
