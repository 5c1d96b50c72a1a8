#include "blotter/diff.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <deque>
#include <nlohmann/json.hpp>

#include "blotter/error.h"
#include "blotter/replay.h"
#include "blotter/terminal_text.h"
#include "blotter/trading_system.h"

namespace blotter {
namespace {

using Json = nlohmann::ordered_json;

// A rejected input row is not trading either: a live session that skipped
// bad rows compares equal to a run of its input without them.
bool is_trading(EventType t) {
  return t != EventType::kRunStarted && t != EventType::kRunFinished &&
         t != EventType::kAnnotation && t != EventType::kInputRejected;
}

// The trading events of one run, read in chunks of kChunk events so that
// memory stays bounded, and the position of each among them.
class TradingEvents {
 public:
  TradingEvents(const EventStore& store, const DiffRun& run)
      : store_(store), first_(run.first_seq), last_(run.last_seq), next_seq_(run.first_seq) {}

  // The next trading event, or nullptr past the run's last one. The pointer
  // is valid until the next call.
  const Event* next() {
    while (buffer_.empty() && next_seq_ <= last_) refill();
    if (buffer_.empty()) return nullptr;
    current_ = std::move(buffer_.front());
    buffer_.pop_front();
    return &current_;
  }

  // The position (1-based) among the run's trading events of the event at
  // `seq`, read already. Seqs are gap-free, so it is the run's events up to
  // `seq` less the other events among them; a seq before the run gives a
  // position of 0 or less, the same for runs that agree so far.
  std::int64_t position_of(Seq seq) const {
    const auto others = std::lower_bound(others_.begin(), others_.end(), seq) - others_.begin();
    return seq - first_ + 1 - others;
  }

 private:
  static constexpr std::size_t kChunk = 4096;

  void refill() {
    std::size_t read = 0;
    Seq seen = next_seq_ - 1;
    store_.scan(ScanRange(next_seq_, last_), [&](const Event& e) {
      seen = e.seq;
      if (is_trading(e.type()))
        buffer_.push_back(e);
      else
        others_.push_back(e.seq);  // in seq order: others_ stays sorted
      return ++read < kChunk;
    });
    next_seq_ = read < kChunk ? last_ + 1 : seen + 1;
  }

