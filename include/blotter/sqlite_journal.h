// The SQLite event store: one journal file, its schema from migrations/.
// docs/JOURNAL_FORMAT.md documents the tables and views users query.
#pragma once

#include <exception>
#include <memory>
#include <string>
#include <vector>

#include "blotter/hash_chain.h"
#include "blotter/store.h"

namespace blotter {

// The schema version this build of blotter writes (the highest migration).
int journal_schema_version();

// How durable an append is.
enum class Durability {
  // WAL with synchronous=NORMAL: a committed batch survives the process
  // being killed; a power loss may lose the last batches committed.
  kNormal,
  // synchronous=FULL, and write-ahead: an ORDER is committed before append()
  // returns, so before any handler (the execution engine) acts on it.
  kFull,
};

// Every event appended is chained: its row's `hash` column holds
// chain_hash(previous row's hash, row) (blotter/hash_chain.h). The previous
// hash is kept in memory; rollback() restores the last committed one.
class SqliteJournal final : public EventStore {
 public:
  enum class Mode {
    kWrite,    // create if missing or empty, apply pending migrations, WAL; the only writer
    kUpdate,   // an existing journal of this schema version, WAL; the only writer
    kMigrate,  // an existing journal: apply pending migrations, WAL; the only writer
    kRead,     // read-only: never writes, never checkpoints
  };

  // Opens the journal at `path`. Throws blotter::StoreError, naming the file,
  // if it is a directory, not a SQLite database, not a blotter journal, was
  // written by a newer blotter, or (all but kWrite) does not exist or is
  // empty (a new journal to kWrite), or (kRead, kUpdate) needs migrating;
  // (writers) if its directory does not exist or is not writable. A refused
  // file is left as it was. kWrite and kMigrate apply every compiled-in
  // migration not yet recorded in the journal, each in its own transaction;
  // migration 0004 computes the hash chain of events journaled before it.
  static std::unique_ptr<SqliteJournal> open(const std::string& path, Mode mode,
                                             WallClock clock = system_wall_clock(),
                                             Durability durability = Durability::kNormal);
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
  // The highest seq in `range`; 0 if it holds none.
  Seq max_seq(const ScanRange& range) const;
  std::optional<Snapshot> snapshot_at_or_before(Seq seq) const override;
  std::vector<Seq> snapshot_seqs() const override;
  void put_snapshot(const Snapshot& snapshot) override;
  void clear_snapshots() override;

  // Resuming a run: the events from `first` to the last must be appended
  // again, in order, and are then compared with those journaled instead of
  // appended (taking their seq and recorded_ns). append() throws
  // blotter::StoreError naming the first that differs; after the last, it
  // appends as usual.
  void catch_up_from(Seq first);

  // Records, in the open batch, that the unfinished run `run_seq` is resumed
  // from the next seq on, after `skipped_rows` input rows already journaled
  // (the run_resumptions table). Throws blotter::StoreError.
  void record_resumption(Seq run_seq, std::int64_t skipped_rows, const std::string& version);
  // The first seqs of each resumption of run `run_seq`, ascending.
  std::vector<Seq> resumptions(Seq run_seq) const;

  // One row of time_index: a committed batch's seqs and event times.
  struct TimeSpan {
    Seq first_seq = 0, last_seq = 0;
    TimestampNs min_ts = 0, max_ts = 0;
  };
  // Every row of time_index, by first_seq.
  std::vector<TimeSpan> time_index() const;

  // The seq and stored hash of the last appended event (committed or not),
  // as recorded, not re-verified. Throws blotter::StoreError if it has no hash.
  ChainHead head() const;

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
