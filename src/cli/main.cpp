// The blotter command line: a thin layer over the library.
#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <optional>
#include <sstream>
#include <tuple>

#include "blotter/annotation.h"
#include "blotter/audit.h"
#include "blotter/error.h"
#include "blotter/export.h"
#include "blotter/journal_location.h"
#include "blotter/query.h"
#include "blotter/replay.h"
#include "blotter/snapshot.h"
#include "blotter/sqlite_journal.h"
#include "blotter/terminal_text.h"
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

using blotter::Journal;
using blotter::SqliteJournal;

std::unique_ptr<Journal> open_read(const std::string& location) {
  return blotter::open_journal(location, Journal::Mode::kRead);
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

// Bare dates are days in `calendar`. Throws blotter::ConfigError, also for
// bounds of the same kind (two seqs, two times) that select nothing.
blotter::ScanRange scan_range_of(const RangeOptions& o, const blotter::Calendar& calendar) {
  blotter::ScanRange range;
  if (!o.from.empty()) blotter::apply_bound(o.from, false, calendar, range);
  if (!o.to.empty()) blotter::apply_bound(o.to, true, calendar, range);
  const blotter::ScanRange all;
  const bool seqs = range.from_seq != all.from_seq && range.to_seq != all.to_seq;
  const bool times = range.from_ts != all.from_ts && range.to_ts != all.to_ts;
  if ((seqs && range.from_seq > range.to_seq) || (times && range.from_ts > range.to_ts))
    throw blotter::ConfigError(fmt::format("--from {} is after --to {}", o.from, o.to));
  range.symbol = o.symbol;
  std::stringstream list(o.types);
  for (std::string name; std::getline(list, name, ',');) {
    const auto type = blotter::parse_event_type(name);
    if (!type) throw blotter::ConfigError(fmt::format("--type: unknown event type '{}'", name));
    range.types.push_back(*type);
  }
  return range;
}

// Whether `a` and `b` name the same file; false if either does not exist.
bool same_file(const std::filesystem::path& a, const std::filesystem::path& b) {
  struct stat sa = {};
  struct stat sb = {};
  return ::stat(a.c_str(), &sa) == 0 && ::stat(b.c_str(), &sb) == 0 && sa.st_dev == sb.st_dev &&
         sa.st_ino == sb.st_ino;
}

// Throws blotter::ConfigError if `output` is the journal or one of SQLite's
// files beside it (-wal, -shm, -journal), which may not exist yet: these are
// compared by directory (as a file) and name.
void refuse_journal_as_output(const std::string& output, const std::string& what,
                              const std::string& journal) {
  namespace fs = std::filesystem;
  const fs::path out(output), j(journal);
  auto dir = [](const fs::path& p) {
    return p.has_parent_path() ? p.parent_path() : fs::path(".");
  };
  bool clash = same_file(out, j);
  // SQLite puts its side files beside the journal's real file, through links.
  std::error_code ec;
  fs::path real = fs::weakly_canonical(j, ec);
  if (ec) real = j;
  for (const char* suffix : {"-wal", "-shm", "-journal"}) {
    const fs::path side = real.string() + suffix;
    clash = clash || same_file(out, side) ||
            (out.filename() == side.filename() && same_file(dir(out), dir(side)));
  }
  if (clash)
    throw blotter::ConfigError(
        fmt::format("{} {}: that is the journal {} (or its -wal/-shm file); choose another file",
                    what, output, journal));
}

// Writes `text` to `path`, replacing it: first into a temporary file in the
// same directory, renamed over `path` once complete, so that a failure
// leaves `path` as it was and never half written. A symbolic link is
// followed. Throws blotter::Error naming the file.
void write_file(const std::string& path, const std::string& text) {
  namespace fs = std::filesystem;
  std::error_code ec;
  fs::path target(path);
  if (fs::is_symlink(target, ec)) {
    target = fs::canonical(target, ec);
    if (ec) throw blotter::Error(fmt::format("{}: cannot write: {}", path, ec.message()));
  }
  if (fs::is_directory(target, ec)) throw blotter::Error(fmt::format("{}: is a directory", path));
  const fs::path dir = target.has_parent_path() ? target.parent_path() : fs::path(".");
  std::string temp = (dir / ("." + target.filename().string() + ".XXXXXX")).string();
  const int fd = ::mkstemp(temp.data());
  if (fd < 0) throw blotter::Error(fmt::format("{}: cannot write: {}", path, std::strerror(errno)));
  auto fail = [&](int error) {
    ::close(fd);
    ::unlink(temp.c_str());
    throw blotter::Error(fmt::format("{}: cannot write: {}", path, std::strerror(error)));
  };
  // mkstemp makes the file private; the output keeps the mode of the file it
  // replaces, or gets the mode a new file would.
  struct stat old = {};
  mode_t mode = 0;
  if (::stat(target.c_str(), &old) == 0) {
    mode = old.st_mode & 07777;
  } else {
    const mode_t mask = ::umask(0);
    ::umask(mask);
    mode = 0666 & ~mask;
  }
  if (::fchmod(fd, mode) != 0) fail(errno);
  for (std::size_t done = 0; done < text.size();) {
    const ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) fail(errno);
    done += static_cast<std::size_t>(n);
  }
  if (::fsync(fd) != 0) fail(errno);
  if (::close(fd) != 0) {
    const int error = errno;
    ::unlink(temp.c_str());
    throw blotter::Error(fmt::format("{}: cannot write: {}", path, std::strerror(error)));
  }
  if (::rename(temp.c_str(), target.c_str()) != 0) {
    const int error = errno;
    ::unlink(temp.c_str());
    throw blotter::Error(fmt::format("{}: cannot write: {}", path, std::strerror(error)));
  }
}

