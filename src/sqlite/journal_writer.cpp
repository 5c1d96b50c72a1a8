#include "sqlite/journal_writer.h"

#include <sqlite3.h>

#include <cassert>
#include <chrono>
#include <thread>

#include "sqlite/file_sync.h"
#include "sqlite/sqlite_error.h"

namespace blotter::detail {
namespace {

// Rows per multi-row INSERT: one statement step for many rows costs less
// than one per row.
constexpr std::size_t kChunk = 32;
constexpr int kColumns = 7;
// Items handled between two hand-backs of slots to the producer.
constexpr std::uint64_t kStep = 256;
// Polls before a waiting thread sleeps: while events stream, neither thread
// pays for a wake-up.
constexpr int kSpins = 1000;
// A sleeping writer is woken once this many items wait (or a batch closes):
// a wake-up per row would cost the producer more than the row.
constexpr std::uint64_t kWakeAfter = 256;

void cpu_relax() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#endif
}

std::string insert_sql(std::size_t rows) {
  std::string sql =
      "INSERT INTO events(seq, ts_ns, type, symbol, payload, recorded_ns, hash) VALUES";
  for (std::size_t i = 0; i < rows; ++i) sql += i ? ",(?,?,?,?,?,?,?)" : "(?,?,?,?,?,?,?)";
  return sql;
}

void check(sqlite3* db, int rc) {
  if (rc != SQLITE_OK) throw SQLite::Exception(db, rc);
}

// Binds `item` to the parameters of row `index` of `stmt`.
void bind_row(sqlite3* db, sqlite3_stmt* stmt, int index, const QueuedItem& item) {
  const int p = index * kColumns;
  const std::string_view type = to_string(item.type);
  check(db, sqlite3_bind_int64(stmt, p + 1, item.seq));
  check(db, sqlite3_bind_int64(stmt, p + 2, item.ts_ns));
  check(db,
        sqlite3_bind_text(stmt, p + 3, type.data(), static_cast<int>(type.size()), SQLITE_STATIC));
  if (item.has_symbol) {
    check(db, sqlite3_bind_text(stmt, p + 4, item.symbol.data(),
                                static_cast<int>(item.symbol.size()), SQLITE_STATIC));
  } else {
    check(db, sqlite3_bind_null(stmt, p + 4));
  }
  check(db, sqlite3_bind_text64(stmt, p + 5, item.payload.data(), item.payload.size(),
                                SQLITE_STATIC, SQLITE_UTF8));
  check(db, sqlite3_bind_int64(stmt, p + 6, item.recorded_ns));
  check(db, sqlite3_bind_blob(stmt, p + 7, item.hash.data(), static_cast<int>(item.hash.size()),
                              SQLITE_STATIC));
}

JournalWriter::Statement prepare(sqlite3* db, const std::string& sql) {
  sqlite3_stmt* stmt = nullptr;
  const int rc = sqlite3_prepare_v3(db, sql.c_str(), static_cast<int>(sql.size()),
                                    SQLITE_PREPARE_PERSISTENT, &stmt, nullptr);
  JournalWriter::Statement owned(stmt, sqlite3_finalize);
  check(db, rc);
  return owned;
}

void step(sqlite3* db, sqlite3_stmt* stmt) {
  const int rc = sqlite3_step(stmt);
  sqlite3_reset(stmt);
  if (rc != SQLITE_DONE) throw SQLite::Exception(db, rc);
}

}  // namespace

JournalWriter::JournalWriter(SQLite::Database& db, std::size_t capacity, Seq committed_seq,
                             const ChainHash& committed_head,
                             std::optional<std::chrono::milliseconds> sync_interval)
    : db_(db),
      items_(capacity),
      mask_(capacity - 1),
      insert_one_(prepare(db.getHandle(), insert_sql(1))),
      insert_chunk_(prepare(db.getHandle(), insert_sql(kChunk))),
      insert_span_(prepare(db.getHandle(),
                           "INSERT INTO time_index(first_seq, last_seq, min_ts, max_ts) "
                           "VALUES(?,?,?,?)")),
      committed_seq_(committed_seq),
      committed_head_(committed_head),
      sync_interval_(sync_interval),
      thread_([this] { run(); }) {
  assert(capacity >= kChunk && (capacity & mask_) == 0);
}

