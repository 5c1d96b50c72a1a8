#include "blotter/breakout.h"

#include <fmt/format.h>

#include <algorithm>
#include <cassert>
#include <optional>

#include "blotter/error.h"
#include "events/state_json.h"

namespace blotter {

namespace {

// The bars a channel keeps: enough for both windows.
std::size_t kept_bars(const BreakoutConfig& config) {
  return static_cast<std::size_t>(std::max(config.entry, config.exit));
}

}  // namespace

Breakout::Breakout(BreakoutConfig config) : config_(config) {
  if (config_.entry < 1)
    throw ConfigError(Field{"entry"}, fmt::format("must be at least 1 (got {})", config_.entry));
  if (config_.exit < 1)
    throw ConfigError(Field{"exit"}, fmt::format("must be at least 1 (got {})", config_.exit));
}

void Breakout::on_bar(const Event& bar, StrategyContext& ctx) {
  const Bar& b = bar.as<Bar>();
  on_prices(b.high, b.low, b.close, ctx);
}

void Breakout::on_tick(const Event& tick, StrategyContext& ctx) {
  const Decimal price = tick.as<Tick>().price;
  on_prices(price, price, price, ctx);
}

Breakout::Channel& Breakout::channel_of(StrategyContext& ctx) {
  const std::uint32_t id = ctx.symbol_id();
  if (id >= by_symbol_id_.size()) by_symbol_id_.resize(id + 1, nullptr);
  Channel*& channel = by_symbol_id_[id];
  // Map nodes never move: the pointer stays valid until restore().
  if (channel == nullptr) channel = &state_[ctx.event().symbol];
  return *channel;
}

void Breakout::on_prices(Decimal high, Decimal low, Decimal close, StrategyContext& ctx) {
  Channel& c = channel_of(ctx);
  const auto entry = static_cast<std::size_t>(config_.entry);
  const auto exit = static_cast<std::size_t>(config_.exit);
  // c.bars holds only previous bars here: this one joins them at the end.
  bool above = false, below = false;
  Decimal upper, lower;
  if (c.bars.size() >= entry) {
    upper = std::max_element(c.bars.end() - static_cast<std::ptrdiff_t>(entry), c.bars.end(),
                             [](const Range& a, const Range& b) { return a.high < b.high; })
                ->high;
    above = close > upper;
  }
  if (c.bars.size() >= exit) {
    lower = std::min_element(c.bars.end() - static_cast<std::ptrdiff_t>(exit), c.bars.end(),
                             [](const Range& a, const Range& b) { return a.low < b.low; })
                ->low;
    below = close < lower;
  }
  const bool long_starts = above && !c.above;
  const bool exit_starts = below && !c.below;
  c.above = above;
  c.below = below;
  c.bars.push_back(Range{high, low});
  if (c.bars.size() > kept_bars(config_)) c.bars.pop_front();
  assert(c.bars.size() <= kept_bars(config_));

  if (long_starts) {
    ctx.signal(Direction::kLong, fmt::format("close {} above the {}-bar high {}", close.to_string(),
                                             config_.entry, upper.to_string()));
  } else if (exit_starts) {
    ctx.signal(Direction::kExit, fmt::format("close {} below the {}-bar low {}", close.to_string(),
                                             config_.exit, lower.to_string()));
  }
}

void Breakout::restore(State state) {
  const std::size_t kept = kept_bars(config_);
  for (auto& [symbol, channel] : state) {
    if (channel.bars.size() > kept)
      channel.bars.erase(channel.bars.begin(),
                         channel.bars.end() - static_cast<std::ptrdiff_t>(kept));
  }
  state_ = std::move(state);
  // Symbol ids are the bus's: each channel is found again at its symbol's next event.
  by_symbol_id_.clear();
}

std::string Breakout::save_state() const {
  std::string out;
  detail::StateWriter w(out);
  w.open('{');
  for (const auto& [symbol, c] : state_) {
    w.key(symbol).open('{').key("bars").open('[');
    for (const Range& r : c.bars) w.open('[').decimal(r.high).decimal(r.low).close(']');
    w.close(']');
    w.key("above").boolean(c.above);
    w.key("below").boolean(c.below);
    w.close('}');
  }
  w.close('}');
  return out;
}

namespace {

// save_state()'s text in one pass, or nullopt if it is laid out otherwise.
std::optional<Breakout::State> read_canonical(std::string_view text) {
  detail::CanonicalText t(text);
  Breakout::State state;
  if (!t.literal("{")) return std::nullopt;
  const bool read = t.keyed(state, [&](Breakout::Channel& c) {
    return t.literal(R"({"bars":[)") &&
           t.elements(']',
                      [&] {
                        Breakout::Range& r = c.bars.emplace_back();
                        return t.literal("[") && t.decimal(r.high) && t.literal(",") &&
                               t.decimal(r.low) && t.literal("]");
                      }) &&
           t.literal(R"(,"above":)") && t.boolean(c.above) && t.literal(R"(,"below":)") &&
           t.boolean(c.below) && t.literal("}");
  });
  if (!read || !t.at_end()) return std::nullopt;
  return state;
}

}  // namespace

void Breakout::restore_state(std::string_view json) {
  if (auto state = read_canonical(json)) return restore(std::move(*state));
  detail::StateJson j;
  try {
    j = detail::StateJson::parse(json);
  } catch (const detail::StateJson::exception& e) {
    throw Error(fmt::format("snapshot: state.signals: invalid JSON: {}", e.what()));
  }
  const detail::StateReader signals(j, "state.signals");
  State state;
  // Keys come in order (std::map objects): each is inserted at the end.
  for (const auto& [symbol, v] : signals.object().items()) {
    const detail::StateReader c = signals.member(v, symbol);
    Channel channel;
    const detail::StateReader bars = c.at("bars");
    std::size_t i = 0;
    for (const auto& b : bars.array()) {
      const detail::StateReader range = bars.item(i++, b);
      if (range.array().size() != 2) range.fail("expected [high, low]");
      channel.bars.push_back(Range{range.item(0, b[0]).decimal(), range.item(1, b[1]).decimal()});
    }
    channel.above = c.at("above").boolean();
    channel.below = c.at("below").boolean();
    state.emplace_hint(state.end(), symbol, std::move(channel));
  }
  restore(std::move(state));
}

}  // namespace blotter
