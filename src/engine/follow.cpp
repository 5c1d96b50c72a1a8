#include "blotter/follow.h"

#include <algorithm>
#include <cassert>
#include <thread>

#include "blotter/error.h"

namespace blotter {

FollowEnd follow_journal(const Journal& journal, const ScanRange& range,
                         const FollowOptions& options,
                         const std::function<void(const ScanRange& committed)>& on_committed) {
  const ScanRange unbounded;
  if (range.to_seq != unbounded.to_seq || range.to_ts != unbounded.to_ts)
    throw ConfigError(
        "a followed range must have no upper bound (to_seq, to_ts): it ends where the journal "
        "does");
  // Every seq up to `done` has been looked at: delivered, or outside `range`.
  Seq done = 0;
  // The last seq committed when following began: with until_finished, the
  // follow ends at the first RUN_FINISHED after it. Set by the first poll.
  Seq began = -1;
  for (;;) {
    if (options.stop && options.stop()) return FollowEnd::kStopped;
    // The last seq of the latest commit: a read sees whole commits only, and
    // the rows up to it never change (the journal is append-only), so the
    // scans below see exactly them, each in a read transaction of its own.
    const Seq head = journal.max_seq(ScanRange(done + 1, INT64_MAX));
    if (began < 0) began = std::max<Seq>(head, 0);
    if (head <= done) {
      std::this_thread::sleep_for(options.poll_interval);
      continue;
    }
    Seq end = head;
    bool finished = false;
    if (options.until_finished && head > began) {
      ScanRange finishes(std::max(done, began) + 1, head);
      finishes.types = {EventType::kRunFinished};
      journal.scan(finishes, [&](const Event& e) {
        end = e.seq;
        finished = true;
        return false;
      });
    }
    assert(end > done);
    ScanRange committed = range;
    committed.from_seq = std::max(range.from_seq, done + 1);
    committed.to_seq = end;
    if (committed.from_seq <= committed.to_seq) on_committed(committed);
    done = end;
    if (finished) return FollowEnd::kRunFinished;
  }
}

}  // namespace blotter
