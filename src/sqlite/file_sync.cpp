#include "sqlite/file_sync.h"

#include <SQLiteCpp/SQLiteCpp.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "blotter/error.h"

namespace blotter::detail {
namespace {

// Syncs the file that `op` (SQLITE_FCNTL_FILE_POINTER or
// SQLITE_FCNTL_JOURNAL_POINTER) names. Through the file's own methods, so that
// a VFS layered over the default one (tests/support/test_vfs.h) sees the sync
// as it sees SQLite's own.
void sync_file(sqlite3* db, int op) {
  sqlite3_file* file = nullptr;
  if (const int rc = sqlite3_file_control(db, "main", op, &file); rc != SQLITE_OK)
    throw SQLite::Exception(db, rc);
  if (!file || !file->pMethods) return;  // not open
  if (const int rc = file->pMethods->xSync(file, SQLITE_SYNC_NORMAL); rc != SQLITE_OK)
    throw SQLite::Exception(sqlite3_errstr(rc), rc);
}

}  // namespace

void sync_wal(sqlite3* db) { sync_file(db, SQLITE_FCNTL_JOURNAL_POINTER); }

void sync_database_file(sqlite3* db) { sync_file(db, SQLITE_FCNTL_FILE_POINTER); }

void sync_directory_of(const std::string& path) {
  std::filesystem::path dir = std::filesystem::path(path).parent_path();
  if (dir.empty()) dir = ".";
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  const int rc = fd < 0 ? -1 : ::fsync(fd);
  const int error = errno;
  if (fd >= 0) ::close(fd);
  if (rc != 0)
    throw StoreError(fmt::format("{}: cannot sync its directory '{}': {}", path, dir.string(),
                                 std::strerror(error)));
}

}  // namespace blotter::detail
