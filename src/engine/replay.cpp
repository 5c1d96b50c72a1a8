#include "blotter/replay.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <deque>
#include <iterator>
#include <map>
#include <nlohmann/json.hpp>
#include <thread>

#include "blotter/error.h"
#include "blotter/terminal_text.h"
#include "engine/books_json.h"
#include "events/payload_json.h"
#include "events/row_json.h"

namespace blotter {
namespace {

using namespace std::string_view_literals;

using Json = nlohmann::ordered_json;

class SteadyClock final : public ReplayClock {
 public:
  std::chrono::nanoseconds now() override {
    return std::chrono::steady_clock::now().time_since_epoch();
  }
  void sleep_for(std::chrono::nanoseconds d) override { std::this_thread::sleep_for(d); }
};

bool is_market(EventType t) { return t == EventType::kBar || t == EventType::kTick; }
bool is_derived(EventType t) {
  return t == EventType::kSignal || t == EventType::kOrder || t == EventType::kFill ||
         t == EventType::kRiskRejected;
}

// Collects what the re-simulated components publish; keeps only the derived
// events not yet compared, so memory stays bounded.
class CaptureStore final : public EventStore {
 public:
  // Numbers the events it is given from last + 1 on.
  explicit CaptureStore(Seq last) : last_(last) {}
  Seq append(Event& event) override {
    event.seq = ++last_;
    if (is_derived(event.type())) pending.push_back(event);
    return event.seq;
  }
  void commit() override {}
  void rollback() override {}
  Seq last_seq() const override { return last_; }
  Seq last_seq_at_or_before(TimestampNs) const override { return 0; }
  void scan(const ScanRange&, const std::function<bool(const Event&)>&) const override {}

  std::deque<Event> pending;

