// Opening a journal from its location: where a command's journal is, named
// the same way whatever store keeps it.
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "blotter/journal.h"
#include "blotter/store.h"

namespace blotter {

// A location is either a `scheme://...` URI or a file path. This build
// knows no scheme: every path is a SQLite journal file (SqliteJournal).
// A scheme is letters, digits, '+', '-' and '.', starting with a letter, as
// in RFC 3986; any other text before "://" is part of a path.

// How a journal opened for writing behaves.
struct JournalOptions {
  WallClock clock = system_wall_clock();  // stamps each event's recorded_ns
  Durability durability = Durability::kNormal;
  // kNormal: the journal is made durable at most this long after each
  // commit, even if no other commit follows; a power loss loses at most the
  // batches committed in this interval before it (and those not yet
  // committed). 0: each commit is synced as soon as it is committed, by the
  // store's own thread. Negative: open_journal throws blotter::ConfigError
  // (field sync_interval). kFull syncs each commit before it returns.
  std::chrono::milliseconds sync_interval = kDefaultSyncInterval;
};

// Throws blotter::ConfigError, in one line that names the scheme and the
// locations this build supports, if `location` is a URI of a scheme it does
// not know (say "postgresql://..."). The rest of the URI is not repeated, as
// it may hold a password. Returns otherwise. Thread-safe.
void check_journal_location(const std::string& location);

// Opens the journal at `location` in `mode` (Journal::Mode). Throws
// blotter::ConfigError as check_journal_location does, before touching
// anything; otherwise as the store's own open does (blotter::StoreError
// naming the location if it is missing, not a journal, needs migrating, is
// being written by another writer...). Thread-safe; the journal returned is
// used by one thread at a time.
std::unique_ptr<Journal> open_journal(const std::string& location, Journal::Mode mode,
                                      const JournalOptions& options = {});

// Removes the journal at `location` with everything its store keeps beside
// it (a SQLite file's -wal, -shm and -journal files), if it exists. It must
// not be open. Errors removing it are ignored: what is left is a journal, or
// part of one, that the next open refuses or creates afresh. Throws
// blotter::ConfigError as check_journal_location does.
void remove_journal(const std::string& location);

}  // namespace blotter
