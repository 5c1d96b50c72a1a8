#include "blotter/sqlite_journal.h"

#include <SQLiteCpp/SQLiteCpp.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <sqlite3.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <cassert>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <deque>
#include <filesystem>
#include <set>
#include <sstream>
#include <thread>

#include "blotter/error.h"
#include "events/chain_bytes.h"
#include "sqlite/file_sync.h"
#include "sqlite/journal_writer.h"
#include "sqlite/migrations.h"
#include "sqlite/sqlite_error.h"
#include "sqlite/sqlite_uri.h"

namespace blotter {
namespace {

using detail::what_of;

constexpr int kApplicationId = 0x424C4F54;  // 'BLOT'
constexpr int kBusyTimeoutMs = 5000;
constexpr int kPageSize = 16384;
// Rows queued for the writer thread at most; publishing waits beyond this.
constexpr std::size_t kQueueCapacity = 1 << 14;
// How long a writer waits for another writer of the same journal to finish.
constexpr auto kWriterWait = std::chrono::seconds(3);

// Holds an exclusive flock() on the journal file for as long as a writer has
// it open, so two writers never interleave (SQLite's own locks last only one
// transaction). SQLite uses POSIX record locks, which flock() does not touch.
class WriterLock {
 public:
  explicit WriterLock(const std::string& path) {
    fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd_ < 0)
      throw StoreError(fmt::format("{}: cannot open for locking: {}", path, std::strerror(errno)));
    const auto deadline = std::chrono::steady_clock::now() + kWriterWait;
    while (::flock(fd_, LOCK_EX | LOCK_NB) != 0) {
      if (errno != EWOULDBLOCK && errno != EINTR) {
        const int e = errno;
        ::close(fd_);
        throw StoreError(fmt::format("{}: cannot lock: {}", path, std::strerror(e)));
      }
      if (std::chrono::steady_clock::now() >= deadline) {
        ::close(fd_);
        throw StoreError(fmt::format(
            "{}: another blotter is writing to this journal (waited {} s); a journal has one "
            "writer at a time",
            path, std::chrono::duration_cast<std::chrono::seconds>(kWriterWait).count()));
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }
  ~WriterLock() { ::close(fd_); }  // closing releases the lock
  WriterLock(const WriterLock&) = delete;
  WriterLock& operator=(const WriterLock&) = delete;

 private:
  int fd_ = -1;
};

int latest_version() {
  const auto& all = detail::migrations();
  return all.empty() ? 0 : all.back().version;
}

[[noreturn]] void rethrow(const std::string& path, const char* doing, const std::string& what) {
  throw StoreError(fmt::format("{}: {}: {}", path, doing, what));
}

std::string value_text(sqlite3_value* v) {
  // sqlite3_value_text() first: it may convert, and bytes() then measures the UTF-8 text.
  const unsigned char* text = sqlite3_value_text(v);
  return text ? std::string(reinterpret_cast<const char*>(text),
                            static_cast<std::size_t>(sqlite3_value_bytes(v)))
              : "";
}

// blotter_chain_hash(previous, seq, ts_ns, type, symbol, payload, recorded_ns):
// migration 0004 backfills the chain of older journals with the very code
// append() hashes new events with.
void sql_chain_hash(sqlite3_context* ctx, [[maybe_unused]] int argc, sqlite3_value** argv) {
  assert(argc == 7);
  if (sqlite3_value_type(argv[0]) != SQLITE_BLOB ||
      sqlite3_value_bytes(argv[0]) != static_cast<int>(kGenesisHash.size())) {
    sqlite3_result_error(ctx, "blotter_chain_hash: the previous hash must be a 32-byte blob", -1);
    return;
  }
  for (int i : {1, 2, 6}) {
    if (sqlite3_value_type(argv[i]) != SQLITE_INTEGER) {
      sqlite3_result_error(ctx, "blotter_chain_hash: seq, ts_ns and recorded_ns must be integers",
                           -1);
      return;
    }
  }
  ChainHash previous;
  std::copy_n(static_cast<const std::uint8_t*>(sqlite3_value_blob(argv[0])), previous.size(),
              previous.begin());
  JournalRow row;
  row.seq = sqlite3_value_int64(argv[1]);
  row.ts_ns = sqlite3_value_int64(argv[2]);
  row.type = value_text(argv[3]);
  if (sqlite3_value_type(argv[4]) != SQLITE_NULL) row.symbol = value_text(argv[4]);
  row.payload = value_text(argv[5]);
  row.recorded_ns = sqlite3_value_int64(argv[6]);
  try {
    const ChainHash hash = chain_hash(previous, row);
    sqlite3_result_blob(ctx, hash.data(), static_cast<int>(hash.size()), SQLITE_TRANSIENT);
  } catch (const std::exception& e) {
    sqlite3_result_error(ctx, e.what(), -1);
  }
}

bool bounds_time(const ScanRange& range) {
  return range.from_ts != INT64_MIN || range.to_ts != INT64_MAX;
}

// The query of a scan over `range`, in seq order; bind_range() binds its parameters.
std::string range_sql(const char* columns, const ScanRange& range) {
  // Seq order comes from the primary key; narrowed() turns time bounds into
  // seq bounds first.
  std::string sql = fmt::format("SELECT {} FROM events WHERE seq BETWEEN ?1 AND ?2", columns);
  // Without time bounds, no test of each row's time (it costs a tenth of a
  // whole scan); the parameters ?3 and ?4 are then left unbound.
  if (bounds_time(range)) sql += " AND ts_ns BETWEEN ?3 AND ?4";
  if (!range.symbol.empty()) sql += " AND symbol = ?5";
  if (!range.types.empty()) {
    // In type order, without repeats: SQLite uses a partial index only when
    // the query spells its condition the same way, so a scan for exactly
    // RUN_STARTED and RUN_FINISHED, in any order, reads events_runs.
    std::vector<EventType> types = range.types;
    std::sort(types.begin(), types.end());
    types.erase(std::unique(types.begin(), types.end()), types.end());
    sql += " AND type IN (";
    for (std::size_t i = 0; i < types.size(); ++i)
      sql += fmt::format("{}'{}'", i ? "," : "", to_string(types[i]));
    sql += ")";
  }
  return sql + " ORDER BY seq";
}

void bind_range(SQLite::Statement& q, const ScanRange& range) {
  q.bind(1, static_cast<std::int64_t>(range.from_seq));
  q.bind(2, static_cast<std::int64_t>(range.to_seq));
  if (bounds_time(range)) {
    q.bind(3, static_cast<std::int64_t>(range.from_ts));
    q.bind(4, static_cast<std::int64_t>(range.to_ts));
  }
  if (!range.symbol.empty()) q.bind(5, range.symbol);
}

std::optional<ChainHash> hash_of(const SQLite::Column& column) {
  if (!column.isBlob() || column.getBytes() != static_cast<int>(kGenesisHash.size()))
    return std::nullopt;
  ChainHash hash;
  std::copy_n(static_cast<const std::uint8_t*>(column.getBlob()), hash.size(), hash.begin());
  return hash;
}

}  // namespace

int journal_schema_version() { return latest_version(); }

void detail::create_temp_views(sqlite3* db, const std::vector<const Migration*>& pending) {
  for (const Migration* m : pending) {
    // The statements without their comment lines; each ends a line with ';'.
    std::string sql;
    std::istringstream lines(m->sql);
    for (std::string line; std::getline(lines, line);)
      if (!line.starts_with("--")) sql += line + "\n";
    for (std::size_t start = 0; start < sql.size();) {
      std::size_t end = sql.find(";\n", start);
      if (end == std::string::npos) end = sql.size();
      std::string statement = sql.substr(start, end - start);
      start = end + 2;
      statement.erase(0, statement.find_first_not_of(" \n"));
      if (statement.empty()) continue;
      // The journal's own view stays; a TEMP one an earlier pending
      // migration made goes, as the migration would have dropped it.
      if (statement.starts_with("DROP VIEW "))
        statement =
            "DROP VIEW IF EXISTS temp." + statement.substr(std::string_view("DROP VIEW ").size());
      else if (!statement.starts_with("CREATE VIEW "))
        throw StoreError(fmt::format("migration {}: not a view: {}", m->name, statement));
      else
        statement.replace(0, std::string_view("CREATE VIEW").size(), "CREATE TEMP VIEW");
      if (const int rc = sqlite3_exec(db, statement.c_str(), nullptr, nullptr, nullptr);
          rc != SQLITE_OK)
        throw SQLite::Exception(db, rc);
    }
  }
}

struct SqliteJournal::Impl {
  std::string path;
  Mode mode;
  WallClock clock;
  // Declared before db so that it is released only after db has closed.
  std::unique_ptr<WriterLock> writer_lock;  // kWrite only
  bool immutable = false;
  SQLite::Database db;
  Durability durability = Durability::kNormal;
  // kWrite: inserts and commits appended rows; declared after db, so it
  // stops (having handled everything queued) before db closes.
  std::unique_ptr<detail::JournalWriter> writer;
  Seq last_seq = 0;
  // The hash of event last_seq; nullopt if that row has none, which only
  // tampering with the table can cause: append() then refuses.
  std::optional<ChainHash> head = kGenesisHash;
  // Whether anything was written since the last closed batch.
  bool batch_open = false;
  // Resuming: the rows already journaled that appends must reproduce
  // (catch_up_from()), front first.
  std::deque<JournalRow> expected;
  std::string scratch;  // reused for each appended row's hash
  // Scans under way on this thread: appending then would have the writer
  // thread use the connection while a scan steps it.
  mutable int scanning = 0;
  struct Scanning {
    explicit Scanning(const Impl& impl) : d(impl) { ++d.scanning; }
    ~Scanning() { --d.scanning; }
    Scanning(const Scanning&) = delete;
    Scanning& operator=(const Scanning&) = delete;
    const Impl& d;
  };
  int version = 0;
  bool created = false;  // kWrite found no file at `path`

