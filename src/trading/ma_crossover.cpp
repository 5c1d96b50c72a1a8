#include "blotter/ma_crossover.h"

#include <fmt/format.h>

#include <algorithm>
#include <cassert>
#include <charconv>
#include <cstring>

#include "blotter/error.h"
#include "events/state_json.h"

namespace blotter {

MovingAverageCrossover::MovingAverageCrossover(SignalConfig config) : config_(config) {
  if (config_.window < 2)
    throw ConfigError(Field{"window"}, fmt::format("must be at least 2 (got {})", config_.window));
}

void MovingAverageCrossover::on_bar(const Event& bar, StrategyContext& ctx) {
  on_price(bar.as<Bar>().close, ctx);
}

void MovingAverageCrossover::on_tick(const Event& tick, StrategyContext& ctx) {
  on_price(tick.as<Tick>().price, ctx);
}

MovingAverageCrossover::History& MovingAverageCrossover::index_history(std::uint32_t symbol_id,
                                                                       const std::string& symbol) {
  if (symbol_id >= by_symbol_id_.size()) by_symbol_id_.resize(symbol_id + 1, nullptr);
  History& history = state_[symbol];
  by_symbol_id_[symbol_id] = &history;
  return history;
}

void MovingAverageCrossover::on_price(Decimal close, StrategyContext& ctx) {
  History& h = history_of(ctx);
  const auto window = static_cast<std::size_t>(config_.window);
  h.window.push_back(close);
  h.sum += close;
  if (h.window.size() > window) {
    h.sum -= h.window.front();
    h.window.pop_front();
  }
  const bool ready = h.window.size() == window && h.has_previous;
  const Decimal previous = h.previous;
  h.previous = close;
  h.has_previous = true;
  if (!ready) return;

  const Decimal scaled_close = close * config_.window;
  const Decimal scaled_previous = previous * config_.window;
  // Both crossings computed without branching on the comparisons: whether
  // the close is above its average is a coin toss from bar to bar, and
  // only the crossing itself, rarer, is a branch.
  const bool close_above = scaled_close > h.sum, previous_not_above = scaled_previous <= h.sum;
  const bool close_below = scaled_close < h.sum, previous_not_below = scaled_previous >= h.sum;
  const bool up = close_above & previous_not_above;
  const bool down = close_below & previous_not_below;
  if (up | down) [[unlikely]]
    publish_signal(ctx, up ? Direction::kLong : Direction::kExit, close, h.sum);
}

void MovingAverageCrossover::publish_signal(StrategyContext& ctx, Direction direction,
                                            Decimal close, Decimal sum) {
  if (ctx.replaying()) return;  // the SIGNAL is in the journal already
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
  ctx.signal(direction, std::string(text, out));
}

void MovingAverageCrossover::restore(const State& state) {
  State restored = state;
  const auto window = static_cast<std::size_t>(config_.window);
  for (auto& [symbol, h] : restored) {
    if (h.window.size() <= window) continue;
    h.window.erase(h.window.begin(), h.window.end() - static_cast<std::ptrdiff_t>(window));
    h.sum = Decimal();
    for (const Decimal& close : h.window) h.sum += close;
  }
  state_ = std::move(restored);
  by_symbol_id_.clear();
}

std::string MovingAverageCrossover::save_state() const {
  std::string out;
  detail::StateWriter w(out);
  w.open('{');
  for (const auto& [symbol, h] : state_) {
    w.key(symbol).open('{').key("window").open('[');
    for (const Decimal& d : h.window) w.decimal(d);
    w.close(']');
    w.key("sum").decimal(h.sum);
    w.key("previous").decimal(h.previous);
    w.key("has_previous").boolean(h.has_previous);
    w.close('}');
  }
  w.close('}');
  return out;
}

namespace {

// save_state()'s text in one pass, or nullopt if it is laid out otherwise.
std::optional<MovingAverageCrossover::State> read_canonical(std::string_view text) {
  detail::CanonicalText t(text);
  MovingAverageCrossover::State state;
  if (!t.literal("{")) return std::nullopt;
  const bool read = t.keyed(state, [&](MovingAverageCrossover::History& h) {
    return t.literal(R"({"window":[)") &&
           t.elements(']', [&] { return t.decimal(h.window.emplace_back()); }) &&
           t.literal(R"(,"sum":)") && t.decimal(h.sum) && t.literal(R"(,"previous":)") &&
           t.decimal(h.previous) && t.literal(R"(,"has_previous":)") && t.boolean(h.has_previous) &&
           t.literal("}");
  });
  if (!read || !t.at_end()) return std::nullopt;
  return state;
}

}  // namespace

void MovingAverageCrossover::restore_state(std::string_view json) {
  if (auto state = read_canonical(json)) return restore(*state);
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
    const detail::StateReader h = signals.member(v, symbol);
    History history;
    const detail::StateReader window = h.at("window");
    std::size_t i = 0;
    for (const auto& d : window.array()) history.window.push_back(window.item(i++, d).decimal());
    history.sum = h.at("sum").decimal();
    history.previous = h.at("previous").decimal();
    history.has_previous = h.at("has_previous").boolean();
    state.emplace_hint(state.end(), symbol, std::move(history));
  }
  restore(state);
}

}  // namespace blotter
