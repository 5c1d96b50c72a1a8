#include "blotter/signal_generator.h"

#include <fmt/format.h>

#include "blotter/error.h"

namespace blotter {

SignalGenerator::SignalGenerator(EventBus& bus, SignalConfig config) : bus_(bus), config_(config) {
  if (config_.window < 2)
    throw ConfigError(fmt::format("--window must be at least 2 (got {})", config_.window));
  bus_.subscribe(EventType::kBar, "SignalGenerator",
                 [this](const Event& e) { on_price(e, e.as<Bar>().close); });
  bus_.subscribe(EventType::kTick, "SignalGenerator",
                 [this](const Event& e) { on_price(e, e.as<Tick>().price); });
}

void SignalGenerator::on_price(const Event& market_event, Decimal close) {
  History& h = history_[market_event.symbol];
  h.window.push_back(close);
  h.sum += close;
  if (static_cast<int>(h.window.size()) > config_.window) {
    h.sum -= h.window.front();
    h.window.pop_front();
  }
  const bool ready = static_cast<int>(h.window.size()) == config_.window && h.has_previous;
  const Decimal previous = h.previous;
  h.previous = close;
  h.has_previous = true;
  if (!ready) return;

  const Decimal scaled_close = close * config_.window;
  const Decimal scaled_previous = previous * config_.window;
  std::optional<Direction> direction;
  if (scaled_close > h.sum && scaled_previous <= h.sum) direction = Direction::kLong;
  if (scaled_close < h.sum && scaled_previous >= h.sum) direction = Direction::kExit;
  if (!direction) return;

  const Decimal ma = h.sum / Decimal::from_int(config_.window);
  const std::string reason = fmt::format("close {} crossed {} MA{} {}", close.to_string(),
                                         *direction == Direction::kLong ? "above" : "below",
                                         config_.window, ma.to_string());
  bus_.publish(
      make_event(market_event.ts_ns, market_event.symbol, Signal{*direction, close, reason}));
}

}  // namespace blotter
