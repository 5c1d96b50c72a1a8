// The journal's writer thread: appended rows go through a bounded queue to a
// thread that inserts them and commits each closed batch, so the thread that
// publishes events never waits on SQLite or the disk unless the queue is full.
#pragma once

#include <SQLiteCpp/SQLiteCpp.h>
#include <sqlite3.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "blotter/event.h"
#include "blotter/hash_chain.h"

namespace blotter::detail {

// One item of the queue: a row of the events table, or the end of a batch.
// The writer also adds each committed batch's time_index row.
struct QueuedItem {
  enum class Kind : std::uint8_t { kRow, kCommit, kRollback };
  Kind kind = Kind::kRow;
  // kRow: the row. kCommit: seq and hash are the batch's last row's.
  Seq seq = 0;
  TimestampNs ts_ns = 0;
  EventType type = EventType::kTick;
  bool has_symbol = false;
  std::string symbol;   // keeps its capacity from one use of the slot to the next
  std::string payload;  // likewise
  std::int64_t recorded_ns = 0;
  ChainHash hash{};
};

// What the writer could not do, for "PATH: doing: what".
struct WriterFailure {
  std::string doing;  // "cannot commit to the journal"
  std::string what;   // SQLite's reason
};

// Single producer (the thread that appends), single consumer (the writer
// thread, which owns `db` while anything is queued). The producer uses `db`
// itself only after quiesce(), until it queues again, and holding
// use_connection(): the writer's timed sync uses `db` when nothing is queued.
class JournalWriter {
 public:
  using Statement = std::unique_ptr<sqlite3_stmt, int (*)(sqlite3_stmt*)>;

  // `capacity`: a power of two. `committed_seq` and `committed_head`: the
  // journal's last event as opened. `sync_interval`: the WAL is synced
  // (sync_wal()) at most this long after each commit it does not yet hold
  // durably, even if nothing more comes; 0: right after each commit; nullopt:
  // never (SQLite syncs each commit itself).
  JournalWriter(SQLite::Database& db, std::size_t capacity, Seq committed_seq,
                const ChainHash& committed_head,
                std::optional<std::chrono::milliseconds> sync_interval);
  // Stops the thread after it has handled everything queued, and synced what
  // it committed.
  ~JournalWriter();
  JournalWriter(const JournalWriter&) = delete;
  JournalWriter& operator=(const JournalWriter&) = delete;

  // The slot for the next item, after waiting for the writer to free one;
  // fill it and push() it. `wake`: have a sleeping writer handle it now (the
  // end of a batch); otherwise it is woken once enough items wait.
  QueuedItem& slot();
  void push(bool wake = false);
  // Waits until the writer has handled every pushed item.
  void quiesce();
  // Quiesces, then keeps the writer's timed sync off the connection until the
  // lock is released: the producer's own use of `db` holds it. Reentrant.
  std::unique_lock<std::recursive_mutex> use_connection();

  // Whether rows are inserted but not yet committed or rolled back; the
  // producer may begin the transaction itself while quiesced.
  bool in_transaction() const { return in_transaction_; }
  void set_in_transaction(bool open) { in_transaction_ = open; }

  // Whether the writer failed; cheap, for the producer to check often.
  bool failed() const { return failed_.load(std::memory_order_relaxed); }
  // What the writer could not do, taken once: the batch it was in is rolled
  // back, and everything queued after it discarded. Quiesces first.
  std::optional<WriterFailure> take_failure();
  // The last batch the writer committed. Quiesce first for an exact answer.
  Seq committed_seq() const;
  ChainHash committed_head() const;

 private:
  void run();
  void wake_writer();
  // Waits, on the producer's side, until the writer has handled `target` items.
  void wait_handled(std::uint64_t target);
  // Handles items [from, to).
  void handle(std::uint64_t from, std::uint64_t to);
  // Inserts the rows from `from` on, up to `to` or the first other item;
  // returns the index after them.
  std::uint64_t insert_rows(std::uint64_t from, std::uint64_t to);
  void fail(const char* doing, const std::exception& e);
  // Adds the batch's time_index row, in its transaction.
  void write_span();
  // Syncs the WAL if a commit not yet durable was due to be by `now`. The
  // caller owns `db`. A failure is the writer's (take_failure()).
  void sync_if_due(std::chrono::steady_clock::time_point now);

  SQLite::Database& db_;
  std::vector<QueuedItem> items_;
  std::uint64_t mask_;
  // Statements inserting one row and kChunk rows.
  Statement insert_one_, insert_chunk_;
  // The time_index row of the batch being written: its seqs and event times.
  struct Span {
    Seq first = 0, last = 0;  // first 0: no event yet
    TimestampNs min_ts = 0, max_ts = 0;
  };
  Span span_;
  Statement insert_span_;

  std::atomic<std::uint64_t> pushed_{0};   // written by the producer
  std::atomic<std::uint64_t> handled_{0};  // written by the writer
  std::atomic<bool> writer_waiting_{false};
  std::atomic<bool> producer_waiting_{false};
  std::atomic<bool> in_transaction_{false};
  std::atomic<bool> failed_{false};
  bool stopping_ = false;  // guarded by mutex_

  mutable std::mutex mutex_;
  std::condition_variable writer_wake_, producer_wake_;
  // Guarded by mutex_:
  std::optional<WriterFailure> failure_;
  Seq committed_seq_ = 0;
  ChainHash committed_head_{};

  // Timed sync, the writer thread's own:
  std::optional<std::chrono::milliseconds> sync_interval_;
  // When the oldest commit not yet synced must be: nullopt if all are.
  std::optional<std::chrono::steady_clock::time_point> sync_due_;
  // Held by the producer while it uses `db` itself (use_connection()).
  std::recursive_mutex connection_;

  std::thread thread_;  // last: started once everything above is ready
};

}  // namespace blotter::detail
