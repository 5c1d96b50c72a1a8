// The audit reports as self-contained HTML pages. Tables and figures are
// written here, as exact decimal text; the charts are drawn in the browser by
// the inlined Chart.js from a JSON block whose numbers are for plotting only.
#include <fmt/format.h>

#include <algorithm>
#include <nlohmann/json.hpp>
#include <set>

#include "blotter/audit.h"
#include "blotter/calendar.h"
#include "reports/embedded_text.h"

namespace blotter {
namespace {

using Json = nlohmann::ordered_json;

// Price charts drawn at most; every symbol with a fill of the day gets one regardless.
constexpr std::size_t kMaxPriceCharts = 4;

// Text made safe for HTML element content and quoted attribute values.
std::string esc(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

// JSON for a <script type="application/json"> element. '<', '>' and '&' only
// occur inside JSON strings, where \u escapes mean the same to JSON.parse, so
// no text from the journal can end the element ("</script>") or open a
// comment ("<!--") in it.
std::string script_json(const Json& j) {
  const std::string text = j.dump(-1, ' ', false, Json::error_handler_t::replace);
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    if (c == '<')
      out += "\\u003c";
    else if (c == '>')
      out += "\\u003e";
    else if (c == '&')
      out += "\\u0026";
    else
      out += c;
  }
  return out;
}

// Numbers for the charts only: a double is close enough to draw, never to book.
double plot(Decimal d) { return static_cast<double>(d.raw()) / Decimal::kScale; }
double plot_ms(TimestampNs ts) { return static_cast<double>(ts) / 1e6; }

std::string signed_text(Decimal d) { return (d.is_positive() ? "+" : "") + d.to_string(); }
std::string tone(Decimal d) { return d.is_positive() ? "pos" : d.is_negative() ? "neg" : ""; }
std::string seq_text(Seq seq) { return seq ? fmt::format("#{}", seq) : std::string(); }

// Collects the errors and console warnings of every script on the page,
// Chart.js included, for the render check written by audit_page.js. Runs
// before any other script.
constexpr const char* kErrorCollector = R"js(
window.blotterErrors = [];
window.addEventListener('error', function (e) {
  window.blotterErrors.push(String(e.message || e.type) +
      (e.filename ? ' (' + e.filename.split('/').pop() + ':' + e.lineno + ')' : ''));
});
window.addEventListener('unhandledrejection', function (e) {
  window.blotterErrors.push('unhandled rejection: ' + String(e.reason));
});
['error', 'warn'].forEach(function (level) {
  var original = console[level];
  console[level] = function () {
    window.blotterErrors.push('console.' + level + ': ' + Array.prototype.join.call(arguments, ' '));
    return original.apply(console, arguments);
  };
});
)js";

std::string page(const std::string& title, const std::string& body, const Json& data) {
  std::string out = "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n";
  out += "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n";
  out += "<meta name=\"generator\" content=\"blotter audit\">\n";
  out += "<title>" + esc(title) + "</title>\n";
  out += "<script>" + std::string(kErrorCollector) + "</script>\n";
  out += "<style>\n" + detail::audit_page_css() + "</style>\n</head>\n<body>\n<main>\n";
  out += body;
  out += "</main>\n<pre id=\"render-check\" hidden></pre>\n";
  out +=
      "<script type=\"application/json\" id=\"report-data\">" + script_json(data) + "</script>\n";
  out += "<script>\n" + detail::chartjs_text() + "\n</script>\n";
  out += "<script>\n" + detail::audit_page_js() + "</script>\n</body>\n</html>\n";
  return out;
}

struct Cell {
  std::string html;  // already escaped
  bool numeric = false;
};
Cell text(std::string_view t) { return Cell{esc(t), false}; }
Cell num(std::string_view t) { return Cell{esc(t), true}; }
Cell num(std::int64_t n) { return Cell{std::to_string(n), true}; }
Cell money(Decimal d) {
  return Cell{"<span class=\"" + tone(d) + "\">" + esc(d.to_string()) + "</span>", true};
}
Cell side(Side s) {
  const std::string name(to_string(s));
  return Cell{"<span class=\"side-" + name + "\">" + name + "</span>", false};
}

std::string table(const std::vector<Cell>& header, const std::vector<std::vector<Cell>>& rows,
                  const std::vector<Cell>& footer = {}) {
  std::string out = "<table>\n<thead><tr>";
  for (const Cell& h : header)
    out += std::string(h.numeric ? "<th class=\"num\">" : "<th>") + h.html + "</th>";
  out += "</tr></thead>\n<tbody>\n";
  const auto row_html = [](const std::vector<Cell>& row) {
    std::string tr = "<tr>";
    for (const Cell& c : row)
      tr += std::string(c.numeric ? "<td class=\"num\">" : "<td>") + c.html + "</td>";
    return tr + "</tr>\n";
  };
  for (const auto& row : rows) out += row_html(row);
  out += "</tbody>\n";
  if (!footer.empty()) out += "<tfoot>\n" + row_html(footer) + "</tfoot>\n";
  return out + "</table>\n";
}

std::string panel(const std::string& id, const std::string& title, std::size_t n,
                  const std::string& content, const std::string& none = "none") {
  std::string out = "<section class=\"panel\" id=\"" + id + "\">\n<h2>" + esc(title);
  out += fmt::format(" <span class=\"count\">{}</span></h2>\n", n);
  out += n ? content : "<p class=\"empty\">" + esc(none) + "</p>\n";
  return out + "</section>\n";
}

// A headline figure; --chars lets the style shrink a long one to fit.
std::string card(const std::string& label, const std::string& value, const std::string& value_class,
                 const std::string& sub_html) {
  return "<div class=\"card\"><div class=\"label\">" + esc(label) + "</div><div class=\"value " +
         value_class +
         fmt::format("\" style=\"--chars: {}\">", std::max<std::size_t>(value.size(), 8)) +
         esc(value) + "</div><div class=\"sub\">" + sub_html + "</div></div>\n";
}

std::string header(const std::string& eyebrow, const std::string& subject_text,
                   const std::string& when, const std::string& journal, Seq run_seq,
                   const RunStarted& manifest, const std::string& tz, Seq first, Seq last) {
  std::string out = "<header>\n<div class=\"eyebrow\">" + esc(eyebrow) + "</div>\n";
  out += "<h1>" + esc(subject_text) + " <span class=\"when\">" + esc(when) + "</span></h1>\n";
  out += "<p class=\"meta\">journal <b>" + esc(journal.empty() ? "(unnamed)" : journal) + "</b>";
  if (run_seq) out += " &middot; run " + esc(seq_text(run_seq)) + " (" + esc(manifest.input) + ")";
  out += " &middot; trading days in " + esc(tz);
  out += " &middot; events " + esc(seq_text(first)) + "&ndash;" + esc(seq_text(last)) + "</p>\n";
  return out + "</header>\n";
}

std::string footer() {
  return "<footer>Figures are exact decimals from the journal, rebuilt by replaying its events; "
         "charts are drawn with Chart.js (MIT licence), inlined in this file.</footer>\n";
}

}  // namespace

