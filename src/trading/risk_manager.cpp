#include "blotter/risk_manager.h"

#include <fmt/format.h>

#include "blotter/calendar.h"
#include "blotter/error.h"
#include "blotter/timestamp.h"

namespace blotter {

RiskManager::RiskManager(EventBus& bus, RiskConfig config, Calendar calendar)
    : bus_(bus), config_(std::move(config)), book_(std::move(calendar)) {
  book_.use_symbol_ids(bus_);
  if (!config_.capital.is_positive()) throw ConfigError(Field{"capital"}, "must be positive");
  if (!config_.quantity.is_positive()) throw ConfigError(Field{"quantity"}, "must be positive");
  const Decimal one = Decimal::from_int(1);
  if (config_.risk_per_trade &&
      (!config_.risk_per_trade->is_positive() || *config_.risk_per_trade > one))
    throw ConfigError(Field{"risk_per_trade"}, "must be a fraction in (0, 1]");
  if (!config_.max_daily_loss.is_positive() || config_.max_daily_loss > one)
    throw ConfigError(Field{"max_daily_loss"}, "must be a fraction in (0, 1]");
  if (config_.max_position && !config_.max_position->is_positive())
    throw ConfigError(Field{"max_position"}, "must be positive");
  // A fraction in (0, 1] of the capital: never out of range.
  loss_limit_ = config_.capital * config_.max_daily_loss;

  bus_.subscribe(EventType::kSignal, "RiskManager", [this](const Event& e) { on_signal(e); });
  bus_.subscribe(EventType::kFill, "RiskManager", [this](const Event& e) { on_fill(e); });
  bus_.subscribe(EventType::kBar, "RiskManager",
                 [this](const Event& e) { on_market(e, e.as<Bar>().close); });
  bus_.subscribe(EventType::kTick, "RiskManager",
                 [this](const Event& e) { on_market(e, e.as<Tick>().price); });
}

Decimal RiskManager::daily_loss_used() const {
  // Once halted, the loss that halted the day is what counts: the day's PnL
  // may recover, but entries stay refused because of that loss.
  const Decimal pnl = entries_halted() ? halt_.day_pnl : book_.day_pnl();
  return pnl.is_negative() ? -pnl : Decimal();
}

bool RiskManager::entries_halted() const {
  return halted_day_ && !book_.days().empty() && *halted_day_ == book_.days().back().day;
}

std::optional<RiskManager::Halt> RiskManager::halt() const {
  if (!entries_halted()) return std::nullopt;
  return halt_;
}

void RiskManager::check_loss_limit(TimestampNs ts) {
  // The PnL first: it is almost always above the limit.
  if (book_.day_pnl() <= -loss_limit_ && !entries_halted()) {
    halted_day_ = book_.days().back().day;
    halt_ = Halt{book_.day_pnl(), ts};
  }
}

void RiskManager::on_market(const Event& e, Decimal price) {
  // The day's PnL changes only with an open position's mark: a flat mark
  // changes no PnL, and a day it opens starts at 0, above the limit. Every
  // other change (a fill) is checked where it happens.
  if (book_.on_market(e, price)) check_loss_limit(e.ts_ns);
}

void RiskManager::on_fill(const Event& e) {
  const Fill& fill = e.as<Fill>();
  // All or nothing: a fill the book cannot hold (it throws, unchanged) leaves
  // the pending quantity as it was too, so position + pending stays the
  // exposure the orders made.
  Decimal& pending = pending_for(e);
  const Decimal still_pending =
      pending - (fill.side == Side::kBuy ? fill.quantity : -fill.quantity);
  book_.on_event(e);
  pending = still_pending;
  check_loss_limit(e.ts_ns);
}

RiskManager::State RiskManager::state() const {
  return State{book_.state(), pending_, halted_day_, halt()};
}

void RiskManager::restore(State state) {
  book_.restore(std::move(state.book));
  pending_ = std::move(state.pending);
  pending_by_id_.clear();
  for (auto& [symbol, quantity] : pending_) {
    const std::uint32_t id = bus_.symbol_id(symbol);
    if (id >= pending_by_id_.size()) pending_by_id_.resize(id + 1, nullptr);
    pending_by_id_[id] = &quantity;
  }
  halted_day_ = state.halted_day;
  halt_ = state.halt.value_or(Halt{});
}

Decimal& RiskManager::pending_for(const Event& event) {
  const std::uint32_t id = bus_.symbol_id(event);
  if (id >= pending_by_id_.size()) pending_by_id_.resize(id + 1, nullptr);
  Decimal*& pending = pending_by_id_[id];
  if (pending == nullptr) pending = &pending_[event.symbol];  // map nodes never move
  return *pending;
}

Decimal RiskManager::exposure(const Event& event) {
  Decimal total;
  if (const Position* p = book_.position(event)) total += p->quantity;
  const std::uint32_t id = bus_.symbol_id(event);
  if (id < pending_by_id_.size() && pending_by_id_[id] != nullptr) total += *pending_by_id_[id];
  return total;
}

void RiskManager::reject(const Event& signal_event, Direction direction, std::string reason) {
  bus_.publish(signal_event.ts_ns, signal_event.symbol,
               RiskRejected{direction, std::move(reason), signal_event.seq});
}

void RiskManager::on_signal(const Event& e) {
  const Signal& signal = e.as<Signal>();
  book_.advance_to(e.ts_ns);  // a new trading day lifts yesterday's halt
  check_loss_limit(e.ts_ns);
  const Decimal held = exposure(e);

  if (signal.direction == Direction::kExit) {
    if (!held.is_positive()) return;  // flat: nothing to exit
    bus_.publish(e.ts_ns, e.symbol, Order{Side::kSell, held, signal.price, e.seq});
    pending_for(e) -= held;
    return;
  }

  if (entries_halted()) {
    // What halted the day, not the PnL now: it may have recovered since.
    return reject(e, signal.direction,
                  fmt::format("daily loss limit: entries halted for {}: day PnL {} reached the "
                              "limit -{} ({} of capital {}) at {}",
                              Calendar::day_name(*halted_day_), halt_.day_pnl.to_string(),
                              daily_loss_limit().to_string(), config_.max_daily_loss.to_string(),
                              config_.capital.to_string(), format_timestamp(halt_.ts_ns)));
  }
  Decimal quantity = config_.quantity;
  if (config_.risk_per_trade) {
    const Decimal equity = config_.capital + book_.realized_pnl() + book_.unrealized_pnl();
    quantity = Decimal::mul_div(equity, *config_.risk_per_trade, signal.price).floor();
    if (!quantity.is_positive()) {
      return reject(e, signal.direction,
                    fmt::format("order size is zero: equity {} * risk per trade {} / price {} < 1",
                                equity.to_string(), config_.risk_per_trade->to_string(),
                                signal.price.to_string()));
    }
  }
  const bool over_limit =
      config_.max_position ? held + quantity > *config_.max_position : !held.is_zero();
  if (over_limit) {
    return reject(
        e, signal.direction,
        fmt::format("position limit: holding {} {} (orders included), {} more would exceed {}",
                    held.to_string(), e.symbol, quantity.to_string(),
                    config_.max_position ? config_.max_position->to_string() : "one order's size"));
  }
  bus_.publish(e.ts_ns, e.symbol, Order{Side::kBuy, quantity, signal.price, e.seq});
  pending_for(e) += quantity;
}

}  // namespace blotter
