#include "blotter/snapshot.h"

#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "blotter/error.h"

namespace blotter {
namespace {

using Json = nlohmann::ordered_json;

Json encode_book(const Portfolio::State& b) {
  Json positions = Json::array();
  for (const auto& [symbol, p] : b.positions)
    positions.push_back({{"symbol", symbol},
                         {"quantity", p.quantity.to_string()},
                         {"cost", p.cost.to_string()},
                         {"realized_pnl", p.realized_pnl.to_string()},
                         {"last_price", p.last_price.to_string()},
                         {"marked", p.marked}});
  Json days = Json::array();
  for (const DayPnl& d : b.days)
    days.push_back({{"day", d.day},
                    {"realized_pnl", d.realized_pnl.to_string()},
                    {"unrealized_pnl", d.unrealized_pnl.to_string()},
                    {"unrealized_at_close", d.unrealized_at_close.to_string()},
                    {"fills", d.fills}});
  return {{"positions", positions},
          {"days", days},
          {"realized_pnl", b.realized.to_string()},
          {"unrealized_pnl", b.unrealized.to_string()},
          {"unrealized_at_open", b.unrealized_at_open.to_string()},
          {"last_ts_ns", b.last_ts}};
}

// Reads a decoded snapshot, naming the path of the field in every error.
class Reader {
 public:
  explicit Reader(const Json& j, std::string path = "state") : j_(j), path_(std::move(path)) {}

  Reader at(const char* name) const {
    if (!j_.is_object()) fail("expected an object");
    auto it = j_.find(name);
    if (it == j_.end()) Reader(j_, fmt::format("{}.{}", path_, name)).fail("missing");
    return Reader(*it, fmt::format("{}.{}", path_, name));
  }
  Reader item(std::size_t i, const Json& v) const {
    return Reader(v, fmt::format("{}[{}]", path_, i));
  }
  const Json& array() const {
    if (!j_.is_array()) fail("expected an array");
    return j_;
  }
  const Json& object() const {
    if (!j_.is_object()) fail("expected an object");
    return j_;
  }
  Decimal decimal() const {
    if (!j_.is_string()) fail("expected a decimal string");
    auto d = Decimal::parse(j_.get<std::string>());
    if (!d) fail("not an exact decimal");
    return *d;
  }
  std::int64_t integer() const {
    if (!j_.is_number_integer()) fail("expected an integer");
    return j_.get<std::int64_t>();
  }
  bool boolean() const {
    if (!j_.is_boolean()) fail("expected true or false");
    return j_.get<bool>();
  }
  std::string text() const {
    if (!j_.is_string()) fail("expected a string");
    return j_.get<std::string>();
  }
  bool is_null() const { return j_.is_null(); }
  const Json& json() const { return j_; }

  [[noreturn]] void fail(const std::string& what) const {
    throw Error(fmt::format("snapshot: {}: {}", path_, what));
  }

 private:
  const Json& j_;
  std::string path_;
};

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
    b.positions[p.at("symbol").text()] = pos;
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

}  // namespace

std::string encode_state(const TradingSystem::State& s) {
  Json signals = Json::object();
  for (const auto& [symbol, h] : s.signals) {
    Json window = Json::array();
    for (const Decimal& d : h.window) window.push_back(d.to_string());
    signals[symbol] = {{"window", window},
                       {"sum", h.sum.to_string()},
                       {"previous", h.previous.to_string()},
                       {"has_previous", h.has_previous}};
  }
  Json pending = Json::object();
  for (const auto& [symbol, q] : s.risk.pending) pending[symbol] = q.to_string();
  Json execution = Json::object();
  for (const auto& [symbol, orders] : s.execution) {
    Json list = Json::array();
    for (const auto& p : orders)
      list.push_back({{"order_seq", p.seq},
                      {"order", Json::parse(encode_payload(make_event(0, symbol, p.order)))}});
    execution[symbol] = list;
  }
  Json risk = {{"book", encode_book(s.risk.book)},
               {"pending", pending},
               {"halted_day", s.risk.halted_day ? Json(*s.risk.halted_day) : Json()}};
  // Only while the halted day is the current one: other states encode as before.
  if (s.risk.halt)
    risk["halt"] = {{"day_pnl", s.risk.halt->day_pnl.to_string()}, {"ts_ns", s.risk.halt->ts_ns}};
  Json j = {{"signals", signals},
            {"risk", risk},
            {"execution", execution},
            {"portfolio", encode_book(s.portfolio)}};
  return j.dump(-1, ' ', false, Json::error_handler_t::replace);
}

TradingSystem::State decode_state(std::string_view text) {
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
  for (const auto& [symbol, v] : r.at("signals").object().items()) {
    const Reader h(v, "state.signals." + symbol);
    SignalGenerator::History history;
    const Reader window = h.at("window");
    std::size_t i = 0;
    for (const Json& d : window.array()) history.window.push_back(window.item(i++, d).decimal());
    history.sum = h.at("sum").decimal();
    history.previous = h.at("previous").decimal();
    history.has_previous = h.at("has_previous").boolean();
    s.signals[symbol] = std::move(history);
  }
  const Reader risk = r.at("risk");
  s.risk.book = decode_book(risk.at("book"));
  for (const auto& [symbol, v] : risk.at("pending").object().items())
    s.risk.pending[symbol] = Reader(v, "state.risk.pending." + symbol).decimal();
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
  for (const auto& [symbol, v] : r.at("execution").object().items()) {
    const Reader orders(v, "state.execution." + symbol);
    std::size_t i = 0;
    for (const Json& o : orders.array()) {
      const Reader p = orders.item(i++, o);
      ExecutionEngine::Pending pending;
      pending.seq = p.at("order_seq").integer();
      try {
        pending.order =
            std::get<Order>(decode_payload(EventType::kOrder, p.at("order").json().dump()));
      } catch (const Error& e) {
        p.fail(e.what());
      }
      s.execution[symbol].push_back(pending);
    }
  }
  s.portfolio = decode_book(r.at("portfolio"));
  return s;
}

Snapshot snapshot_of(const RebuiltState& state) {
  return Snapshot{state.seq, state.run_seq, state.ts_ns, kSnapshotFormat,
                  encode_state(state.system->state())};
}

std::int64_t write_snapshots(EventStore& store, std::int64_t every) {
  if (every <= 0) throw ConfigError("snapshots must be at least 1 event apart");
  const Seq last = store.last_seq();
  RebuiltState state = rebuild_state(store, 0, false);
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

std::optional<SnapshotMismatch> check_snapshots(const EventStore& store) {
  RebuiltState state = rebuild_state(store, 0, false);
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
