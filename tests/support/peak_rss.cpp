// peak_rss FILE COMMAND [ARGS...]: runs COMMAND and writes "PEAK_RSS_KB SIGNAL"
// to FILE (SIGNAL: the one that killed it, or 0); exits with its exit status,
// or 128 + SIGNAL. The end-to-end suites run the CLI through it because a
// process the test spawns itself starts with the test's own resident pages
// in its peak (vfork shares them until exec); this helper stays small.
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: peak_rss FILE COMMAND [ARGS...]\n");
    return 125;
  }
  const pid_t pid = fork();
  if (pid < 0) return 126;
  if (pid == 0) {
    execv(argv[2], argv + 2);
    _exit(127);
  }
  int status = 0;
  rusage usage{};
  while (wait4(pid, &status, 0, &usage) < 0) {
    if (errno != EINTR) return 126;
  }
  const int signal = WIFSIGNALED(status) ? WTERMSIG(status) : 0;
  std::FILE* out = std::fopen(argv[1], "w");
  if (out == nullptr) return 126;
  std::fprintf(out, "%ld %d\n", usage.ru_maxrss, signal);
  std::fclose(out);
  return signal ? 128 + signal : WEXITSTATUS(status);
}
