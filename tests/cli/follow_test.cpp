// End to end: `replay --follow` and `export --follow` against a writer in
// another process. The writer (a forked child appending through the Journal
// API) takes one step per command it is sent, so each batch is committed
// while the follower runs, and the test waits on what the follower printed,
// never on time.
#include <doctest/doctest.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "blotter/journal_location.h"
#include "cli_helpers.h"
#include "test_support.h"

using namespace blotter::testing;

namespace {

// What the follower's output may take to show a batch, or to exit, on a
// loaded machine under sanitizers.
constexpr auto kPatience = std::chrono::seconds(60);

// A child process appending to a journal: each command byte sent is one
// step, and it answers with the last seq appended once the step is done.
//   's'  commits RUN_STARTED and 3 BARs     'b'  commits 4 BARs
//   'o'  appends 4 BARs, leaving the batch open (not committed)
//   'f'  commits RUN_FINISHED, then exits
class WriterProcess {
 public:
  explicit WriterProcess(const std::string& journal) {
    int to_child[2], from_child[2];
    REQUIRE(::pipe(to_child) == 0);
    REQUIRE(::pipe(from_child) == 0);
    pid_ = ::fork();
    REQUIRE(pid_ >= 0);
    if (pid_ == 0) {
      ::close(to_child[1]);
      ::close(from_child[0]);
      serve(journal, to_child[0], from_child[1]);
    }
    ::close(to_child[0]);
    ::close(from_child[1]);
    commands_ = to_child[1];
    answers_ = from_child[0];
  }
  ~WriterProcess() {
    ::close(commands_);
    ::close(answers_);
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
  }
  WriterProcess(const WriterProcess&) = delete;
  WriterProcess& operator=(const WriterProcess&) = delete;

  // Sends `command`; returns the last seq appended once the writer did it.
  std::int64_t step(char command) {
    REQUIRE(::write(commands_, &command, 1) == 1);
    std::int64_t seq = 0;
    REQUIRE(::read(answers_, &seq, sizeof seq) == static_cast<ssize_t>(sizeof seq));
    return seq;
  }
  // Kills it (SIGKILL) and reaps it.
  void kill() {
    REQUIRE(::kill(pid_, SIGKILL) == 0);
    REQUIRE(::waitpid(pid_, nullptr, 0) == pid_);
    pid_ = -1;
  }
  // Waits for it to exit; returns its exit status.
  int wait() {
    int status = 0;
    REQUIRE(::waitpid(pid_, &status, 0) == pid_);
    pid_ = -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }

 private:
  // The child: never returns.
  [[noreturn]] static void serve(const std::string& path, int commands, int answers) {
    using namespace blotter;
    int status = 0;
    try {
      auto journal = open_journal(path, Journal::Mode::kWrite);
      TimestampNs ts = T("2024-01-02T14:30:00Z");
      Seq run_seq = 0;
      const auto bars = [&](int n) {
        for (int i = 0; i < n; ++i) {
          ts += 60'000'000'000;
          const Decimal price = Decimal::from_string(std::to_string(100 + i) + ".25");
          Event e = make_event(ts, "S", Bar{price, price, price, price, D("10")});
          journal->append(e);
        }
      };
      for (char command = 0; ::read(commands, &command, 1) == 1;) {
        if (command == 's') {
          Event started = make_event(ts, "", RunStarted{});
          run_seq = journal->append(started);
          bars(3);
          journal->commit();
        } else if (command == 'b' || command == 'o') {
          bars(4);
          if (command == 'b') journal->commit();
        } else if (command == 'f') {
          RunFinished finished;
          finished.run_seq = run_seq;
          Event e = make_event(ts, "", finished);
          journal->append(e);
          journal->commit();
        }
        const std::int64_t seq = journal->last_seq();
        if (::write(answers, &seq, sizeof seq) != static_cast<ssize_t>(sizeof seq)) break;
        if (command == 'f') break;
      }
    } catch (...) {
      status = 1;
    }
    ::_exit(status);
  }

