// Opening a journal from its location, in the library and on the command line.
#include "blotter/journal_location.h"

#include <doctest/doctest.h>

#include <filesystem>
#include <string>
#include <vector>

#include "blotter/error.h"
#include "blotter/sqlite_journal.h"
#include "blotter/trading_system.h"
#include "blotter/verify.h"
#include "cli_helpers.h"

using namespace blotter;
using blotter::testing::CliResult;
using blotter::testing::run_cli_args;
using blotter::testing::TempDir;

namespace {

// The message of the ConfigError `f` throws; "(no ConfigError)" if none.
template <class F>
std::string config_error(F f) {
  try {
    f();
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "(no ConfigError)";
}

const char* const kUnknownScheme =
    "journal location postgresql://...: unknown scheme 'postgresql' (supported: the file path "
    "of a SQLite journal)";

}  // namespace

TEST_SUITE("journal_location") {
  TEST_CASE("a location of an unknown scheme is a ConfigError naming the scheme, not a path") {
    const std::string uri = "postgresql://trader:secret@db.example/blotter";
    CHECK(config_error([&] { check_journal_location(uri); }) == kUnknownScheme);
    CHECK(config_error([&] { open_journal(uri, Journal::Mode::kRead); }) == kUnknownScheme);
    CHECK(config_error([&] { open_journal(uri, Journal::Mode::kWrite); }) == kUnknownScheme);
    CHECK(config_error([&] { remove_journal(uri); }) == kUnknownScheme);
    CHECK(config_error([&] { verify_journal(uri); }) == kUnknownScheme);
    // The rest of the URI, which may hold a password, is not repeated.
    CHECK(config_error([&] { check_journal_location(uri); }).find("secret") == std::string::npos);
    CHECK(config_error([] {
            check_journal_location("s3+https://bucket/j.db");
          }).starts_with("journal location s3+https://...: unknown scheme 's3+https'"));
  }

  TEST_CASE("text before :// that is not a scheme is part of a path") {
    for (const char* path : {"j.db", "./a://b.db", "my journal://x.db", "1x://y", "://z", "/tmp/j"})
      CHECK_NOTHROW(check_journal_location(path));
  }

  TEST_CASE("a path opens the SQLite journal there, and says whether it created it") {
    TempDir dir;
    const std::string path = dir.file("j.db");
    {
      auto journal = open_journal(path, Journal::Mode::kWrite);
      CHECK(dynamic_cast<SqliteJournal*>(journal.get()) != nullptr);
      CHECK(journal->location() == path);
      CHECK(journal->created());
      Event e = make_event(1, "X", Tick{Decimal::from_string("1"), Decimal::from_string("1")});
      journal->append(e);
      journal->commit();
    }
    auto again = open_journal(path, Journal::Mode::kWrite);
    CHECK_FALSE(again->created());
    CHECK(again->last_seq() == 1);
    again.reset();
    auto reader = open_journal(path, Journal::Mode::kRead);
    CHECK_FALSE(reader->created());
    CHECK(reader->head().seq == 1);
  }

  TEST_CASE("remove_journal removes the file and SQLite's files beside it") {
    TempDir dir;
    const std::string path = dir.file("j.db");
    open_journal(path, Journal::Mode::kWrite).reset();
    dir.write("j.db-journal", "");
    REQUIRE(std::filesystem::exists(path));
    remove_journal(path);
    for (const char* suffix : {"", "-wal", "-shm", "-journal"})
      CHECK_FALSE(std::filesystem::exists(path + suffix));
    CHECK_NOTHROW(remove_journal(path));  // nothing there: nothing to do
  }

  TEST_CASE("a run into a location of an unknown scheme is refused before its input is read") {
    RunConfig config;
    config.input_path = "/no/such/input.csv";
    config.journal_location = "postgresql://x";
    CHECK(config_error([&] { run_paper_trading(config); }) == kUnknownScheme);
  }

  TEST_CASE("every command given a location of an unknown scheme says so in one line, exit 2") {
    TempDir dir;
    const std::string bars = std::string(BLOTTER_TEST_DATA) + "/goog_daily.csv";
    const std::string uri = "postgresql://x";
    const std::vector<std::vector<std::string>> commands = {
        {"verify", uri},
        {"head", uri},
        {"export", uri, "--format", "csv"},
        {"run", "--bars", bars, "--symbol", "GOOG", "--journal", uri},
        {"replay", uri},
        {"state", uri},
        {"runs", uri},
        {"query", uri, "SELECT 1"},
        {"audit", uri, "--day", "2024-03-01"},
        {"resim", uri},
        {"snapshot", uri},
        {"annotate", uri, "a note", "--day", "2024-03-01"},
        {"migrate", uri},
    };
    for (const auto& args : commands) {
      INFO("blotter ", args.front());
      const CliResult r = run_cli_args(args);
      CHECK(r.exit_code == 2);
      CHECK(r.err == std::string("blotter: ") + kUnknownScheme + "\n");
      CHECK(r.out.empty());
    }
    // Nothing was created under the name, in the working directory or beside it.
    CHECK_FALSE(std::filesystem::exists("postgresql:"));
  }
}
