// The SQL migrations compiled into the library (generated from migrations/sqlite/).
#pragma once

#include <vector>

namespace blotter::detail {

struct Migration {
  int version;       // the file's number: 1 for 0001_events.sql
  const char* name;  // the file name without .sql
  const char* sql;
};

// Every migration, in version order.
const std::vector<Migration>& migrations();

}  // namespace blotter::detail