  pid_t pid_ = -1;
  int commands_ = -1, answers_ = -1;
};

// The CLI run with `args`, its stdout into the file `out`, stderr into `err`.
class Follower {
 public:
  Follower(const std::vector<std::string>& args, std::string out, std::string err)
      : out_(std::move(out)) {
    std::vector<std::string> all = {BLOTTER_CLI};
    all.insert(all.end(), args.begin(), args.end());
    std::vector<char*> argv;
    for (auto& a : all) argv.push_back(a.data());
    argv.push_back(nullptr);
    posix_spawn_file_actions_t files;
    posix_spawn_file_actions_init(&files);
    posix_spawn_file_actions_addopen(&files, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&files, 1, out_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_addopen(&files, 2, err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    const int failed = posix_spawn(&pid_, BLOTTER_CLI, &files, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&files);
    REQUIRE(failed == 0);
  }
  ~Follower() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
  }
  Follower(const Follower&) = delete;
  Follower& operator=(const Follower&) = delete;

  std::string output() const { return read_file(out_); }
  // Whether, within kPatience, its output came to hold `lines` lines.
  bool printed(std::size_t lines) const {
    const auto deadline = std::chrono::steady_clock::now() + kPatience;
    do {
      const std::string text = output();
      if (static_cast<std::size_t>(std::count(text.begin(), text.end(), '\n')) >= lines)
        return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    } while (std::chrono::steady_clock::now() < deadline);
    return false;
  }
  void signal(int sig) const { REQUIRE(::kill(pid_, sig) == 0); }
  // Its exit status once it exits by itself within kPatience; -1 if it was
  // killed by a signal, -2 if it had not exited by then (it is then killed).
  int exit_status() {
    const auto deadline = std::chrono::steady_clock::now() + kPatience;
    int status = 0;
    for (;;) {
      const pid_t done = ::waitpid(pid_, &status, WNOHANG);
      if (done == pid_) break;
      if (std::chrono::steady_clock::now() >= deadline) return -2;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    pid_ = -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }

 private:
  std::string out_;
  pid_t pid_ = -1;
};

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::size_t start = 0;
  for (std::size_t end; (end = text.find('\n', start)) != std::string::npos; start = end + 1)
    lines.push_back(text.substr(start, end - start));
  return lines;
}

}  // namespace

TEST_SUITE("follow") {
  TEST_CASE("replay --follow --until-finished prints each batch as it lands, then exits") {
    TempDir dir;
    const std::string db = dir.file("live.db");
    WriterProcess writer(db);
    std::int64_t last = writer.step('s');
    Follower follower({"replay", db, "--follow", "--until-finished", "--format", "jsonl"},
                      dir.file("out"), dir.file("err"));
    REQUIRE(follower.printed(static_cast<std::size_t>(last)));
    for (int batch = 0; batch < 4; ++batch) {
      last = writer.step('b');
      // Printed while the writer waits for its next command: as it landed.
      REQUIRE(follower.printed(static_cast<std::size_t>(last)));
    }
    last = writer.step('f');
    CHECK(writer.wait() == 0);
    CHECK(follower.exit_status() == 0);
    CHECK(read_file(dir.file("err")) == "");
    // Every event exactly once, in seq order: what a replay of the whole
    // journal prints.
    const CliResult whole = run_cli("replay " + quote(db) + " --format jsonl");
    REQUIRE(whole.exit_code == 0);
    CHECK(follower.output() == whole.out);
    CHECK(lines_of(whole.out).size() == static_cast<std::size_t>(last));
  }

  TEST_CASE("export --follow --until-finished writes one CSV header and every event once") {
    TempDir dir;
    const std::string db = dir.file("live.db");
    WriterProcess writer(db);
    std::int64_t last = writer.step('s');
    Follower follower({"export", db, "--follow", "--until-finished", "--format", "csv"},
                      dir.file("out"), dir.file("err"));
    REQUIRE(follower.printed(static_cast<std::size_t>(last) + 1));
    for (int batch = 0; batch < 3; ++batch) {
      last = writer.step('b');
      REQUIRE(follower.printed(static_cast<std::size_t>(last) + 1));
    }
    writer.step('f');
    CHECK(writer.wait() == 0);
    CHECK(follower.exit_status() == 0);
    const CliResult whole = run_cli("export " + quote(db) + " --format csv");
    REQUIRE(whole.exit_code == 0);
    CHECK(follower.output() == whole.out);
  }

  TEST_CASE("a follower started before the run ends at that run's RUN_FINISHED, filtered or not") {
    TempDir dir;
    const std::string db = dir.file("live.db");
    WriterProcess writer(db);
    writer.step('s');
    writer.step('f');  // a finished run: following waits for the next one
    CHECK(writer.wait() == 0);
    WriterProcess next(db);
    Follower follower(
        {"replay", db, "--follow", "--until-finished", "--format", "jsonl", "--type", "BAR"},
        dir.file("out"), dir.file("err"));
    REQUIRE(follower.printed(3));  // the first run's BARs
    next.step('s');
    REQUIRE(follower.printed(6));
    next.step('b');
    REQUIRE(follower.printed(10));
    next.step('f');
    CHECK(next.wait() == 0);
    CHECK(follower.exit_status() == 0);
    const CliResult bars = run_cli("replay " + quote(db) + " --format jsonl --type BAR");
    REQUIRE(bars.exit_code == 0);
    CHECK(follower.output() == bars.out);
  }

  TEST_CASE("a writer killed mid-batch leaves a follower with whole batches only") {
    TempDir dir;
    const std::string db = dir.file("live.db");
    WriterProcess writer(db);
    writer.step('s');
    Follower follower({"replay", db, "--follow", "--format", "jsonl"}, dir.file("out"),
                      dir.file("err"));
    writer.step('b');
    const std::int64_t committed = writer.step('b');
    REQUIRE(follower.printed(static_cast<std::size_t>(committed)));
    // Four more appended, not committed, when the writer dies.
    CHECK(writer.step('o') == committed + 4);
    writer.kill();
    follower.signal(SIGINT);
    CHECK(follower.exit_status() == 0);
    CHECK(read_file(dir.file("err")) == "");
    const auto printed = lines_of(follower.output());
    REQUIRE(printed.size() == static_cast<std::size_t>(committed));
    const CliResult whole = run_cli("replay " + quote(db) + " --format jsonl");
    REQUIRE(whole.exit_code == 0);
    CHECK(follower.output() == whole.out);
    // The last event printed ends a committed batch.
    CHECK(count(db, "SELECT count(*) FROM time_index WHERE last_seq = " +
                        std::to_string(committed)) == 1);
    CHECK(count(db, "SELECT max(seq) FROM events") == committed);
  }

  TEST_CASE("SIGTERM ends a follow with exit 0 and the table header printed once") {
    TempDir dir;
    const std::string db = dir.file("live.db");
    WriterProcess writer(db);
    std::int64_t last = writer.step('s');
    Follower follower({"replay", db, "--follow"}, dir.file("out"), dir.file("err"));
    REQUIRE(follower.printed(static_cast<std::size_t>(last) + 1));
    last = writer.step('b');
    REQUIRE(follower.printed(static_cast<std::size_t>(last) + 1));
    follower.signal(SIGTERM);
    CHECK(follower.exit_status() == 0);
    const CliResult whole = run_cli("replay " + quote(db));
    REQUIRE(whole.exit_code == 0);
    CHECK(follower.output() == whole.out);
  }

  TEST_CASE("--follow refuses what it cannot do, in one line") {
    const std::string& db = goog_journal();
    struct Refused {
      std::string args, says;
    };
    const std::vector<Refused> cases = {
        {"replay " + quote(db) + " --follow --to '#20'", "--to"},
        {"replay " + quote(db) + " --follow --speed 2", "--speed"},
        {"export " + quote(db) + " --format csv --follow --to 2007-05-03", "--to"},
        {"replay " + quote(db) + " --until-finished", "--follow"},
        {"export " + quote(db) + " --format jsonl --until-finished", "--follow"},
        {"replay " + quote(db + ".missing") + " --follow", "no such journal"},
    };
    for (const auto& c : cases) {
      CAPTURE(c.args);
      const CliResult r = run_cli(c.args);
      CHECK(r.exit_code == 2);
      CHECK(r.out == "");
      CHECK(r.err.find(c.says) != std::string::npos);
      CHECK(std::count(r.err.begin(), r.err.end(), '\n') == 1);
    }
  }
}
