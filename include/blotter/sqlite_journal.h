// The SQLite event store: one journal file, its schema from migrations/.
// docs/JOURNAL_FORMAT.md documents the tables and views users query.
#pragma once

#include <memory>
#include <string>

#include "blotter/store.h"

namespace blotter {

// The schema version this build of blotter writes (the highest migration).
int journal_schema_version();

class SqliteJournal final : public EventStore {
 public:
  enum class Mode {
    kWrite,  // create if missing, apply pending migrations, WAL; the only writer
    kRead,   // read-only: never writes, never checkpoints
  };

  // Opens the journal at `path`. Throws blotter::StoreError, naming the file,
  // if it is not a SQLite database, not a blotter journal, was written by a
  // newer blotter, or (kRead) does not exist or needs migrating.
  static std::unique_ptr<SqliteJournal> open(const std::string& path, Mode mode,
                                             WallClock clock = system_wall_clock());
  ~SqliteJournal() override;

  Seq append(Event& event) override;
  void commit() override;
  void rollback() override;
  Seq last_seq() const override;
  Seq last_seq_at_or_before(TimestampNs ts) const override;
  void scan(const ScanRange& range, const std::function<bool(const Event&)>& visit) const override;

  const std::string& path() const;
  int schema_version() const;

 private:
  struct Impl;
  explicit SqliteJournal(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace blotter
