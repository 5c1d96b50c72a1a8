// Breakout on a bus, and its signals on a CSV series checked against the
// reference files of tests/data/breakout (written by breakout_signals.py
// there, from the CSV alone, without blotter's code).
#pragma once

#include <doctest/doctest.h>
#include <fmt/format.h>

#include <algorithm>
#include <fstream>
#include <string>
#include <vector>

#include "blotter/breakout.h"
#include "blotter/market_data.h"
#include "blotter/store.h"
#include "test_support.h"

namespace blotter::testing {

// A Breakout on a bus over a MemoryStore, subscribed as the trading system
// subscribes a strategy; every SIGNAL is collected.
struct BreakoutRig {
  explicit BreakoutRig(BreakoutConfig config) : strategy(config) {
    bus.subscribe(EventType::kBar, "SignalGenerator", [this](const Event& e) {
      context.begin(e);
      strategy.on_bar(e, context);
    });
    bus.subscribe(EventType::kTick, "SignalGenerator", [this](const Event& e) {
      context.begin(e);
      strategy.on_tick(e, context);
    });
    bus.subscribe(EventType::kSignal, "Collector",
                  [this](const Event& e) { signals.push_back(e); });
  }
  // The bars of a CSV file, all published; returns how many.
  std::int64_t feed(const std::string& csv, const std::string& symbol) {
    CsvMarketData data(csv, CsvOptions{MarketDataKind::kBars, symbol});
    return MarketDataFeed(bus).publish_all(data);
  }

  MemoryStore store;
  EventBus bus{store};
  Breakout strategy;
  StrategyContext context{bus};
  std::vector<Event> signals;
};

// One row of a reference file: date,signal,close,level.
struct ReferenceSignal {
  std::string date, direction, close, level;
};

inline std::vector<ReferenceSignal> read_reference_signals(const std::string& path) {
  std::ifstream in(path);
  REQUIRE_MESSAGE(in.good(), path);
  std::string line;
  std::getline(in, line);
  REQUIRE(line == "date,signal,close,level");
  std::vector<ReferenceSignal> rows;
  while (std::getline(in, line)) {
    ReferenceSignal r;
    std::size_t at = 0;
    for (std::string* field : {&r.date, &r.direction, &r.close, &r.level}) {
      const std::size_t comma = line.find(',', at);
      *field = line.substr(at, comma == std::string::npos ? std::string::npos : comma - at);
      at = comma == std::string::npos ? line.size() : comma + 1;
    }
    rows.push_back(r);
  }
  return rows;
}

// Runs Breakout(config) over the bars of `csv` and compares its signals, one
// by one, with DIRECTORY/PREFIX_ENTRY_EXIT.csv (by default the checked-in
// tests/data/breakout/): the bar's date, the direction, the close, and the
// channel bound the reason names.
inline void check_breakout_reference(const std::string& csv, const std::string& symbol,
                                     const std::string& prefix, BreakoutConfig config,
                                     const std::string& directory = std::string(BLOTTER_TEST_DATA) +
                                                                    "/breakout") {
  const std::string reference =
      fmt::format("{}/{}_{}_{}.csv", directory, prefix, config.entry, config.exit);
  INFO(reference);
  const std::vector<ReferenceSignal> expected = read_reference_signals(reference);
  REQUIRE_FALSE(expected.empty());
  BreakoutRig rig(config);
  rig.feed(csv, symbol);
  CHECK(rig.signals.size() == expected.size());
  for (std::size_t i = 0; i < std::min(expected.size(), rig.signals.size()); ++i) {
    const ReferenceSignal& want = expected[i];
    const Event& got = rig.signals[i];
    const Signal& s = got.as<Signal>();
    INFO("signal ", i, ": ", want.date, " ", want.direction, " ", want.close);
    CHECK(format_date(got.ts_ns) == want.date);
    CHECK(got.symbol == symbol);
    CHECK((s.direction == Direction::kLong ? "long" : "exit") == want.direction);
    CHECK(s.price == D(want.close.c_str()));
    const std::string reason =
        want.direction == "long"
            ? fmt::format("close {} above the {}-bar high {}", want.close, config.entry, want.level)
            : fmt::format("close {} below the {}-bar low {}", want.close, config.exit, want.level);
    CHECK(s.reason == reason);
  }
}

}  // namespace blotter::testing
