#include "blotter/audit.h"

#include <fmt/format.h>

#include <algorithm>
#include <cassert>
#include <deque>
#include <nlohmann/json.hpp>
#include <set>
#include <tuple>

#include "blotter/calendar.h"
#include "blotter/error.h"
#include "blotter/replay.h"
#include "blotter/terminal_text.h"
#include "blotter/trading_system.h"
#include "engine/books_json.h"

namespace blotter {
namespace {

using Json = nlohmann::ordered_json;

bool is_market(EventType t) { return t == EventType::kBar || t == EventType::kTick; }

// The events of a run within [begin, end): trading days in the run's zone.
struct Period {
  RunSpan run;
  Calendar calendar;
  TimestampNs begin = INT64_MIN, end = INT64_MAX;
  Seq first_seq = 0;  // the period's first event
};

// Every event type but ANNOTATION.
std::vector<EventType> trading_types() {
  std::vector<EventType> types;
  for (std::size_t t = 0; t < kEventTypeCount; ++t)
    if (static_cast<EventType>(t) != EventType::kAnnotation)
      types.push_back(static_cast<EventType>(t));
  return types;
}

// The latest run (or the run `run_seq`) with an event in the trading days
// from..to of its own time zone. Within a run, event time never decreases
// (the input is refused otherwise), so the period's events follow first_seq.
std::optional<Period> locate(const EventStore& store, std::optional<std::int32_t> from,
                             std::optional<std::int32_t> to, Seq run_seq) {
  const auto spans = run_spans(store);
  if (run_seq != 0 && std::none_of(spans.begin(), spans.end(),
                                   [&](const RunSpan& s) { return s.run_seq == run_seq; }))
    throw ConfigError(
        Field{"run_seq"},
        fmt::format("{}: no run starts at that seq (blotter runs lists the journal's runs)",
                    run_seq));
  for (auto it = spans.rbegin(); it != spans.rend(); ++it) {
    if (run_seq != 0 && it->run_seq != run_seq) continue;
    Period p{*it, Calendar(it->manifest.tz.empty() ? "UTC" : it->manifest.tz)};
    if (from) p.begin = p.calendar.bounds(*from).first;
    if (to) p.end = p.calendar.bounds(*to).second;
    ScanRange range(it->first, it->last);
    range.from_ts = p.begin;
    range.to_ts = p.end == INT64_MAX ? INT64_MAX : p.end - 1;
    // An annotation carries the time of what it is about, not of its place in
    // the journal (usually after the last run's events): it is no event of the period.
    range.types = trading_types();
    store.scan(range, [&](const Event& e) {
      p.first_seq = e.seq;
      return false;
    });
    if (p.first_seq) return p;
  }
  return std::nullopt;
}

[[noreturn]] void no_events(std::optional<std::int32_t> from, std::optional<std::int32_t> to,
                            Seq run_seq) {
  const std::string what =
      from && to && *from == *to
          ? fmt::format("trading day {}", Calendar::day_name(*from))
          : fmt::format("trading days {} to {}", from ? Calendar::day_name(*from) : "(first)",
                        to ? Calendar::day_name(*to) : "(last)");
  throw ConfigError(run_seq ? fmt::format("run {} has no events on the {}", run_seq, what)
                            : fmt::format("the journal has no events on the {}", what));
}

BookFigures figures_of(const RebuiltState& state) {
  const Portfolio& book = state.system->portfolio();
  return BookFigures{state.seq, state.ts_ns, book.realized_pnl(), book.unrealized_pnl(),
                     book.positions()};
}

Decimal equity_of(const RebuiltState& state) {
  const Portfolio& book = state.system->portfolio();
  return book.realized_pnl() + book.unrealized_pnl();
}

// Peak-to-trough, starting from an opening equity that counts as the first peak.
class DrawdownTracker {
 public:
  void start(Decimal open, TimestampNs ts) {
    worst_ = Drawdown{};
    worst_.peak = worst_.trough = open;
    worst_.peak_ts = worst_.trough_ts = ts;
    peak_ = open;
    peak_seq_ = 0;
    peak_ts_ = ts;
  }
  void mark(Seq seq, TimestampNs ts, Decimal equity) {
    if (equity > peak_) {
      peak_ = equity;
      peak_seq_ = seq;
      peak_ts_ = ts;
    }
    if (peak_ - equity > worst_.amount)
      worst_ = Drawdown{peak_ - equity, peak_seq_, seq, peak_ts_, ts, peak_, equity};
  }
  const Drawdown& worst() const { return worst_; }