  const EventStore& store_;
  Seq first_, last_, next_seq_;
  std::deque<Event> buffer_;
  Event current_;
  // The run's events that are not trading events (its RUN_STARTED and
  // RUN_FINISHED, annotations, rejected input rows), read so far: few.
  std::vector<Seq> others_;
};

// `e` with the seq its payload refers to replaced by that event's position
// in `run`, as two runs that did the same at different seqs agree on.
Event by_position(Event e, const TradingEvents& run) {
  if (auto* o = std::get_if<Order>(&e.payload)) o->signal_seq = run.position_of(o->signal_seq);
  if (auto* f = std::get_if<Fill>(&e.payload)) f->order_seq = run.position_of(f->order_seq);
  if (auto* r = std::get_if<RiskRejected>(&e.payload))
    r->signal_seq = run.position_of(r->signal_seq);
  if (auto* h = std::get_if<HandlerError>(&e.payload)) h->event_seq = run.position_of(h->event_seq);
  e.seq = 0;
  return e;
}

bool same_event(const Event& a, const TradingEvents& run_a, const Event& b,
                const TradingEvents& run_b) {
  if (a.type() != b.type() || a.ts_ns != b.ts_ns || a.symbol != b.symbol) return false;
  return encode_payload(by_position(a, run_a)) == encode_payload(by_position(b, run_b));
}

void count(RunTally& tally, const Event& e) {
  ++tally.events;
  switch (e.type()) {
    case EventType::kSignal:
      ++tally.signals;
      break;
    case EventType::kOrder:
      ++tally.orders;
      break;
    case EventType::kFill:
      ++tally.fills;
      break;
    case EventType::kRiskRejected:
      ++tally.rejections;
      break;
    case EventType::kHandlerError:
      ++tally.handler_errors;
      break;
    default:
      break;
  }
}

// The run of `store` at `wanted`, else its latest (its second latest if
// `second_latest`). Errors name `field`, the DiffOptions member.
DiffRun choose_run(const EventStore& store, const std::string& journal,
                   const std::optional<Seq>& wanted, bool second_latest, const char* field) {
  std::vector<RunSpan> spans = run_spans(store);
  std::erase_if(spans, [](const RunSpan& s) { return s.run_seq == 0; });
  const auto chosen = [&](const RunSpan& s) {
    return DiffRun{journal, s.run_seq, s.first, s.last, s.manifest, {}};
  };
  if (wanted) {
    for (const RunSpan& s : spans)
      if (s.run_seq == *wanted) return chosen(s);
    throw ConfigError(
        Field{field},
        fmt::format("{}: no run of {} starts at that seq (blotter runs lists the journal's runs)",
                    *wanted, journal));
  }
  if (spans.empty()) throw ConfigError(fmt::format("{} holds no run", journal));
  if (!second_latest) return chosen(spans.back());
  if (spans.size() < 2)
    throw ConfigError({fmt::format("{} holds one run (seq {}): nothing to compare it with; give a "
                                   "second journal, or runs by ",
                                   journal, spans.back().run_seq),
                       Field{"run1"}, " and ", Field{"run2"}});
  return chosen(spans[spans.size() - 2]);
}

// The RUN_STARTED payload's fields, objects flattened ("params.window"),
// each value as JSON text, in the payload's order.
std::vector<std::pair<std::string, std::string>> manifest_fields(const RunStarted& manifest) {
  std::vector<std::pair<std::string, std::string>> fields;
  const auto flatten = [&](const auto& self, const Json& value, const std::string& name) -> void {
    if (value.is_object() && !value.empty()) {
      for (const auto& [key, member] : value.items())
        self(self, member, name.empty() ? key : name + "." + key);
      return;
    }
    if (name == "params" && value.is_string()) {
      // The strategy's parameters, canonical "key=value,..." text: one field each.
      const std::string text = value.get<std::string>();
      for (std::size_t start = 0; start < text.size();) {
        std::size_t end = text.find(',', start);
        if (end == std::string::npos) end = text.size();
        const std::string pair = text.substr(start, end - start);
        const std::size_t eq = pair.find('=');
        self(self, Json(eq == std::string::npos ? "" : pair.substr(eq + 1)),
             "params." + pair.substr(0, eq));
        start = end + 1;
      }
      return;
    }
    fields.emplace_back(name, value.dump(-1, ' ', false, Json::error_handler_t::replace));
  };
  // As blotter reads a manifest written before the strategy's fields (an
  // ma_crossover run's window), so that equal configurations compare equal.
  RunStarted read_as = manifest;
  read_as.params = strategy_params_of(manifest);
  if (read_as.strategy_sha256.empty()) read_as.strategy_sha256 = strategy_sha256(manifest);
  flatten(flatten, Json::parse(encode_payload(make_event(0, "", read_as))), "");
  return fields;
}

std::vector<ConfigDifference> config_differences(const RunStarted& a, const RunStarted& b) {
  const auto fields_a = manifest_fields(a), fields_b = manifest_fields(b);
  const auto find = [](const auto& fields, const std::string& name) -> std::optional<std::string> {
    for (const auto& [field, value] : fields)
      if (field == name) return value;
    return std::nullopt;
  };
  std::vector<ConfigDifference> out;
  for (const auto& [field, value] : fields_a)
    if (const auto other = find(fields_b, field); other != value)
      out.push_back({field, value, other});
  for (const auto& [field, value] : fields_b)
    if (!find(fields_a, field)) out.push_back({field, std::nullopt, value});
  return out;
}

void tally_books(DiffRun& run, const EventStore& store) {
  const RebuiltState state = rebuild_state(store, run.last_seq);
  run.tally.realized_pnl = state.system->portfolio().realized_pnl();
  run.tally.unrealized_pnl = state.system->portfolio().unrealized_pnl();
}

// A value of ConfigDifference as the text table shows it: a JSON string as
// its text, anything else as JSON.
std::string shown(const std::optional<std::string>& value) {
  if (!value) return "(absent)";
  const Json parsed = Json::parse(*value);
  return terminal_text(parsed.is_string() ? parsed.get<std::string>() : *value);
}

Json event_object(const Event& e) { return Json::parse(event_json(e)); }

Json tally_json(std::int64_t events, std::int64_t signals, std::int64_t orders, std::int64_t fills,
                std::int64_t rejections, std::int64_t handler_errors, Decimal realized,
                Decimal unrealized) {
  return Json{{"trading_events", events},
              {"signals", signals},
              {"orders", orders},
              {"fills", fills},
              {"rejections", rejections},
              {"handler_errors", handler_errors},
              {"realized_pnl", realized.to_string()},
              {"unrealized_pnl", unrealized.to_string()}};
}

Json tally_json(const RunTally& t) {
  return tally_json(t.events, t.signals, t.orders, t.fills, t.rejections, t.handler_errors,
                    t.realized_pnl, t.unrealized_pnl);
}

Json run_json(const DiffRun& run) {
  return Json{{"journal", run.journal},
              {"run_seq", run.run_seq},
              {"first_seq", run.first_seq},
              {"last_seq", run.last_seq},
              {"manifest", Json::parse(encode_payload(make_event(0, "", run.manifest)))}};
}

}  // namespace

RunDiff diff_runs(const EventStore& journal1, const EventStore& journal2,
                  const DiffOptions& options) {
  const std::string name1 = options.journal1.empty() ? "journal 1" : options.journal1;
  const std::string name2 = options.journal2.empty() ? "journal 2" : options.journal2;
  const bool one_journal = &journal1 == &journal2 && !options.run1 && !options.run2;
  RunDiff diff;
  diff.run1 = choose_run(journal1, name1, options.run1, one_journal, "run1");
  diff.run2 = choose_run(journal2, name2, options.run2, false, "run2");
  diff.configuration = config_differences(diff.run1.manifest, diff.run2.manifest);

  TradingEvents events1(journal1, diff.run1), events2(journal2, diff.run2);
  std::deque<std::pair<Event, Event>> context;
  for (;;) {
    const Event* a = events1.next();
    const Event* b = events2.next();
    if (!a && !b) break;
    if (a) count(diff.run1.tally, *a);
    if (b) count(diff.run2.tally, *b);
    if (diff.divergence) continue;  // counting the rest
    if (a && b && same_event(*a, events1, *b, events2)) {
      ++diff.matched;
      context.emplace_back(*a, *b);
      if (context.size() > 5) context.pop_front();
      continue;
    }
    Divergence d;
    d.position = diff.matched + 1;
    if (a) d.run1 = *a;
    if (b) d.run2 = *b;
    d.context.assign(context.begin(), context.end());
    diff.divergence = std::move(d);
  }
  tally_books(diff.run1, journal1);
  tally_books(diff.run2, journal2);
  return diff;
}

std::string run_diff_text(const RunDiff& diff) {
  std::string out;
  auto line = [&out](const std::string& text) { out += text + "\n"; };
  for (const auto* run : {&diff.run1, &diff.run2})
    line(fmt::format("run {}: {}, the run at seq {} (seq {}..{})", run == &diff.run1 ? 1 : 2,
                     terminal_text(run->journal), run->run_seq, run->first_seq, run->last_seq));

  line("");
  if (diff.configuration.empty()) {
    line("configuration: identical");
  } else {
    line(fmt::format("configuration: {} field{} differ{}", diff.configuration.size(),
                     diff.configuration.size() == 1 ? "" : "s",
                     diff.configuration.size() == 1 ? "s" : ""));
    std::size_t w_field = 5, w_run1 = 5;
    for (const auto& c : diff.configuration) {
      w_field = std::max(w_field, display_width(terminal_text(c.field)));
      w_run1 = std::max(w_run1, display_width(shown(c.run1)));
    }
    line(fmt::format("  {}  {}  {}", padded("field", w_field), padded("run 1", w_run1), "run 2"));
    for (const auto& c : diff.configuration)
      line(fmt::format("  {}  {}  {}", padded(terminal_text(c.field), w_field),
                       padded(shown(c.run1), w_run1), shown(c.run2)));
  }

  line("");
  if (!diff.divergence) {
    line(fmt::format("trading events: identical, {} in each run", diff.matched));
  } else {
    const Divergence& d = *diff.divergence;
    line(fmt::format("trading events: differ at trading event {} ({} equal before it)", d.position,
                     diff.matched));
    if (!d.context.empty()) {
      line(fmt::format("  the {} before it, equal in both runs (run 2's seq in brackets):",
                       d.context.size()));
      for (const auto& [a, b] : d.context) line(fmt::format("    [{}] {}", b.seq, event_json(a)));
    }
    const auto side = [&](const std::optional<Event>& e, const DiffRun& run) {
      return e ? event_json(*e)
               : fmt::format("(no more trading events: the run has {})", run.tally.events);
    };
    line(fmt::format("  run 1: {}", side(d.run1, diff.run1)));
    line(fmt::format("  run 2: {}", side(d.run2, diff.run2)));
  }

  line("");
  const RunTally &t1 = diff.run1.tally, &t2 = diff.run2.tally;
  std::vector<std::array<std::string, 4>> rows = {{"summary", "run 1", "run 2", "run 2 - run 1"}};
  const auto counted = [&](const char* what, std::int64_t a, std::int64_t b) {
    rows.push_back(
        {fmt::format("  {}", what), std::to_string(a), std::to_string(b), std::to_string(b - a)});
  };
  counted("trading events", t1.events, t2.events);
  counted("signals", t1.signals, t2.signals);
  counted("orders", t1.orders, t2.orders);
  counted("fills", t1.fills, t2.fills);
  counted("rejections", t1.rejections, t2.rejections);
  counted("handler errors", t1.handler_errors, t2.handler_errors);
  const auto money = [&](const char* what, Decimal a, Decimal b) {
    rows.push_back({fmt::format("  {}", what), a.to_string(), b.to_string(), (b - a).to_string()});
  };
  money("realized PnL", t1.realized_pnl, t2.realized_pnl);
  money("unrealized PnL", t1.unrealized_pnl, t2.unrealized_pnl);
  std::array<std::size_t, 4> width{};
  for (const auto& row : rows)
    for (std::size_t i = 0; i < row.size(); ++i) width[i] = std::max(width[i], row[i].size());
  for (const auto& row : rows)
    line(fmt::format(
        "{}  {}  {}  {}", padded(row[0], width[0]), padded(row[1], width[1], Align::kRight),
        padded(row[2], width[2], Align::kRight), padded(row[3], width[3], Align::kRight)));
  return out;
}

std::string run_diff_json(const RunDiff& diff) {
  Json configuration = Json::array();
  for (const auto& c : diff.configuration)
    configuration.push_back({{"field", c.field},
                             {"run1", c.run1 ? Json::parse(*c.run1) : Json(nullptr)},
                             {"run2", c.run2 ? Json::parse(*c.run2) : Json(nullptr)}});
  Json divergence = nullptr;
  if (diff.divergence) {
    const Divergence& d = *diff.divergence;
    Json context = Json::array();
    for (const auto& [a, b] : d.context)
      context.push_back({{"run1", event_object(a)}, {"run2", event_object(b)}});
    divergence = {{"position", d.position},
                  {"run1", d.run1 ? event_object(*d.run1) : Json(nullptr)},
                  {"run2", d.run2 ? event_object(*d.run2) : Json(nullptr)},
                  {"context", context}};
  }
  const RunTally &t1 = diff.run1.tally, &t2 = diff.run2.tally;
  const Json out = {
      {"identical", diff.identical()},
      {"run1", run_json(diff.run1)},
      {"run2", run_json(diff.run2)},
      {"configuration", configuration},
      {"trading_events", {{"matched", diff.matched}, {"divergence", divergence}}},
      {"summary",
       {{"run1", tally_json(t1)},
        {"run2", tally_json(t2)},
        {"difference",
         tally_json(t2.events - t1.events, t2.signals - t1.signals, t2.orders - t1.orders,
                    t2.fills - t1.fills, t2.rejections - t1.rejections,
                    t2.handler_errors - t1.handler_errors, t2.realized_pnl - t1.realized_pnl,
                    t2.unrealized_pnl - t1.unrealized_pnl)}}}};
  return out.dump(2, ' ', false, Json::error_handler_t::replace) + "\n";
}

}  // namespace blotter
