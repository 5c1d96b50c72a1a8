// Shared by the suites: decimals and times from text, a full run manifest,
// and doctest printing of decimals in failure messages.
#pragma once

#include <doctest/doctest.h>

#include <string>

#include "blotter/decimal.h"
#include "blotter/event.h"
#include "blotter/timestamp.h"

namespace doctest {
template <>
struct StringMaker<blotter::Decimal> {
  static String convert(const blotter::Decimal& d) { return d.to_string().c_str(); }
};
}  // namespace doctest

namespace blotter::testing {

inline Decimal D(const char* text) { return Decimal::from_string(text); }
inline TimestampNs T(const char* text) { return parse_timestamp(text).value(); }

// A RUN_STARTED with every option set away from its default, and text that
// needs escaping in JSON.
inline RunStarted sample_manifest() {
  RunStarted m;
  m.input = "data/GOOG \"daily\".csv";
  m.input_sha256 = std::string(64, 'a');
  m.input_kind = "ticks";
  m.symbol = "GOOG";
  m.window = 20;
  m.quantity = "10";
  m.risk_per_trade = "0.01";
  m.capital = "100000.5";
  m.max_daily_loss = "0.02";
  m.max_position = "30";
  m.fill = "next-open";
  m.slippage_bps = "1.5";
  m.commission = "0.005";
  m.tz = "America/New_York";
  m.version = "0.1.0";
  return m;
}

}  // namespace blotter::testing
