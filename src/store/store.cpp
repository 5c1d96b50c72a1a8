#include "blotter/store.h"

#include <chrono>

namespace blotter {

WallClock system_wall_clock() {
  return [] {
    return static_cast<std::int64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                         std::chrono::system_clock::now().time_since_epoch())
                                         .count());
  };
}

std::int64_t EventStore::count(const ScanRange& range) const {
  std::int64_t n = 0;
  scan(range, [&](const Event&) {
    ++n;
    return true;
  });
  return n;
}

void EventStore::scan_rows(const ScanRange& range,
                           const std::function<bool(const JournalRow&)>& visit) const {
  scan(range, [&](const Event& e) { return visit(row_of(e)); });
}

std::optional<Snapshot> EventStore::snapshot_at_or_before(Seq) const { return std::nullopt; }
std::vector<Seq> EventStore::snapshot_seqs() const { return {}; }
void EventStore::put_snapshot(const Snapshot&) {}
void EventStore::clear_snapshots() {}

MemoryStore::MemoryStore(WallClock clock) : clock_(std::move(clock)) {}

Seq MemoryStore::append(Event& event) {
  event.seq = static_cast<Seq>(events_.size()) + 1;
  event.recorded_ns = clock_();
  events_.push_back(event);
  return event.seq;
}

void MemoryStore::commit() {
  committed_ = events_.size();
  committed_snapshots_.reset();
}

// The open batch's snapshot changes go with it, as a database's would: the
// snapshots are restored from their copy kept at the batch's first change.
void MemoryStore::rollback() {
  events_.resize(committed_);
  if (committed_snapshots_) snapshots_ = std::move(*committed_snapshots_);
  committed_snapshots_.reset();
}

Seq MemoryStore::last_seq() const { return static_cast<Seq>(events_.size()); }

Seq MemoryStore::last_seq_at_or_before(TimestampNs ts) const {
  Seq best = 0;
  for (const Event& e : events_)
    if (e.ts_ns <= ts && e.type() != EventType::kAnnotation) best = e.seq;
  return best;
}

bool ScanRange::matches(const Event& e) const {
  if (e.seq < from_seq || e.seq > to_seq || e.ts_ns < from_ts || e.ts_ns > to_ts) return false;
  if (!symbol.empty() && e.symbol != symbol) return false;
  if (types.empty()) return true;
  for (EventType t : types)
    if (t == e.type()) return true;
  return false;
}

void MemoryStore::scan(const ScanRange& range,
                       const std::function<bool(const Event&)>& visit) const {
  for (const Event& e : events_) {
    if (e.seq > range.to_seq) break;
    if (range.matches(e) && !visit(e)) break;
  }
}

std::optional<Snapshot> MemoryStore::snapshot_at_or_before(Seq seq) const {
  auto it = snapshots_.upper_bound(seq);
  if (it == snapshots_.begin()) return std::nullopt;
  return std::prev(it)->second;
}

std::vector<Seq> MemoryStore::snapshot_seqs() const {
  std::vector<Seq> seqs;
  for (const auto& [seq, s] : snapshots_) seqs.push_back(seq);
  return seqs;
}

void MemoryStore::put_snapshot(const Snapshot& snapshot) {
  if (!committed_snapshots_) committed_snapshots_ = snapshots_;
  snapshots_[snapshot.seq] = snapshot;
}

void MemoryStore::clear_snapshots() {
  if (!committed_snapshots_) committed_snapshots_ = snapshots_;
  snapshots_.clear();
}

}  // namespace blotter
