// The text of a SQLite failure (private to the library).
#pragma once

#include <SQLiteCpp/SQLiteCpp.h>
#include <fmt/format.h>
#include <sqlite3.h>

#include <cstring>
#include <exception>
#include <string>

namespace blotter::detail {

// The message of `e`, with the operating system's reason for a failed I/O
// ("disk I/O error (File too large)"), read before anything else touches the file.
inline std::string what_of(sqlite3* db, const std::exception& e) {
  const int os_error = db ? sqlite3_system_errno(db) : 0;
  const auto* sqlite_error = dynamic_cast<const SQLite::Exception*>(&e);
  if (!os_error || !sqlite_error) return e.what();
  const int code = sqlite_error->getErrorCode();
  if (code != SQLITE_IOERR && code != SQLITE_FULL && code != SQLITE_CANTOPEN) return e.what();
  return fmt::format("{} ({})", e.what(), std::strerror(os_error));
}

}  // namespace blotter::detail