 private:
  Drawdown worst_;
  Decimal peak_;
  Seq peak_seq_ = 0;
  TimestampNs peak_ts_ = 0;
};

// The first seq of the `count` distinct market timestamps of `run` before
// `period.begin`, or period.first_seq if there are none. Looks back over a
// growing time span so that a day of minute bars does not read the whole run.
Seq window_start(const EventStore& store, const Period& period, int count) {
  if (count <= 0 || period.first_seq <= period.run.first) return period.first_seq;
  TimestampNs run_begin = 0;
  store.scan(ScanRange(period.run.first, period.run.first), [&](const Event& e) {
    run_begin = e.ts_ns;
    return false;
  });
  std::deque<std::pair<TimestampNs, Seq>> last;  // distinct timestamps, oldest first
  constexpr TimestampNs kHour = 3'600'000'000'000;
  for (TimestampNs lookback = kHour;; lookback *= 4) {
    ScanRange range(period.run.first, period.first_seq - 1);
    range.types = {EventType::kBar, EventType::kTick};
    const bool whole_run = period.begin - run_begin <= lookback;
    range.from_ts = whole_run ? INT64_MIN : period.begin - lookback;
    last.clear();
    store.scan(range, [&](const Event& e) {
      if (last.empty() || last.back().first != e.ts_ns) last.emplace_back(e.ts_ns, e.seq);
      if (static_cast<int>(last.size()) > count) last.pop_front();
      return true;
    });
    if (static_cast<int>(last.size()) >= count || whole_run) break;
  }
  return last.empty() ? period.first_seq : last.front().second;
}

// Looks up the events `seqs` of `store`, one short scan each.
std::map<Seq, Event> events_at(const EventStore& store, const std::set<Seq>& seqs) {
  std::map<Seq, Event> found;
  for (Seq seq : seqs)
    store.scan(ScanRange(seq, seq), [&](const Event& e) {
      found.emplace(seq, e);
      return false;
    });
  return found;
}

template <class T>
Logged<T> logged(const Event& e) {
  return Logged<T>{e.seq, e.ts_ns, e.symbol, e.as<T>()};
}

// The report of a day without trading events that has annotations: the
// books as they stood all day, which are `state --at` that day, in the latest
// run (or the run `run_seq`) with an event before the day ends. Throws like
// no_events if the day has no annotation either.
DayReport quiet_day(const EventStore& store, std::int32_t day, const AuditOptions& options) {
  const auto spans = run_spans(store);
  std::optional<RunSpan> run;
  Seq at = 0;
  for (auto it = spans.rbegin(); it != spans.rend() && !run; ++it) {
    if (options.run_seq != 0 && it->run_seq != options.run_seq) continue;
    const Calendar calendar(it->manifest.tz.empty() ? "UTC" : it->manifest.tz);
    const TimestampNs end = calendar.bounds(day).second;
    at = store.last_seq_at_or_before(end - 1);
    if (at > it->last) {  // in a later run: look within this one
      ScanRange range(it->first, it->last);
      range.to_ts = end - 1;
      range.types = trading_types();
      at = 0;
      store.scan(range, [&](const Event& e) {
        at = e.seq;
        return true;
      });
    }
    if (at >= it->first || options.run_seq != 0) run = *it;
  }
  if (!run || at < run->first) at = 0;  // the empty books, before the run's first event
  std::string zone = run ? run->manifest.tz : journal_calendar(store).zone();
  const Calendar calendar(zone.empty() ? "UTC" : zone);
  DayReport r;
  r.journal = options.journal;
  r.day = day;
  r.tz = calendar.zone();
  std::tie(r.begin_ns, r.end_ns) = calendar.bounds(day);
  ScanRange notes;
  notes.from_ts = r.begin_ns;
  notes.to_ts = r.end_ns - 1;
  notes.types = {EventType::kAnnotation};
  store.scan(notes, [&](const Event& e) {
    const auto& a = e.as<Annotation>();
    r.annotations.push_back(
        AnnotationLine{e.seq, e.ts_ns, e.symbol, a.refers_to_seq, a.tag, a.text});
    ++r.events_by_type[static_cast<std::size_t>(EventType::kAnnotation)];
    return true;
  });
  if (r.annotations.empty()) no_events(day, day, options.run_seq);
  if (run) {
    r.run_seq = run->run_seq;
    r.manifest = run->manifest;
  }
  const RebuiltState state = rebuild_state(store, at);
  r.open = r.close = figures_of(state);
  DrawdownTracker drawdown;
  drawdown.start(r.open.equity(), r.begin_ns);
  r.max_drawdown = drawdown.worst();
  r.window_begin_ns = r.begin_ns;
  r.window_end_ns = r.end_ns;
  return r;
}

}  // namespace

DayReport audit_day(const EventStore& store, std::int32_t day, const AuditOptions& options) {
  const auto period = locate(store, day, day, options.run_seq);
  if (!period) return quiet_day(store, day, options);
  DayReport r;
  r.journal = options.journal;
  r.day = day;
  r.tz = period->calendar.zone();
  r.begin_ns = period->begin;
  r.end_ns = period->end;
  r.run_seq = period->run.run_seq;
  r.manifest = period->run.manifest;
  r.first_seq = period->first_seq;

  const Seq from = window_start(store, *period, options.context);
  RebuiltState state = rebuild_state(store, from - 1);
  bool opened = false, closed = false;
  int after = 0;  // distinct market timestamps seen after the day
  TimestampNs last_after = 0;
  DrawdownTracker drawdown;
  std::set<std::string> symbols;
  std::map<Seq, Logged<Order>> orders;        // of the window, for the fills' join
  std::map<Seq, std::string> signal_reasons;  // of the window
  std::map<Seq, std::size_t> day_signals;     // seq -> index in r.signals

  // One pass: the window before the day, the day, the window after it.
  store.scan(ScanRange(from, period->run.last), [&](const Event& e) {
    const EventType type = e.type();
    if (type == EventType::kAnnotation) return true;  // listed below, by their time
    if (e.ts_ns >= period->end) {
      if (is_market(type) && (after == 0 || e.ts_ns != last_after)) {
        if (++after > options.context) return false;
        last_after = e.ts_ns;
      }
      if (!closed) r.close = figures_of(state);
      closed = true;
    }
    const bool in_day = e.seq >= period->first_seq && e.ts_ns >= period->begin && !closed;
    // The open is the state before the day's first event, unless that event
    // starts the run: then it is the fresh state the run starts from.
    if (in_day && !opened && type != EventType::kRunStarted) {
      r.open = figures_of(state);
      drawdown.start(r.open.equity(), period->begin);
      opened = true;
    }
    replay_event(state, e);
    const Decimal equity = equity_of(state);
    if (is_market(type) || type == EventType::kFill || type == EventType::kRunStarted)
      r.equity.push_back(EquityPoint{e.seq, e.ts_ns, equity});
    if (const auto* bar = e.get_if<Bar>())
      r.prices[e.symbol].push_back({e.seq, e.ts_ns, bar->close});
    if (const auto* tick = e.get_if<Tick>())
      r.prices[e.symbol].push_back({e.seq, e.ts_ns, tick->price});
    if (type == EventType::kOrder) orders.emplace(e.seq, logged<Order>(e));
    if (const auto* signal = e.get_if<Signal>()) signal_reasons.emplace(e.seq, signal->reason);
    if (!in_day) {
      if (type == EventType::kFill) r.window_fills.push_back(logged<Fill>(e));
      return true;
    }

    r.last_seq = e.seq;
    ++r.events_by_type[static_cast<std::size_t>(type)];
    if (!e.symbol.empty()) symbols.insert(e.symbol);
    if (opened) drawdown.mark(e.seq, e.ts_ns, equity);
    switch (type) {
      case EventType::kSignal:
        day_signals.emplace(e.seq, r.signals.size());
        r.signals.emplace_back();
        static_cast<Logged<Signal>&>(r.signals.back()) = logged<Signal>(e);
        break;
      case EventType::kOrder:
        r.orders.push_back(logged<Order>(e));
        if (auto it = day_signals.find(e.as<Order>().signal_seq); it != day_signals.end())
          r.signals[it->second].order_seq = e.seq;
        break;
      case EventType::kFill:
        r.fills.emplace_back();
        static_cast<Logged<Fill>&>(r.fills.back()) = logged<Fill>(e);
        break;
      case EventType::kRiskRejected:
        r.rejections.push_back(logged<RiskRejected>(e));
        if (auto it = day_signals.find(e.as<RiskRejected>().signal_seq); it != day_signals.end())
          r.signals[it->second].rejected = e.as<RiskRejected>().reason;
        break;
      case EventType::kHandlerError:
        r.handler_errors.push_back(logged<HandlerError>(e));
        break;
      case EventType::kInputRejected:
        r.input_rejections.push_back(logged<InputRejected>(e));
        break;
      default:
        break;
    }
    return true;
  });
  if (!opened) {  // the day held nothing but a RUN_STARTED
    r.open = figures_of(state);
    drawdown.start(r.open.equity(), period->begin);
  }
  if (!closed) r.close = figures_of(state);
  r.max_drawdown = drawdown.worst();

  // Annotations carry the time of the event they are about, or the day's
  // start: those of the day, whenever they were written (found by time).
  ScanRange notes;
  notes.from_ts = period->begin;
  notes.to_ts = period->end - 1;
  notes.types = {EventType::kAnnotation};
  store.scan(notes, [&](const Event& e) {
    const auto& a = e.as<Annotation>();
    r.annotations.push_back(
        AnnotationLine{e.seq, e.ts_ns, e.symbol, a.refers_to_seq, a.tag, a.text});
    ++r.events_by_type[static_cast<std::size_t>(EventType::kAnnotation)];
    return true;
  });
  r.symbols.assign(symbols.begin(), symbols.end());
  r.window_begin_ns =
      std::min(period->begin, r.equity.empty() ? period->begin : r.equity.front().ts_ns);
  r.window_end_ns = std::max(period->end, r.equity.empty() ? period->end : r.equity.back().ts_ns);

  // Join each fill to its order and the order's signal; orders of earlier
  // days (a next-open fill) and their signals are looked up in the journal.
  std::set<Seq> missing;
  for (const FillLine& f : r.fills)
    if (!orders.count(f.body.order_seq)) missing.insert(f.body.order_seq);
  for (const auto& [seq, e] : events_at(store, missing))
    if (e.type() == EventType::kOrder) orders.emplace(seq, logged<Order>(e));
  missing.clear();
  for (const FillLine& f : r.fills)
    if (auto it = orders.find(f.body.order_seq);
        it != orders.end() && !signal_reasons.count(it->second.body.signal_seq))
      missing.insert(it->second.body.signal_seq);
  for (const auto& [seq, e] : events_at(store, missing))
    if (const auto* signal = e.get_if<Signal>()) signal_reasons.emplace(seq, signal->reason);
  for (FillLine& f : r.fills) {
    auto it = orders.find(f.body.order_seq);
    if (it == orders.end()) continue;
    f.order = it->second;
    if (auto reason = signal_reasons.find(it->second.body.signal_seq);
        reason != signal_reasons.end())
      f.signal_reason = reason->second;
  }
  return r;
}

RangeReport audit_range(const EventStore& store, std::optional<std::int32_t> from_day,
                        std::optional<std::int32_t> to_day, const AuditOptions& options) {
  if (from_day && to_day && *from_day > *to_day)
    throw ConfigError({Field{"from_day"}, " " + Calendar::day_name(*from_day) + " is after ",
                       Field{"to_day"}, " " + Calendar::day_name(*to_day)});
  const auto period = locate(store, from_day, to_day, options.run_seq);
  if (!period) no_events(from_day, to_day, options.run_seq);
  RangeReport r;
  r.journal = options.journal;
  r.tz = period->calendar.zone();
  r.run_seq = period->run.run_seq;
  r.manifest = period->run.manifest;
  r.from_day = from_day;
  r.to_day = to_day;
  r.first_seq = period->first_seq;

  RebuiltState state = rebuild_state(store, period->first_seq - 1);
  bool opened = false;
  std::set<std::string> symbols;
  std::optional<AuditDay> today;
  // A day opens before its first event, or after it if that event starts the run.
  bool day_open_pending = false;
  Decimal day_realized, day_unrealized;  // at the current day's open
  DrawdownTracker drawdown, range_drawdown;
  const auto open_day = [&] {
    const Portfolio& book = state.system->portfolio();
    day_realized = book.realized_pnl();
    day_unrealized = book.unrealized_pnl();
    drawdown.start(day_realized + day_unrealized, period->calendar.bounds(today->day).first);
    day_open_pending = false;
  };
  const auto close_day = [&] {
    if (!today) return;
    if (day_open_pending) open_day();
    const Portfolio& book = state.system->portfolio();
    today->realized_pnl = book.realized_pnl() - day_realized;
    today->unrealized_pnl = book.unrealized_pnl() - day_unrealized;
    today->equity = book.realized_pnl() + book.unrealized_pnl();
    today->max_drawdown = drawdown.worst().amount;
    r.days.push_back(*today);
    today.reset();
  };
  store.scan(ScanRange(period->first_seq, period->run.last), [&](const Event& e) {
    const EventType type = e.type();
    if (type == EventType::kAnnotation) return true;  // of another time: nothing of the day's
    if (e.ts_ns >= period->end) return false;
    const std::int32_t day = period->calendar.day_of(e.ts_ns);
    if (today && today->day != day) close_day();
    if (!today) {
      today.emplace();
      today->day = day;
      today->first_seq = e.seq;
      day_open_pending = true;
    }
    if (day_open_pending && type != EventType::kRunStarted) {
      if (!opened) {
        r.open = figures_of(state);
        range_drawdown.start(r.open.equity(), period->calendar.bounds(today->day).first);
      }
      opened = true;
      open_day();
    }
    replay_event(state, e);
    today->last_seq = e.seq;
    ++today->events;
    if (type == EventType::kFill) ++today->fills;
    if (type == EventType::kRiskRejected) ++today->rejections;
    if (type == EventType::kHandlerError) ++today->handler_errors;
    if (type == EventType::kInputRejected) ++today->input_rejections;
    if (!e.symbol.empty()) symbols.insert(e.symbol);
    if (!day_open_pending) {
      drawdown.mark(e.seq, e.ts_ns, equity_of(state));
      range_drawdown.mark(e.seq, e.ts_ns, equity_of(state));
    }
    r.last_seq = e.seq;
    return true;
  });
  if (!opened) {
    r.open = figures_of(state);
    range_drawdown.start(r.open.equity(), r.open.ts_ns);
  }
  close_day();
  r.close = figures_of(state);
  r.max_drawdown = range_drawdown.worst();
  r.symbols.assign(symbols.begin(), symbols.end());
  return r;
}

namespace {

std::string seq_text(Seq seq) { return seq ? fmt::format("#{}", seq) : std::string(); }

// Rows as a table with columns aligned by display width: `align` has 'l' or
// 'r' per column. Cells are escaped for the terminal (journal text is free text).
std::string aligned(const std::vector<std::string>& header,
                    const std::vector<std::vector<std::string>>& rows, std::string_view align) {
  assert(align.size() == header.size());
  std::vector<std::vector<std::string>> shown;
  shown.reserve(rows.size() + 1);
  shown.push_back(header);
  for (const auto& row : rows) shown.push_back(row);
  std::vector<std::size_t> width(header.size());
  for (auto& row : shown)
    for (std::size_t c = 0; c < row.size(); ++c) {
      row[c] = terminal_text(row[c]);
      width[c] = std::max(width[c], display_width(row[c]));
    }
  std::string out;
  for (const auto& cells : shown) {
    std::string line = " ";
    for (std::size_t c = 0; c < cells.size(); ++c) {
      line += ' ';
      if (c) line += ' ';
      line += padded(cells[c], width[c], align[c] == 'r' ? Align::kRight : Align::kLeft);
    }
    line.erase(line.find_last_not_of(' ') + 1);
    out += line + "\n";
  }
  return out;
}

std::string section(const std::string& title, std::size_t n, const std::string& table) {
  if (n == 0) return fmt::format("\n{}: none\n", title);
  return fmt::format("\n{} ({}):\n{}", title, n, table);
}

std::string run_text(const std::string& journal, Seq run_seq, const RunStarted& manifest) {
  std::string out =
      fmt::format("journal {}, ", journal.empty() ? "(unnamed)" : terminal_text(journal));
  out += run_seq ? fmt::format("run {} ({})", run_seq, terminal_text(manifest.input)) : "no run";
  return out;
}

std::string figures_line(const std::string& name, const BookFigures& f) {
  return fmt::format("{}: realized {}, unrealized {}, equity {} (after {} at {})", name,
                     f.realized_pnl.to_string(), f.unrealized_pnl.to_string(),
                     f.equity().to_string(), f.seq ? fmt::format("seq {}", f.seq) : "no event",
                     format_timestamp(f.ts_ns));
}

std::string drawdown_line(const std::string& during, const Drawdown& dd) {
  if (dd.amount.is_zero())
    return fmt::format("max drawdown 0: equity never fell below its peak {}\n", during);
  return fmt::format("max drawdown {}: equity {} ({}) to {} (seq {} at {})\n",
                     dd.amount.to_string(), dd.peak.to_string(),
                     dd.peak_seq
                         ? fmt::format("seq {} at {}", dd.peak_seq, format_timestamp(dd.peak_ts))
                         : std::string("the open"),
                     dd.trough.to_string(), dd.trough_seq, format_timestamp(dd.trough_ts));
}

Json drawdown_json(const Drawdown& dd) {
  return {{"amount", dd.amount.to_string()},
          {"peak", dd.peak.to_string()},
          {"peak_seq", dd.peak_seq},
          {"peak_time", format_timestamp(dd.peak_ts)},
          {"trough", dd.trough.to_string()},
          {"trough_seq", dd.trough_seq},
          {"trough_time", format_timestamp(dd.trough_ts)}};
}

Json figures_json(const BookFigures& f, bool with_positions) {
  Json j;
  j["seq"] = f.seq;
  j["time"] = format_timestamp(f.ts_ns);
  j["realized_pnl"] = f.realized_pnl.to_string();
  j["unrealized_pnl"] = f.unrealized_pnl.to_string();
  j["equity"] = f.equity().to_string();
  if (with_positions) j["positions"] = detail::positions_json(f.positions);
  return j;
}

Json events_json(const std::array<std::int64_t, kEventTypeCount>& counts) {
  Json j = Json::object();
  for (std::size_t t = 0; t < kEventTypeCount; ++t)
    if (counts[t]) j[std::string(to_string(static_cast<EventType>(t)))] = counts[t];
  return j;
}

std::string dump(const Json& j) {
  return j.dump(2, ' ', false, Json::error_handler_t::replace) + "\n";
}

}  // namespace

std::string day_report_text(const DayReport& r) {
  std::string out = fmt::format(
      "{} {}: trading day in {} [{}, {})\n", terminal_text(report_subject(r.symbols, r.manifest)),
      Calendar::day_name(r.day), r.tz, format_timestamp(r.begin_ns), format_timestamp(r.end_ns));
  out += r.first_seq
             ? fmt::format("{}, events seq {}..{}\n", run_text(r.journal, r.run_seq, r.manifest),
                           r.first_seq, r.last_seq)
             : fmt::format("{}, no trading events on this day\n",
                           run_text(r.journal, r.run_seq, r.manifest));

  std::int64_t total = 0;
  std::string counts;
  for (std::size_t t = 0; t < kEventTypeCount; ++t) {
    if (!r.events_by_type[t]) continue;
    counts += fmt::format(" {} {}", to_string(static_cast<EventType>(t)), r.events_by_type[t]);
    total += r.events_by_type[t];
  }
  out += fmt::format("\nevents ({}):{}\n\n", total, counts);

  const auto when = [](const BookFigures& f) {
    return f.seq ? fmt::format("after seq {} at {}", f.seq, format_timestamp(f.ts_ns))
                 : std::string("before any event");
  };
  out += aligned({"", "realized PnL", "unrealized PnL", "equity", ""},
                 {{"open", r.open.realized_pnl.to_string(), r.open.unrealized_pnl.to_string(),
                   r.open.equity().to_string(), when(r.open)},
                  {"close", r.close.realized_pnl.to_string(), r.close.unrealized_pnl.to_string(),
                   r.close.equity().to_string(), when(r.close)},
                  {"day", r.realized_pnl().to_string(), r.unrealized_pnl().to_string(),
                   r.pnl().to_string(), ""}},
                 "lrrrl");
  out += drawdown_line("during the day", r.max_drawdown);

  std::set<std::string> held;
  for (const auto& [symbol, p] : r.open.positions) held.insert(symbol);
  for (const auto& [symbol, p] : r.close.positions) held.insert(symbol);
  std::vector<std::vector<std::string>> rows;
  for (const std::string& symbol : held) {
    const auto o = r.open.positions.find(symbol);
    const auto c = r.close.positions.find(symbol);
    const Position open = o == r.open.positions.end() ? Position{} : o->second;
    const Position close = c == r.close.positions.end() ? Position{} : c->second;
    rows.push_back({symbol, open.quantity.to_string(), close.quantity.to_string(),
                    close.avg_price().to_string(), close.last_price.to_string(),
                    close.realized_pnl.to_string(), open.unrealized_pnl().to_string(),
                    close.unrealized_pnl().to_string()});
  }
  out += section("positions", rows.size(),
                 aligned({"symbol", "open qty", "close qty", "avg price", "last price", "realized",
                          "unrealized open", "unrealized close"},
                         rows, "lrrrrrrr"));

  rows.clear();
  for (const FillLine& f : r.fills)
    rows.push_back({seq_text(f.seq), format_timestamp(f.ts_ns), f.symbol,
                    std::string(to_string(f.body.side)), f.body.quantity.to_string(),
                    f.body.price.to_string(), f.body.commission.to_string(),
                    seq_text(f.body.order_seq),
                    f.order ? format_timestamp(f.order->ts_ns) : std::string("(not found)"),
                    f.order ? f.order->body.price.to_string() : std::string(), f.signal_reason});
  out += section("fills", rows.size(),
                 aligned({"seq", "time", "symbol", "side", "quantity", "price", "commission",
                          "order", "ordered at", "order price", "signal reason"},
                         rows, "rlllrrrrlrl"));

  rows.clear();
  for (const auto& o : r.orders)
    rows.push_back({seq_text(o.seq), format_timestamp(o.ts_ns), o.symbol,
                    std::string(to_string(o.body.side)), o.body.quantity.to_string(),
                    o.body.price.to_string(), seq_text(o.body.signal_seq)});
  out += section(
      "orders", rows.size(),
      aligned({"seq", "time", "symbol", "side", "quantity", "price", "signal"}, rows, "rlllrrr"));

  rows.clear();
  for (const SignalLine& s : r.signals)
    rows.push_back({seq_text(s.seq), format_timestamp(s.ts_ns), s.symbol,
                    std::string(to_string(s.body.direction)), s.body.price.to_string(),
                    s.order_seq  ? "order " + seq_text(s.order_seq)
                    : s.rejected ? std::string("rejected")
                                 : std::string("-"),
                    s.body.reason});
  out += section("signals", rows.size(),
                 aligned({"seq", "time", "symbol", "direction", "price", "outcome", "reason"}, rows,
                         "rlllrll"));

  rows.clear();
  for (const auto& x : r.rejections)
    rows.push_back({seq_text(x.seq), format_timestamp(x.ts_ns), x.symbol,
                    std::string(to_string(x.body.direction)), seq_text(x.body.signal_seq),
                    x.body.reason});
  out +=
      section("rejections", rows.size(),
              aligned({"seq", "time", "symbol", "direction", "signal", "reason"}, rows, "rlllrl"));

  rows.clear();
  for (const auto& h : r.handler_errors)
    rows.push_back({seq_text(h.seq), format_timestamp(h.ts_ns), h.symbol, h.body.handler,
                    seq_text(h.body.event_seq), h.body.error});
  out += section("handler errors", rows.size(),
                 aligned({"seq", "time", "symbol", "handler", "event", "error"}, rows, "rlllrl"));

  if (!r.annotations.empty()) {
    rows.clear();
    for (const AnnotationLine& a : r.annotations)
      rows.push_back({seq_text(a.seq), format_timestamp(a.ts_ns), a.symbol,
                      a.refers_to_seq ? seq_text(a.refers_to_seq) : std::string("the day"), a.tag,
                      a.text});
    out += section("annotations", rows.size(),
                   aligned({"seq", "time", "symbol", "about", "tag", "text"}, rows, "rlllll"));
  }
  if (!r.input_rejections.empty()) {
    rows.clear();
    for (const auto& x : r.input_rejections)
      rows.push_back({seq_text(x.seq), format_timestamp(x.ts_ns), std::to_string(x.body.line),
                      x.body.field, x.body.message, x.body.row});
    out += section("rejected input rows", rows.size(),
                   aligned({"seq", "time", "line", "field", "message", "row"}, rows, "rlrlll"));
  }
  return out;
}

std::string day_report_json(const DayReport& r) {
  Json j;
  j["journal"] = r.journal;
  j["day"] = Calendar::day_name(r.day);
  j["tz"] = r.tz;
  j["begin"] = format_timestamp(r.begin_ns);
  j["end"] = format_timestamp(r.end_ns);
  j["run_seq"] = r.run_seq;
  j["input"] = r.manifest.input;
  j["first_seq"] = r.first_seq;
  j["last_seq"] = r.last_seq;
  j["symbols"] = r.symbols;
  j["events"] = events_json(r.events_by_type);
  j["open"] = figures_json(r.open, true);
  j["close"] = figures_json(r.close, true);
  j["pnl"] = {{"realized", r.realized_pnl().to_string()},
              {"unrealized", r.unrealized_pnl().to_string()},
              {"total", r.pnl().to_string()}};
  j["max_drawdown"] = drawdown_json(r.max_drawdown);
  Json signals = Json::array();
  for (const SignalLine& s : r.signals)
    signals.push_back({{"seq", s.seq},
                       {"time", format_timestamp(s.ts_ns)},
                       {"symbol", s.symbol},
                       {"direction", to_string(s.body.direction)},
                       {"price", s.body.price.to_string()},
                       {"reason", s.body.reason},
                       {"order_seq", s.order_seq ? Json(s.order_seq) : Json()},
                       {"rejected", s.rejected ? Json(*s.rejected) : Json()}});
  j["signals"] = signals;
  Json orders = Json::array();
  for (const auto& o : r.orders)
    orders.push_back({{"seq", o.seq},
                      {"time", format_timestamp(o.ts_ns)},
                      {"symbol", o.symbol},
                      {"side", to_string(o.body.side)},
                      {"quantity", o.body.quantity.to_string()},
                      {"price", o.body.price.to_string()},
                      {"signal_seq", o.body.signal_seq}});
  j["orders"] = orders;
  Json fills = Json::array();
  for (const FillLine& f : r.fills)
    fills.push_back({{"seq", f.seq},
                     {"time", format_timestamp(f.ts_ns)},
                     {"symbol", f.symbol},
                     {"side", to_string(f.body.side)},
                     {"quantity", f.body.quantity.to_string()},
                     {"price", f.body.price.to_string()},
                     {"commission", f.body.commission.to_string()},
                     {"order_seq", f.body.order_seq},
                     {"order_time", f.order ? Json(format_timestamp(f.order->ts_ns)) : Json()},
                     {"order_price", f.order ? Json(f.order->body.price.to_string()) : Json()},
                     {"signal_reason", f.signal_reason}});
  j["fills"] = fills;
  Json rejections = Json::array();
  for (const auto& x : r.rejections)
    rejections.push_back({{"seq", x.seq},
                          {"time", format_timestamp(x.ts_ns)},
                          {"symbol", x.symbol},
                          {"direction", to_string(x.body.direction)},
                          {"reason", x.body.reason},
                          {"signal_seq", x.body.signal_seq}});
  j["rejections"] = rejections;
  Json errors = Json::array();
  for (const auto& h : r.handler_errors)
    errors.push_back({{"seq", h.seq},
                      {"time", format_timestamp(h.ts_ns)},
                      {"symbol", h.symbol},
                      {"handler", h.body.handler},
                      {"event_seq", h.body.event_seq},
                      {"error", h.body.error}});
  j["handler_errors"] = errors;
  Json annotations = Json::array();
  for (const AnnotationLine& a : r.annotations)
    annotations.push_back({{"seq", a.seq},
                           {"time", format_timestamp(a.ts_ns)},
                           {"symbol", a.symbol},
                           {"refers_to_seq", a.refers_to_seq},
                           {"tag", a.tag},
                           {"text", a.text}});
  j["annotations"] = annotations;
  if (!r.input_rejections.empty()) {
    Json rejected = Json::array();
    for (const auto& x : r.input_rejections)
      rejected.push_back({{"seq", x.seq},
                          {"time", format_timestamp(x.ts_ns)},
                          {"line", x.body.line},
                          {"field", x.body.field},
                          {"message", x.body.message},
                          {"row", x.body.row}});
    j["input_rejections"] = rejected;
  }
  return dump(j);
}

std::string range_report_text(const RangeReport& r) {
  const std::string from = r.from_day       ? Calendar::day_name(*r.from_day)
                           : r.days.empty() ? std::string("?")
                                            : Calendar::day_name(r.days.front().day);
  const std::string to = r.to_day         ? Calendar::day_name(*r.to_day)
                         : r.days.empty() ? std::string("?")
                                          : Calendar::day_name(r.days.back().day);
  std::string out = fmt::format("{} {} to {}: {} trading days in {}\n",
                                terminal_text(report_subject(r.symbols, r.manifest)), from, to,
                                r.days.size(), r.tz);
  out += fmt::format("{}, events seq {}..{}\n\n", run_text(r.journal, r.run_seq, r.manifest),
                     r.first_seq, r.last_seq);
  std::vector<std::vector<std::string>> rows;
  for (const AuditDay& d : r.days)
    rows.push_back({Calendar::day_name(d.day), d.realized_pnl.to_string(),
                    d.unrealized_pnl.to_string(), d.pnl().to_string(), d.equity.to_string(),
                    std::to_string(d.fills), std::to_string(d.rejections),
                    std::to_string(d.handler_errors), d.max_drawdown.to_string(),
                    std::to_string(d.events)});
  const AuditDay total = r.totals();
  rows.push_back({"total", total.realized_pnl.to_string(), total.unrealized_pnl.to_string(),
                  total.pnl().to_string(), total.equity.to_string(), std::to_string(total.fills),
                  std::to_string(total.rejections), std::to_string(total.handler_errors),
                  total.max_drawdown.to_string(), std::to_string(total.events)});
  out += aligned({"day", "realized", "unrealized", "pnl", "equity", "fills", "rejections", "errors",
                  "drawdown", "events"},
                 rows, "lrrrrrrrrr");
  if (total.input_rejections) {
    std::string days;
    for (const AuditDay& d : r.days)
      if (d.input_rejections)
        days += fmt::format("{}{}: {}", days.empty() ? "" : ", ", Calendar::day_name(d.day),
                            d.input_rejections);
    out += fmt::format("\nrejected input rows: {} ({}); audit --day lists them\n",
                       total.input_rejections, days);
  }
  out += "\n" + figures_line("open", r.open) + "\n" + figures_line("close", r.close) + "\n";
  out += drawdown_line("over the range", r.max_drawdown);
  return out;
}

namespace {

// The figures of one day of a range, or of its totals, as the JSON report has
// them; with the count of rejected input rows for a range that has some.
Json audit_day_json(const AuditDay& d, bool with_input_rejections) {
  Json j = {{"first_seq", d.first_seq},
            {"last_seq", d.last_seq},
            {"realized_pnl", d.realized_pnl.to_string()},
            {"unrealized_pnl", d.unrealized_pnl.to_string()},
            {"pnl", d.pnl().to_string()},
            {"equity", d.equity.to_string()},
            {"max_drawdown", d.max_drawdown.to_string()},
            {"events", d.events},
            {"fills", d.fills},
            {"rejections", d.rejections},
            {"handler_errors", d.handler_errors}};
  if (with_input_rejections) j["input_rejections"] = d.input_rejections;
  return j;
}

}  // namespace

std::string range_report_json(const RangeReport& r) {
  Json j;
  j["journal"] = r.journal;
  j["tz"] = r.tz;
  j["run_seq"] = r.run_seq;
  j["input"] = r.manifest.input;
  j["from"] = r.from_day ? Json(Calendar::day_name(*r.from_day)) : Json();
  j["to"] = r.to_day ? Json(Calendar::day_name(*r.to_day)) : Json();
  j["first_seq"] = r.first_seq;
  j["last_seq"] = r.last_seq;
  j["symbols"] = r.symbols;
  j["open"] = figures_json(r.open, false);
  j["close"] = figures_json(r.close, false);
  j["pnl"] = {{"realized", r.realized_pnl().to_string()},
              {"unrealized", r.unrealized_pnl().to_string()},
              {"total", r.pnl().to_string()}};
  const AuditDay totals = r.totals();
  const bool with_input_rejections = totals.input_rejections > 0;
  Json days = Json::array();
  for (const AuditDay& d : r.days) {
    Json day = {{"day", Calendar::day_name(d.day)}};
    day.update(audit_day_json(d, with_input_rejections));
    days.push_back(std::move(day));
  }
  j["days"] = days;
  j["totals"] = audit_day_json(totals, with_input_rejections);
  j["max_drawdown"] = drawdown_json(r.max_drawdown);
  return dump(j);
}

AuditDay RangeReport::totals() const {
  AuditDay t;
  t.first_seq = first_seq;
  t.last_seq = last_seq;
  for (const AuditDay& d : days) {
    t.realized_pnl += d.realized_pnl;
    t.unrealized_pnl += d.unrealized_pnl;
    t.events += d.events;
    t.fills += d.fills;
    t.rejections += d.rejections;
    t.handler_errors += d.handler_errors;
    t.input_rejections += d.input_rejections;
  }
  t.equity = close.equity();
  t.max_drawdown = max_drawdown.amount;
  return t;
}

std::string report_subject(const std::vector<std::string>& symbols, const RunStarted& manifest) {
  if (symbols.empty())
    return manifest.symbol.empty() ? std::string("(no symbol)") : manifest.symbol;
  if (symbols.size() > 3) return fmt::format("{} symbols", symbols.size());
  std::string out;
  for (const std::string& s : symbols) out += (out.empty() ? "" : ", ") + s;
  return out;
}

}  // namespace blotter