 private:
  Seq last_;
};

// The seq an ORDER, FILL or RISK_REJECTED refers to, or 0.
Seq reference_of(const Event& e) {
  if (const auto* o = e.get_if<Order>()) return o->signal_seq;
  if (const auto* f = e.get_if<Fill>()) return f->order_seq;
  if (const auto* r = e.get_if<RiskRejected>()) return r->signal_seq;
  return 0;
}

// `e` with its seq reference replaced by `ref`, for comparison.
Event with_reference(Event e, Seq ref) {
  if (auto* o = std::get_if<Order>(&e.payload)) o->signal_seq = ref;
  if (auto* f = std::get_if<Fill>(&e.payload)) f->order_seq = ref;
  if (auto* r = std::get_if<RiskRejected>(&e.payload)) r->signal_seq = ref;
  return e;
}

}  // namespace

ReplayClock& real_clock() {
  static SteadyClock clock;
  return clock;
}

void apply_bound(const std::string& text, Bound bound, const Calendar& calendar, ScanRange& range) {
  const bool upper = bound == Bound::kTo;
  if (!text.empty() && text[0] == '#') {
    Seq seq = 0;
    const auto digits = text.substr(1);
    if (digits.empty() || digits.find_first_not_of("0123456789") != std::string::npos ||
        digits.size() > 18)
      throw ConfigError(fmt::format("'{}' is not a sequence number (expected #SEQ)", text));
    seq = std::stoll(digits);
    (upper ? range.to_seq : range.from_seq) = seq;
    return;
  }
  if (timestamp_format(text) == TimestampFormat::kDate) {
    const auto [begin, end] = calendar.bounds(Calendar::parse_day(text));
    if (upper)
      range.to_ts = end - 1;
    else
      range.from_ts = begin;
    return;
  }
  std::string why;
  const auto ts = parse_timestamp(text, &why);
  if (!ts || timestamp_format(text) != TimestampFormat::kDateTime)
    throw ConfigError(
        fmt::format("'{}' is not a time bound ({}): expected #SEQ, YYYY-MM-DD or an "
                    "ISO-8601 date-time with Z or an offset",
                    text, ts ? "epoch seconds are ambiguous here" : why));
  (upper ? range.to_ts : range.from_ts) = *ts;
}

Calendar journal_calendar(const EventStore& store) {
  const auto runs = list_runs(store);
  return Calendar(runs.empty() || runs.back().second.tz.empty() ? "UTC" : runs.back().second.tz);
}

std::string row_json(const JournalRow& row) {
  std::string out;
  detail::RowJsonWriter().append(out, row);
  return out;
}

std::string event_json(const Event& e) { return row_json(row_of(e)); }

std::int64_t replay_events(const EventStore& store, const ScanRange& range, double speed,
                           ReplayFormat format, std::ostream& out, ReplayClock& clock,
                           bool header) {
  if (speed < 0) throw ConfigError(Field{"speed"}, "must not be negative");
  std::int64_t n = 0;
  bool first = true;
  TimestampNs first_ts = 0;
  std::chrono::nanoseconds started{};
  // Lines collect in `text` and reach `out` in large writes; whatever was
  // collected is written before a wait and before an error propagates.
  std::string text;
  constexpr std::size_t kFlushAt = 64 * 1024;
  const auto write = [&] {
    out.write(text.data(), static_cast<std::streamsize>(text.size()));
    text.clear();
  };
  detail::RowJsonWriter jsonl;
  if (format == ReplayFormat::kTable && header)
    fmt::format_to(std::back_inserter(text), "{:>8}  {:<24}  {:<13}  {:<8}  {}\n", "seq", "time",
                   "type", "symbol", "payload");
  try {
    // Rows as stored: printing needs no decoding.
    store.scan_rows(range, [&](const JournalRow& e) {
      if (speed > 0) {
        if (first) {
          first_ts = e.ts_ns;
          started = clock.now();
        } else {
          // Due time: the recorded gap from the first event, divided by speed.
          const auto due = started + std::chrono::nanoseconds(static_cast<std::int64_t>(
                                         static_cast<double>(e.ts_ns - first_ts) / speed));
          const auto now = clock.now();
          if (due > now) {
            write();
            out.flush();
            clock.sleep_for(due - now);
          }
        }
      }
      first = false;
      if (format == ReplayFormat::kJsonl) {
        jsonl.append(text, e);
        text += '\n';
      } else {
        // Rows as stored may hold any bytes: escaped for the terminal.
        fmt::format_to(std::back_inserter(text), "{:>8}  {:<24}  {}  {}  {}\n", e.seq,
                       format_timestamp(e.ts_ns), padded(terminal_text(e.type), 13),
                       padded(terminal_text(e.symbol.value_or("")), 8), terminal_text(e.payload));
      }
      if (text.size() >= kFlushAt) write();
      ++n;
      return true;
    });
  } catch (...) {
    write();
    throw;
  }
  write();
  return n;
}

std::string state_json(const RebuiltState& s) {
  const Portfolio& book = s.system->portfolio();
  const RiskManager& risk = s.system->risk();
  Json j;
  j["at"] = s.seq ? Json(format_timestamp(s.ts_ns)) : Json();
  j["seq"] = s.seq;
  j["run_seq"] = s.run_seq;
  j["tz"] = book.calendar().zone();
  j["positions"] = detail::positions_json(book.positions());
  j["realized_pnl"] = book.realized_pnl().to_string();
  j["unrealized_pnl"] = book.unrealized_pnl().to_string();
  Json days = Json::array();
  for (const DayPnl& d : book.days()) {
    days.push_back({{"day", Calendar::day_name(d.day)},
                    {"realized_pnl", d.realized_pnl.to_string()},
                    {"unrealized_pnl", d.unrealized_pnl.to_string()},
                    {"pnl", d.pnl().to_string()},
                    {"fills", d.fills}});
  }
  j["days"] = days;
  const auto halt = risk.halt();
  j["risk"] = {{"daily_loss_used", risk.daily_loss_used().to_string()},
               {"daily_loss_limit", risk.daily_loss_limit().to_string()},
               {"entries_halted", risk.entries_halted()},
               {"halted_at", halt ? Json(format_timestamp(halt->ts_ns)) : Json()},
               {"halt_day_pnl", halt ? Json(halt->day_pnl.to_string()) : Json()}};
  return j.dump(2) + "\n";
}

std::string books_table(const std::map<std::string, Position>& positions, Decimal realized_pnl,
                        Decimal unrealized_pnl, const std::vector<DayPnl>& days,
                        std::size_t max_days) {
  // The symbol column is as wide as the widest symbol (32 bytes at most), by display width.
  std::size_t width = 10;
  for (const auto& [symbol, p] : positions)
    width = std::max(width, display_width(terminal_text(symbol)));
  std::string out =
      fmt::format("positions:\n  {} {:>14} {:>14} {:>14} {:>14} {:>14}\n", padded("symbol", width),
                  "quantity", "avg_price", "last_price", "realized_pnl", "unrealized_pnl");
  for (const auto& [symbol, p] : positions)
    out += fmt::format("  {} {:>14} {:>14} {:>14} {:>14} {:>14}\n",
                       padded(terminal_text(symbol), width), p.quantity.to_string(),
                       p.avg_price().to_string(), p.last_price.to_string(),
                       p.realized_pnl.to_string(), p.unrealized_pnl().to_string());
  out += fmt::format("\nrealized PnL {}  unrealized PnL {}  total {}\n", realized_pnl.to_string(),
                     unrealized_pnl.to_string(), (realized_pnl + unrealized_pnl).to_string());

  std::vector<const DayPnl*> active;
  for (const auto& d : days)
    if (!d.pnl().is_zero() || d.fills) active.push_back(&d);
  out += fmt::format("\nPnL per trading day ({} days, {} with PnL or fills):\n", days.size(),
                     active.size());
  const std::size_t first = max_days && active.size() > max_days ? active.size() - max_days : 0;
  if (first) out += fmt::format("  ... {} earlier days with PnL or fills\n", first);
  out += fmt::format("  {:<10} {:>14} {:>14} {:>14} {:>6}\n", "day", "realized", "unrealized",
                     "pnl", "fills");
  for (std::size_t i = first; i < active.size(); ++i) {
    const DayPnl& d = *active[i];
    out += fmt::format("  {:<10} {:>14} {:>14} {:>14} {:>6}\n", Calendar::day_name(d.day),
                       d.realized_pnl.to_string(), d.unrealized_pnl.to_string(),
                       d.pnl().to_string(), d.fills);
  }
  return out;
}

std::string state_table(const RebuiltState& s) {
  const Portfolio& book = s.system->portfolio();
  const RiskManager& risk = s.system->risk();
  std::string out = s.seq ? fmt::format("state after seq {} at {} (trading days in {})\n", s.seq,
                                        format_timestamp(s.ts_ns), book.calendar().zone())
                          : std::string("no events: the books are empty\n");
  if (s.from_snapshot)
    out += fmt::format("rebuilt from the snapshot at seq {} and {} events after it\n",
                       s.from_snapshot, s.seq - s.from_snapshot);
  const auto halt = risk.halt();
  out += fmt::format("risk: daily loss used {} of {}; entries {}\n\n",
                     risk.daily_loss_used().to_string(), risk.daily_loss_limit().to_string(),
                     halt ? fmt::format("HALTED (day PnL {} reached the limit at {})",
                                        halt->day_pnl.to_string(), format_timestamp(halt->ts_ns))
                          : std::string("allowed"));
  out += books_table(book.positions(), book.realized_pnl(), book.unrealized_pnl(), book.days());
  return out;
}

TradingConfig ResimOverrides::applied_to(TradingConfig config) const {
  if (quantity && risk_per_trade)
    throw ConfigError(
        {Field{"quantity"}, " and ", Field{"risk_per_trade"}, " are two sizing rules: give one"});
  if (strategy && *strategy != config.strategy) {
    config.strategy = *strategy;
    config.params = StrategyParams();
  }
  StrategyParams changed;
  for (const auto& [key, value] : config.params.values())
    if (!params.contains(key) && !(window && key == "window")) changed.set(key, value);
  for (const auto& [key, value] : params.values()) changed.set(key, value);
  if (window) {
    if (params.contains("window"))
      throw ConfigError(Field{"window"}, "and the parameter 'window' are one setting: give one");
    changed.set("window", std::to_string(*window));
  }
  config.params = std::move(changed);
  if (quantity) {
    config.risk.quantity = *quantity;
    config.risk.risk_per_trade.reset();
  }
  if (risk_per_trade) config.risk.risk_per_trade = *risk_per_trade;
  if (capital) config.risk.capital = *capital;
  if (max_daily_loss) config.risk.max_daily_loss = *max_daily_loss;
  if (max_position) config.risk.max_position = *max_position;
  if (fill) config.execution.fill = *fill;
  if (slippage_bps) config.execution.slippage_bps = *slippage_bps;
  if (commission) config.execution.commission = *commission;
  if (tz) config.tz = *tz;
  return config;
}

namespace {

// The first market event of `run` within `range`'s seq and time bounds, or 0.
Seq first_market_event(const EventStore& store, const RunSpan& run, const ScanRange& range) {
  ScanRange scan(std::max(run.first, range.from_seq), std::min(run.last, range.to_seq));
  scan.from_ts = range.from_ts;
  scan.to_ts = range.to_ts;
  scan.types = {EventType::kBar, EventType::kTick};
  Seq found = 0;
  store.scan(scan, [&](const Event& e) {
    found = e.seq;
    return false;
  });
  return found;
}

// The state rebuilt right after `seq`. Components configured otherwise than
// the recorded run take it as theirs (a strategy with a shorter window keeps
// its latest closes: MovingAverageCrossover::restore).
TradingSystem::State recorded_state(const EventStore& store, Seq seq,
                                    const StrategyRegistry& strategies) {
  return rebuild_state(store, seq, Snapshots::kUse, strategies).system->state();
}

// Re-simulates `run` from its market event `start` to the end of `range`.
ResimResult resimulate_run(const EventStore& store, const RunSpan& run, Seq start,
                           const ScanRange& range, const TradingConfig& config,
                           const StrategyRegistry& strategies) {
  // The scratch store numbers events on from the recorded ones before
  // `start`: a reference to an event before it (a pending order's) is the
  // same seq on both sides, and one after it an ordinal counted from there.
  CaptureStore scratch(start - 1);
  TradingSystem system(scratch, config, strategies);
  if (!system.strategy().saves_state() && run.run_seq != 0) {
    // Its state exists only by replay: the run's events before `start`,
    // replayed into these components.
    store.scan(ScanRange(run.run_seq + 1, start - 1), [&](const Event& e) {
      if (e.type() != EventType::kAnnotation) system.bus().replay(e);
      return true;
    });
    // The books as the run recorded them, as for any other strategy: these
    // components, configured otherwise, would have booked the replay
    // otherwise. The strategy keeps what the replay gave it.
    TradingSystem::State recorded = recorded_state(store, start - 1, strategies);
    recorded.strategy = system.state().strategy;
    system.restore(std::move(recorded));
  } else {
    TradingSystem::State recorded = recorded_state(store, start - 1, strategies);
    // Another strategy than the run's starts afresh, with the recorded books.
    if (config.strategy != run.manifest.strategy) recorded.strategy = system.state().strategy;
    system.restore(std::move(recorded));
  }
  ResimResult result;
  std::deque<Event> context;
  std::map<Seq, Seq> recorded_ordinal;
  Seq ordinal = start - 1;

  auto diverge = [&](Seq at, std::optional<Event> recorded, std::optional<Event> resim) {
    result.identical = false;
    result.diverging_seq = at;
    result.recorded = std::move(recorded);
    result.resimulated = std::move(resim);
    result.context.assign(context.begin(), context.end());
    return false;
  };
  const auto in_range = [&](const Event& e) {
    return e.seq <= range.to_seq && e.ts_ns >= range.from_ts && e.ts_ns <= range.to_ts;
  };

  store.scan(ScanRange(start, run.last), [&](const Event& e) {
    const EventType t = e.type();
    if (!is_market(t) && !is_derived(t) && t != EventType::kHandlerError) return true;
    if (is_market(t)) {
      // Event time never decreases within a run: past the range, the rest is too.
      if (!in_range(e)) return false;
      if (!scratch.pending.empty()) return diverge(e.seq, std::nullopt, scratch.pending.front());
      recorded_ordinal[e.seq] = ++ordinal;
      Event copy = e;
      copy.seq = 0;
      system.bus().publish(std::move(copy));
    } else if (t == EventType::kHandlerError) {
      ++ordinal;
    } else {
      recorded_ordinal[e.seq] = ++ordinal;
      if (scratch.pending.empty()) return diverge(e.seq, e, std::nullopt);
      Event mine = scratch.pending.front();
      scratch.pending.pop_front();
      const Seq ref = reference_of(e);
      const auto known = recorded_ordinal.find(ref);
      const Event theirs = with_reference(e, known != recorded_ordinal.end() ? known->second : ref);
      if (theirs.type() != mine.type() || theirs.ts_ns != mine.ts_ns ||
          theirs.symbol != mine.symbol || encode_payload(theirs) != encode_payload(mine))
        return diverge(e.seq, e, mine);
      ++result.matched;
    }
    context.push_back(e);
    if (context.size() > 5) context.pop_front();
    return true;
  });
  if (result.identical && !scratch.pending.empty())
    diverge(0, std::nullopt, scratch.pending.front());
  return result;
}

}  // namespace

StateAt state_at(const EventStore& store, const std::string& at, Seq run_seq,
                 const StrategyRegistry& strategies) {
  std::vector<RunSpan> spans = run_spans(store);
  std::optional<RunSpan> run;
  if (run_seq != 0) {
    for (const RunSpan& s : spans)
      if (s.run_seq == run_seq) run = s;
    if (!run)
      throw ConfigError(
          Field{"run_seq"},
          fmt::format("{}: no run starts at that seq (blotter runs lists the journal's runs)",
                      run_seq));
  }
  const Seq first = run ? run->first : 1;
  const Seq last = run ? run->last : store.last_seq();
  if (at.empty() || last == 0)
    return StateAt{rebuild_state(store, last, Snapshots::kUse, strategies), std::nullopt};
  ScanRange bound;
  apply_bound(
      at, Bound::kTo,
      run ? Calendar(run->manifest.tz.empty() ? "UTC" : run->manifest.tz) : journal_calendar(store),
      bound);
  Seq at_seq = std::min(bound.to_seq, last);
  if (bound.to_ts != INT64_MAX) {
    at_seq = store.last_seq_at_or_before(bound.to_ts);
    if (at_seq > last) {  // in a later run: the last of this one's
      ScanRange within(first, last);
      within.to_ts = bound.to_ts;
      at_seq = 0;
      store.scan(within, [&](const Event& e) {
        if (e.type() != EventType::kAnnotation) at_seq = e.seq;
        return true;
      });
    }
  }
  StateAt result;
  if (at_seq < first) {
    store.scan(ScanRange(first, last), [&](const Event& e) {
      if (e.type() == EventType::kAnnotation) return true;
      result.before = e;
      return false;
    });
    at_seq = 0;
  }
  result.state = rebuild_state(store, at_seq, Snapshots::kUse, strategies);
  return result;
}

std::vector<RunResim> resimulate(const EventStore& store, const ScanRange& range, Seq run_seq,
                                 const ResimOverrides& overrides,
                                 const StrategyRegistry& strategies) {
  std::vector<RunSpan> spans = run_spans(store);
  if (run_seq != 0) {
    std::erase_if(spans, [&](const RunSpan& s) { return s.run_seq != run_seq; });
    if (spans.empty())
      throw ConfigError(
          Field{"run_seq"},
          fmt::format("{}: no run starts at that seq (blotter runs lists the journal's runs)",
                      run_seq));
  }
  // Every configuration first: a refused one stops the command before any output.
  std::vector<TradingConfig> configs;
  for (const RunSpan& run : spans) {
    if (!overrides.strategy) require_strategy(run.manifest, run.run_seq, strategies);
    configs.push_back(overrides.applied_to(trading_config_of(run.manifest)));
    CaptureStore check(0);
    TradingSystem validated(check, configs.back(), strategies);
  }
  std::vector<RunResim> runs;
  for (std::size_t i = 0; i < spans.size(); ++i) {
    const Seq start = first_market_event(store, spans[i], range);
    if (start == 0) continue;
    runs.push_back(RunResim{spans[i].run_seq, start,
                            resimulate_run(store, spans[i], start, range, configs[i], strategies)});
  }
  return runs;
}

}  // namespace blotter
