// A blotter process fed through a pipe on its standard input, for the suites
// of live sessions: rows are written as a feed handler would, with pauses.
#pragma once

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <functional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

extern char** environ;

namespace blotter::testing {

// Waits until `condition` holds, looking again every few milliseconds, for
// at most `timeout`; returns whether it held. Generous timeouts: the suites
// run under sanitizers on loaded machines.
inline bool wait_for(const std::function<bool()>& condition,
                     std::chrono::seconds timeout = std::chrono::seconds(60)) {
  const auto give_up = std::chrono::steady_clock::now() + timeout;
  while (!condition()) {
    if (std::chrono::steady_clock::now() > give_up) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return true;
}

// Starts BLOTTER_CLI with `args`, its standard input the read end of a pipe
// this object writes to, its output and errors in the files given. The
// destructor kills (SIGKILL) and reaps a process still running.
class LiveProcess {
 public:
  LiveProcess(const std::vector<std::string>& args, const std::string& out,
              const std::string& err) {
    // A process that ended reading makes a write fail (EPIPE), not kill the test.
    ::signal(SIGPIPE, SIG_IGN);
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0) throw std::runtime_error("pipe failed");
    std::vector<std::string> all = {BLOTTER_CLI};
    all.insert(all.end(), args.begin(), args.end());
    std::vector<char*> argv;
    for (auto& a : all) argv.push_back(a.data());
    argv.push_back(nullptr);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, fds[0], STDIN_FILENO);
    posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, out.c_str(),
                                     O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, err.c_str(),
                                     O_WRONLY | O_CREAT | O_TRUNC, 0644);
    const int failed = posix_spawn(&pid_, BLOTTER_CLI, &actions, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    ::close(fds[0]);
    input_ = fds[1];
    if (failed) {
      ::close(input_);
      throw std::runtime_error("cannot start " + std::string(BLOTTER_CLI));
    }
  }
  ~LiveProcess() {
    close_input();
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      reap(0);
    }
  }
  LiveProcess(const LiveProcess&) = delete;
  LiveProcess& operator=(const LiveProcess&) = delete;

  // Writes all of `text`; false if the process no longer reads.
  bool write(const std::string& text) {
    std::size_t done = 0;
    while (done < text.size()) {
      const ssize_t n = ::write(input_, text.data() + done, text.size() - done);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return false;
      done += static_cast<std::size_t>(n);
    }
    return true;
  }
  // Ends the process's input (end of file on its standard input).
  void close_input() {
    if (input_ >= 0) ::close(input_);
    input_ = -1;
  }
  void signal(int sig) { ::kill(pid_, sig); }

  // Waits for the process to end, for at most `timeout`: its exit status, or
  // minus the signal that killed it. Throws if it is still running then.
  int wait(std::chrono::seconds timeout = std::chrono::seconds(60)) {
    int status = 0;
    if (!wait_for([&] { return reap(WNOHANG, &status); }, timeout))
      throw std::runtime_error("blotter did not end in time");
    return WIFEXITED(status) ? WEXITSTATUS(status) : -WTERMSIG(status);
  }

 private:
  bool reap(int options, int* status = nullptr) {
    int s = 0;
    pid_t got;
    while ((got = ::waitpid(pid_, &s, options)) < 0 && errno == EINTR) {
    }
    if (got != pid_) return false;
    pid_ = -1;
    if (status) *status = s;
    return true;
  }

  pid_t pid_ = -1;
  int input_ = -1;
};

}  // namespace blotter::testing