JournalWriter::~JournalWriter() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  writer_wake_.notify_one();
  thread_.join();
}

QueuedItem& JournalWriter::slot() {
  const std::uint64_t pushed = pushed_.load(std::memory_order_relaxed);
  if (pushed - handled_.load(std::memory_order_acquire) >= items_.size()) {
    // The writer is behind: publishing waits, nothing is dropped.
    const std::uint64_t target = pushed - items_.size() + 1;
    for (int i = 0; i < kSpins && handled_.load(std::memory_order_acquire) < target; ++i)
      cpu_relax();
    wait_handled(target);
  }
  return items_[pushed & mask_];
}

void JournalWriter::push(bool wake) {
  const std::uint64_t pushed = pushed_.load(std::memory_order_relaxed) + 1;
  pushed_.store(pushed);
  if (writer_waiting_.load() &&
      (wake || pushed - handled_.load(std::memory_order_relaxed) >= kWakeAfter))
    wake_writer();
}

void JournalWriter::wake_writer() {
  std::lock_guard lock(mutex_);
  writer_wake_.notify_one();
}

void JournalWriter::quiesce() { wait_handled(pushed_.load(std::memory_order_relaxed)); }

std::unique_lock<std::recursive_mutex> JournalWriter::use_connection() {
  quiesce();
  // The writer only ever try_locks connection_, so holding it while waiting
  // for the writer (quiesce() again, nested) cannot deadlock.
  return std::unique_lock(connection_);
}

void JournalWriter::wait_handled(std::uint64_t target) {
  if (handled_.load() >= target) return;
  wake_writer();
  std::unique_lock lock(mutex_);
  producer_waiting_.store(true);
  producer_wake_.wait(lock, [&] { return handled_.load() >= target; });
  producer_waiting_.store(false);
}

std::optional<WriterFailure> JournalWriter::take_failure() {
  quiesce();
  std::lock_guard lock(mutex_);
  std::optional<WriterFailure> failure;
  failure.swap(failure_);
  failed_.store(false);
  return failure;
}

Seq JournalWriter::committed_seq() const {
  std::lock_guard lock(mutex_);
  return committed_seq_;
}

ChainHash JournalWriter::committed_head() const {
  std::lock_guard lock(mutex_);
  return committed_head_;
}

void JournalWriter::run() {
  using Clock = std::chrono::steady_clock;
  std::uint64_t done = 0;
  for (;;) {
    std::uint64_t to = pushed_.load(std::memory_order_acquire);
    for (int i = 0; i < kSpins && to == done; ++i) {
      cpu_relax();
      to = pushed_.load(std::memory_order_acquire);
    }
    if (to == done) {
      std::unique_lock lock(mutex_);
      writer_waiting_.store(true);
      const auto woken = [&] { return (to = pushed_.load()) != done || stopping_; };
      // Asleep until something is queued, or a commit is due to be synced
      // (a quiet live session commits its last batch and then nothing).
      if (sync_due_)
        writer_wake_.wait_until(lock, *sync_due_, woken);
      else
        writer_wake_.wait(lock, woken);
      writer_waiting_.store(false);
      const bool stopping = stopping_;
      lock.unlock();
      if (to == done) {
        // Nothing queued, so the producer may be using the connection: the
        // sync waits for it, retrying shortly after.
        std::unique_lock connection(connection_, std::try_to_lock);
        if (connection) sync_if_due(stopping ? Clock::time_point::max() : Clock::now());
        if (stopping && connection) return;  // everything pushed is handled and synced
        if (!connection) std::this_thread::sleep_for(std::chrono::milliseconds(1));
        continue;
      }
    }
    to = std::min(to, done + kStep);
    handle(done, to);
    // Items are queued, so the connection is the writer's until handled_ says
    // they are done.
    sync_if_due(Clock::now());
    done = to;
    handled_.store(done);
    if (producer_waiting_.load()) {
      std::lock_guard lock(mutex_);
      producer_wake_.notify_all();
    }
  }
}

