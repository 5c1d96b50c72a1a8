// The SQLite event store: one journal file, its schema from migrations/.
// docs/JOURNAL_FORMAT.md documents the tables and views users query.
#pragma once

#include <chrono>
#include <exception>
#include <memory>
#include <string>
#include <vector>

#include "blotter/hash_chain.h"
#include "blotter/journal.h"
#include "blotter/store.h"

namespace blotter {

// The schema version this build of blotter writes (the highest migration).
int journal_schema_version();

// A Journal in one SQLite file, in WAL mode so that readers see committed
// batches while the one writer appends. Durability::kNormal is
// synchronous=NORMAL, with the WAL synced by the writer thread at most
// `sync_interval` after each commit; kFull is synchronous=FULL. A new
// journal (and one just migrated) is synced, directory entry included,
// before open() returns. A writer holds an exclusive
// lock on the file for as long as it has it open. The hash chain's previous
// hash is kept in memory; rollback() restores the last committed one.
// Beyond Journal, inherently SQLite: schema_version() and kMigrate's
// migrations from migrations/, read_as_is(), and the raw SQL of query.h,
// which opens the file itself.
class SqliteJournal final : public Journal {
 public:
  // Opens the journal at `path` (journal_location.h's open_journal opens
  // one from a location). Throws blotter::StoreError, naming the file,
  // if it is a directory, not a SQLite database, not a blotter journal, was
  // written by a newer blotter, or (all but kWrite) does not exist or is
  // empty (a new journal to kWrite), or (kRead, kUpdate) needs migrating;
  // (writers) if its directory does not exist or is not writable. A refused
  // file is left as it was. kWrite and kMigrate apply every compiled-in
  // migration not yet recorded in the journal, each in its own transaction;
  // migration 0004 computes the hash chain of events journaled before it.
  // Throws blotter::ConfigError (field sync_interval) if `sync_interval` is
  // negative.
  static std::unique_ptr<SqliteJournal> open(
      const std::string& path, Mode mode, WallClock clock = system_wall_clock(),
      Durability durability = Durability::kNormal,
      std::chrono::milliseconds sync_interval = kDefaultSyncInterval);
  ~SqliteJournal() override;

  // As EventStore::append; also throws blotter::StoreError, appending
  // nothing, if the last event has no hash (only tampering with the table
  // can cause that). A writer thread inserts the row: append() waits only
  // when the writer's queue is full (or, kFull, to commit an ORDER).
  Seq append(Event& event) override;
  void close_batch() override;
  void commit() override;
  void rollback() override;
  Seq last_seq() const override;
  Seq last_seq_at_or_before(TimestampNs ts) const override;
  void scan(const ScanRange& range, const std::function<bool(const Event&)>& visit) const override;
  std::int64_t count(const ScanRange& range) const override;
  std::optional<Snapshot> snapshot_at_or_before(Seq seq) const override;
  std::vector<Seq> snapshot_seqs() const override;
  void put_snapshot(const Snapshot& snapshot) override;
  void clear_snapshots() override;

  // Journal. location() is the path as given; created() is true when kWrite
  // found no file there.
  const std::string& location() const override;
  bool created() const override;
  ChainHead head() const override;
  Seq max_seq(const ScanRange& range) const override;
  std::vector<TimeSpan> time_index() const override;  // the time_index table
  void catch_up_from(Seq first) override;
  void record_resumption(Seq run_seq, std::int64_t skipped_rows,
                         const std::string& version) override;  // run_resumptions
  std::vector<Seq> resumptions(Seq run_seq) const override;

  // Calls `visit` for each row of `range` exactly as stored, undecoded, in seq
  // order through a cursor (constant memory), until it returns false. A row
  // whose type or payload blotter cannot decode is still visited. Throws
  // blotter::StoreError if the database cannot be read.
  void scan_rows(const ScanRange& range,
                 const std::function<bool(const JournalRow&)>& visit) const override;

  const std::string& path() const;
  // Whether a reader opened the file as it is, without the WAL's shared
  // memory: its directory is not writable and there is no -wal file (so no
  // writer). Such a reader does not see later writes.
  bool read_as_is() const;
  int schema_version() const;

 private:
  struct Impl;
  explicit SqliteJournal(std::unique_ptr<Impl> impl);
  Seq catch_up(Event& event);
  // Rolls the open batch back and throws StoreError "PATH: doing: why".
  [[noreturn]] void fail_batch(const char* doing, const std::exception& e);
  std::unique_ptr<Impl> impl_;
};

}  // namespace blotter