  // `immutable`: read the file as it is, without the WAL's shared memory
  // (for a journal in a directory this process cannot write).
  Impl(const std::string& p, Mode m, WallClock c, bool immutable_file = false)
      : path(p),
        mode(m),
        clock(std::move(c)),
        immutable(immutable_file),
        // No SQLite mutex: one thread uses the connection at a time (the
        // writer thread only while rows are queued, see quiesce()), and the
        // mutex taken on every call cost a tenth of the writer's time.
        db(immutable_file ? detail::immutable_uri(p) : p,
           SQLite::OPEN_NOMUTEX | (m == Mode::kWrite  ? SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE
                                   : m != Mode::kRead ? SQLite::OPEN_READWRITE
                                   : immutable_file   ? SQLite::OPEN_READONLY | SQLite::OPEN_URI
                                                      : SQLite::OPEN_READONLY),
           kBusyTimeoutMs) {}

  int pragma_int(const char* name) {
    return db.execAndGet(fmt::format("PRAGMA {}", name)).getInt();
  }

  // Refuses files that are not blotter journals, before anything is written.
  // Returns true for an empty file (or a SQLite database with nothing in it):
  // a new journal to a writer.
  bool check_identity() {
    int tables = 0;
    try {
      tables = db.execAndGet("SELECT count(*) FROM sqlite_schema").getInt();
    } catch (const SQLite::Exception& e) {
      if (e.getErrorCode() == SQLITE_NOTADB)
        throw StoreError(fmt::format("{}: not a SQLite database", path));
      if (e.getErrorCode() == SQLITE_CORRUPT)
        throw StoreError(
            fmt::format("{}: the database file is damaged (truncated or corrupt)", path));
      throw;
    }
    const int app_id = pragma_int("application_id");
    version = pragma_int("user_version");
    if (app_id == 0 && tables == 0 && version == 0) return true;
    if (app_id != kApplicationId)
      throw StoreError(fmt::format("{}: a SQLite database, but not a blotter journal", path));
    if (version > latest_version())
      throw StoreError(
          fmt::format("{}: written by a newer blotter (journal schema version {}, this blotter "
                      "knows up to {}); "
                      "upgrade blotter to open it",
                      path, version, latest_version()));
    return false;
  }

