#include "blotter/journal_location.h"

#include <fmt/format.h>

#include <filesystem>
#include <string_view>
#include <system_error>

#include "blotter/error.h"
#include "blotter/sqlite_journal.h"

namespace blotter {
namespace {

// The scheme of `location` if it is a URI ("postgresql" for
// "postgresql://..."), else empty: a path. RFC 3986's scheme grammar keeps
// paths such as "./a://b" or "my journal://x" paths.
std::string_view scheme_of(std::string_view location) {
  const auto end = location.find("://");
  if (end == std::string_view::npos || end == 0) return {};
  const std::string_view scheme = location.substr(0, end);
  const auto letter = [](char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); };
  if (!letter(scheme.front())) return {};
  for (const char c : scheme)
    if (!letter(c) && !(c >= '0' && c <= '9') && c != '+' && c != '-' && c != '.') return {};
  return scheme;
}

}  // namespace

void check_journal_location(const std::string& location) {
  const std::string_view scheme = scheme_of(location);
  if (scheme.empty()) return;
  throw ConfigError(fmt::format(
      "journal location {}://...: unknown scheme '{}' (supported: the file path of a SQLite "
      "journal)",
      scheme, scheme));
}

std::unique_ptr<Journal> open_journal(const std::string& location, Journal::Mode mode,
                                      const JournalOptions& options) {
  check_journal_location(location);
  return SqliteJournal::open(location, mode, options.clock, options.durability,
                             options.sync_interval);
}

void remove_journal(const std::string& location) {
  check_journal_location(location);
  std::error_code ignored;
  for (const char* suffix : {"", "-wal", "-shm", "-journal"})
    std::filesystem::remove(location + suffix, ignored);
}

}  // namespace blotter
