#include "blotter/snapshot.h"

#include <fmt/format.h>

#include <charconv>
#include <deque>
#include <map>
#include <nlohmann/json.hpp>

#include "blotter/error.h"
#include "events/payload_json.h"
#include "events/state_json.h"

namespace blotter {
namespace {

using Json = detail::StateJson;
using detail::StateWriter;
using Reader = detail::StateReader;

void encode_book(StateWriter& w, const Portfolio::State& b) {
  w.open('{').key("positions").open('[');
  for (const auto& [symbol, p] : b.positions) {
    w.open('{').key("symbol").string(symbol);
    w.key("quantity").decimal(p.quantity);
    w.key("cost").decimal(p.cost);
    w.key("realized_pnl").decimal(p.realized_pnl);
    w.key("last_price").decimal(p.last_price);
    w.key("marked").boolean(p.marked);
    w.close('}');
  }
  w.close(']').key("days").open('[');
  for (const DayPnl& d : b.days) {
    w.open('{').key("day").integer(d.day);
    w.key("realized_pnl").decimal(d.realized_pnl);
    w.key("unrealized_pnl").decimal(d.unrealized_pnl);
    w.key("unrealized_at_close").decimal(d.unrealized_at_close);
    w.key("fills").integer(d.fills);
    w.close('}');
  }
  w.close(']');
  w.key("realized_pnl").decimal(b.realized);
  w.key("unrealized_pnl").decimal(b.unrealized);
  w.key("unrealized_at_open").decimal(b.unrealized_at_open);
  w.key("last_ts_ns").integer(b.last_ts);
  w.close('}');
}

std::int32_t day_number(const Reader& r) {
  const std::int64_t d = r.integer();
  if (d < INT32_MIN || d > INT32_MAX) r.fail("not a day number");
  return static_cast<std::int32_t>(d);
}

Portfolio::State decode_book(const Reader& r) {
  Portfolio::State b;
  const Reader positions = r.at("positions");
  std::size_t i = 0;
  for (const Json& v : positions.array()) {
    const Reader p = positions.item(i++, v);
    Position pos;
    pos.quantity = p.at("quantity").decimal();
    pos.cost = p.at("cost").decimal();
    pos.realized_pnl = p.at("realized_pnl").decimal();
    pos.last_price = p.at("last_price").decimal();
    pos.marked = p.at("marked").boolean();
    // In order as written: inserted at the end, unless edited out of order.
    b.positions.insert_or_assign(b.positions.end(), p.at("symbol").text(), pos);
  }
  const Reader days = r.at("days");
  i = 0;
  for (const Json& v : days.array()) {
    const Reader d = days.item(i++, v);
    DayPnl day;
    day.day = day_number(d.at("day"));
    day.realized_pnl = d.at("realized_pnl").decimal();
    day.unrealized_pnl = d.at("unrealized_pnl").decimal();
    day.unrealized_at_close = d.at("unrealized_at_close").decimal();
    day.fills = d.at("fills").integer();
    b.days.push_back(day);
  }
  b.realized = r.at("realized_pnl").decimal();
  b.unrealized = r.at("unrealized_pnl").decimal();
  b.unrealized_at_open = r.at("unrealized_at_open").decimal();
  b.last_ts = r.at("last_ts_ns").integer();
  return b;
}

// Reads exactly the text encode_state writes, in one pass, without a JSON
// tree (which costs several times the text in memory and most of the time
// of a rebuild from a snapshot of many symbols). Returns nullopt for
// anything else: whitespace, another key order, symbols out of order or
// with escapes or bytes outside printable ASCII; decode_state then reads
// the text with nlohmann::json, which also names what is wrong.
class CanonicalReader : detail::CanonicalText {
 public:
  explicit CanonicalReader(std::string_view text) : CanonicalText(text) {}

