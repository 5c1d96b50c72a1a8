// Following a journal while its writer appends: the events committed so far,
// then each batch as it is committed.
#pragma once

#include <chrono>
#include <functional>

#include "blotter/journal.h"
#include "blotter/store.h"

namespace blotter {

struct FollowOptions {
  // How long to wait before asking the journal again whether a batch was
  // committed (one cheap read of its last seq).
  std::chrono::milliseconds poll_interval{5};
  // End after the first RUN_FINISHED committed after following begins: that
  // of the journal's latest run if it is unfinished then (being written, or
  // to be resumed), else that of the next run to finish.
  bool until_finished = false;
  // Asked before each poll; true ends the follow. Empty: never. It may read
  // a flag that another thread or a signal handler sets.
  std::function<bool()> stop;
};

// Why follow_journal returned.
enum class FollowEnd {
  kStopped,      // options.stop said so
  kRunFinished,  // options.until_finished, and that RUN_FINISHED was delivered
};

// Follows `journal` (opened kRead; another process may be writing it):
// calls `on_committed` with the events of `range` committed so far, then,
// as each later batch is committed, with those it adds, until it returns.
// Each call's range is `range` with its seqs narrowed to from..to_seq, where
// to_seq is the last seq of a commit, so it never holds part of a batch; the
// calls' seqs are consecutive and increasing (from is the previous to_seq + 1,
// or range.from_seq), so every event is delivered once, in seq order. A call
// may select no event (when `range` filters by type, symbol or time); none is
// made while nothing was committed. With options.until_finished the last
// call ends at that RUN_FINISHED, even if `range` filters it out.
// `on_committed` scans its range itself: each scan is one read transaction of
// its own, and nothing else holds one between polls, so the writer is never
// blocked; a reader never checkpoints. Throws blotter::ConfigError if `range`
// has an upper bound (to_seq or to_ts), blotter::StoreError if the journal
// cannot be read, and whatever `on_committed` throws. Runs on the calling
// thread.
FollowEnd follow_journal(const Journal& journal, const ScanRange& range,
                         const FollowOptions& options,
                         const std::function<void(const ScanRange& committed)>& on_committed);

}  // namespace blotter