void JournalWriter::handle(std::uint64_t from, std::uint64_t to) {
  // After a failure everything is discarded until the producer takes it.
  if (failed_.load(std::memory_order_relaxed)) return;
  const char* doing = "cannot append to the journal";
  try {
    for (std::uint64_t i = from; i < to;) {
      const QueuedItem& item = items_[i & mask_];
      switch (item.kind) {
        case QueuedItem::Kind::kRow:
          doing = "cannot append to the journal";
          i = insert_rows(i, to);
          break;
        case QueuedItem::Kind::kCommit: {
          doing = "cannot commit to the journal";
          if (in_transaction_) {
            write_span();
            db_.exec("COMMIT");
            in_transaction_ = false;
            if (sync_interval_ && !sync_due_)
              sync_due_ = std::chrono::steady_clock::now() + *sync_interval_;
          }
          std::lock_guard lock(mutex_);
          committed_seq_ = item.seq;
          committed_head_ = item.hash;
          ++i;
          break;
        }
        case QueuedItem::Kind::kRollback:
          doing = "cannot roll back";
          span_ = Span{};
          if (in_transaction_) {
            in_transaction_ = false;
            db_.exec("ROLLBACK");
          }
          ++i;
          break;
      }
    }
  } catch (const std::exception& e) {
    fail(doing, e);
  }
}

std::uint64_t JournalWriter::insert_rows(std::uint64_t from, std::uint64_t to) {
  std::uint64_t end = from;
  while (end < to && items_[end & mask_].kind == QueuedItem::Kind::kRow) ++end;
  if (!in_transaction_) {
    db_.exec("BEGIN IMMEDIATE");
    in_transaction_ = true;
  }
  sqlite3* db = db_.getHandle();
  for (std::uint64_t k = from; k < end; ++k) {
    const QueuedItem& row = items_[k & mask_];
    if (span_.first == 0) span_ = Span{row.seq, row.seq, row.ts_ns, row.ts_ns};
    span_.last = row.seq;
    span_.min_ts = std::min(span_.min_ts, row.ts_ns);
    span_.max_ts = std::max(span_.max_ts, row.ts_ns);
  }
  std::uint64_t i = from;
  for (; end - i >= kChunk; i += kChunk) {
    for (std::size_t r = 0; r < kChunk; ++r)
      bind_row(db, insert_chunk_.get(), static_cast<int>(r), items_[(i + r) & mask_]);
    step(db, insert_chunk_.get());
  }
  for (; i < end; ++i) {
    bind_row(db, insert_one_.get(), 0, items_[i & mask_]);
    step(db, insert_one_.get());
  }
  return end;
}

void JournalWriter::write_span() {
  if (span_.first == 0) return;
  sqlite3* db = db_.getHandle();
  sqlite3_stmt* s = insert_span_.get();
  check(db, sqlite3_bind_int64(s, 1, span_.first));
  check(db, sqlite3_bind_int64(s, 2, span_.last));
  check(db, sqlite3_bind_int64(s, 3, span_.min_ts));
  check(db, sqlite3_bind_int64(s, 4, span_.max_ts));
  step(db, s);
  span_ = Span{};
}

// Why the WAL's xSync and not a checkpoint: with synchronous=NORMAL, every
// commit is already in the WAL, and syncing it is what makes them durable
// (one fdatasync of the frames written since the last). A checkpoint syncs
// the WAL too, but then copies pages into the database file and syncs that
// as well; and a reader that holds an old snapshot (a follower of the
// journal) can leave a PASSIVE checkpoint nothing to copy, and then it syncs
// nothing at all. docs/PERFORMANCE.md has the measured cost of each.
void JournalWriter::sync_if_due(std::chrono::steady_clock::time_point now) {
  if (!sync_due_ || now < *sync_due_) return;
  sync_due_.reset();
  if (failed_.load(std::memory_order_relaxed)) return;
  try {
    sync_wal(db_.getHandle());
  } catch (const std::exception& e) {
    fail("cannot sync the journal", e);
  }
}

void JournalWriter::fail(const char* doing, const std::exception& e) {
  WriterFailure failure{doing,
                        what_of(db_.getHandle(), e)};  // before the rollback touches the file
  try {
    if (!sqlite3_get_autocommit(db_.getHandle())) db_.exec("ROLLBACK");
  } catch (...) {
    // The connection rolls back when it closes anyway.
  }
  in_transaction_ = false;
  span_ = Span{};
  std::lock_guard lock(mutex_);
  failure_ = std::move(failure);
  failed_.store(true);
}

}  // namespace blotter::detail