  // Migrations already applied: those up to user_version recorded in
  // schema_migrations. A version below user_version that is not recorded
  // (numbered files merged out of order) is still pending.
  std::set<int> applied_versions() {
    std::set<int> applied;
    if (version == 0) return applied;
    SQLite::Statement q(db, "SELECT version FROM schema_migrations WHERE version <= ?");
    q.bind(1, version);
    while (q.executeStep()) applied.insert(q.getColumn(0).getInt());
    return applied;
  }

  std::vector<const detail::Migration*> pending_migrations() {
    const std::set<int> applied = applied_versions();
    std::vector<const detail::Migration*> pending;
    for (const auto& m : detail::migrations())
      if (!applied.count(m.version)) pending.push_back(&m);
    return pending;
  }

  void register_functions() {
    const int rc =
        sqlite3_create_function_v2(db.getHandle(), "blotter_chain_hash", 7,
                                   SQLITE_UTF8 | SQLITE_DETERMINISTIC | SQLITE_DIRECTONLY, nullptr,
                                   sql_chain_hash, nullptr, nullptr, nullptr);
    if (rc != SQLITE_OK)
      throw StoreError(
          fmt::format("{}: cannot register blotter_chain_hash: {}", path, sqlite3_errstr(rc)));
  }

  // Returns whether any migration was applied.
  bool migrate() {
    const auto pending = pending_migrations();
    for (const detail::Migration* m : pending) {
      SQLite::Transaction txn(db, SQLite::TransactionBehavior::IMMEDIATE);
      db.exec(m->sql);
      SQLite::Statement record(
          db, "INSERT INTO schema_migrations(version, name, applied_ns) VALUES(?,?,?)");
      record.bind(1, m->version);
      record.bind(2, m->name);
      record.bind(3, static_cast<std::int64_t>(clock()));
      record.exec();
      const int new_version = std::max(version, m->version);
      db.exec(fmt::format("PRAGMA user_version = {}", new_version));
      txn.commit();
      version = new_version;
    }
    return !pending.empty();
  }

  // Makes what is committed so far survive a power loss: the database file,
  // the WAL and the directory entries naming them (a new journal's were just
  // created). With synchronous=NORMAL, SQLite itself would sync the WAL only
  // at the first checkpoint, possibly hours later.
  void make_durable() {
    detail::sync_database_file(db.getHandle());
    detail::sync_wal(db.getHandle());
    detail::sync_directory_of(path);
  }

  void require_write() const {
    if (mode == Mode::kRead) throw StoreError(fmt::format("{}: opened read-only", path));
  }

  // Runs `read` with the connection to this thread (quiesce()); a SQLite
  // failure becomes StoreError "PATH: doing: why".
  template <class Read>
  auto reading(const char* doing, Read&& read) const -> decltype(read()) {
    const auto connection = use_connection();
    try {
      return read();
    } catch (const SQLite::Exception& e) {
      rethrow(path, doing, what_of(db.getHandle(), e));
    }
  }

  // Waits for the writer to have handled everything queued, so that this
  // thread may use the connection: reads then see every appended row.
  void quiesce() const {
    if (writer) writer->quiesce();
  }

  // Quiesces, and holds the connection for this thread until released
  // (JournalWriter::use_connection()); nothing to hold without a writer.
  std::unique_lock<std::recursive_mutex> use_connection() const {
    return writer ? writer->use_connection() : std::unique_lock<std::recursive_mutex>();
  }

