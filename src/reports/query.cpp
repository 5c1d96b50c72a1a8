#include "blotter/query.h"

#include <SQLiteCpp/SQLiteCpp.h>
#include <fmt/format.h>
#include <sqlite3.h>

#include <chrono>
#include <cmath>
#include <nlohmann/json.hpp>
#include <set>
#include <vector>

#include "blotter/error.h"
#include "blotter/sqlite_journal.h"
#include "blotter/terminal_text.h"
#include "core/csv_field.h"
#include "sqlite/migrations.h"
#include "sqlite/sqlite_uri.h"

namespace blotter {
namespace {

// PRAGMAs that only read. Any other PRAGMA, and any PRAGMA given a value, is refused.
const std::set<std::string>& readable_pragmas() {
  static const std::set<std::string> kNames = {
      "application_id",   "collation_list",  "compile_options", "database_list",  "encoding",
      "foreign_key_list", "freelist_count",  "function_list",   "index_info",     "index_list",
      "index_xinfo",      "integrity_check", "journal_mode",    "module_list",    "page_count",
      "page_size",        "pragma_list",     "quick_check",     "schema_version", "table_info",
      "table_list",       "table_xinfo",     "user_version"};
  return kNames;
}

struct Guard {
  std::string refusal;  // set by the authorizer when it denies something
};

int authorize(void* user, int action, const char* arg1, const char* arg2, const char*,
              const char*) {
  auto* guard = static_cast<Guard*>(user);
  auto deny = [&](std::string why) {
    if (guard->refusal.empty()) guard->refusal = std::move(why);
    return SQLITE_DENY;
  };
  switch (action) {
    case SQLITE_ATTACH:
    case SQLITE_DETACH:
      return deny("ATTACH and DETACH are refused: blotter query reads only the journal");
    case SQLITE_PRAGMA: {
      const std::string name = arg1 ? arg1 : "";
      if (arg2 != nullptr && name != "table_info" && name != "table_xinfo" &&
          name != "index_info" && name != "index_list" && name != "index_xinfo" &&
          name != "foreign_key_list")
        return deny(
            fmt::format("PRAGMA {} with a value is refused: blotter query changes nothing", name));
      if (!readable_pragmas().count(name))
        return deny(
            fmt::format("PRAGMA {} is refused: blotter query only runs PRAGMAs that read", name));
      return SQLITE_OK;
    }
    case SQLITE_FUNCTION:
      if (arg2 && std::string_view(arg2) == "load_extension")
        return deny("load_extension() is refused: blotter query loads no extensions");
      return SQLITE_OK;
    default:
      return SQLITE_OK;
  }
}

std::string cell_text(sqlite3_stmt* stmt, int i) {
  const unsigned char* t = sqlite3_column_text(stmt, i);
  return t ? std::string(reinterpret_cast<const char*>(t),
                         static_cast<std::size_t>(sqlite3_column_bytes(stmt, i)))
           : "";
}

std::string blob_hex(sqlite3_stmt* stmt, int i) {
  const auto* bytes = static_cast<const unsigned char*>(sqlite3_column_blob(stmt, i));
  const int n = sqlite3_column_bytes(stmt, i);
  std::string out;
  out.reserve(2 * static_cast<std::size_t>(n));
  for (int k = 0; k < n; ++k) fmt::format_to(std::back_inserter(out), "{:02x}", bytes[k]);
  return out;
}

// The shortest text that reads back as the same double (SQLite's own text
// has 15 digits: 0.1 + 0.2 would read 0.3), with ".0" kept on whole numbers
// as SQLite writes them, so that a REAL still looks like one.
std::string real_text(double v) {
  if (std::isinf(v)) return v > 0 ? "Inf" : "-Inf";  // SQLite's spelling; it has no NaN
  std::string text = fmt::format("{}", v);
  if (text.find_first_of(".e") == std::string::npos) text += ".0";
  return text;
}

// A cell for CSV: text exactly as stored (RFC 4180 quoting only), numbers as
// real_text, BLOBs as hex digits, NULL empty.
std::string csv_cell(sqlite3_stmt* stmt, int i) {
  switch (sqlite3_column_type(stmt, i)) {
    case SQLITE_FLOAT:
      return real_text(sqlite3_column_double(stmt, i));
    case SQLITE_BLOB:
      return blob_hex(stmt, i);
    default:
      return detail::csv_field(cell_text(stmt, i));
  }
}

// A cell for the terminal: control characters and bytes that are not UTF-8
// escaped (\xNN), BLOBs as x'hex' (SQL's literal).
std::string table_cell(sqlite3_stmt* stmt, int i) {
  switch (sqlite3_column_type(stmt, i)) {
    case SQLITE_FLOAT:
      return real_text(sqlite3_column_double(stmt, i));
    case SQLITE_BLOB:
      return "x'" + blob_hex(stmt, i) + "'";
    default:
      return terminal_text(cell_text(stmt, i));
  }
}

// JSON (RFC 8259) text: control characters as \u00XX escapes, bytes that are
// not UTF-8 as U+FFFD.
std::string json_string(const std::string& text) {
  return nlohmann::json(text).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

// A cell as a JSON value: infinities (which JSON lacks) as null, BLOBs as a
// string of hex digits.
std::string json_cell(sqlite3_stmt* stmt, int i) {
  switch (sqlite3_column_type(stmt, i)) {
    case SQLITE_NULL:
      return "null";
    case SQLITE_INTEGER:
      return std::to_string(sqlite3_column_int64(stmt, i));
    case SQLITE_FLOAT: {
      const double v = sqlite3_column_double(stmt, i);
      return std::isfinite(v) ? real_text(v) : "null";
    }
    case SQLITE_BLOB:
      return '"' + blob_hex(stmt, i) + '"';
    default:
      return json_string(cell_text(stmt, i));
  }
}

// Writes one statement's rows; returns how many.
std::int64_t write_rows(sqlite3_stmt* stmt, QueryFormat format, std::ostream& out,
                        const std::function<int()>& step) {
  // SQLite numbers columns with int, the vectors below with size_t: a column
  // index i < columns converts back to int exactly.
  const auto columns = static_cast<std::size_t>(sqlite3_column_count(stmt));
  std::vector<std::string> names;
  for (std::size_t i = 0; i < columns; ++i)
    names.emplace_back(sqlite3_column_name(stmt, static_cast<int>(i)));
  std::int64_t rows = 0;

  if (format == QueryFormat::kCsv) {
    for (std::size_t i = 0; i < columns; ++i) out << (i ? "," : "") << detail::csv_field(names[i]);
    out << "\r\n";
    while (step() == SQLITE_ROW) {
      for (std::size_t i = 0; i < columns; ++i)
        out << (i ? "," : "") << csv_cell(stmt, static_cast<int>(i));
      out << "\r\n";
      ++rows;
    }
    return rows;
  }
  if (format == QueryFormat::kJson) {
    out << "[";
    while (step() == SQLITE_ROW) {
      out << (rows ? ",\n " : "\n ") << "{";
      for (std::size_t i = 0; i < columns; ++i)
        out << (i ? ", " : "") << json_string(names[i]) << ": "
            << json_cell(stmt, static_cast<int>(i));
      out << "}";
      ++rows;
    }
    out << (rows ? "\n]\n" : "]\n");
    return rows;
  }
  // Table: widths from the first rows, so memory stays bounded on big results.
  constexpr std::size_t kSampleRows = 256;
  std::vector<std::vector<std::string>> sample;
  std::vector<bool> numeric(columns, true);
  std::vector<std::string> header;
  std::vector<std::size_t> width(columns);
  for (std::size_t i = 0; i < columns; ++i) {
    header.push_back(terminal_text(names[i]));
    width[i] = display_width(header[i]);
  }
  int rc = SQLITE_DONE;
  while (sample.size() < kSampleRows && (rc = step()) == SQLITE_ROW) {
    auto& row = sample.emplace_back();
    for (std::size_t i = 0; i < columns; ++i) {
      row.push_back(table_cell(stmt, static_cast<int>(i)));
      const int type = sqlite3_column_type(stmt, static_cast<int>(i));
      if (type != SQLITE_INTEGER && type != SQLITE_FLOAT && type != SQLITE_NULL) numeric[i] = false;
      width[i] = std::max(width[i], display_width(row.back()));
    }
  }
  auto print = [&](const std::vector<std::string>& row) {
    for (std::size_t i = 0; i < columns; ++i) {
      if (i) out << "  ";
      if (numeric[i])
        out << padded(row[i], width[i], Align::kRight);
      else
        out << (i + 1 < columns ? padded(row[i], width[i]) : row[i]);
    }
    out << "\n";
  };
  print(header);
  std::vector<std::string> rule;
  for (std::size_t i = 0; i < columns; ++i) rule.emplace_back(width[i], '-');
  print(rule);
  for (const auto& row : sample) print(row);
  rows = static_cast<std::int64_t>(sample.size());
  if (rc == SQLITE_ROW) {
    std::vector<std::string> row(columns);
    while (step() == SQLITE_ROW) {
      for (std::size_t i = 0; i < columns; ++i) row[i] = table_cell(stmt, static_cast<int>(i));
      print(row);
      ++rows;
    }
  }
  return rows;
}

}  // namespace

std::int64_t run_query(const std::string& path, const std::string& sql, const QueryOptions& options,
                       std::ostream& out) {
  // Checks that the file is a journal this blotter can read; then a plain
  // read-only connection of our own, so the guards below apply to it alone.
  const bool as_is = SqliteJournal::open(path, SqliteJournal::Mode::kRead)->read_as_is();
  try {
    SQLite::Database db(as_is ? detail::immutable_uri(path) : path,
                        as_is ? SQLite::OPEN_READONLY | SQLite::OPEN_URI : SQLite::OPEN_READONLY,
                        5000);
    sqlite3* handle = db.getHandle();
    // A journal lacking only views-only migrations (one of the previous
    // release) is queried with today's views, made for this connection.
    std::vector<const detail::Migration*> pending;
    std::set<int> applied;
    if (db.tableExists("schema_migrations")) {
      SQLite::Statement q(db, "SELECT version FROM schema_migrations");
      while (q.executeStep()) applied.insert(q.getColumn(0).getInt());
    }
    for (const detail::Migration& m : detail::migrations())
      if (!applied.count(m.version) && m.views_only()) pending.push_back(&m);
    detail::create_temp_views(handle, pending);
    db.exec("PRAGMA query_only = 1");
    Guard guard;
    sqlite3_set_authorizer(handle, authorize, &guard);

    using Clock = std::chrono::steady_clock;
    Clock::time_point deadline = Clock::time_point::max();
    if (options.timeout_seconds > 0)
      deadline = Clock::now() + std::chrono::duration_cast<Clock::duration>(
                                    std::chrono::duration<double>(options.timeout_seconds));
    sqlite3_progress_handler(
        handle, 10000,
        [](void* d) -> int { return Clock::now() > *static_cast<Clock::time_point*>(d) ? 1 : 0; },
        &deadline);

    // Prepare and check every statement before running any, so a script
    // with one refused statement runs none of them. Nothing can change the
    // schema in between: every statement accepted here only reads.
    using Statement = std::unique_ptr<sqlite3_stmt, decltype(&sqlite3_finalize)>;
    std::vector<Statement> statements;
    const char* tail = sql.c_str();
    const char* end = sql.c_str() + sql.size();
    while (tail < end) {
      sqlite3_stmt* raw = nullptr;
      const int rc = sqlite3_prepare_v2(handle, tail, static_cast<int>(end - tail), &raw, &tail);
      Statement stmt(raw, sqlite3_finalize);
      if (rc != SQLITE_OK) {
        if (!guard.refusal.empty()) throw Error(guard.refusal);
        throw Error(fmt::format("SQL error: {}", sqlite3_errmsg(handle)));
      }
      if (!stmt) continue;  // whitespace or a comment
      if (!sqlite3_stmt_readonly(stmt.get()))
        throw Error(
            "blotter query is read-only: this statement would write, and the journal is "
            "append-only (blotter run appends events)");
      statements.push_back(std::move(stmt));
    }
    if (statements.empty()) throw Error("no SQL statement given");
    // One statement, one result: a second one would be a second table or
    // a second JSON array after the first.
    if (statements.size() > 1)
      throw Error(
          fmt::format("one SQL statement at a time: this SQL holds {} (run each as its own query)",
                      statements.size()));

    std::int64_t total = 0;
    for (const Statement& stmt : statements) {
      auto step = [&]() {
        const int s = sqlite3_step(stmt.get());
        if (s == SQLITE_ROW || s == SQLITE_DONE) return s;
        if (s == SQLITE_INTERRUPT)
          throw Error(fmt::format("query interrupted: it ran past its timeout of {} s",
                                  options.timeout_seconds));
        throw Error(fmt::format("SQL error: {}", sqlite3_errmsg(handle)));
      };
      if (sqlite3_column_count(stmt.get()) == 0) {
        while (step() == SQLITE_ROW) {
        }
        continue;
      }
      total += write_rows(stmt.get(), options.format, out, step);
    }
    return total;
  } catch (const Error&) {
    throw;
  } catch (const std::exception& e) {
    throw Error(fmt::format("{}: {}", path, e.what()));
  }
}

}  // namespace blotter
