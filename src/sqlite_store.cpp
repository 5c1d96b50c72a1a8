#include <SQLiteCpp/SQLiteCpp.h>
#include <fmt/format.h>
#include <sqlite3.h>

#include <filesystem>

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

  void migrate() {
    for (const auto& m : detail::migrations()) {
      if (m.version <= version) continue;
      SQLite::Transaction txn(db, SQLite::TransactionBehavior::IMMEDIATE);
      db.exec(m.sql);
      SQLite::Statement record(
          db, "INSERT INTO schema_migrations(version, name, applied_ns) VALUES(?,?,?)");
      record.bind(1, m.version);
      record.bind(2, m.name);
      record.bind(3, static_cast<std::int64_t>(clock()));
      record.exec();
      db.exec(fmt::format("PRAGMA user_version = {}", m.version));
      txn.commit();
      version = m.version;
    }
  }

  void require_write() const {
    if (mode != Mode::kWrite) throw StoreError(fmt::format("{}: opened read-only", path));
  }

  void begin_batch() {
    if (in_batch) return;
    db.exec("BEGIN IMMEDIATE");
    in_batch = true;
  }

  // The rows of `range`, selecting `columns`, in seq order.
  SQLite::Statement select(const std::string& columns, const ScanRange& range) const {
    // Time bounds use the events_by_time index only when they narrow the
    // scan; seq order comes from the primary key.
    std::string sql = fmt::format(
        "SELECT {} FROM events WHERE seq BETWEEN ?1 AND ?2 AND ts_ns BETWEEN ?3 AND ?4", columns);
    if (!range.symbol.empty()) sql += " AND symbol = ?5";
    if (!range.types.empty()) {
      sql += " AND type IN (";
      for (std::size_t i = 0; i < range.types.size(); ++i)
        sql += fmt::format("{}'{}'", i ? "," : "", to_string(range.types[i]));
      sql += ")";
    }
    sql += " ORDER BY seq";
    SQLite::Statement q(db, sql);
    q.bind(1, static_cast<std::int64_t>(range.from_seq));
    q.bind(2, static_cast<std::int64_t>(range.to_seq));
    q.bind(3, static_cast<std::int64_t>(range.from_ts));
    q.bind(4, static_cast<std::int64_t>(range.to_ts));
    if (!range.symbol.empty()) q.bind(5, range.symbol);
    return q;
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
    const bool empty = impl->check_identity();
    if (mode == Mode::kRead && empty)
      throw StoreError(fmt::format(
          "{}: empty, not a journal yet (`blotter run --journal {}` starts one)", path, path));
    if (mode == Mode::kWrite) {
      // WAL lets readers see committed batches while the one writer appends.
      const std::string journal_mode = impl->db.execAndGet("PRAGMA journal_mode = WAL").getString();
      if (journal_mode != "wal")
        throw StoreError(fmt::format("{}: cannot switch the journal to WAL mode", path));
      impl->db.exec("PRAGMA synchronous = NORMAL");
      impl->migrate();
    } else if (impl->version < latest_version()) {
      throw StoreError(fmt::format(
          "{}: journal schema version {} is older than this blotter's {}; run `blotter migrate {}` "
          "to upgrade it",
          path, impl->version, latest_version(), path));
    }
    impl->last_seq = impl->db.execAndGet("SELECT coalesce(max(seq), 0) FROM events").getInt64();
    impl->committed_seq = impl->last_seq;
    if (mode == Mode::kWrite) {
      impl->insert = std::make_unique<SQLite::Statement>(
          impl->db,
          "INSERT INTO events(seq, ts_ns, type, symbol, payload, recorded_ns) VALUES(?,?,?,?,?,?)");
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
  d.require_write();
  try {
    d.begin_batch();
    const Seq seq = d.last_seq + 1;
    const std::int64_t recorded = d.clock();
    const std::string payload = encode_payload(event);
    SQLite::Statement& q = *d.insert;
    q.reset();
    q.bind(1, static_cast<std::int64_t>(seq));
    q.bind(2, static_cast<std::int64_t>(event.ts_ns));
    // The type names are string literals, so data() is NUL-terminated.
    q.bindNoCopy(3, to_string(event.type()).data());
    if (event.symbol.empty()) {
      q.bind(4);
    } else {
      q.bindNoCopy(4, event.symbol);
    }
    q.bindNoCopy(5, payload);
    q.bind(6, static_cast<std::int64_t>(recorded));
    q.exec();
    d.last_seq = seq;
    event.seq = seq;
    event.recorded_ns = recorded;
    return seq;
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
    SQLite::Statement q(d.db, "SELECT coalesce(max(seq), 0) FROM events WHERE ts_ns <= ?");
    q.bind(1, static_cast<std::int64_t>(ts));
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
    // A cursor over the rows: memory stays constant whatever the journal's size.
    SQLite::Statement q = d.select("seq, ts_ns, type, symbol, payload, recorded_ns", range);
    while (q.executeStep()) {
      if (!visit(d.read_row(q))) break;
    }
  } catch (const Error&) {
    throw;
  } catch (const SQLite::Exception& e) {
    rethrow(d.path, "cannot read the journal", e);
  }
}

std::int64_t SqliteJournal::count(const ScanRange& range) const {
  Impl& d = *impl_;
  try {
    SQLite::Statement q = d.select("count(*)", range);
    q.executeStep();
    return q.getColumn(0).getInt64();
  } catch (const SQLite::Exception& e) {
    rethrow(d.path, "cannot read the journal", e);
  }
}

std::optional<Snapshot> SqliteJournal::snapshot_at_or_before(Seq seq) const {
  Impl& d = *impl_;
  try {
    SQLite::Statement q(d.db,
                        "SELECT seq, run_seq, ts_ns, format, state FROM snapshots WHERE seq <= ? "
                        "ORDER BY seq DESC LIMIT 1");
    q.bind(1, static_cast<std::int64_t>(seq));
    if (!q.executeStep()) return std::nullopt;
    return Snapshot{q.getColumn(0).getInt64(), q.getColumn(1).getInt64(), q.getColumn(2).getInt64(),
                    q.getColumn(3).getInt(), q.getColumn(4).getString()};
  } catch (const SQLite::Exception& e) {
    rethrow(d.path, "cannot read the snapshots", e);
  }
}

std::vector<Seq> SqliteJournal::snapshot_seqs() const {
  Impl& d = *impl_;
  try {
    std::vector<Seq> seqs;
    SQLite::Statement q(d.db, "SELECT seq FROM snapshots ORDER BY seq");
    while (q.executeStep()) seqs.push_back(q.getColumn(0).getInt64());
    return seqs;
  } catch (const SQLite::Exception& e) {
    rethrow(d.path, "cannot read the snapshots", e);
  }
}

void SqliteJournal::put_snapshot(const Snapshot& s) {
  Impl& d = *impl_;
  d.require_write();
  try {
    d.begin_batch();
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
    try {
      rollback();
    } catch (...) {
    }
    rethrow(d.path, "cannot write a snapshot", e);
  }
}

void SqliteJournal::clear_snapshots() {
  Impl& d = *impl_;
  d.require_write();
  try {
    d.begin_batch();
    d.db.exec("DELETE FROM snapshots");
  } catch (const std::exception& e) {
    try {
      rollback();
    } catch (...) {
    }
    rethrow(d.path, "cannot remove the snapshots", e);
  }
}

void SqliteJournal::record_resumption(Seq run_seq, std::int64_t skipped_rows,
                                      const std::string& version) {
  Impl& d = *impl_;
  d.require_write();
  try {
    d.begin_batch();
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
    try {
      rollback();
    } catch (...) {
    }
    rethrow(d.path, "cannot record the resumption", e);
  }
}

std::vector<Seq> SqliteJournal::resumptions(Seq run_seq) const {
  Impl& d = *impl_;
  try {
    std::vector<Seq> seqs;
    SQLite::Statement q(d.db, "SELECT seq FROM run_resumptions WHERE run_seq = ? ORDER BY seq");
    q.bind(1, static_cast<std::int64_t>(run_seq));
    while (q.executeStep()) seqs.push_back(q.getColumn(0).getInt64());
    return seqs;
  } catch (const SQLite::Exception& e) {
    rethrow(d.path, "cannot read the journal", e);
  }
}

const std::string& SqliteJournal::path() const { return impl_->path; }
int SqliteJournal::schema_version() const { return impl_->version; }

}  // namespace blotter