  std::optional<TradingSystem::State> read() {
    TradingSystem::State s;
    std::string_view strategy;
    if (!literal(R"({"signals":)") || !value(strategy) || !literal(R"(,"risk":{"book":)") ||
        !book(s.risk.book) || !literal(R"(,"pending":{)") || !pending(s.risk.pending) ||
        !literal(R"(,"halted_day":)") || !halted_day(s.risk.halted_day) || !halt(s.risk) ||
        !literal(R"(},"execution":{)") || !execution(s.broker) || !literal(R"(,"portfolio":)") ||
        !book(s.portfolio) || !literal("}") || !at_end())
      return std::nullopt;
    s.strategy = strategy;
    return s;
  }

 private:
  bool day(std::int32_t& out) {
    std::int64_t d = 0;
    if (!integer(d) || d < INT32_MIN || d > INT32_MAX) return false;
    out = static_cast<std::int32_t>(d);
    return true;
  }
  bool pending(std::map<std::string, Decimal>& out) {
    return keyed(out, [&](Decimal& q) { return decimal(q); });
  }
  bool halted_day(std::optional<std::int32_t>& out) {
    if (literal("null")) return true;
    return day(out.emplace());
  }
  // `,"halt":{...}` if the state has one. Without it, a state halted on its
  // current day is an older snapshot decode_state refuses: left to it.
  bool halt(RiskManager::State& risk) {
    if (!literal(R"(,"halt":{"day_pnl":)")) {
      return !(risk.halted_day && !risk.book.days.empty() &&
               *risk.halted_day == risk.book.days.back().day);
    }
    RiskManager::Halt& h = risk.halt.emplace(RiskManager::Halt{});
    return decimal(h.day_pnl) && literal(R"(,"ts_ns":)") && integer(h.ts_ns) && literal("}");
  }
  bool execution(Broker::State& out) {
    return keyed(out, [&](std::deque<PendingOrder>& orders) {
      return literal("[") && elements(']', [&] {
               PendingOrder& p = orders.emplace_back();
               if (!literal(R"({"order_seq":)") || !integer(p.seq) || !literal(R"(,"order":)"))
                 return false;
               // An ORDER payload holds no braces inside.
               std::string_view text;
               if (!through('}', text)) return false;
               const auto order = detail::decode_canonical_payload(EventType::kOrder, text);
               if (!order) return false;
               p.order = std::get<Order>(*order);
               return literal("}");
             });
    });
  }
  bool book(Portfolio::State& b) {
    return literal(R"({"positions":[)") &&
           elements(']',
                    [&] {
                      std::string_view symbol;
                      Position p;
                      if (!literal(R"({"symbol":)") || !string(symbol) ||
                          !literal(R"(,"quantity":)") || !decimal(p.quantity) ||
                          !literal(R"(,"cost":)") || !decimal(p.cost) ||
                          !literal(R"(,"realized_pnl":)") || !decimal(p.realized_pnl) ||
                          !literal(R"(,"last_price":)") || !decimal(p.last_price) ||
                          !literal(R"(,"marked":)") || !boolean(p.marked) || !literal("}"))
                        return false;
                      if (!b.positions.empty() && !(b.positions.rbegin()->first < symbol))
                        return false;
                      b.positions.emplace_hint(b.positions.end(), symbol, p);
                      return true;
                    }) &&
           literal(R"(,"days":[)") &&
           elements(']',
                    [&] {
                      DayPnl& d = b.days.emplace_back();
                      return literal(R"({"day":)") && day(d.day) &&
                             literal(R"(,"realized_pnl":)") && decimal(d.realized_pnl) &&
                             literal(R"(,"unrealized_pnl":)") && decimal(d.unrealized_pnl) &&
                             literal(R"(,"unrealized_at_close":)") &&
                             decimal(d.unrealized_at_close) && literal(R"(,"fills":)") &&
                             integer(d.fills) && literal("}");
                    }) &&
           literal(R"(,"realized_pnl":)") && decimal(b.realized) &&
           literal(R"(,"unrealized_pnl":)") && decimal(b.unrealized) &&
           literal(R"(,"unrealized_at_open":)") && decimal(b.unrealized_at_open) &&
           literal(R"(,"last_ts_ns":)") && integer(b.last_ts) && literal("}");
  }
};

}  // namespace

std::string encode_state(const TradingSystem::State& s) {
  std::string out;
  StateWriter w(out);
  // The strategy's state under the key its first implementation gave it.
  w.open('{').key("signals").raw(s.strategy);
  w.key("risk").open('{').key("book");
  encode_book(w, s.risk.book);
  w.key("pending").open('{');
  for (const auto& [symbol, q] : s.risk.pending) w.key(symbol).decimal(q);
  w.close('}').key("halted_day");
  if (s.risk.halted_day)
    w.integer(*s.risk.halted_day);
  else
    w.null();
  // Only while the halted day is the current one: other states encode as before.
  if (s.risk.halt) {
    w.key("halt").open('{').key("day_pnl").decimal(s.risk.halt->day_pnl);
    w.key("ts_ns").integer(s.risk.halt->ts_ns);
    w.close('}');
  }
  w.close('}').key("execution").open('{');
  std::string order;
  for (const auto& [symbol, orders] : s.broker) {
    w.key(symbol).open('[');
    for (const auto& p : orders) {
      w.open('{').key("order_seq").integer(p.seq);
      // encode_payload's text is compact JSON with the payload's keys in order.
      encode_payload(make_event(0, symbol, p.order), order);
      w.key("order").raw(order);
      w.close('}');
    }
    w.close(']');
  }
  w.close('}').key("portfolio");
  encode_book(w, s.portfolio);
  w.close('}');
  return out;
}

TradingSystem::State decode_state(std::string_view text) {
  if (auto state = CanonicalReader(text).read()) return std::move(*state);
  Json j;
  try {
    j = Json::parse(text);
  } catch (const Json::exception& e) {
    // parse_error, or out_of_range for a number beyond a double ("1e400").
    throw Error(fmt::format("snapshot: invalid JSON: {}", e.what()));
  }
  const Reader r(j);
  r.object();
  TradingSystem::State s;
  // The strategy's state is its own to read (Strategy::restore_state).
  s.strategy = r.at("signals").json().dump();
  // Keys come in order (std::map objects): each is inserted at the end.
  const Reader risk = r.at("risk");
  s.risk.book = decode_book(risk.at("book"));
  const Reader risk_pending = risk.at("pending");
  for (const auto& [symbol, v] : risk_pending.object().items())
    s.risk.pending.emplace_hint(s.risk.pending.end(), symbol,
                                risk_pending.member(v, symbol).decimal());
  if (const Reader halted = risk.at("halted_day"); !halted.is_null())
    s.risk.halted_day = day_number(halted);
  if (risk.object().contains("halt")) {
    const Reader halt = risk.at("halt");
    s.risk.halt = RiskManager::Halt{halt.at("day_pnl").decimal(), halt.at("ts_ns").integer()};
  } else if (s.risk.halted_day && !s.risk.book.days.empty() &&
             *s.risk.halted_day == s.risk.book.days.back().day) {
    // Written before "halt" existed, on a halted day: the rejections that
    // follow need what halted it, so this snapshot cannot be used.
    risk.fail("halted on its current day, without \"halt\" (an older snapshot)");
  }
  const Reader execution = r.at("execution");
  for (const auto& [symbol, v] : execution.object().items()) {
    const Reader orders = execution.member(v, symbol);
    std::size_t i = 0;
    for (const Json& o : orders.array()) {
      const Reader p = orders.item(i++, o);
      PendingOrder pending;
      pending.seq = p.at("order_seq").integer();
      try {
        pending.order =
            std::get<Order>(decode_payload(EventType::kOrder, p.at("order").json().dump()));
      } catch (const Error& e) {
        p.fail(e.what());
      }
      s.broker[symbol].push_back(pending);
    }
  }
  s.portfolio = decode_book(r.at("portfolio"));
  return s;
}

Snapshot snapshot_of(const RebuiltState& state) {
  return Snapshot{state.seq, state.run_seq, state.ts_ns, kSnapshotFormat,
                  encode_state(state.system->state())};
}

std::int64_t write_snapshots(EventStore& store, std::int64_t every,
                             const StrategyRegistry& strategies) {
  if (every <= 0) throw ConfigError("snapshots must be at least 1 event apart");
  // A strategy's state is in the snapshots: every run's must be here.
  for (const auto& [run_seq, manifest] : list_runs(store)) {
    require_strategy(manifest, run_seq, strategies);
    // Another version would store a state the run's own version never had.
    if (const int version = strategies.find(manifest.strategy)->version;
        version != manifest.strategy_version)
      throw ConfigError(fmt::format(
          "seq {}: the run used strategy '{}' version {}, and this program has version {}: "
          "its snapshots would not hold that version's state",
          run_seq, manifest.strategy, manifest.strategy_version, version));
  }
  const Seq last = store.last_seq();
  RebuiltState state = rebuild_state(store, 0, Snapshots::kIgnore, strategies);
  std::int64_t written = 0;
  try {
    store.clear_snapshots();
    Seq last_written = 0;
    for (Seq upto = 0; upto < last;) {
      upto = std::min<Seq>(last, upto + every);
      replay_into(state, store, upto);
      // Annotations move no state: a stretch of only annotations gets no snapshot.
      if (state.seq == last_written) continue;
      store.put_snapshot(snapshot_of(state));
      last_written = state.seq;
      ++written;
    }
    store.commit();
  } catch (...) {
    store.rollback();
    throw;
  }
  return written;
}

std::optional<SnapshotMismatch> check_snapshots(const EventStore& store,
                                                const StrategyRegistry& strategies) {
  RebuiltState state = rebuild_state(store, 0, Snapshots::kIgnore, strategies);
  for (const Seq seq : store.snapshot_seqs()) {
    const auto stored = store.snapshot_at_or_before(seq);
    if (!stored || stored->seq != seq) return SnapshotMismatch{seq, "disappeared while checked"};
    if (seq > store.last_seq())
      return SnapshotMismatch{seq, fmt::format("is past the last event ({})", store.last_seq())};
    replay_into(state, store, seq);
    if (stored->format != kSnapshotFormat)
      return SnapshotMismatch{seq, fmt::format("format {} is not {} (rebuild with `blotter "
                                               "snapshot`)",
                                               stored->format, kSnapshotFormat)};
    if (stored->run_seq != state.run_seq)
      return SnapshotMismatch{seq, fmt::format("belongs to run {}, the events say run {}",
                                               stored->run_seq, state.run_seq)};
    if (stored->ts_ns != state.ts_ns)
      return SnapshotMismatch{seq, "event time differs from the event's"};
    const std::string fresh = encode_state(state.system->state());
    if (stored->state != fresh) {
      // Compare decoded, so a difference in spacing alone is no mismatch,
      // and name the first component that differs.
      std::string why = "state differs from a full replay";
      try {
        auto mine = Json::parse(fresh);
        const auto theirs = Json::parse(stored->state);
        // A snapshot written before risk.halt existed lacks it; it is passed
        // over where it matters (decode_state), and not wrong.
        if (theirs.contains("risk") && theirs["risk"].is_object() &&
            !theirs["risk"].contains("halt"))
          mine["risk"].erase("halt");
        // A strategy this program lacks, or has in another version: its
        // state is the run's to check.
        const auto* entry = strategies.find(state.manifest.strategy);
        const bool same_strategy = state.system->has_strategy() && entry != nullptr &&
                                   entry->version == state.manifest.strategy_version;
        if (!same_strategy && theirs.contains("signals")) mine["signals"] = theirs["signals"];
        if (mine == theirs) continue;
        for (const auto& [key, value] : mine.items())
          if (!theirs.contains(key) || theirs[key] != value) {
            why = fmt::format("state.{} differs from a full replay", key);
            break;
          }
      } catch (const Json::exception&) {
        why = "state is not valid JSON";
      }
      return SnapshotMismatch{seq, why};
    }
  }
  return std::nullopt;
}

}  // namespace blotter