// Throws blotter::ConfigError if standard output is the journal (say
// `blotter export J >> J`), which writing would damage.
void refuse_journal_as_stdout(const std::string& journal) {
  struct stat out = {};
  struct stat j = {};
  if (::fstat(STDOUT_FILENO, &out) != 0 || !S_ISREG(out.st_mode)) return;
  for (const char* suffix : {"", "-wal", "-shm", "-journal"})
    if (::stat((journal + suffix).c_str(), &j) == 0 && j.st_dev == out.st_dev &&
        j.st_ino == out.st_ino)
      throw blotter::ConfigError(
          fmt::format("standard output is the journal {} (or its -wal/-shm file)", journal));
}

struct AuditArgs {
  std::string day, from, to, html, format = "table";
  blotter::Seq run = 0;
};

int audit_command(const std::string& journal, const AuditArgs& o) {
  if (!o.html.empty()) refuse_journal_as_output(o.html, "--html", journal);
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
    fmt::print(stderr, "blotter audit: wrote {}\n", blotter::terminal_text(o.html));
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
        blotter::terminal_text(config.journal_location), s.run_seq);
  } else {
    if (s.outcome == Outcome::kResumed)
      fmt::print("blotter run: resumed run {} after {} rows already journaled\n", s.run_seq,
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

int run_command(const RunOptions& o) {
  blotter::RunConfig config;
  if (o.bars.empty() == o.ticks.empty())
    throw blotter::ConfigError("give exactly one of --bars FILE and --ticks FILE");
  config.input_path = o.bars.empty() ? o.ticks : o.bars;
  config.input.kind =
      o.bars.empty() ? blotter::MarketDataKind::kTicks : blotter::MarketDataKind::kBars;
  config.input.symbol = o.symbol;
  config.journal_location = o.journal;
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
  if (o.snapshot_every < 0)
    throw blotter::ConfigError(
        fmt::format("--snapshot-every {}: must be 0 (no snapshots) or more", o.snapshot_every));
  static bool progress_shown = false;
  if (::isatty(STDERR_FILENO)) {
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
  config.stop = &stop_requested;
  stop_on_signals();
  blotter::RunSummary summary;
  try {
    summary = blotter::run_paper_trading(config);
  } catch (const blotter::RunInterrupted& stopped) {
    report_interrupted(config, stopped, progress_shown);
  }
  print_summary(config, summary);
  return handler_errors_status(config, summary);
}

// Throws blotter::ConfigError unless `value` is a finite number, 0 or more.
void non_negative_finite(const char* option, double value) {
  if (!std::isfinite(value) || value < 0)
    throw blotter::ConfigError(
        fmt::format("{} {}: must be a finite number, 0 or more", option, value));
}

// verify_journal, with a progress line on a terminal as `run` shows.
blotter::VerifyResult verify_with_progress(const std::string& journal) {
  if (!::isatty(STDERR_FILENO)) return blotter::verify_journal(journal);
  bool shown = false;
  struct EndLine {
    bool& shown;
    ~EndLine() {
      if (shown) fmt::print(stderr, "\n");
    }
  } end_line{shown};
  return blotter::verify_journal(journal, [&](std::int64_t checked, std::int64_t total) {
    const double pct =
        total > 0 ? 100.0 * static_cast<double>(checked) / static_cast<double>(total) : 100.0;
    fmt::print(stderr, "\r{}: {:5.1f}% {} events checked", blotter::terminal_text(journal), pct,
               checked);
    shown = true;
  });
}

// The names of `app`'s subcommands, comma-separated.
std::string command_names(CLI::App& app) {
  std::string names;
  for (const CLI::App* sub : app.get_subcommands([](CLI::App*) { return true; }))
    names += (names.empty() ? "" : ", ") + sub->get_name();
  return names;
}

// Parses the command line. Returns -1 to go on, or the exit status: 0 after
// --help or --version, 2 for a usage error, said in one line on stderr.
int parse_command_line(CLI::App& app, int argc, char** argv) {
  const auto usage_error = [&](const std::string& what) {
    std::string line = what;
    std::replace(line.begin(), line.end(), '\n', ' ');
    fmt::print(stderr, "blotter: {}\n", blotter::terminal_text(line));
    return kExitError;
  };
  if (argc < 2)
    return usage_error(fmt::format("give a command: {} (blotter --help)", command_names(app)));
  const std::string first = argv[1];
  if (!first.starts_with("-")) {
    bool known = false;
    for (const CLI::App* sub : app.get_subcommands([](CLI::App*) { return true; }))
      known = known || sub->get_name() == first;
    if (!known)
      return usage_error(
          fmt::format("no such command '{}' (commands: {})", first, command_names(app)));
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::string command = "blotter";
    for (const CLI::App* sub : app.get_subcommands()) command += " " + sub->get_name();
    if (e.get_exit_code() == 0) return app.exit(e);
    return usage_error(fmt::format("{} (see {} --help)", e.what(), command));
  }
  return -1;
}

// The options of `resim`: what to re-simulate, and changes to the recorded configuration.
struct ResimArgs {
  RangeOptions range;
  blotter::Seq run = 0;
  std::optional<int> window;
  std::string quantity, risk_per_trade, capital, max_daily_loss, max_position;
  std::string fill, slippage_bps, commission, tz;
};

void print_resim(const blotter::ResimResult& r, const std::string& prefix) {
  if (r.identical) {
    fmt::print("{}identical: {} derived events matched\n", prefix, r.matched);
    return;
  }
  fmt::print("{}diverged at seq {} after {} matching derived events\n", prefix, r.diverging_seq,
             r.matched);
  fmt::print("\nbefore it (recorded):\n");
  for (const auto& e : r.context) fmt::print("  {}\n", blotter::event_json(e));
  fmt::print("\nrecorded:     {}\n",
             r.recorded ? blotter::event_json(*r.recorded) : std::string("(no such event)"));
  fmt::print("re-simulated: {}\n",
             r.resimulated ? blotter::event_json(*r.resimulated) : std::string("(no such event)"));
}

int resim_command(const std::string& journal, const ResimArgs& o) {
  auto store = open_read(journal);
  const auto range = scan_range_of(o.range, blotter::journal_calendar(*store));
  blotter::ResimOverrides overrides;
  overrides.window = o.window;
  const auto decimal = [](const char* option, const std::string& text) {
    return text.empty() ? std::optional<Decimal>() : to_decimal(option, text);
  };
  overrides.quantity = decimal("--quantity", o.quantity);
  overrides.risk_per_trade = decimal("--risk-per-trade", o.risk_per_trade);
  overrides.capital = decimal("--capital", o.capital);
  overrides.max_daily_loss = decimal("--max-daily-loss", o.max_daily_loss);
  overrides.max_position = decimal("--max-position", o.max_position);
  overrides.slippage_bps = decimal("--slippage-bps", o.slippage_bps);
  overrides.commission = decimal("--commission", o.commission);
  if (!o.fill.empty())
    overrides.fill =
        o.fill == "next-open" ? blotter::FillModel::kNextOpen : blotter::FillModel::kSignal;
  if (!o.tz.empty()) overrides.tz = o.tz;
  const auto runs = blotter::resimulate(*store, range, o.run, overrides);
  if (runs.empty()) {
    fmt::print("identical: 0 derived events matched (no market events in the range)\n");
    return 0;
  }
  // A journal of one run: one line, as before; of several: a block per run.
  const bool one_run = runs.size() == 1 && blotter::list_runs(*store).size() <= 1;
  bool identical = true;
  for (std::size_t i = 0; i < runs.size(); ++i) {
    if (i) fmt::print("\n");
    print_resim(runs[i].result,
                one_run ? std::string()
                        : fmt::format("run {} (from seq {}): ", runs[i].run_seq, runs[i].from_seq));
    identical = identical && runs[i].result.identical;
  }
  return identical ? 0 : kExitFinding;
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
      ->capture_default_str();
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
  blotter::Seq state_run = 0;
  state_cmd->add_option("--run", state_run,
                        "the books of this run, by the seq of its RUN_STARTED (default: of the "
                        "run holding the last event, or the event at --at)");
  std::string state_format = "table";
  state_cmd->add_option("--format", state_format, "output format")
      ->check(CLI::IsMember({"table", "json"}))
      ->capture_default_str();

  auto* runs_cmd = app.add_subcommand("runs", "list the runs recorded in a journal");
  runs_cmd->add_option("journal", journal, "the journal")->required();

  ResimArgs resim;
  auto* resim_cmd = app.add_subcommand(
      "resim", "re-simulate the recorded market events and compare with the recorded decisions");
  resim_cmd->add_option("journal", journal, "the journal")->required();
  resim_cmd->add_option("--from", resim.range.from,
                        "first market event: #SEQ, YYYY-MM-DD or a date-time (each run starts "
                        "from its state rebuilt there)");
  resim_cmd->add_option("--to", resim.range.to,
                        "last market event: #SEQ, YYYY-MM-DD or a date-time");
  resim_cmd->add_option("--run", resim.run,
                        "only this run, by the seq of its RUN_STARTED (default: every run, in "
                        "order)");
  resim_cmd->add_option("--window", resim.window, "override the recorded window");
  resim_cmd->add_option("--quantity", resim.quantity,
                        "override the recorded sizing with this fixed quantity");
  resim_cmd->add_option("--risk-per-trade", resim.risk_per_trade,
                        "override the recorded sizing with fixed-fractional sizing");
  resim_cmd->add_option("--capital", resim.capital, "override the recorded capital");
  resim_cmd->add_option("--max-daily-loss", resim.max_daily_loss,
                        "override the recorded loss limit");
  resim_cmd->add_option("--max-position", resim.max_position,
                        "override the recorded position limit");
  resim_cmd->add_option("--fill", resim.fill, "override the recorded fill model")
      ->check(CLI::IsMember({"signal", "next-open"}));
  resim_cmd->add_option("--slippage-bps", resim.slippage_bps, "override the recorded slippage");
  resim_cmd->add_option("--commission", resim.commission, "override the recorded commission");
  resim_cmd->add_option("--tz", resim.tz, "override the recorded time zone of the trading day");

  std::int64_t snapshot_every = blotter::kSnapshotEvery;
  auto* snapshot_cmd = app.add_subcommand(
      "snapshot", "rebuild the journal's snapshots (derived state that speeds up state --at)");
  snapshot_cmd->add_option("journal", journal, "the journal")->required();
  snapshot_cmd->add_option("--every", snapshot_every, "events between snapshots")
      ->capture_default_str();

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

  if (const int usage = parse_command_line(app, argc, argv); usage >= 0) return usage;

  try {
    // Paths given empty would otherwise read as options not given.
    for (const auto& [cmd, name, value] :
         {std::tuple{run_cmd, "--bars", &run.bars}, std::tuple{run_cmd, "--ticks", &run.ticks},
          std::tuple{run_cmd, "--journal", &run.journal},
          std::tuple{audit_cmd, "--html", &audit.html}})
      if (*cmd && cmd->count(name) && value->empty())
        throw blotter::ConfigError(fmt::format("{}: the path is empty", name));
    if (!*run_cmd && (*migrate_cmd ? migrate_journal : journal).empty())
      throw blotter::ConfigError("the journal's path is empty");
    const std::string& location = *run_cmd ? run.journal : *migrate_cmd ? migrate_journal : journal;
    blotter::check_journal_location(location);
    refuse_journal_as_stdout(location);
    if (*query_cmd) non_negative_finite("--timeout", timeout);
    if (*replay_cmd) non_negative_finite("--speed", speed);
    if (*snapshot_cmd && snapshot_every <= 0)
      throw blotter::ConfigError(fmt::format("--every {}: must be 1 or more", snapshot_every));

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
      const auto [state, before] = blotter::state_at(*store, at, state_run);
      if (before && state_format != "json")
        fmt::print("{} is before the first event of {} (seq {} at {})\n", at,
                   state_run ? fmt::format("run {}", state_run) : std::string("the journal"),
                   before->seq, blotter::format_timestamp(before->ts_ns));
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
    if (*resim_cmd) return resim_command(journal, resim);
    if (*audit_cmd) return audit_command(journal, audit);
    if (*snapshot_cmd) {
      auto store = blotter::open_journal(journal, Journal::Mode::kUpdate);
      const auto n = blotter::write_snapshots(*store, snapshot_every);
      fmt::print("{}: {} snapshots of {} events (every {} events)\n",
                 blotter::terminal_text(journal), n, store->last_seq(), snapshot_every);
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
      const auto result = verify_with_progress(journal);
      if (!result.ok) {
        fmt::print("{}\n", blotter::terminal_text(result.problem));
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
      if (annotate_seq->count() && note.refers_to_seq <= 0)
        throw blotter::ConfigError(fmt::format("--seq {}: no such event", note.refers_to_seq));
      // kUpdate: a missing or empty file, or one that needs migrating, is
      // refused before anything is written.
      auto store = blotter::open_journal(journal, Journal::Mode::kUpdate);
      const blotter::Event e = blotter::annotate(*store, note);
      fmt::print("seq {}: annotation of {}\n", e.seq,
                 note.day.empty() ? fmt::format("seq {}", note.refers_to_seq)
                                  : blotter::terminal_text(note.day));
      return 0;
    }
    if (*migrate_cmd) {
      auto j = SqliteJournal::open(migrate_journal, SqliteJournal::Mode::kMigrate);
      fmt::print("{}: schema version {}\n", blotter::terminal_text(migrate_journal),
                 j->schema_version());
      return 0;
    }
  } catch (const std::exception& e) {
    std::cout.flush();
    // Messages quote paths and text as given: escaped, they stay one line.
    fmt::print(stderr, "blotter: {}\n", blotter::terminal_text(e.what()));
    return kExitError;
  }
  return 0;
}
