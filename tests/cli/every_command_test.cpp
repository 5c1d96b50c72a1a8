// End to end: every subcommand given a missing path, an empty file, a
// directory and a good journal. An error is exit status 2 and one line on
// stderr, `blotter: ` and then the path and what is wrong; a command that
// fails leaves every file as it was and creates none; a read command leaves
// the journal as it was.
#include <doctest/doctest.h>
#include <fmt/format.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "cli_helpers.h"

using namespace blotter::testing;
namespace fs = std::filesystem;

namespace {

// Each subcommand with arguments that succeed on a good journal; PATH stands
// for the path under test.
struct Command {
  std::string name;
  std::vector<std::string> args;
  bool writes = false;  // changes the journal when it succeeds
};

const std::vector<Command>& commands() {
  static const std::vector<Command> all = {
      {"run", {"run", "--bars", goog_csv(), "--symbol", "GOOG", "--journal", "PATH"}, true},
      {"query", {"query", "PATH", "SELECT count(*) FROM events"}},
      {"runs", {"runs", "PATH"}},
      {"replay", {"replay", "PATH", "--to", "#20"}},
      {"state", {"state", "PATH"}},
      {"resim", {"resim", "PATH"}},
      {"audit", {"audit", "PATH", "--day", "2007-05-03"}},
      {"diff", {"diff", "PATH", "PATH", "--run1", "1", "--run2", "1"}},
      {"snapshot", {"snapshot", "PATH"}, true},
      {"export", {"export", "PATH", "--format", "csv", "--to", "#20"}},
      {"verify", {"verify", "PATH"}},
      {"head", {"head", "PATH"}},
      {"annotate", {"annotate", "PATH", "--seq", "1", "a note"}, true},
      {"migrate", {"migrate", "PATH"}, true},
  };
  return all;
}

// Every file under `dir` (recursively) with its bytes, as the test sees it.
std::map<std::string, std::string> contents(const fs::path& dir) {
  std::map<std::string, std::string> files;
  for (const auto& entry : fs::recursive_directory_iterator(dir))
    files[entry.path().lexically_relative(dir).string()] =
        entry.is_regular_file() ? read_file(entry.path()) : std::string("<dir>");
  return files;
}

std::vector<std::string> with_path(const std::vector<std::string>& args, const std::string& path) {
  std::vector<std::string> out;
  for (const std::string& a : args) out.push_back(a == "PATH" ? path : a);
  return out;
}

// The checks of an error: exit status 2, one line on stderr that starts with
// `blotter: ` and names `path`.
void check_one_line_error(const CliResult& r, const std::string& path) {
  INFO(r.err);
  CHECK(r.signal == 0);
  CHECK(r.exit_code == 2);
  CHECK(r.err.starts_with("blotter: "));
  CHECK(std::count(r.err.begin(), r.err.end(), '\n') == 1);
  CHECK(r.err.ends_with('\n'));
  CHECK(r.err.find(path) != std::string::npos);
}

}  // namespace

TEST_SUITE("every_command") {
  TEST_CASE("a missing path, an empty file or a directory: one line, exit 2, nothing changed") {
    for (const Command& c : commands()) {
      for (const std::string kind : {"missing", "empty", "directory"}) {
        CAPTURE(c.name);
        CAPTURE(kind);
        TempDir dir;
        const std::string path = dir.file(kind + ".db");
        if (kind == "empty") dir.write(kind + ".db", "");
        if (kind == "directory") fs::create_directory(path);
        const auto before = contents(dir.file(""));
        const CliResult r = run_cli_args(with_path(c.args, path));
        if (c.name == "run" && kind != "directory") {
          // The one command that starts a journal: where none is, or in an empty file.
          INFO(r.err);
          CHECK(r.exit_code == 0);
          CHECK(r.err.empty());
          CHECK(count(path, "SELECT count(*) FROM bars") == 1047);
          continue;
        }
        check_one_line_error(r, path);
        CHECK(contents(dir.file("")) == before);
      }
    }
  }

  TEST_CASE("run with a missing path, an empty file, a directory or a journal as its input") {
    TempDir journals;
    const std::string& good = goog_journal();
    for (const std::string kind : {"missing", "empty", "directory", "journal"}) {
      CAPTURE(kind);
      TempDir dir;
      std::string path = dir.file(kind + ".csv");
      if (kind == "empty") dir.write(kind + ".csv", "");
      if (kind == "directory") fs::create_directory(path);
      if (kind == "journal") path = good;
      const auto before = contents(dir.file(""));
      const std::string good_before = read_file(good);
      const std::string journal = journals.file(kind + ".db");
      const CliResult r =
          run_cli_args({"run", "--bars", path, "--symbol", "GOOG", "--journal", journal});
      check_one_line_error(r, path);
      CHECK(contents(dir.file("")) == before);
      CHECK(read_file(good) == good_before);
      CHECK_FALSE(fs::exists(journal));
    }
  }

  TEST_CASE("every command succeeds on a journal made by run, and readers leave it as it was") {
    for (const Command& c : commands()) {
      CAPTURE(c.name);
      TempDir dir;
      const std::string path = goog_journal_in(dir, "g.db");
      // A first read leaves SQLite's -wal and -shm files beside the journal,
      // as any reader of a journal in WAL mode does; from then on a read
      // command changes none of the three.
      REQUIRE(run_cli_args({"head", path}).exit_code == 0);
      const auto before = contents(dir.file(""));
      REQUIRE(before.count("g.db-wal") == 1);
      REQUIRE(before.count("g.db-shm") == 1);
      const CliResult r = run_cli_args(with_path(c.args, path));
      INFO(r.err);
      CHECK(r.exit_code == 0);
      CHECK(r.err.empty());
      CHECK_FALSE(r.out.empty());
      if (!c.writes) CHECK(contents(dir.file("")) == before);
      CHECK(run_cli_args({"verify", path}).exit_code == 0);
    }
  }
}
