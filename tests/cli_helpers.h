// Runs the blotter CLI as a user would, for the end-to-end suites.
#pragma once

#include <SQLiteCpp/SQLiteCpp.h>
#include <sys/wait.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <stdexcept>
#include <string>

namespace blotter::testing {

struct CliResult {
  int exit_code = -1;
  std::string out, err;
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

inline std::int64_t count(const std::string& db, const std::string& sql) {
  SQLite::Database d(db, SQLite::OPEN_READONLY);
  return d.execAndGet(sql).getInt64();
}

inline std::string goog_csv() { return std::string(BLOTTER_TEST_DATA) + "/goog_daily.csv"; }

}  // namespace blotter::testing
