// Latency of a live session, and the disk's own sync latency as its floor.
//
//   blotter_live_latency fsync DIR COUNT RATE
//     appends a 4 KiB block to a file in DIR and fdatasyncs it, COUNT times
//     at RATE per second: at the feed's pace, as a sync after an idle spell
//     can cost several times one right after another (a virtual disk's
//     queue goes idle), and the floor must be the session's own.
//   blotter_live_latency feed BLOTTER JOURNAL ROWS RATE [ARG...]
//     starts `BLOTTER run --bars - --symbol LAT --journal JOURNAL ARG...`,
//     writes ROWS bars to its standard input at RATE rows per second, and
//     measures, for each row, the time from writing it to the pipe to its BAR
//     being visible to another (read-only) connection, which polls every
//     kPollInterval; the first kWarmUp rows are left out, as they include
//     creating the journal.
//
// Each mode prints one line: "p50_us p99_us max_us count".
#include <fcntl.h>
#include <fmt/format.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string>
#include <thread>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;
constexpr auto kPollInterval = std::chrono::microseconds(50);
constexpr std::size_t kWarmUp = 10;

std::int64_t micros(Clock::duration d) {
  return std::chrono::duration_cast<std::chrono::microseconds>(d).count();
}

[[noreturn]] void fail(const std::string& what) {
  fmt::print(stderr, "blotter_live_latency: {}\n", what);
  std::exit(1);
}

void print_percentiles(std::vector<std::int64_t> us) {
  if (us.empty()) fail("no samples");
  std::sort(us.begin(), us.end());
  const auto at = [&](double q) {
    const auto i = static_cast<std::size_t>(q * static_cast<double>(us.size() - 1) + 0.5);
    return us[std::min(i, us.size() - 1)];
  };
  fmt::print("{} {} {} {}\n", at(0.50), at(0.99), us.back(), us.size());
}

int fsync_mode(const std::string& dir, long count, double rate) {
  const std::string path = dir + "/fsync_probe";
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_APPEND, 0644);
  if (fd < 0) fail("cannot create " + path);
  const std::string block(4096, 'x');
  std::vector<std::int64_t> us;
  const auto period =
      std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(1.0 / rate));
  const auto first = Clock::now();
  for (long i = 0; i < count; ++i) {
    std::this_thread::sleep_until(first + period * i);
    const auto start = Clock::now();
    if (::write(fd, block.data(), block.size()) != static_cast<ssize_t>(block.size()))
      fail("cannot write " + path);
    if (::fdatasync(fd) != 0) fail("cannot fdatasync " + path);
    us.push_back(micros(Clock::now() - start));
  }
  ::close(fd);
  ::unlink(path.c_str());
  print_percentiles(std::move(us));
  return 0;
}

// One bar a day from 2024-01-02 on, a deterministic zigzag in cents so that
// the moving-average strategy signals and trades now and then.
std::string bar_row(long i) {
  const std::int64_t day = 1704153600 + 86400 * static_cast<std::int64_t>(i);
  const std::int64_t close = 10'000 + 300 * ((i / 7) % 2 ? 7 - i % 7 : i % 7) + (i * 37) % 50;
  return fmt::format("{},{}.{:02},{}.{:02},{}.{:02},{}.{:02},1000\n", day, close / 100, close % 100,
                     (close + 20) / 100, (close + 20) % 100, (close - 20) / 100, (close - 20) % 100,
                     close / 100, close % 100);
}

using Db = std::unique_ptr<sqlite3, int (*)(sqlite3*)>;
using Stmt = std::unique_ptr<sqlite3_stmt, int (*)(sqlite3_stmt*)>;