  // After the writer failed: the state of its last commit, and the error.
  [[noreturn]] void recover_and_throw() {
    const auto failure = writer->take_failure();
    back_to_committed();
    batch_open = false;
    expected.clear();
    rethrow(path, failure ? failure->doing.c_str() : "cannot write to the journal",
            failure ? failure->what : "the writer stopped");
  }

  // Goes on from the writer's last commit (unchanged if nothing was appended
  // since the journal was opened, whose last row may lack its hash).
  void back_to_committed() {
    if (writer->committed_seq() == last_seq) return;
    last_seq = writer->committed_seq();
    head = writer->committed_head();
  }

  void check_writer() {
    if (writer && writer->failed()) recover_and_throw();
  }

  // For a write on this thread (a snapshot, a resumption) into the open batch.
  void begin_direct() {
    quiesce();
    check_writer();
    if (!writer->in_transaction()) {
      db.exec("BEGIN IMMEDIATE");
      writer->set_in_transaction(true);
    }
    batch_open = true;
  }

  // The seqs time_index covers: 1..indexed_end (every committed batch).
  Seq indexed_end() const {
    SQLite::Statement q(db, "SELECT coalesce(max(last_seq), 0) FROM time_index");
    q.executeStep();
    return q.getColumn(0).getInt64();
  }

  // `range` with its time bounds also as seq bounds, from time_index: the
  // batches whose event times overlap them, and the rows after the last
  // indexed batch (a writer's open batch). Time bounds alone would read
  // every row.
  ScanRange narrowed(const ScanRange& range) const {
    if (range.from_ts == INT64_MIN && range.to_ts == INT64_MAX) return range;
    const Seq end = indexed_end();
    SQLite::Statement q(db,
                        "SELECT (SELECT min(first_seq) FROM time_index WHERE max_ts >= ?1), "
                        "(SELECT max(last_seq) FROM time_index WHERE min_ts <= ?2)");
    q.bind(1, static_cast<std::int64_t>(range.from_ts));
    q.bind(2, static_cast<std::int64_t>(range.to_ts));
    q.executeStep();
    Seq from = q.getColumn(0).isNull() ? end + 1 : q.getColumn(0).getInt64();
    Seq to = q.getColumn(1).isNull() ? 0 : q.getColumn(1).getInt64();
    SQLite::Statement tail(db, "SELECT EXISTS (SELECT 1 FROM events WHERE seq > ?)");
    tail.bind(1, static_cast<std::int64_t>(end));
    tail.executeStep();
    if (tail.getColumn(0).getInt()) to = INT64_MAX;
    ScanRange narrow = range;
    narrow.from_seq = std::max(range.from_seq, from);
    narrow.to_seq = std::min(range.to_seq, to);
    return narrow;
  }

  // The rows of `range`, selecting `columns`, in seq order.
  SQLite::Statement select(const std::string& columns, const ScanRange& whole) const {
    const ScanRange range = narrowed(whole);
    SQLite::Statement q(db, range_sql(columns.c_str(), range));
    bind_range(q, range);
    return q;
  }

  void read_head() {
    SQLite::Statement q(db, "SELECT seq, hash FROM events ORDER BY seq DESC LIMIT 1");
    if (q.executeStep()) {
      last_seq = q.getColumn(0).getInt64();
      head = hash_of(q.getColumn(1));
    } else {
      last_seq = 0;
      head = kGenesisHash;
    }
  }

  // A scan's statement, prepared and stepped with SQLite's own API: reading a
  // column through SQLiteCpp's Column copies a shared_ptr, which perf showed
  // on every column of every row. Errors throw SQLite::Exception, as
  // SQLiteCpp would.
  struct FinalizeStatement {
    void operator()(sqlite3_stmt* s) const { sqlite3_finalize(s); }
  };
  using ScanStatement = std::unique_ptr<sqlite3_stmt, FinalizeStatement>;

  ScanStatement prepare_scan(const char* columns, const ScanRange& whole) const {
    const ScanRange range = narrowed(whole);
    sqlite3* handle = db.getHandle();
    sqlite3_stmt* raw = nullptr;
    const std::string sql = range_sql(columns, range);
    if (const int rc = sqlite3_prepare_v2(handle, sql.c_str(), -1, &raw, nullptr); rc != SQLITE_OK)
      throw SQLite::Exception(handle, rc);
    ScanStatement s(raw);
    int rc = sqlite3_bind_int64(raw, 1, range.from_seq);
    if (rc == SQLITE_OK) rc = sqlite3_bind_int64(raw, 2, range.to_seq);
    if (rc == SQLITE_OK && bounds_time(range)) rc = sqlite3_bind_int64(raw, 3, range.from_ts);
    if (rc == SQLITE_OK && bounds_time(range)) rc = sqlite3_bind_int64(raw, 4, range.to_ts);
    if (rc == SQLITE_OK && !range.symbol.empty())
      rc = sqlite3_bind_text(raw, 5, range.symbol.data(), static_cast<int>(range.symbol.size()),
                             SQLITE_TRANSIENT);
    if (rc != SQLITE_OK) throw SQLite::Exception(handle, rc);
    return s;
  }

  // Steps `s`: true on a row, false past the last.
  bool next_row(sqlite3_stmt* s) const {
    const int rc = sqlite3_step(s);
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
    throw SQLite::Exception(db.getHandle(), rc);
  }

