#include <SQLiteCpp/SQLiteCpp.h>
#include <fmt/format.h>
#include <sqlite3.h>

#include <algorithm>
#include <cassert>
#include <filesystem>
#include <set>

#include "blotter/error.h"
#include "blotter/sqlite_journal.h"
#include "migrations.h"

namespace blotter {
namespace {

constexpr int kApplicationId = 0x424C4F54;  // 'BLOT'
constexpr int kBusyTimeoutMs = 5000;

int latest_version() {
  const auto& all = detail::migrations();
  return all.empty() ? 0 : all.back().version;
}

[[noreturn]] void rethrow(const std::string& path, const char* doing, const std::exception& e) {
  throw StoreError(fmt::format("{}: {}: {}", path, doing, e.what()));
}

std::string value_text(sqlite3_value* v) {
  // sqlite3_value_text() first: it may convert, and bytes() then measures the UTF-8 text.
  const unsigned char* text = sqlite3_value_text(v);
  return text ? std::string(reinterpret_cast<const char*>(text), sqlite3_value_bytes(v)) : "";
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

// The query of a scan over `range`, in seq order; bind_range() binds its parameters.
std::string range_sql(const char* columns, const ScanRange& range) {
  // Time bounds use the events_by_time index only when they narrow the scan;
  // seq order comes from the primary key.
  std::string sql = fmt::format(
      "SELECT {} FROM events WHERE seq BETWEEN ?1 AND ?2 AND ts_ns BETWEEN ?3 AND ?4", columns);
  if (!range.symbol.empty()) sql += " AND symbol = ?5";
  if (!range.types.empty()) {
    sql += " AND type IN (";
    for (std::size_t i = 0; i < range.types.size(); ++i)
      sql += fmt::format("{}'{}'", i ? "," : "", to_string(range.types[i]));
    sql += ")";
  }
  return sql + " ORDER BY seq";
}

void bind_range(SQLite::Statement& q, const ScanRange& range) {
  q.bind(1, static_cast<std::int64_t>(range.from_seq));
  q.bind(2, static_cast<std::int64_t>(range.to_seq));
  q.bind(3, static_cast<std::int64_t>(range.from_ts));
  q.bind(4, static_cast<std::int64_t>(range.to_ts));
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

struct SqliteJournal::Impl {
  std::string path;
  Mode mode;
  WallClock clock;
  SQLite::Database db;
  std::unique_ptr<SQLite::Statement> insert;
  Seq last_seq = 0;
  Seq committed_seq = 0;
  // The hash of event last_seq (committed_seq); nullopt if that row has none,
  // which only tampering with the table can cause: append() then refuses.
  std::optional<ChainHash> head = kGenesisHash;
  std::optional<ChainHash> committed_head = kGenesisHash;
  bool in_batch = false;
  int version = 0;

  Impl(const std::string& p, Mode m, WallClock c)
      : path(p),
        mode(m),
        clock(std::move(c)),
        db(p,
           m == Mode::kWrite ? SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE : SQLite::OPEN_READONLY,
           kBusyTimeoutMs) {}

  int pragma_int(const char* name) {
    return db.execAndGet(fmt::format("PRAGMA {}", name)).getInt();
  }

  // Refuses files that are not blotter journals, before anything is written.
  void check_identity() {
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
    if (app_id == 0 && tables == 0 && version == 0) return;  // a new, empty file
    if (app_id != kApplicationId)
      throw StoreError(fmt::format("{}: a SQLite database, but not a blotter journal", path));
    if (version > latest_version())
      throw StoreError(
          fmt::format("{}: written by a newer blotter (journal schema version {}, this blotter "
                      "knows up to {}); "
                      "upgrade blotter to open it",
                      path, version, latest_version()));
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

  void migrate() {
    for (const detail::Migration* m : pending_migrations()) {
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
    committed_seq = last_seq;
    committed_head = head;
  }

  JournalRow read_raw_row(SQLite::Statement& q) const {
    JournalRow row;
    row.seq = q.getColumn(0).getInt64();
    row.ts_ns = q.getColumn(1).getInt64();
    row.type = q.getColumn(2).getString();
    if (!q.getColumn(3).isNull()) row.symbol = q.getColumn(3).getString();
    row.payload = q.getColumn(4).getString();
    row.recorded_ns = q.getColumn(5).getInt64();
    row.hash = hash_of(q.getColumn(6));
    return row;
  }

  Event read_row(SQLite::Statement& q) const {
    Event e;
    e.seq = q.getColumn(0).getInt64();
    e.ts_ns = q.getColumn(1).getInt64();
    const std::string type_name = q.getColumn(2).getString();
    const auto type = parse_event_type(type_name);
    if (!type)
      throw Error(fmt::format("{}: seq {}: unknown event type '{}'", path, e.seq, type_name));
    e.symbol = q.getColumn(3).getString();
    try {
      e.payload = decode_payload(*type, q.getColumn(4).getString());
    } catch (const Error& err) {
      throw Error(fmt::format("{}: seq {}: {}", path, e.seq, err.what()));
    }
    e.recorded_ns = q.getColumn(5).getInt64();
    return e;
  }
};

SqliteJournal::SqliteJournal(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

SqliteJournal::~SqliteJournal() {
  if (impl_ && impl_->in_batch) {
    try {
      rollback();
    } catch (...) {
      // Closing the connection rolls back anyway.
    }
  }
}

std::unique_ptr<SqliteJournal> SqliteJournal::open(const std::string& path, Mode mode,
                                                   WallClock clock) {
  if (mode == Mode::kRead && !std::filesystem::exists(path))
    throw StoreError(fmt::format("{}: no such journal", path));
  std::unique_ptr<Impl> impl;
  try {
    impl = std::make_unique<Impl>(path, mode, std::move(clock));
    impl->check_identity();
    if (mode == Mode::kWrite) {
      // WAL lets readers see committed batches while the one writer appends.
      const std::string journal_mode = impl->db.execAndGet("PRAGMA journal_mode = WAL").getString();
      if (journal_mode != "wal")
        throw StoreError(fmt::format("{}: cannot switch the journal to WAL mode", path));
      impl->db.exec("PRAGMA synchronous = NORMAL");
      impl->register_functions();
      impl->migrate();
    } else if (impl->version < latest_version()) {
      throw StoreError(fmt::format(
          "{}: journal schema version {} is older than this blotter's {}; run `blotter migrate {}` "
          "to upgrade it",
          path, impl->version, latest_version(), path));
    } else if (const auto pending = impl->pending_migrations(); !pending.empty()) {
      throw StoreError(
          fmt::format("{}: journal schema version {} lacks migration {}; run `blotter migrate {}` "
                      "to apply it",
                      path, impl->version, pending.front()->name, path));
    }
    impl->read_head();
    if (mode == Mode::kWrite) {
      impl->insert = std::make_unique<SQLite::Statement>(
          impl->db,
          "INSERT INTO events(seq, ts_ns, type, symbol, payload, recorded_ns, hash) "
          "VALUES(?,?,?,?,?,?,?)");
    }
  } catch (const StoreError&) {
    throw;
  } catch (const std::exception& e) {
    rethrow(path, "cannot open the journal", e);
  }
  return std::unique_ptr<SqliteJournal>(new SqliteJournal(std::move(impl)));
}

Seq SqliteJournal::append(Event& event) {
  Impl& d = *impl_;
  if (d.mode != Mode::kWrite) throw StoreError(fmt::format("{}: opened read-only", d.path));
  if (!d.head)
    throw StoreError(fmt::format(
        "{}: cannot append: event {} has no hash, so the chain cannot continue; run `blotter "
        "verify {}`",
        d.path, d.last_seq, d.path));
  try {
    if (!d.in_batch) {
      d.db.exec("BEGIN IMMEDIATE");
      d.in_batch = true;
    }
    JournalRow row;
    row.seq = d.last_seq + 1;
    row.ts_ns = event.ts_ns;
    row.type = to_string(event.type());
    if (!event.symbol.empty()) row.symbol = event.symbol;
    row.payload = encode_payload(event);
    row.recorded_ns = d.clock();
    const ChainHash hash = chain_hash(*d.head, row);
    SQLite::Statement& q = *d.insert;
    q.reset();
    q.bind(1, static_cast<std::int64_t>(row.seq));
    q.bind(2, static_cast<std::int64_t>(row.ts_ns));
    q.bindNoCopy(3, row.type);
    if (row.symbol) {
      q.bindNoCopy(4, *row.symbol);
    } else {
      q.bind(4);
    }
    q.bindNoCopy(5, row.payload);
    q.bind(6, static_cast<std::int64_t>(row.recorded_ns));
    q.bindNoCopy(7, hash.data(), static_cast<int>(hash.size()));
    q.exec();
    d.last_seq = row.seq;
    d.head = hash;
    event.seq = row.seq;
    event.recorded_ns = row.recorded_ns;
    return row.seq;
  } catch (const std::exception& e) {
    try {
      rollback();
    } catch (...) {
    }
    rethrow(d.path, "cannot append to the journal", e);
  }
}

void SqliteJournal::commit() {
  Impl& d = *impl_;
  if (!d.in_batch) return;
  try {
    d.db.exec("COMMIT");
    d.in_batch = false;
    d.committed_seq = d.last_seq;
    d.committed_head = d.head;
  } catch (const std::exception& e) {
    try {
      rollback();
    } catch (...) {
    }
    rethrow(d.path, "cannot commit to the journal", e);
  }
}

void SqliteJournal::rollback() {
  Impl& d = *impl_;
  d.last_seq = d.committed_seq;
  d.head = d.committed_head;
  if (!d.in_batch) return;
  d.in_batch = false;
  try {
    if (d.insert) d.insert->reset();
    if (!sqlite3_get_autocommit(d.db.getHandle())) d.db.exec("ROLLBACK");
  } catch (const std::exception& e) {
    rethrow(d.path, "cannot roll back", e);
  }
}

Seq SqliteJournal::last_seq() const { return impl_->last_seq; }

Seq SqliteJournal::last_seq_at_or_before(TimestampNs ts) const {
  Impl& d = *impl_;
  try {
    SQLite::Statement q(d.db,
                        "SELECT coalesce(max(seq), 0) FROM events WHERE ts_ns <= ? AND type <> ?");
    q.bind(1, static_cast<std::int64_t>(ts));
    q.bindNoCopy(2, to_string(EventType::kAnnotation).data());
    q.executeStep();
    return q.getColumn(0).getInt64();
  } catch (const SQLite::Exception& e) {
    rethrow(d.path, "cannot read the journal", e);
  }
}

void SqliteJournal::scan(const ScanRange& range,
                         const std::function<bool(const Event&)>& visit) const {
  Impl& d = *impl_;
  try {
    // A cursor over the rows, in seq order: memory stays constant whatever
    // the journal's size.
    SQLite::Statement q(d.db, range_sql("seq, ts_ns, type, symbol, payload, recorded_ns", range));
    bind_range(q, range);
    while (q.executeStep()) {
      if (!visit(d.read_row(q))) break;
    }
  } catch (const Error&) {
    throw;
  } catch (const SQLite::Exception& e) {
    rethrow(d.path, "cannot read the journal", e);
  }
}

void SqliteJournal::scan_rows(const ScanRange& range,
                              const std::function<bool(const JournalRow&)>& visit) const {
  Impl& d = *impl_;
  try {
    SQLite::Statement q(d.db,
                        range_sql("seq, ts_ns, type, symbol, payload, recorded_ns, hash", range));
    bind_range(q, range);
    while (q.executeStep()) {
      if (!visit(d.read_raw_row(q))) break;
    }
  } catch (const Error&) {
    throw;
  } catch (const SQLite::Exception& e) {
    rethrow(d.path, "cannot read the journal", e);
  }
}

ChainHead SqliteJournal::head() const {
  const Impl& d = *impl_;
  if (!d.head)
    throw StoreError(fmt::format("{}: event {} has no hash; run `blotter verify {}`", d.path,
                                 d.last_seq, d.path));
  return {d.last_seq, *d.head};
}

const std::string& SqliteJournal::path() const { return impl_->path; }
int SqliteJournal::schema_version() const { return impl_->version; }

}  // namespace blotter
