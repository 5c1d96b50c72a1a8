// What the subcommands of the command line share: exit statuses, the checks
// of paths and ranges, and how a subcommand is registered and run.
#pragma once

#include <CLI/CLI.hpp>
#include <exception>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "blotter/calendar.h"
#include "blotter/decimal.h"
#include "blotter/sqlite_journal.h"
#include "blotter/store.h"
#include "blotter/strategy.h"

namespace blotter::cli {

constexpr int kExitFinding = 1;
constexpr int kExitError = 2;
// `run` journaled its run, but a component failed on some events
// (HANDLER_ERROR): the books may lack what it would have done.
constexpr int kExitHandlerErrors = 3;

// A subcommand registered on the app: `run` runs it once the command line is
// parsed, and returns the exit status. It throws on failure; main says what
// failed in one line and exits with kExitError.
struct Subcommand {
  CLI::App* cmd = nullptr;
  std::function<int()> run;
};

// One function per subcommand registers its options on `app`, in the order
// `blotter --help` lists them. Those that make strategies make them from
// `strategies`, which must outlive the app.
Subcommand add_run(CLI::App& app, const StrategyRegistry& strategies);       // run.cpp
Subcommand add_query(CLI::App& app);                                         // read.cpp
Subcommand add_replay(CLI::App& app);                                        // read.cpp
Subcommand add_state(CLI::App& app, const StrategyRegistry& strategies);     // read.cpp
Subcommand add_runs(CLI::App& app);                                          // read.cpp
Subcommand add_resim(CLI::App& app, const StrategyRegistry& strategies);     // resim.cpp
Subcommand add_snapshot(CLI::App& app, const StrategyRegistry& strategies);  // write.cpp
Subcommand add_export(CLI::App& app);                                        // read.cpp
Subcommand add_verify(CLI::App& app, const StrategyRegistry& strategies);    // read.cpp
Subcommand add_head(CLI::App& app);                                          // read.cpp
Subcommand add_annotate(CLI::App& app);                                      // write.cpp
Subcommand add_audit(CLI::App& app);                                         // audit.cpp
Subcommand add_diff(CLI::App& app);                                          // diff.cpp
Subcommand add_migrate(CLI::App& app);                                       // write.cpp

// The one line that reports `error`, a failure of subcommand `cmd`: its
// what(), except that a blotter::ConfigError names each configuration field
// by the option of `cmd` that sets it, if `cmd` has one ("--window" for
// "window", "--run" for "run_seq").
std::string error_message(const std::exception& error, const CLI::App& cmd);

// CLI11 validator and converter for exact decimals.
Decimal to_decimal(const std::string& option, const std::string& text);

std::unique_ptr<blotter::Journal> open_read(const std::string& location);

// The events a command reads: the options replay and export share.
struct RangeOptions {
  std::string from, to, types, symbol;
};

void add_range_options(CLI::App* cmd, RangeOptions& o);

// Bare dates are days in `calendar`. Throws blotter::ConfigError, also for
// bounds of the same kind (two seqs, two times) that select nothing.
ScanRange scan_range_of(const RangeOptions& o, const Calendar& calendar);

// Throws blotter::ConfigError if `option` of `cmd` was given as an empty
// path, which would otherwise read as the option not given.
void refuse_empty_path(const CLI::App& cmd, const std::string& option, const std::string& path);

// Throws blotter::ConfigError if the journal's path is empty, or if standard
// output is the journal (refuse_journal_as_stdout).
void check_journal_path(const std::string& journal);

// Throws blotter::ConfigError if `output` is the journal or one of SQLite's
// files beside it (-wal, -shm, -journal), which may not exist yet: these are
// compared by directory (as a file) and name.
void refuse_journal_as_output(const std::string& output, const std::string& what,
                              const std::string& journal);

// Throws blotter::ConfigError if standard output is the journal (say
// `blotter export J >> J`), which writing would damage.
void refuse_journal_as_stdout(const std::string& journal);

// Writes `text` to `path`, replacing it: first into a temporary file in the
// same directory, renamed over `path` once complete, so that a failure
// leaves `path` as it was and never half written. A symbolic link is
// followed. Throws blotter::Error naming the file.
void write_file(const std::string& path, const std::string& text);

// The strategy parameters of --param KEY=VALUE options and the --window N
// shorthand for window=N. Throws blotter::ConfigError for a malformed or
// repeated key, or --window with a parameter window.
StrategyParams strategy_params_of(const std::vector<std::string>& params,
                                  const std::optional<int>& window);

// Throws blotter::ConfigError unless `value` is a finite number, 0 or more.
void non_negative_finite(const char* option, double value);

}  // namespace blotter::cli
