// The SQL migrations compiled into the library (generated from migrations/sqlite/).
#pragma once

#include <string_view>
#include <vector>

struct sqlite3;

namespace blotter::detail {

struct Migration {
  int version;       // the file's number: 1 for 0001_events.sql
  const char* name;  // the file name without .sql
  const char* sql;

  // Whether the migration changes only views (its first line is
  // "-- views only"): DROP VIEW and CREATE VIEW statements, nothing else.
  bool views_only() const { return std::string_view(sql).starts_with("-- views only\n"); }
};

// Every migration, in version order.
const std::vector<Migration>& migrations();

// Creates the views of `pending` (views-only migrations a journal lacks, in
// order) as TEMP views on the read-only connection `db`, where they hide
// the journal's own views of those names (a view several of them create is
// the last one's); the file is not changed. Throws
// SQLite::Exception.
void create_temp_views(sqlite3* db, const std::vector<const Migration*>& pending);

}  // namespace blotter::detail
