// A series' reference figures (computed independently of blotter, see
// ../shared/data/SOURCES.md), checked against a journaled run of it.
#pragma once

#include <doctest/doctest.h>

#include <string>

#include "cli_helpers.h"

namespace blotter::testing {

struct Reference {
  const char* symbol;
  std::string csv;
  std::int64_t bars, longs, exits, fills;
  const char* realized;
};

inline void check_reference(const Reference& ref) {
  TempDir dir;
  const std::string db = dir.file("j.db");
  const CliResult r = run_cli("run --bars " + quote(ref.csv) + " --symbol " + ref.symbol +
                              " --journal " + quote(db) + " --quantity 1");
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  CHECK(count(db, "SELECT count(*) FROM bars") == ref.bars);
  CHECK(count(db, "SELECT count(*) FROM signals WHERE direction = 'long'") == ref.longs);
  CHECK(count(db, "SELECT count(*) FROM signals WHERE direction = 'exit'") == ref.exits);
  CHECK(count(db, "SELECT count(*) FROM fills") == ref.fills);
  CHECK(count(db,
              "SELECT coalesce(sum(CASE side WHEN 'buy' THEN quantity ELSE -quantity END), 0) "
              "FROM fills") == 0);
  CHECK(r.out.find(std::string("realized PnL ") + ref.realized + " ") != std::string::npos);
  // Independently of blotter's arithmetic: sell proceeds minus buy costs, in
  // SQL, with the exact decimal text scaled to integers of 1e-4.
  const std::int64_t realized_e4 = count(
      db,
      "SELECT sum(CASE side WHEN 'sell' THEN 1 ELSE -1 END * CAST(round(price * 10000) AS INTEGER)"
      " * quantity) FROM fills");
  CHECK(realized_e4 == static_cast<std::int64_t>(std::stod(ref.realized) * 10000 + 0.5));
}

}  // namespace blotter::testing