  // Fills `row` from the current row of `s` (the columns scan_rows selects),
  // reusing its strings' storage: a scan reads into one row, so that rows do
  // not cost an allocation each.
  static void read_raw_row(sqlite3_stmt* s, JournalRow& row) {
    row.seq = sqlite3_column_int64(s, 0);
    row.ts_ns = sqlite3_column_int64(s, 1);
    row.type.assign(text_of(s, 2));
    if (sqlite3_column_type(s, 3) == SQLITE_NULL) {
      row.symbol.reset();
    } else {
      if (!row.symbol) row.symbol.emplace();
      row.symbol->assign(text_of(s, 3));
    }
    row.payload.assign(text_of(s, 4));
    row.recorded_ns = sqlite3_column_int64(s, 5);
    // As hash_of(): a 32-byte blob, or none.
    row.hash.reset();
    if (sqlite3_column_type(s, 6) == SQLITE_BLOB) {
      const void* blob = sqlite3_column_blob(s, 6);
      if (sqlite3_column_bytes(s, 6) == static_cast<int>(kGenesisHash.size())) {
        row.hash.emplace();
        std::memcpy(row.hash->data(), blob, row.hash->size());
      }
    }
  }

  // The current row of `s` (the columns scan selects) as an event.
  // Fills `e` from the current row of `s` (the columns scan selects),
  // reusing its storage as read_raw_row() does.
  void read_row(sqlite3_stmt* s, Event& e) const {
    e.seq = sqlite3_column_int64(s, 0);
    e.ts_ns = sqlite3_column_int64(s, 1);
    const std::string_view type_name = text_of(s, 2);
    const auto type = parse_event_type(type_name);
    if (!type)
      throw Error(fmt::format("{}: seq {}: unknown event type '{}'", path, e.seq, type_name));
    e.symbol.assign(text_of(s, 3));
    try {
      // Decoded from SQLite's own buffer, valid until the next step.
      decode_payload(*type, text_of(s, 4), e.payload);
    } catch (const Error& err) {
      throw Error(fmt::format("{}: seq {}: {}", path, e.seq, err.what()));
    }
    e.recorded_ns = sqlite3_column_int64(s, 5);
  }

