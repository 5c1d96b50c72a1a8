// The event store: an append-only, gap-free sequence of events.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "blotter/event.h"
#include "blotter/hash_chain.h"

namespace blotter {

// Which stored events a scan visits. Bounds are inclusive.
struct ScanRange {
  ScanRange() = default;
  ScanRange(Seq from, Seq to) : from_seq(from), to_seq(to) {}

  Seq from_seq = 1;
  Seq to_seq = INT64_MAX;
  TimestampNs from_ts = INT64_MIN;
  TimestampNs to_ts = INT64_MAX;
  std::vector<EventType> types;  // empty: every type
  std::string symbol;            // empty: every symbol

  bool matches(const Event& e) const;
};

// The state of the trading components right after event `seq`, stored so
// that rebuilding state replays only the events after it. Snapshots are
// derived data: never required, rebuildable from the events at any time.
struct Snapshot {
  Seq seq = 0;
  Seq run_seq = 0;        // the RUN_STARTED of the run `seq` belongs to; 0 if none
  TimestampNs ts_ns = 0;  // event time of `seq`
  int format = 0;         // the encoding of `state` (snapshot.h: kSnapshotFormat)
  std::string state;      // the encoded state
};

// The narrow interface every backend implements (SQLite today). Appends go
// into an open batch that commit() makes durable as a whole or rollback()
// discards as a whole: a reader never sees part of a batch. Thread-compatible:
// one thread appends.
class EventStore {
 public:
  virtual ~EventStore() = default;

  // Appends `event` with the next sequence number, stores that number and the
  // wall-clock recording time in `event`, and returns the number. Opens a
  // batch if none is open. Throws blotter::StoreError if the backend fails;
  // the batch is then rolled back.
  virtual Seq append(Event& event) = 0;
  // Ends the open batch without waiting for it to be durable: it is committed
  // as a whole, after the batches before it; a failure to is reported by a
  // later call. No-op without one. The default commits.
  virtual void close_batch() { commit(); }
  // Makes the open batch, and every closed one, durable before it returns.
  // No-op without one. Throws blotter::StoreError.
  virtual void commit() = 0;
  // Discards the open batch, its events and its snapshot changes; the
  // sequence continues from the last closed one.
  virtual void rollback() = 0;
  // The seq of the last appended event (committed or not); 0 when empty.
  virtual Seq last_seq() const = 0;
  // The highest seq whose ts_ns <= `ts`, ANNOTATION events left out (they
  // carry the time of what they annotate, not of when they were added); 0 if none.
  virtual Seq last_seq_at_or_before(TimestampNs ts) const = 0;
  // Calls `visit` for each committed or appended event in `range`, in seq
  // order, until it returns false. Throws blotter::Error on a malformed row.
  virtual void scan(const ScanRange& range,
                    const std::function<bool(const Event&)>& visit) const = 0;
  // Calls `visit` for each row of `range` as stored: type and payload as
  // text, not decoded (so faster, and a row that cannot be decoded is still
  // visited). The default encodes the scanned events.
  virtual void scan_rows(const ScanRange& range,
                         const std::function<bool(const JournalRow&)>& visit) const;
  // How many events `range` holds. The default scans them.
  virtual std::int64_t count(const ScanRange& range) const;

  // Snapshots. A store may keep none: the defaults keep nothing.
  // The snapshot with the highest seq <= `seq`, if any.
  virtual std::optional<Snapshot> snapshot_at_or_before(Seq seq) const;
  // The seqs of every stored snapshot, ascending.
  virtual std::vector<Seq> snapshot_seqs() const;
  // Stores `snapshot` in the open batch (opening one if needed), replacing
  // any at the same seq. Throws blotter::StoreError.
  virtual void put_snapshot(const Snapshot& snapshot);
  // Removes every snapshot, in the open batch. Throws blotter::StoreError.
  virtual void clear_snapshots();
};

// Returns the wall-clock time in ns since the epoch; injectable for tests.
using WallClock = std::function<std::int64_t()>;
WallClock system_wall_clock();

// An EventStore in memory, for tests, in-memory pipelines and re-simulation.
class MemoryStore final : public EventStore {
 public:
  explicit MemoryStore(WallClock clock = system_wall_clock());
  Seq append(Event& event) override;
  void commit() override;
  void rollback() override;
  Seq last_seq() const override;
  Seq last_seq_at_or_before(TimestampNs ts) const override;
  void scan(const ScanRange& range, const std::function<bool(const Event&)>& visit) const override;
  std::optional<Snapshot> snapshot_at_or_before(Seq seq) const override;
  std::vector<Seq> snapshot_seqs() const override;
  void put_snapshot(const Snapshot& snapshot) override;
  void clear_snapshots() override;

  const std::vector<Event>& events() const { return events_; }

 private:
  WallClock clock_;
  std::vector<Event> events_;
  std::map<Seq, Snapshot> snapshots_;
  std::size_t committed_ = 0;
  // The snapshots as last committed, kept from the open batch's first
  // change of them on, for rollback(); nullopt while it has changed none.
  std::optional<std::map<Seq, Snapshot>> committed_snapshots_;
};

}  // namespace blotter
