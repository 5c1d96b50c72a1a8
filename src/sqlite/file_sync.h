// Making a SQLite journal durable on demand: its WAL, its database file and
// the directory entry that names them.
#pragma once

#include <sqlite3.h>

#include <string>

namespace blotter::detail {

// Syncs the WAL of `db`'s main database through SQLite's VFS (the WAL file's
// xSync), so that every transaction committed to it survives a power loss.
// Does nothing if the connection has no WAL open. Throws SQLite::Exception if
// the sync fails. The caller owns the connection for the call.
void sync_wal(sqlite3* db);

// Syncs `db`'s main database file through SQLite's VFS, as sync_wal() does.
void sync_database_file(sqlite3* db);

// Syncs the directory holding the file at `path`, so that the entries of the
// files created in it survive a power loss. Outside SQLite's VFS: SQLite's
// has no call for a directory. Throws blotter::StoreError if it fails.
void sync_directory_of(const std::string& path);

}  // namespace blotter::detail
