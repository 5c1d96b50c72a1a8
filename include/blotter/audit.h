// The audit: what happened on one trading day, or day by day over a range,
// with the books rebuilt by replaying the journal (never by separate SQL).
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "blotter/decimal.h"
#include "blotter/event.h"
#include "blotter/portfolio.h"
#include "blotter/store.h"

namespace blotter {

struct AuditOptions {
  // The run audited: the seq of its RUN_STARTED; 0: the latest run with an
  // event in the period. Runs are separate books, so an audit covers one run,
  // and its trading days are dates in that run's time zone (its --tz).
  Seq run_seq = 0;
  // The journal as the reader knows it (its path), for titles.
  std::string journal;
  // Distinct market timestamps charted before and after the day in the day
  // report, so that a day of daily bars is seen among its neighbours.
  int context = 30;
};

// The books right after event `seq`. Equity here is realized plus unrealized
// PnL: the capital is left out.
struct BookFigures {
  Seq seq = 0;  // 0: before the journal's first event
  TimestampNs ts_ns = 0;
  Decimal realized_pnl, unrealized_pnl;
  std::map<std::string, Position> positions;
  Decimal equity() const { return realized_pnl + unrealized_pnl; }
};

// One event of the day with its payload.
template <class T>
struct Logged {
  Seq seq = 0;
  TimestampNs ts_ns = 0;
  std::string symbol;
  T body;
};

// A SIGNAL and what the risk manager made of it: an ORDER, a refusal, or
// nothing (an exit while flat).
struct SignalLine : Logged<Signal> {
  Seq order_seq = 0;
  std::optional<std::string> rejected;  // the RISK_REJECTED reason
};

// A FILL joined to its ORDER (through order_seq; the order may be of an
// earlier day) and to the reason of that order's SIGNAL.
struct FillLine : Logged<Fill> {
  std::optional<Logged<Order>> order;  // nullopt if the journal lacks it
  std::string signal_reason;
};

// An ANNOTATION of the day: about one of its events, or about the day.
struct AnnotationLine {
  Seq seq = 0;  // the ANNOTATION's own
  TimestampNs ts_ns = 0;
  std::string symbol;
  Seq refers_to_seq = 0;  // 0: about the day
  std::string tag;
  std::string text;
};

// Peak-to-trough fall of equity, peak first. A peak_seq of 0 is the opening equity.
struct Drawdown {
  Decimal amount;  // peak - trough, never negative; 0: equity never fell below a peak
  Seq peak_seq = 0, trough_seq = 0;
  TimestampNs peak_ts = 0, trough_ts = 0;
  Decimal peak, trough;
};

struct PricePoint {
  Seq seq = 0;
  TimestampNs ts_ns = 0;
  Decimal price;  // BAR close or TICK price
};

struct EquityPoint {
  Seq seq = 0;
  TimestampNs ts_ns = 0;
  Decimal equity;
};

// The report of one trading day of one run.
struct DayReport {
  std::string journal;
  std::int32_t day = 0;  // Calendar day number
  std::string tz;
  TimestampNs begin_ns = 0, end_ns = 0;  // the day: [begin, end)
  Seq run_seq = 0;                       // 0: events outside any run
  RunStarted manifest;
  Seq first_seq = 0, last_seq = 0;  // the day's first and last events
  std::vector<std::string> symbols;
  std::array<std::int64_t, kEventTypeCount> events_by_type{};

  // The books after the last event before the day (for the run's first day,
  // after its RUN_STARTED: empty) and after the day's last event.
  BookFigures open, close;
  // Largest fall of equity during the day, marked after each of the day's
  // events and starting from the opening equity.
  Drawdown max_drawdown;

  std::vector<SignalLine> signals;
  std::vector<Logged<Order>> orders;
  std::vector<FillLine> fills;
  std::vector<Logged<RiskRejected>> rejections;
  std::vector<Logged<HandlerError>> handler_errors;
  std::vector<AnnotationLine> annotations;  // see AnnotationLine
  // The input rows a live session skipped on the day (INPUT_REJECTED). The
  // reports show them only when there are some: a day without them reports
  // as it did before they existed.
  std::vector<Logged<InputRejected>> input_rejections;

