// The books as JSON, for the reports that print them (private to the library).
#pragma once

#include <map>
#include <nlohmann/json.hpp>
#include <string>

#include "blotter/portfolio.h"

namespace blotter::detail {

// One object per position, by symbol, decimals as exact strings:
// {"symbol", "quantity", "avg_price", "last_price", "realized_pnl", "unrealized_pnl"}.
inline nlohmann::ordered_json positions_json(const std::map<std::string, Position>& positions) {
  nlohmann::ordered_json out = nlohmann::ordered_json::array();
  for (const auto& [symbol, p] : positions)
    out.push_back({{"symbol", symbol},
                   {"quantity", p.quantity.to_string()},
                   {"avg_price", p.avg_price().to_string()},
                   {"last_price", p.last_price.to_string()},
                   {"realized_pnl", p.realized_pnl.to_string()},
                   {"unrealized_pnl", p.unrealized_pnl().to_string()}});
  return out;
}

}  // namespace blotter::detail