std::string day_report_html(const DayReport& r) {
  // Times in the run's zone, as on the charts' axes, with their UTC offset.
  const Calendar calendar(r.tz);
  const auto local = [&](TimestampNs ts) { return calendar.format_local(ts); };
  const std::string day = Calendar::day_name(r.day);
  const std::string who = report_subject(r.symbols, r.manifest);
  std::string body = header("blotter audit \xc2\xb7 trading day", who, day, r.journal, r.run_seq,
                            r.manifest, r.tz, r.first_seq, r.last_seq);

  std::int64_t buys = 0;
  for (const FillLine& f : r.fills) buys += f.body.side == Side::kBuy;
  const Drawdown& dd = r.max_drawdown;
  body += "<section class=\"cards\">\n";
  body += card("Day PnL", signed_text(r.pnl()), tone(r.pnl()),
               "realized " + esc(signed_text(r.realized_pnl())) + " &middot; unrealized " +
                   esc(signed_text(r.unrealized_pnl())));
  body += card("Equity at close", r.close.equity().to_string(), "",
               "at the open " + esc(r.open.equity().to_string()));
  body += card("Fills", std::to_string(r.fills.size()), "",
               fmt::format("{} buy &middot; {} sell", buys,
                           static_cast<std::int64_t>(r.fills.size()) - buys));
  body += card("Rejections", std::to_string(r.rejections.size()),
               r.rejections.empty() ? "" : "warn", fmt::format("signals: {}", r.signals.size()));
  body += card("Handler errors", std::to_string(r.handler_errors.size()),
               r.handler_errors.empty() ? "" : "neg",
               r.handler_errors.empty() ? "none" : "see the table below");
  if (!r.input_rejections.empty())
    body += card("Rejected input rows", std::to_string(r.input_rejections.size()), "warn",
                 "skipped by the live session: see the table below");
  body += card("Max drawdown", dd.amount.to_string(), dd.amount.is_zero() ? "" : "neg",
               dd.amount.is_zero()
                   ? std::string("never below its peak")
                   : esc(dd.peak.to_string()) + " &rarr; " + esc(dd.trough.to_string()) + " (" +
                         esc(seq_text(dd.trough_seq)) + ")");
  body += "</section>\n";

  // Price charts: every symbol with a fill, then others, up to the limit.
  std::set<std::string> filled;
  for (const FillLine& f : r.fills) filled.insert(f.symbol);
  std::vector<std::string> charted(filled.begin(), filled.end());
  for (const std::string& s : r.symbols)
    if (!filled.count(s) && r.prices.count(s) && charted.size() < kMaxPriceCharts)
      charted.push_back(s);
  Json prices = Json::array();
  for (std::size_t i = 0; i < charted.size(); ++i) {
    Json points = Json::array();
    if (auto it = r.prices.find(charted[i]); it != r.prices.end())
      for (const PricePoint& p : it->second)
        points.push_back(Json::array({plot_ms(p.ts_ns), plot(p.price), p.seq}));
    prices.push_back({{"symbol", charted[i]}, {"points", points}});
    body += "<section class=\"panel\">\n<h2>" + esc(charted[i]) + " price</h2>\n";
    body += "<p class=\"note\">" + esc(day) +
            " shaded, with the market events around it; &#9650; buy, &#9660; sell at the fill "
            "price (hollow: fills of other days)</p>\n";
    body += fmt::format("<div class=\"chart\"><canvas id=\"price-{}\"></canvas></div>\n", i);
    body += "</section>\n";
  }
  if (charted.size() < r.symbols.size())
    body += fmt::format(
        "<p class=\"note\">{} more symbols with events on the day are not charted.</p>\n",
        r.symbols.size() - charted.size());
  body += "<section class=\"panel\">\n<h2>Equity</h2>\n";
  body +=
      "<p class=\"note\">realized + unrealized PnL after each market event and fill; the "
      "dashed line is the day's open, the markers the day's largest drawdown</p>\n";
  body += "<div class=\"chart short\"><canvas id=\"equity\"></canvas></div>\n</section>\n";

  std::vector<std::vector<Cell>> rows;
  for (const FillLine& f : r.fills)
    rows.push_back({num(seq_text(f.seq)), text(local(f.ts_ns)), text(f.symbol), side(f.body.side),
                    num(f.body.quantity.to_string()), num(f.body.price.to_string()),
                    num(f.body.commission.to_string()), num(seq_text(f.body.order_seq)),
                    text(f.order ? local(f.order->ts_ns) : "(not in the journal)"),
                    num(f.order ? f.order->body.price.to_string() : ""), text(f.signal_reason)});
  body += panel("fills", "Fills", rows.size(),
                table({text("seq"), text("time"), text("symbol"), text("side"), num("quantity"),
                       num("price"), num("commission"), num("order"), text("ordered at"),
                       num("order price"), text("signal reason")},
                      rows),
                "no fills on this day");

  rows.clear();
  for (const SignalLine& s : r.signals)
    rows.push_back({num(seq_text(s.seq)), text(local(s.ts_ns)), text(s.symbol),
                    text(to_string(s.body.direction)), num(s.body.price.to_string()),
                    text(s.order_seq  ? "order " + seq_text(s.order_seq)
                         : s.rejected ? "rejected: " + *s.rejected
                                      : std::string("no order")),
                    text(s.body.reason)});
  body += panel("signals", "Signals", rows.size(),
                table({text("seq"), text("time"), text("symbol"), text("direction"), num("price"),
                       text("outcome"), text("reason")},
                      rows));

  rows.clear();
  for (const auto& o : r.orders)
    rows.push_back({num(seq_text(o.seq)), text(local(o.ts_ns)), text(o.symbol), side(o.body.side),
                    num(o.body.quantity.to_string()), num(o.body.price.to_string()),
                    num(seq_text(o.body.signal_seq))});
  body += panel("orders", "Orders", rows.size(),
                table({text("seq"), text("time"), text("symbol"), text("side"), num("quantity"),
                       num("price"), num("signal")},
                      rows));

  rows.clear();
  for (const auto& x : r.rejections)
    rows.push_back({num(seq_text(x.seq)), text(local(x.ts_ns)), text(x.symbol),
                    text(to_string(x.body.direction)), num(seq_text(x.body.signal_seq)),
                    text(x.body.reason)});
  body += panel("rejections", "Rejections", rows.size(),
                table({text("seq"), text("time"), text("symbol"), text("direction"), num("signal"),
                       text("reason")},
                      rows));

  rows.clear();
  for (const auto& h : r.handler_errors)
    rows.push_back({num(seq_text(h.seq)), text(local(h.ts_ns)), text(h.symbol),
                    text(h.body.handler), num(seq_text(h.body.event_seq)), text(h.body.error)});
  body += panel("handler-errors", "Handler errors", rows.size(),
                table({text("seq"), text("time"), text("symbol"), text("handler"), num("event"),
                       text("error")},
                      rows));

  if (!r.annotations.empty()) {
    rows.clear();
    for (const AnnotationLine& a : r.annotations)
      rows.push_back({num(seq_text(a.seq)), text(local(a.ts_ns)), text(a.symbol),
                      text(a.refers_to_seq ? seq_text(a.refers_to_seq) : "the day"), text(a.tag),
                      text(a.text)});
    body += panel(
        "annotations", "Annotations", rows.size(),
        table({text("seq"), text("time"), text("symbol"), text("about"), text("tag"), text("text")},
              rows));
  }

  if (!r.input_rejections.empty()) {
    rows.clear();
    for (const auto& x : r.input_rejections)
      rows.push_back({num(seq_text(x.seq)), text(local(x.ts_ns)), num(std::to_string(x.body.line)),
                      text(x.body.field), text(x.body.message), text(x.body.row)});
    body += panel(
        "input-rejections", "Rejected input rows", rows.size(),
        table({text("seq"), text("time"), num("line"), text("field"), text("message"), text("row")},
              rows));
  }

  std::set<std::string> held;
  for (const auto& [symbol, p] : r.open.positions) held.insert(symbol);
  for (const auto& [symbol, p] : r.close.positions) held.insert(symbol);
  rows.clear();
  for (const std::string& symbol : held) {
    const auto o = r.open.positions.find(symbol);
    const auto c = r.close.positions.find(symbol);
    const Position open = o == r.open.positions.end() ? Position{} : o->second;
    const Position close = c == r.close.positions.end() ? Position{} : c->second;
    rows.push_back({text(symbol), num(open.quantity.to_string()), num(close.quantity.to_string()),
                    num(close.avg_price().to_string()), num(close.last_price.to_string()),
                    money(close.realized_pnl), money(open.unrealized_pnl()),
                    money(close.unrealized_pnl())});
  }
  body += "<div class=\"grid2\">\n";
  body += panel(
      "positions", "Positions", rows.size(),
      table({text("symbol"), num("open qty"), num("close qty"), num("avg price"), num("last price"),
             num("realized"), num("unrealized open"), num("unrealized close")},
            rows));
  rows.clear();
  std::int64_t events = 0;
  for (std::size_t t = 0; t < kEventTypeCount; ++t) {
    if (!r.events_by_type[t]) continue;
    rows.push_back({text(to_string(static_cast<EventType>(t))), num(r.events_by_type[t])});
    events += r.events_by_type[t];
  }
  body += panel("events", "Events by type", static_cast<std::size_t>(events),
                table({text("type"), num("events")}, rows));
  body += "</div>\n" + footer();

  Json fills = Json::array();
  for (const FillLine& f : r.fills) {
    const auto chart = std::find(charted.begin(), charted.end(), f.symbol) - charted.begin();
    fills.push_back({{"chart", chart},
                     {"symbol", f.symbol},
                     {"t", plot_ms(f.ts_ns)},
                     {"price", plot(f.body.price)},
                     {"side", to_string(f.body.side)},
                     {"quantity", f.body.quantity.to_string()},
                     {"price_text", f.body.price.to_string()},
                     {"seq", f.seq}});
  }
  Json window_fills = Json::array();
  for (const auto& f : r.window_fills) {
    const auto chart = std::find(charted.begin(), charted.end(), f.symbol) - charted.begin();
    if (chart == static_cast<std::ptrdiff_t>(charted.size())) continue;
    window_fills.push_back({{"chart", chart},
                            {"t", plot_ms(f.ts_ns)},
                            {"price", plot(f.body.price)},
                            {"side", to_string(f.body.side)},
                            {"quantity", f.body.quantity.to_string()},
                            {"price_text", f.body.price.to_string()},
                            {"seq", f.seq}});
  }
  Json equity = Json::array();
  for (const EquityPoint& p : r.equity)
    equity.push_back(Json::array({plot_ms(p.ts_ns), plot(p.equity), p.seq}));
  Json data;
  data["kind"] = "day";
  data["tz"] = r.tz;
  data["day"] = day;
  data["day_begin"] = plot_ms(r.begin_ns);
  data["day_end"] = plot_ms(r.end_ns);
  data["window_begin"] = plot_ms(r.window_begin_ns);
  data["window_end"] = plot_ms(r.window_end_ns);
  data["prices"] = prices;
  data["fills"] = fills;
  data["window_fills"] = window_fills;
  data["equity"] = equity;
  data["open_equity"] = plot(r.open.equity());
  data["drawdown"] = dd.amount.is_zero()
                         ? Json()
                         : Json({{"peak", {plot_ms(dd.peak_ts), plot(dd.peak)}},
                                 {"trough", {plot_ms(dd.trough_ts), plot(dd.trough)}},
                                 {"amount", dd.amount.to_string()}});
  return page(fmt::format("{} {} \xe2\x80\x94 blotter audit", who, day), body, data);
}

