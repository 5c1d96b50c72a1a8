// Shared by the unit suites: decimals and times from text, and doctest
// printing of decimals in failure messages.
#pragma once

#include <doctest/doctest.h>

#include "blotter/decimal.h"
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

}  // namespace blotter::testing
