#include "blotter/signal_generator.h"

#include <fmt/format.h>

#include <algorithm>
#include <cassert>
#include <charconv>
#include <cstring>

#include "blotter/error.h"

namespace blotter {

SignalGenerator::SignalGenerator(EventBus& bus, SignalConfig config) : bus_(bus), config_(config) {
  if (config_.window < 2)
    throw ConfigError(Field{"window"}, fmt::format("must be at least 2 (got {})", config_.window));
  bus_.subscribe(EventType::kBar, "SignalGenerator",
                 [this](const Event& e) { on_price(e, e.as<Bar>().close); });
  bus_.subscribe(EventType::kTick, "SignalGenerator",
                 [this](const Event& e) { on_price(e, e.as<Tick>().price); });
}

SignalGenerator::Series& SignalGenerator::new_series(std::uint32_t symbol_id) {
  if (symbol_id >= series_.size()) series_.resize(symbol_id + 1);
  Series& series = series_[symbol_id];
  if (series.closes.empty()) series.closes.resize(static_cast<std::size_t>(config_.window) + 1);
  return series;
}

void SignalGenerator::on_price(const Event& market_event, Decimal close) {
  Series& h = series_of(bus_.symbol_id(market_event));
  const auto window = static_cast<std::size_t>(config_.window);
  const std::size_t capacity = h.closes.size();
  assert(h.oldest < capacity && h.count < capacity);
  // Indices wrap by a comparison, not a division.
  std::size_t newest = h.oldest + h.count;
  if (newest >= capacity) newest -= capacity;
  h.closes[newest] = close;
  ++h.count;
  h.sum += close;
  if (h.count > window) {
    h.sum -= h.closes[h.oldest];
    if (++h.oldest == capacity) h.oldest = 0;
    --h.count;
  }
  const bool ready = h.count == window && h.has_previous;
  const Decimal previous = h.previous;
  h.previous = close;
  h.has_previous = true;
  if (!ready) return;

  const Decimal scaled_close = close * config_.window;
  const Decimal scaled_previous = previous * config_.window;
  // Both crossings computed without branching on the comparisons: whether
  // the close is above its average is a coin toss from bar to bar, and
  // only the crossing itself, rarer, is a branch.
  const bool up = (scaled_close > h.sum) & (scaled_previous <= h.sum);
  const bool down = (scaled_close < h.sum) & (scaled_previous >= h.sum);
  if (up | down) [[unlikely]]
    publish_signal(market_event, up ? Direction::kLong : Direction::kExit, close, h.sum);
}

void SignalGenerator::publish_signal(const Event& market_event, Direction direction, Decimal close,
                                     Decimal sum) {
  const Decimal ma = sum / std::int64_t{config_.window};
  // "close {} crossed {} MA{} {}", written in place: one allocation, the reason's own.
  char text[128];
  char* out = text;
  const auto append = [&out](const char* literal) {
    const std::size_t n = std::strlen(literal);
    std::memcpy(out, literal, n);
    out += n;
  };
  append("close ");
  out = close.format_to(out);
  append(direction == Direction::kLong ? " crossed above MA" : " crossed below MA");
  out = std::to_chars(out, text + sizeof text, config_.window).ptr;
  append(" ");
  out = ma.format_to(out);
  assert(out <= text + sizeof text);
  bus_.publish(market_event.ts_ns, market_event.symbol,
               Signal{direction, close, std::string(text, out)});
}

SignalGenerator::State SignalGenerator::state() const {
  State state;
  for (std::uint32_t id = 0; id < series_.size(); ++id) {
    const Series& s = series_[id];
    if (s.closes.empty()) continue;
    History& h = state[bus_.symbol(id)];
    for (std::size_t k = 0; k < s.count; ++k)
      h.window.push_back(s.closes[(s.oldest + k) % s.closes.size()]);
    h.sum = s.sum;
    h.previous = s.previous;
    h.has_previous = s.has_previous;
  }
  return state;
}

void SignalGenerator::restore(const State& state) {
  series_.clear();
  for (const auto& [symbol, h] : state) {
    Series& s = series_of(bus_.symbol_id(symbol));
    // A window longer than config_.window (from a snapshot of another run)
    // stays that long, as it would have in a deque: room for one more.
    s.closes.resize(std::max(s.closes.size(), h.window.size() + 1));
    std::copy(h.window.begin(), h.window.end(), s.closes.begin());
    s.count = h.window.size();
    s.sum = h.sum;
    s.previous = h.previous;
    s.has_previous = h.has_previous;
  }
}

}  // namespace blotter