  // Column `i` as text, without a copy; "" for NULL, as Column::getString() gives.
  static std::string_view text_of(sqlite3_stmt* s, int i) {
    const auto* text = reinterpret_cast<const char*>(sqlite3_column_text(s, i));
    if (!text) return {};
    return std::string_view(text, static_cast<std::size_t>(sqlite3_column_bytes(s, i)));
  }
};

SqliteJournal::SqliteJournal(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

SqliteJournal::~SqliteJournal() {
  if (impl_ && impl_->batch_open) {
    try {
      rollback();
    } catch (...) {
      // Closing the connection rolls back anyway.
    }
  }
}

namespace {

bool writable(const std::filesystem::path& p) { return ::access(p.c_str(), W_OK) == 0; }

std::filesystem::path directory_of(const std::string& path) {
  const auto dir = std::filesystem::path(path).parent_path();
  return dir.empty() ? std::filesystem::path(".") : dir;
}

// A clear error before SQLite's "unable to open database file".
void check_writable(const std::string& path) {
  const auto dir = directory_of(path);
  std::error_code ec;
  if (!std::filesystem::exists(dir, ec))
    throw StoreError(fmt::format("{}: no such directory '{}'", path, dir.string()));
  if (!std::filesystem::is_directory(dir, ec))
    throw StoreError(fmt::format("{}: '{}' is not a directory", path, dir.string()));
  if (std::filesystem::exists(path) && !writable(path))
    throw StoreError(fmt::format("{}: cannot write the journal: permission denied", path));
  if (std::filesystem::is_directory(dir) && !writable(dir))
    throw StoreError(fmt::format(
        "{}: cannot write the journal: directory '{}' is not writable (a journal needs its "
        "-wal and -shm files beside it)",
        path, dir.string()));
}

}  // namespace

std::unique_ptr<SqliteJournal> SqliteJournal::open(const std::string& path, Mode mode,
                                                   WallClock clock, Durability durability,
                                                   std::chrono::milliseconds sync_interval) {
  if (sync_interval < std::chrono::milliseconds(0))
    throw ConfigError(Field{"sync_interval"},
                      fmt::format("must be 0 ms or more (got {} ms)", sync_interval.count()));
  const bool writer = mode != Mode::kRead;
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec))
    throw StoreError(fmt::format("{}: is a directory, not a journal", path));
  const bool existed = std::filesystem::exists(path, ec);
  if (mode != Mode::kWrite && !existed) throw StoreError(fmt::format("{}: no such journal", path));
  if (writer) check_writable(path);
  std::unique_ptr<Impl> impl;
  try {
    bool empty = false;
    try {
      impl = std::make_unique<Impl>(path, mode, clock);
      if (writer) impl->writer_lock = std::make_unique<WriterLock>(path);
      empty = impl->check_identity();
    } catch (const SQLite::Exception& e) {
      // A reader in a directory it cannot write cannot create the WAL's -shm
      // file. With no -wal file there is no writer and nothing outside the
      // main file, so the file can be read as it is.
      const int code = e.getErrorCode();
      if (mode != Mode::kRead || (code != SQLITE_READONLY && code != SQLITE_CANTOPEN) ||
          writable(directory_of(path)) || std::filesystem::exists(path + "-wal"))
        throw;
      impl = std::make_unique<Impl>(path, mode, clock, true);
      empty = impl->check_identity();
    }
    if (mode != Mode::kWrite && empty)
      throw StoreError(
          fmt::format("{}: empty, not a journal yet (a run writing to it makes it one)", path));
    const bool migrating = mode == Mode::kWrite || mode == Mode::kMigrate;
    if (!migrating) {
      // Checked before anything is written: these modes never change the
      // schema. Views a journal lacks are given to this connection alone.
      const auto pending = impl->pending_migrations();
      const bool views_only =
          !pending.empty() && impl->version >= pending.front()->version - 1 &&
          std::all_of(pending.begin(), pending.end(),
                      [](const detail::Migration* m) { return m->views_only(); });
      if (views_only) {
        detail::create_temp_views(impl->db.getHandle(), pending);
      } else if (impl->version < latest_version()) {
        throw StoreError(fmt::format(
            "{}: journal schema version {} is older than this blotter's {}; run `blotter migrate "
            "{}` to upgrade it",
            path, impl->version, latest_version(), path));
      } else if (!pending.empty()) {
        throw StoreError(
            fmt::format("{}: journal schema version {} lacks migration {}; run `blotter migrate "
                        "{}` to apply it",
                        path, impl->version, pending.front()->name, path));
      }
    }
    if (writer) {
      // A new journal gets 16 KiB pages: appending rows of about 250 bytes
      // splits and rewrites B-tree pages four times less often than with
      // 4 KiB, and the WAL is checkpointed less often. (A page size is fixed
      // once the first table exists.)
      if (empty) impl->db.exec(fmt::format("PRAGMA page_size = {}", kPageSize));
      // WAL lets readers see committed batches while the one writer appends.
      const std::string journal_mode = impl->db.execAndGet("PRAGMA journal_mode = WAL").getString();
      if (journal_mode != "wal")
        throw StoreError(fmt::format("{}: cannot switch the journal to WAL mode", path));
      impl->durability = durability;
      impl->db.exec(durability == Durability::kFull ? "PRAGMA synchronous = FULL"
                                                    : "PRAGMA synchronous = NORMAL");
      impl->register_functions();
      // Durable before the first batch: a new journal's schema, and any
      // migration just applied.
      if (migrating && impl->migrate()) impl->make_durable();
    }
    impl->read_head();
    if (writer) {
      // kFull: SQLite syncs each commit itself.
      impl->writer = std::make_unique<detail::JournalWriter>(
          impl->db, kQueueCapacity, impl->last_seq, impl->head.value_or(kGenesisHash),
          durability == Durability::kFull ? std::nullopt : std::optional(sync_interval));
    }
  } catch (const StoreError&) {
    throw;
  } catch (const std::exception& e) {
    rethrow(path, "cannot open the journal", what_of(impl ? impl->db.getHandle() : nullptr, e));
  }
  impl->created = !existed;
  return std::unique_ptr<SqliteJournal>(new SqliteJournal(std::move(impl)));
}

Seq SqliteJournal::append(Event& event) {
  Impl& d = *impl_;
  d.require_write();
  if (d.scanning)
    throw StoreError(fmt::format("{}: cannot append to the journal while scanning it", d.path));
  d.check_writer();
  if (!d.expected.empty()) return catch_up(event);
  if (!d.head)
    throw StoreError(fmt::format(
        "{}: cannot append: event {} has no hash, so the chain cannot continue; run `blotter "
        "verify {}`",
        d.path, d.last_seq, d.path));
  detail::QueuedItem& row = d.writer->slot();
  row.kind = detail::QueuedItem::Kind::kRow;
  row.seq = d.last_seq + 1;
  row.ts_ns = event.ts_ns;
  row.type = event.type();
  row.has_symbol = !event.symbol.empty();
  row.symbol.assign(event.symbol);
  try {
    encode_payload(event, row.payload);
    row.recorded_ns = d.clock();
    detail::RowView view{row.seq,      row.ts_ns,   to_string(row.type),
                         std::nullopt, row.payload, row.recorded_ns};
    if (row.has_symbol) view.symbol = row.symbol;
    row.hash = detail::chain_hash(*d.head, view, d.scratch);
  } catch (const std::exception& e) {
    fail_batch("cannot append to the journal", e);
  }
  const Seq seq = row.seq;
  d.head = row.hash;
  event.recorded_ns = row.recorded_ns;
  d.writer->push();  // the writer owns the row from here on
  d.last_seq = event.seq = seq;
  d.batch_open = true;
  // Write-ahead: what is acted on upon an ORDER is durable before any handler sees it.
  if (d.durability == Durability::kFull && event.type() == EventType::kOrder) commit();
  return seq;
}

Seq SqliteJournal::catch_up(Event& event) {
  Impl& d = *impl_;
  const JournalRow& want = d.expected.front();
  const JournalRow got = row_of(event);
  const char* differs = want.type != got.type         ? "type"
                        : want.ts_ns != got.ts_ns     ? "ts_ns"
                        : want.symbol != got.symbol   ? "symbol"
                        : want.payload != got.payload ? "payload"
                                                      : nullptr;
  if (differs) {
    const Seq seq = want.seq;
    d.expected.clear();
    throw StoreError(fmt::format(
        "{}: seq {}: the journal holds a {} where going on with this input gives a {} (the {} "
        "differs): the journal does not match the input",
        d.path, seq, want.type, got.type, differs));
  }
  event.seq = want.seq;
  event.recorded_ns = want.recorded_ns;
  d.expected.pop_front();
  return event.seq;
}

void SqliteJournal::catch_up_from(Seq first) {
  Impl& d = *impl_;
  d.require_write();
  std::deque<JournalRow> rows;
  scan_rows(ScanRange(first, d.last_seq), [&](const JournalRow& row) {
    rows.push_back(row);
    return true;
  });
  d.expected = std::move(rows);
}

void SqliteJournal::fail_batch(const char* doing, const std::exception& e) {
  Impl& d = *impl_;
  const std::string what = what_of(d.db.getHandle(), e);  // before the rollback touches the file
  try {
    rollback();
  } catch (...) {
    // The connection rolls back when it closes anyway.
  }
  rethrow(d.path, doing, what);
}

void SqliteJournal::close_batch() {
  Impl& d = *impl_;
  if (!d.batch_open) return;
  d.check_writer();
  detail::QueuedItem& end = d.writer->slot();
  end.kind = detail::QueuedItem::Kind::kCommit;
  end.seq = d.last_seq;
  end.hash = d.head.value_or(kGenesisHash);
  d.writer->push(true);
  d.batch_open = false;
}

void SqliteJournal::commit() {
  Impl& d = *impl_;
  if (!d.writer) return;
  close_batch();
  d.quiesce();
  d.check_writer();
}

void SqliteJournal::rollback() {
  Impl& d = *impl_;
  d.expected.clear();
  if (!d.writer) return;
  if (d.batch_open) {
    detail::QueuedItem& end = d.writer->slot();
    end.kind = detail::QueuedItem::Kind::kRollback;
    d.writer->push(true);
    d.batch_open = false;
  }
  const auto failure = d.writer->take_failure();  // quiesces
  d.back_to_committed();
  if (failure && failure->doing == "cannot roll back")
    rethrow(d.path, "cannot roll back", failure->what);
}

Seq SqliteJournal::last_seq() const {
  const Impl& d = *impl_;
  return d.expected.empty() ? d.last_seq : d.expected.front().seq - 1;
}

Seq SqliteJournal::last_seq_at_or_before(TimestampNs ts) const {
  Impl& d = *impl_;
  return d.reading("cannot read the journal", [&] {
    // The last seq at or before `ts` within seqs from..to.
    SQLite::Statement within(
        d.db,
        "SELECT coalesce(max(seq), 0) FROM events WHERE seq BETWEEN ? AND ? AND ts_ns <= ? AND "
        "type <> ?");
    const auto last_within = [&](Seq from, Seq to) {
      within.reset();
      within.bind(1, static_cast<std::int64_t>(from));
      within.bind(2, static_cast<std::int64_t>(to));
      within.bind(3, static_cast<std::int64_t>(ts));
      within.bindNoCopy(4, to_string(EventType::kAnnotation).data());
      within.executeStep();
      return Seq{within.getColumn(0).getInt64()};
    };
    // The rows no batch indexes yet, then the batches that start early
    // enough, latest first: the first that has such an event holds the last.
    const Seq end = d.indexed_end();
    if (const Seq found = last_within(end + 1, INT64_MAX)) return found;
    SQLite::Statement spans(d.db,
                            "SELECT first_seq, last_seq FROM time_index WHERE min_ts <= ? "
                            "ORDER BY first_seq DESC");
    spans.bind(1, static_cast<std::int64_t>(ts));
    while (spans.executeStep())
      if (const Seq found =
              last_within(spans.getColumn(0).getInt64(), spans.getColumn(1).getInt64()))
        return found;
    return Seq{0};
  });
}

void SqliteJournal::scan(const ScanRange& range,
                         const std::function<bool(const Event&)>& visit) const {
  Impl& d = *impl_;
  return d.reading("cannot read the journal", [&] {
    // A cursor over the rows: memory stays constant whatever the journal's size.
    const auto q = d.prepare_scan("seq, ts_ns, type, symbol, payload, recorded_ns", range);
    const Impl::Scanning scanning(d);
    Event e;
    while (d.next_row(q.get())) {
      d.read_row(q.get(), e);
      if (!visit(e)) break;
    }
  });
}

std::int64_t SqliteJournal::count(const ScanRange& range) const {
  Impl& d = *impl_;
  return d.reading("cannot read the journal", [&] {
    SQLite::Statement q = d.select("count(*)", range);
    q.executeStep();
    return q.getColumn(0).getInt64();
  });
}

Seq SqliteJournal::max_seq(const ScanRange& range) const {
  Impl& d = *impl_;
  return d.reading("cannot read the journal", [&] {
    SQLite::Statement q = d.select("coalesce(max(seq), 0)", range);
    q.executeStep();
    return q.getColumn(0).getInt64();
  });
}

std::optional<Snapshot> SqliteJournal::snapshot_at_or_before(Seq seq) const {
  Impl& d = *impl_;
  return d.reading("cannot read the snapshots", [&]() -> std::optional<Snapshot> {
    SQLite::Statement q(d.db,
                        "SELECT seq, run_seq, ts_ns, format, state FROM snapshots WHERE seq <= ? "
                        "ORDER BY seq DESC LIMIT 1");
    q.bind(1, static_cast<std::int64_t>(seq));
    if (!q.executeStep()) return std::nullopt;
    return Snapshot{q.getColumn(0).getInt64(), q.getColumn(1).getInt64(), q.getColumn(2).getInt64(),
                    q.getColumn(3).getInt(), q.getColumn(4).getString()};
  });
}

std::vector<SqliteJournal::TimeSpan> SqliteJournal::time_index() const {
  Impl& d = *impl_;
  return d.reading("cannot read the time index", [&] {
    std::vector<TimeSpan> spans;
    SQLite::Statement q(d.db,
                        "SELECT first_seq, last_seq, min_ts, max_ts FROM time_index ORDER BY "
                        "first_seq");
    while (q.executeStep())
      spans.push_back({q.getColumn(0).getInt64(), q.getColumn(1).getInt64(),
                       q.getColumn(2).getInt64(), q.getColumn(3).getInt64()});
    return spans;
  });
}

std::vector<Seq> SqliteJournal::snapshot_seqs() const {
  Impl& d = *impl_;
  return d.reading("cannot read the snapshots", [&] {
    std::vector<Seq> seqs;
    SQLite::Statement q(d.db, "SELECT seq FROM snapshots ORDER BY seq");
    while (q.executeStep()) seqs.push_back(q.getColumn(0).getInt64());
    return seqs;
  });
}

void SqliteJournal::put_snapshot(const Snapshot& s) {
  Impl& d = *impl_;
  d.require_write();
  const auto connection = d.use_connection();
  try {
    d.begin_direct();
    SQLite::Statement q(d.db,
                        "INSERT OR REPLACE INTO snapshots(seq, run_seq, ts_ns, format, state, "
                        "created_ns) VALUES(?,?,?,?,?,?)");
    q.bind(1, static_cast<std::int64_t>(s.seq));
    q.bind(2, static_cast<std::int64_t>(s.run_seq));
    q.bind(3, static_cast<std::int64_t>(s.ts_ns));
    q.bind(4, s.format);
    q.bindNoCopy(5, s.state);
    q.bind(6, static_cast<std::int64_t>(d.clock()));
    q.exec();
  } catch (const std::exception& e) {
    fail_batch("cannot write a snapshot", e);
  }
}

void SqliteJournal::clear_snapshots() {
  Impl& d = *impl_;
  d.require_write();
  const auto connection = d.use_connection();
  try {
    d.begin_direct();
    d.db.exec("DELETE FROM snapshots");
  } catch (const std::exception& e) {
    fail_batch("cannot remove the snapshots", e);
  }
}

void SqliteJournal::record_resumption(Seq run_seq, std::int64_t skipped_rows,
                                      const std::string& version) {
  Impl& d = *impl_;
  d.require_write();
  const auto connection = d.use_connection();
  try {
    d.begin_direct();
    SQLite::Statement q(d.db,
                        "INSERT INTO run_resumptions(seq, run_seq, skipped_rows, version, "
                        "recorded_ns) VALUES(?,?,?,?,?)");
    q.bind(1, static_cast<std::int64_t>(d.last_seq + 1));
    q.bind(2, static_cast<std::int64_t>(run_seq));
    q.bind(3, static_cast<std::int64_t>(skipped_rows));
    q.bind(4, version);
    q.bind(5, static_cast<std::int64_t>(d.clock()));
    q.exec();
  } catch (const std::exception& e) {
    fail_batch("cannot record the resumption", e);
  }
}

std::vector<Seq> SqliteJournal::resumptions(Seq run_seq) const {
  Impl& d = *impl_;
  return d.reading("cannot read the journal", [&] {
    std::vector<Seq> seqs;
    SQLite::Statement q(d.db, "SELECT seq FROM run_resumptions WHERE run_seq = ? ORDER BY seq");
    q.bind(1, static_cast<std::int64_t>(run_seq));
    while (q.executeStep()) seqs.push_back(q.getColumn(0).getInt64());
    return seqs;
  });
}

void SqliteJournal::scan_rows(const ScanRange& range,
                              const std::function<bool(const JournalRow&)>& visit) const {
  Impl& d = *impl_;
  return d.reading("cannot read the journal", [&] {
    const auto q = d.prepare_scan("seq, ts_ns, type, symbol, payload, recorded_ns, hash", range);
    JournalRow row;
    const Impl::Scanning scanning(d);
    while (d.next_row(q.get())) {
      d.read_raw_row(q.get(), row);
      if (!visit(row)) break;
    }
  });
}

ChainHead SqliteJournal::head() const {
  const Impl& d = *impl_;
  if (!d.head)
    throw StoreError(fmt::format("{}: event {} has no hash; run `blotter verify {}`", d.path,
                                 d.last_seq, d.path));
  return {d.last_seq, *d.head};
}

const std::string& SqliteJournal::path() const { return impl_->path; }
const std::string& SqliteJournal::location() const { return impl_->path; }
bool SqliteJournal::created() const { return impl_->created; }
bool SqliteJournal::read_as_is() const { return impl_->immutable; }
int SqliteJournal::schema_version() const { return impl_->version; }

}  // namespace blotter
