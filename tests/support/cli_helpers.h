// Runs the blotter CLI as a user would, for the end-to-end suites.
#pragma once

#include <SQLiteCpp/SQLiteCpp.h>
#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "blotter/trading_system.h"

extern char** environ;

namespace blotter::testing {

struct CliResult {
  int exit_code = -1;  // -1 if the process did not exit (a signal killed it)
  std::string out, err;
  int signal = 0;        // the signal that killed it, if one did (run_cli_args only)
  long peak_rss_kb = 0;  // its peak resident set size (run_cli_args only)
};

inline std::string read_file(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

inline std::string quote(const std::string& arg) {
  std::string q = "'";
  for (char c : arg) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

// A scratch directory, removed with everything in it when the object dies.
class TempDir {
 public:
  TempDir() {
    std::random_device rd;
    path_ = std::filesystem::temp_directory_path() /
            ("blotter-test-" + std::to_string(rd()) + std::to_string(rd()));
    std::filesystem::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  std::string file(const std::string& name) const { return (path_ / name).string(); }
  std::string write(const std::string& name, const std::string& text) const {
    std::ofstream(path_ / name, std::ios::binary) << text;
    return file(name);
  }

 private:
  std::filesystem::path path_;
};

// Runs a shell command line (arguments quoted by the caller) and captures its output.
inline CliResult run_command(const std::string& command_line) {
  static TempDir scratch;
  const std::string out = scratch.file("stdout"), err = scratch.file("stderr");
  const std::string command = command_line + " >" + quote(out) + " 2>" + quote(err) + " </dev/null";
  const int status = std::system(command.c_str());
  CliResult r;
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  r.out = read_file(out);
  r.err = read_file(err);
  return r;
}

inline CliResult run_cli(const std::string& args) {
  return run_command(std::string(BLOTTER_CLI) + " " + args);
}

// Runs a Python 3 script with the standard library only.
inline CliResult run_python(const std::string& script, const std::string& args) {
  return run_command(quote(BLOTTER_PYTHON) + " " + quote(script) + " " + args);
}

// A journal of the GOOG series made by `blotter run` in `dir`, with `options`.
inline std::string goog_journal_in(const TempDir& dir, const std::string& name = "g.db",
                                   const std::string& options = "") {
  const std::string db = dir.file(name);
  const CliResult r =
      run_cli("run --bars " + quote(std::string(BLOTTER_TEST_DATA) + "/goog_daily.csv") +
              " --symbol GOOG --journal " + quote(db) + " " + options);
  if (r.exit_code != 0) throw std::runtime_error("blotter run failed: " + r.err);
  return db;
}

// The GOOG series paper-traded with --quantity 1, made once per test program;
// the cases that use it only read it.
inline const std::string& goog_journal() {
  static TempDir dir;
  static const std::string db = goog_journal_in(dir, "g.db", "--quantity 1");
  return db;
}

// Runs the CLI with `args` without a shell, through the peak_rss helper,
// which measures the process: its peak resident set size and the signal that
// killed it, if one did.
inline CliResult run_cli_args(const std::vector<std::string>& args) {
  static TempDir scratch;
  const std::string out = scratch.file("stdout"), err = scratch.file("stderr");
  const std::string measures = scratch.file("peak_rss");
  posix_spawn_file_actions_t files;
  posix_spawn_file_actions_init(&files);
  posix_spawn_file_actions_addopen(&files, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&files, 1, out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_addopen(&files, 2, err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  std::vector<std::string> argv_text{BLOTTER_PEAK_RSS, measures, BLOTTER_CLI};
  argv_text.insert(argv_text.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (std::string& a : argv_text) argv.push_back(a.data());
  argv.push_back(nullptr);
  std::filesystem::remove(measures);
  CliResult r;
  pid_t pid = 0;
  const int spawned = posix_spawn(&pid, BLOTTER_PEAK_RSS, &files, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&files);
  if (spawned != 0) {
    r.err = "posix_spawn failed";
    return r;
  }
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  std::istringstream(read_file(measures)) >> r.peak_rss_kb >> r.signal;
  r.exit_code = WIFEXITED(status) && r.signal == 0 ? WEXITSTATUS(status) : -1;
  r.out = read_file(out);
  r.err = read_file(err);
  return r;
}

inline std::int64_t count(const std::string& db, const std::string& sql) {
  SQLite::Database d(db, SQLite::OPEN_READONLY);
  return d.execAndGet(sql).getInt64();
}

inline std::string goog_csv() { return std::string(BLOTTER_TEST_DATA) + "/goog_daily.csv"; }

// A CSV of one-minute bars for `symbols` symbols (S0, S1, ...), `minutes`
// minutes from 2024-01-02 14:30 UTC, with a symbol column; prices are a
// deterministic random walk in cents (the same for the same arguments).
inline std::string synthetic_bars(const TempDir& dir, const std::string& name, int minutes,
                                  int symbols) {
  std::string csv = "timestamp,open,high,low,close,volume,symbol\n";
  std::uint64_t state = 0x9E3779B97F4A7C15ull;
  auto next = [&state] {
    state = state * 6364136223846793005ull + 1442695040888963407ull;
    return static_cast<std::int64_t>(state >> 33);
  };
  std::vector<std::int64_t> cents(static_cast<std::size_t>(symbols), 10'000);
  const std::int64_t start = 1704205800;  // 2024-01-02T14:30:00Z
  for (int m = 0; m < minutes; ++m) {
    for (int s = 0; s < symbols; ++s) {
      std::int64_t& c = cents[static_cast<std::size_t>(s)];
      const std::int64_t open = c;
      c = std::max<std::int64_t>(100, c + next() % 61 - 30);
      const std::int64_t high = std::max(open, c) + next() % 10;
      const std::int64_t low = std::min(open, c) - next() % 10;
      auto money = [](std::int64_t v) {
        return std::to_string(v / 100) + "." + (v % 100 < 10 ? "0" : "") + std::to_string(v % 100);
      };
      csv += std::to_string(start + 60 * m) + "," + money(open) + "," + money(high) + "," +
             money(low) + "," + money(c) + "," + std::to_string(100 + next() % 900) + ",S" +
             std::to_string(s) + "\n";
    }
  }
  return dir.write(name, csv);
}

// A run of `input` into `journal` that does a lot per row: a short window,
// next-open fills (orders pending across rows), a commission, a loss limit
// that halts days, and New York trading days. The suites set batching and
// snapshots themselves.
inline RunConfig busy_run_config(const std::string& input, const std::string& journal) {
  RunConfig c;
  c.input_path = input;
  c.journal_location = journal;
  c.version = "test";
  c.trading.params.set("window", "5");
  c.trading.execution.fill = FillModel::kNextOpen;
  c.trading.execution.commission = Decimal::from_string("0.01");
  c.trading.risk.max_daily_loss = Decimal::from_string("0.0002");
  c.trading.tz = "America/New_York";
  return c;
}

// The trading events of a journal, as the replay issue's determinism check
// selects them, one line per event.
inline std::vector<std::string> trading_events(const std::string& db) {
  SQLite::Database d(db, SQLite::OPEN_READONLY);
  SQLite::Statement q(d,
                      "SELECT seq, ts_ns, type, symbol, payload FROM events WHERE type IN "
                      "('BAR','TICK','SIGNAL','ORDER','FILL','RISK_REJECTED') ORDER BY seq");
  std::vector<std::string> rows;
  while (q.executeStep())
    rows.push_back(q.getColumn(0).getString() + "|" + q.getColumn(1).getString() + "|" +
                   q.getColumn(2).getString() + "|" + q.getColumn(3).getString() + "|" +
                   q.getColumn(4).getString());
  return rows;
}

// Seq of the latest event of the journal (0 while it has none or does not exist).
inline std::int64_t last_seq_of(const std::string& db) {
  try {
    SQLite::Database d(db, SQLite::OPEN_READONLY);
    return d.execAndGet("SELECT coalesce(max(seq), 0) FROM events").getInt64();
  } catch (const SQLite::Exception&) {
    return 0;
  }
}

// Starts the CLI with `args`; its output goes to /dev/null, and its errors
// too unless `err` names a file to write them to.
inline pid_t spawn_cli(const std::vector<std::string>& args, const std::string& err = "") {
  std::vector<std::string> all = {BLOTTER_CLI};
  all.insert(all.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& a : all) argv.push_back(a.data());
  argv.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
  if (err.empty())
    posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, "/dev/null", O_WRONLY, 0);
  else
    posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, err.c_str(),
                                     O_WRONLY | O_CREAT | O_TRUNC, 0644);
  pid_t pid = 0;
  const int failed = posix_spawn(&pid, BLOTTER_CLI, &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (failed) throw std::runtime_error("cannot start " + std::string(BLOTTER_CLI));
  return pid;
}

}  // namespace blotter::testing