  // For the charts, over the day and `context` market timestamps each side:
  // market prices per symbol, and equity after each market event and fill.
  TimestampNs window_begin_ns = 0, window_end_ns = 0;
  std::map<std::string, std::vector<PricePoint>> prices;
  std::vector<EquityPoint> equity;
  std::vector<Logged<Fill>> window_fills;  // the window's fills of other days

  Decimal realized_pnl() const { return close.realized_pnl - open.realized_pnl; }
  Decimal unrealized_pnl() const { return close.unrealized_pnl - open.unrealized_pnl; }
  Decimal pnl() const { return close.equity() - open.equity(); }
};

// One trading day in a range report.
struct AuditDay {
  std::int32_t day = 0;
  Seq first_seq = 0, last_seq = 0;
  Decimal realized_pnl, unrealized_pnl;  // changes over the day
  Decimal equity;                        // at the close
  Decimal max_drawdown;
  std::int64_t events = 0, fills = 0, rejections = 0, handler_errors = 0;
  // INPUT_REJECTED events: the reports show the count only for a range with
  // some, so a range without them reports as it did before they existed.
  std::int64_t input_rejections = 0;
  Decimal pnl() const { return realized_pnl + unrealized_pnl; }
};

// One row per trading day (a day with events) of a range of one run.
struct RangeReport {
  std::string journal;
  std::string tz;
  Seq run_seq = 0;
  RunStarted manifest;
  std::optional<std::int32_t> from_day, to_day;  // as asked; nullopt: open-ended
  Seq first_seq = 0, last_seq = 0;
  std::vector<std::string> symbols;
  BookFigures open, close;
  std::vector<AuditDay> days;
  // Largest fall of equity over the whole range, marked after each event and
  // starting from the opening equity: it may span days, so it can exceed
  // every day's own max_drawdown.
  Drawdown max_drawdown;

  Decimal realized_pnl() const { return close.realized_pnl - open.realized_pnl; }
  Decimal unrealized_pnl() const { return close.unrealized_pnl - open.unrealized_pnl; }
  Decimal pnl() const { return close.equity() - open.equity(); }
  // The totals row: the days' PnL and counts summed, the equity at the close,
  // and the range's own max_drawdown (not the largest day's). day is 0.
  AuditDay totals() const;
};

// Audits trading day `day` (a Calendar day number) of the run chosen by
// `options`. The books at the open are rebuilt with rebuild_state (from the
// nearest snapshot), then the day's events are scanned once and replayed
// alongside. Reads nothing but `store`, writes nothing. Throws
// blotter::ConfigError if the run has no event on that day (or there is no
// such run), blotter::Error if the journal cannot be read.
DayReport audit_day(const EventStore& store, std::int32_t day, const AuditOptions& options = {});

// Audits the trading days from `from_day` to `to_day` inclusive (either may
// be open-ended) of the run chosen by `options`, in one pass over their
// events: memory does not grow with the number of events, only with days.
// Throws like audit_day.
RangeReport audit_range(const EventStore& store, std::optional<std::int32_t> from_day,
                        std::optional<std::int32_t> to_day, const AuditOptions& options = {});

// The reports as terminal tables, as JSON (decimals as exact strings) and as
// one self-contained HTML page (Chart.js, script and style inlined: it opens
// without network access). Every text from the journal is escaped for HTML.
// The HTML ones throw blotter::ConfigError in a library built without the
// HTML report (BLOTTER_HTML_REPORT=OFF).
std::string day_report_text(const DayReport& report);
std::string day_report_json(const DayReport& report);
std::string day_report_html(const DayReport& report);
std::string range_report_text(const RangeReport& report);
std::string range_report_json(const RangeReport& report);
std::string range_report_html(const RangeReport& report);

// What a report is about, for its title: its symbols (or how many, past 3),
// else the run's --symbol, else "(no symbol)".
std::string report_subject(const std::vector<std::string>& symbols, const RunStarted& manifest);

}  // namespace blotter
