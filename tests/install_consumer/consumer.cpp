// Paper-trades a few bars through an installed blotter, in memory.
#include <blotter/market_data.h>
#include <blotter/store.h>
#include <blotter/trading_system.h>

#include <iostream>

int main() {
  blotter::MemoryStore store;
  blotter::TradingConfig config;
  config.params.set("window", "2");
  blotter::TradingSystem system(store, config);
  const char* closes[] = {"10", "9", "12", "8"};
  blotter::TimestampNs ts = 1'700'000'000'000'000'000;
  for (const char* c : closes) {
    const auto close = blotter::Decimal::from_string(c);
    system.bus().publish(
        blotter::make_event(ts, "XYZ", blotter::Bar{close, close, close, close, {}}));
    ts += 86'400'000'000'000;
  }
  // 9 -> 12 crosses above the 2-bar mean (buy 12), 12 -> 8 below it (sell 8).
  std::cout << "events " << store.events().size() << " realized "
            << system.portfolio().realized_pnl().to_string() << "\n";
  return system.portfolio().realized_pnl().to_string() == "-4" ? 0 : 1;
}