std::string range_report_html(const RangeReport& r) {
  const std::string from = r.days.empty() ? "?" : Calendar::day_name(r.days.front().day);
  const std::string to = r.days.empty() ? "?" : Calendar::day_name(r.days.back().day);
  const std::string who = report_subject(r.symbols, r.manifest);
  const std::string when = from + " \xe2\x86\x92 " + to;
  std::string body = header("blotter audit \xc2\xb7 trading days", who, when, r.journal, r.run_seq,
                            r.manifest, r.tz, r.first_seq, r.last_seq);

  std::int64_t fills = 0, rejections = 0, errors = 0, input_rejections = 0, up = 0, down = 0;
  const AuditDay* best = nullptr;
  const AuditDay* worst = nullptr;
  for (const AuditDay& d : r.days) {
    fills += d.fills;
    rejections += d.rejections;
    errors += d.handler_errors;
    input_rejections += d.input_rejections;
    up += d.pnl().is_positive();
    down += d.pnl().is_negative();
    if (!best || d.pnl() > best->pnl()) best = &d;
    if (!worst || d.pnl() < worst->pnl()) worst = &d;
  }
  body += "<section class=\"cards\">\n";
  body += card("PnL", signed_text(r.pnl()), tone(r.pnl()),
               "realized " + esc(signed_text(r.realized_pnl())) + " &middot; unrealized " +
                   esc(signed_text(r.unrealized_pnl())));
  body += card("Trading days", std::to_string(r.days.size()), "",
               fmt::format("{} up &middot; {} down", up, down));
  body += card("Best day", best ? signed_text(best->pnl()) : "\xe2\x80\x93",
               best ? tone(best->pnl()) : "", best ? esc(Calendar::day_name(best->day)) : "");
  body += card("Worst day", worst ? signed_text(worst->pnl()) : "\xe2\x80\x93",
               worst ? tone(worst->pnl()) : "", worst ? esc(Calendar::day_name(worst->day)) : "");
  body += card("Fills", std::to_string(fills), "", fmt::format("{} rejections", rejections));
  body += card("Handler errors", std::to_string(errors), errors ? "neg" : "",
               errors ? "see the days below" : "none");
  if (input_rejections)
    body += card("Rejected input rows", std::to_string(input_rejections), "warn",
                 "skipped by the live session: audit --day lists them");
  const Drawdown& dd = r.max_drawdown;
  body += card("Max drawdown", dd.amount.to_string(), dd.amount.is_zero() ? "" : "neg",
               dd.amount.is_zero()
                   ? std::string("never below its peak")
                   : esc(dd.peak.to_string()) + " &rarr; " + esc(dd.trough.to_string()) + " (" +
                         esc(seq_text(dd.trough_seq)) + ")");
  body += "</section>\n";
  body +=
      "<section class=\"panel\">\n<h2>Daily PnL</h2>\n<p class=\"note\">realized + change of "
      "unrealized PnL per trading day</p>\n<div class=\"chart\"><canvas "
      "id=\"daily-pnl\"></canvas></div>\n</section>\n";
  body +=
      "<section class=\"panel\">\n<h2>Equity</h2>\n<p class=\"note\">cumulative: realized + "
      "unrealized PnL at each day's close</p>\n<div class=\"chart short\"><canvas "
      "id=\"equity\"></canvas></div>\n</section>\n";

  std::vector<std::vector<Cell>> rows;
  for (const AuditDay& d : r.days)
    rows.push_back({text(Calendar::day_name(d.day)), money(d.realized_pnl), money(d.unrealized_pnl),
                    money(d.pnl()), num(d.equity.to_string()), num(d.fills), num(d.rejections),
                    num(d.handler_errors), num(d.max_drawdown.to_string()), num(d.events)});
  // The totals: the days summed, and the range's own drawdown, peak to trough.
  const AuditDay t = r.totals();
  body += panel("days", "Trading days", rows.size(),
                table({text("day"), num("realized"), num("unrealized"), num("pnl"), num("equity"),
                       num("fills"), num("rejections"), num("handler errors"), num("drawdown"),
                       num("events")},
                      rows,
                      {text("total"), money(t.realized_pnl), money(t.unrealized_pnl),
                       money(t.pnl()), num(t.equity.to_string()), num(t.fills), num(t.rejections),
                       num(t.handler_errors), num(t.max_drawdown.to_string()), num(t.events)}));
  body += footer();

  Json days = Json::array();
  for (const AuditDay& d : r.days)
    days.push_back({{"day", Calendar::day_name(d.day)},
                    {"pnl", plot(d.pnl())},
                    {"equity", plot(d.equity)},
                    {"fills", d.fills}});
  Json data;
  data["kind"] = "range";
  data["tz"] = r.tz;
  data["open_equity"] = plot(r.open.equity());
  data["days"] = days;
  return page(fmt::format("{} {} \xe2\x80\x94 blotter audit", who, when), body, data);
}

}  // namespace blotter
