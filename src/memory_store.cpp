#include <chrono>

#include "blotter/store.h"

namespace blotter {

WallClock system_wall_clock() {
  return [] {
    return static_cast<std::int64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                         std::chrono::system_clock::now().time_since_epoch())
                                         .count());
  };
}

MemoryStore::MemoryStore(WallClock clock) : clock_(std::move(clock)) {}

Seq MemoryStore::append(Event& event) {
  event.seq = static_cast<Seq>(events_.size()) + 1;
  event.recorded_ns = clock_();
  events_.push_back(event);
  return event.seq;
}

void MemoryStore::commit() { committed_ = events_.size(); }

void MemoryStore::rollback() { events_.resize(committed_); }

Seq MemoryStore::last_seq() const { return static_cast<Seq>(events_.size()); }

void MemoryStore::scan(const ScanRange& range,
                       const std::function<bool(const Event&)>& visit) const {
  for (const Event& e : events_) {
    if (e.seq < range.from_seq) continue;
    if (e.seq > range.to_seq) break;
    if (!visit(e)) break;
  }
}

}  // namespace blotter
