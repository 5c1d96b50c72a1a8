#include "cli/cli.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <sstream>

#include "blotter/error.h"
#include "blotter/event.h"
#include "blotter/journal_location.h"
#include "blotter/replay.h"

namespace blotter::cli {
namespace {

// Whether `a` and `b` name the same file; false if either does not exist.
bool same_file(const std::filesystem::path& a, const std::filesystem::path& b) {
  struct stat sa = {};
  struct stat sb = {};
  return ::stat(a.c_str(), &sa) == 0 && ::stat(b.c_str(), &sb) == 0 && sa.st_dev == sb.st_dev &&
         sa.st_ino == sb.st_ino;
}

// The option that sets configuration field `field`, as CLI11 names it.
std::string option_for(const std::string& field) {
  // The fields whose option has another name; the others are spelled alike.
  if (field == "run_seq") return "--run";
  if (field == "refers_to_seq") return "--seq";
  if (field == "from_day") return "--from";
  if (field == "to_day") return "--to";
  std::string option = "--" + field;
  std::replace(option.begin(), option.end(), '_', '-');
  return option;
}

}  // namespace

std::string error_message(const std::exception& error, const CLI::App& cmd) {
  const auto* config = dynamic_cast<const ConfigError*>(&error);
  if (!config) return error.what();
  return config->message([&](const std::string& field) {
    const std::string option = option_for(field);
    return cmd.get_option_no_throw(option) ? option : field;
  });
}

Decimal to_decimal(const std::string& option, const std::string& text) {
  std::string why;
  auto d = Decimal::parse(text, &why);
  if (!d) throw blotter::ConfigError(fmt::format("{}: '{}' is {}", option, text, why));
  return *d;
}

std::unique_ptr<blotter::Journal> open_read(const std::string& location) {
  return blotter::open_journal(location, blotter::Journal::Mode::kRead);
}

void add_range_options(CLI::App* cmd, RangeOptions& o) {
  cmd->add_option("--from", o.from,
                  "first event: #SEQ, YYYY-MM-DD or an ISO date-time (inclusive)");
  cmd->add_option("--to", o.to,
                  "last event: #SEQ, YYYY-MM-DD (end of that day) or a date-time (inclusive)");
  cmd->add_option("--type", o.types, "event types, comma-separated (BAR,FILL,...)");
  cmd->add_option("--symbol", o.symbol, "only this symbol's events");
}

blotter::ScanRange scan_range_of(const RangeOptions& o, const blotter::Calendar& calendar) {
  blotter::ScanRange range;
  if (!o.from.empty()) blotter::apply_bound(o.from, blotter::Bound::kFrom, calendar, range);
  if (!o.to.empty()) blotter::apply_bound(o.to, blotter::Bound::kTo, calendar, range);
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

void refuse_empty_path(const CLI::App& cmd, const std::string& option, const std::string& path) {
  if (cmd.count(option) && path.empty())
    throw blotter::ConfigError(fmt::format("{}: the path is empty", option));
}

void check_journal_path(const std::string& journal) {
  if (journal.empty()) throw blotter::ConfigError("the journal's path is empty");
  blotter::check_journal_location(journal);
  refuse_journal_as_stdout(journal);
}

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

void non_negative_finite(const char* option, double value) {
  if (!std::isfinite(value) || value < 0)
    throw blotter::ConfigError(
        fmt::format("{} {}: must be a finite number, 0 or more", option, value));
}

StrategyParams strategy_params_of(const std::vector<std::string>& params,
                                  const std::optional<int>& window) {
  StrategyParams parsed;
  for (const std::string& key_value : params) parsed.set(key_value);
  if (window) {
    if (parsed.contains("window"))
      throw ConfigError("--window N is --param window=N: give one of them");
    parsed.set("window", std::to_string(*window));
  }
  return parsed;
}

}  // namespace blotter::cli