// Opens the journal read-only once the session has created it.
Db open_when_ready(const std::string& journal, const std::atomic<bool>& child_done) {
  for (;;) {
    struct stat st {};
    if (::stat(journal.c_str(), &st) == 0) {
      sqlite3* raw = nullptr;
      if (sqlite3_open_v2(journal.c_str(), &raw, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK) {
        Db db(raw, sqlite3_close);
        sqlite3_busy_timeout(raw, 1000);
        sqlite3_stmt* probe = nullptr;
        if (sqlite3_prepare_v2(raw, "SELECT 1 FROM events LIMIT 0", -1, &probe, nullptr) ==
            SQLITE_OK) {
          sqlite3_finalize(probe);
          return db;
        }
      } else {
        sqlite3_close(raw);
      }
    }
    if (child_done.load()) fail("the session ended before its journal existed");
    std::this_thread::sleep_for(kPollInterval);
  }
}

int feed_mode(const std::string& blotter, const std::string& journal, long rows, double rate,
              const std::vector<std::string>& extra) {
  int fds[2];
  if (::pipe(fds) != 0) fail("cannot make a pipe");
  const pid_t pid = ::fork();
  if (pid < 0) fail("cannot fork");
  if (pid == 0) {
    ::dup2(fds[0], STDIN_FILENO);
    ::close(fds[0]);
    ::close(fds[1]);
    const int null = ::open("/dev/null", O_WRONLY);
    ::dup2(null, STDOUT_FILENO);
    std::vector<std::string> args = {blotter,    "run", "--bars",    "-",
                                     "--symbol", "LAT", "--journal", journal};
    args.insert(args.end(), extra.begin(), extra.end());
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    ::execv(blotter.c_str(), argv.data());
    ::_exit(127);
  }
  ::close(fds[0]);

  const auto n = static_cast<std::size_t>(rows);
  std::vector<std::atomic<std::int64_t>> sent(n);  // steady-clock ns of each row's write
  std::vector<std::int64_t> latency_us(n, -1);
  std::atomic<std::size_t> written{0};
  std::atomic<bool> child_done{false};

  std::thread watcher([&] {
    Db db = open_when_ready(journal, child_done);
    sqlite3_stmt* raw = nullptr;
    if (sqlite3_prepare_v2(db.get(),
                           "SELECT count(*), coalesce(max(seq), ?1) FROM events "
                           "WHERE seq > ?1 AND type = 'BAR'",
                           -1, &raw, nullptr) != SQLITE_OK)
      fail(sqlite3_errmsg(db.get()));
    Stmt bars(raw, sqlite3_finalize);
    std::int64_t after = 0;
    std::size_t seen = 0;
    while (seen < n) {
      sqlite3_bind_int64(bars.get(), 1, after);
      if (sqlite3_step(bars.get()) == SQLITE_ROW) {
        const auto more = static_cast<std::size_t>(sqlite3_column_int64(bars.get(), 0));
        after = sqlite3_column_int64(bars.get(), 1);
        const std::int64_t now = Clock::now().time_since_epoch().count();
        for (std::size_t i = seen; i < seen + more && i < n; ++i)
          latency_us[i] = (now - sent[i].load(std::memory_order_acquire)) / 1000;
        seen += more;
      }
      sqlite3_reset(bars.get());
      if (seen < n) {
        if (child_done.load() && seen >= written.load()) break;
        std::this_thread::sleep_for(kPollInterval);
      }
    }
  });

  const std::string header = "timestamp,open,high,low,close,volume\n";
  if (::write(fds[1], header.data(), header.size()) < 0) fail("cannot write to the session");
  const auto period =
      std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(1.0 / rate));
  const auto start = Clock::now();
  for (std::size_t i = 0; i < n; ++i) {
    std::this_thread::sleep_until(start + period * static_cast<long>(i));
    const std::string row = bar_row(static_cast<long>(i));
    sent[i].store(Clock::now().time_since_epoch().count(), std::memory_order_release);
    written.store(i + 1);
    if (::write(fds[1], row.data(), row.size()) != static_cast<ssize_t>(row.size()))
      fail("cannot write to the session");
  }
  ::close(fds[1]);
  int status = 0;
  ::waitpid(pid, &status, 0);
  child_done.store(true);
  watcher.join();
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
    fail(fmt::format("the session ended with status {}", status));
  std::vector<std::int64_t> us;
  for (std::size_t i = kWarmUp; i < n; ++i) {
    if (latency_us[i] < 0) fail(fmt::format("row {} never reached the journal", i + 1));
    us.push_back(latency_us[i]);
  }
  print_percentiles(std::move(us));
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  const std::vector<std::string> args(argv + 1, argv + argc);
  if (args.size() == 4 && args[0] == "fsync") {
    const long count = std::atol(args[2].c_str());
    const double rate = std::atof(args[3].c_str());
    if (count <= 0 || rate <= 0) fail("fsync: COUNT and RATE must be positive");
    return fsync_mode(args[1], count, rate);
  }
  if (args.size() >= 5 && args[0] == "feed") {
    const long rows = std::atol(args[3].c_str());
    const double rate = std::atof(args[4].c_str());
    if (rows <= static_cast<long>(kWarmUp) || rate <= 0)
      fail(fmt::format("ROWS must be more than {} and RATE positive", kWarmUp));
    return feed_mode(args[1], args[2], rows, rate, {args.begin() + 5, args.end()});
  }
  fmt::print(stderr,
             "usage: blotter_live_latency fsync DIR COUNT RATE\n"
             "       blotter_live_latency feed BLOTTER JOURNAL ROWS RATE [ARG...]\n");
  return 2;
}
