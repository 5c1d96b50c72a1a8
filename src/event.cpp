#include "blotter/event.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <initializer_list>
#include <nlohmann/json.hpp>
#include <vector>

#include "blotter/calendar.h"
#include "blotter/error.h"

namespace blotter {
namespace {

using Json = nlohmann::ordered_json;

constexpr std::array<std::string_view, kEventTypeCount> kTypeNames = {
    "TICK",          "BAR",           "SIGNAL",      "ORDER",        "FILL",
    "RISK_REJECTED", "HANDLER_ERROR", "RUN_STARTED", "RUN_FINISHED", "ANNOTATION"};

std::string dec(Decimal d) { return d.to_string(); }

struct Encoder {
  Json& j;
  void operator()(const Tick& t) const {
    j["price"] = dec(t.price);
    j["volume"] = dec(t.volume);
  }
  void operator()(const Bar& b) const {
    j["open"] = dec(b.open);
    j["high"] = dec(b.high);
    j["low"] = dec(b.low);
    j["close"] = dec(b.close);
    j["volume"] = dec(b.volume);
  }
  void operator()(const Signal& s) const {
    j["direction"] = to_string(s.direction);
    j["price"] = dec(s.price);
    j["reason"] = s.reason;
  }
  void operator()(const Order& o) const {
    j["side"] = to_string(o.side);
    j["quantity"] = dec(o.quantity);
    j["price"] = dec(o.price);
    j["signal_seq"] = o.signal_seq;
  }
  void operator()(const Fill& f) const {
    j["side"] = to_string(f.side);
    j["quantity"] = dec(f.quantity);
    j["price"] = dec(f.price);
    j["commission"] = dec(f.commission);
    j["order_seq"] = f.order_seq;
  }
  void operator()(const RiskRejected& r) const {
    j["direction"] = to_string(r.direction);
    j["reason"] = r.reason;
    j["signal_seq"] = r.signal_seq;
  }
  void operator()(const HandlerError& h) const {
    j["handler"] = h.handler;
    j["event_seq"] = h.event_seq;
    j["error"] = h.error;
  }
  void operator()(const RunStarted& r) const {
    j["input"] = r.input;
    j["input_sha256"] = r.input_sha256;
    j["input_kind"] = r.input_kind;
    j["symbol"] = r.symbol;
    j["window"] = r.window;
    j["quantity"] = r.quantity;
    j["risk_per_trade"] = r.risk_per_trade;
    j["capital"] = r.capital;
    j["max_daily_loss"] = r.max_daily_loss;
    j["max_position"] = r.max_position;
    j["fill"] = r.fill;
    j["slippage_bps"] = r.slippage_bps;
    j["commission"] = r.commission;
    j["tz"] = r.tz;
    j["version"] = r.version;
  }
  void operator()(const RunFinished& r) const {
    j["run_seq"] = r.run_seq;
    j["rows"] = r.rows;
    j["events"] = r.events;
    j["resumed_at"] = r.resumed_at;
  }
  void operator()(const Annotation& a) const {
    j["refers_to_seq"] = a.refers_to_seq;
    j["day"] = a.day;
    j["tag"] = a.tag;
    j["text"] = a.text;
  }
};

bool is_blank(const std::string& text) {
  return text.find_first_not_of(" \t\r\n") == std::string::npos;
}

// Reads fields of one payload object, naming the field in every error, and
// remembers which it read so that finish() can refuse any other.
class Reader {
 public:
  Reader(EventType type, const Json& j) : type_(type), j_(j) {}

  const Json& field(const char* name) {
    read_.push_back(name);
    auto it = j_.find(name);
    if (it == j_.end()) fail(name, "missing");
    return *it;
  }
  std::string text(const char* name) {
    const Json& v = field(name);
    if (!v.is_string()) fail(name, "expected a string");
    return v.get<std::string>();
  }
  std::string one_of(const char* name, std::initializer_list<std::string_view> allowed) {
    std::string t = text(name);
    if (std::find(allowed.begin(), allowed.end(), t) == allowed.end()) {
      std::string names;
      for (std::string_view a : allowed)
        names += fmt::format("{}'{}'", names.empty() ? "" : ", ", a);
      fail(name, fmt::format("'{}' is not one of {}", t, names));
    }
    return t;
  }
  Decimal decimal(const char* name) {
    const std::string t = text(name);
    std::string why;
    auto d = Decimal::parse(t, &why);
    if (!d) fail(name, fmt::format("'{}' is not an exact decimal: {}", t, why));
    return *d;
  }
  std::int64_t integer(const char* name) {
    const Json& v = field(name);
    if (!v.is_number_integer()) fail(name, "expected an integer");
    if (v.is_number_unsigned() && v.get<std::uint64_t>() > INT64_MAX) fail(name, "out of range");
    return v.get<std::int64_t>();
  }
  Seq seq(const char* name) {
    const Json& v = field(name);
    if (!v.is_number_integer() || v.get<std::int64_t>() < 0)
      fail(name, "expected a sequence number");
    return v.get<Seq>();
  }
  // An array of sequence numbers; absent reads as empty (journals of schema
  // version 2 have no such field).
  std::vector<Seq> optional_seqs(const char* name) {
    read_.push_back(name);
    std::vector<Seq> seqs;
    auto it = j_.find(name);
    if (it == j_.end()) return seqs;
    if (!it->is_array()) fail(name, "expected an array of sequence numbers");
    for (const Json& v : *it) {
      if (!v.is_number_integer() || v.get<std::int64_t>() < 0)
        fail(name, "expected an array of sequence numbers");
      seqs.push_back(v.get<Seq>());
    }
    return seqs;
  }
  Side side(const char* name) {
    const std::string t = text(name);
    if (t == "buy") return Side::kBuy;
    if (t == "sell") return Side::kSell;
    fail(name, fmt::format("'{}' is not buy or sell", t));
  }
  Direction direction(const char* name) {
    const std::string t = text(name);
    if (t == "long") return Direction::kLong;
    if (t == "exit") return Direction::kExit;
    fail(name, fmt::format("'{}' is not long or exit", t));
  }
  // Accepts `names` as fields of the type, whatever their value.
  void allow(std::initializer_list<std::string_view> names) {
    read_.insert(read_.end(), names.begin(), names.end());
  }
  // Refuses a field the type does not have.
  void finish() const {
    for (const auto& item : j_.items())
      if (std::find(read_.begin(), read_.end(), item.key()) == read_.end())
        fail(item.key(), fmt::format("not a field of {}", to_string(type_)));
  }
  [[noreturn]] void fail(std::string_view name, const std::string& what) const {
    throw Error(fmt::format("{} payload: field '{}': {}", to_string(type_), name, what));
  }

 private:
  EventType type_;
  const Json& j_;
  std::vector<std::string_view> read_;
};

Annotation read_annotation(Reader& r) {
  Annotation a{r.seq("refers_to_seq"), r.text("day"), r.text("tag"), r.text("text")};
  if ((a.refers_to_seq > 0) == !a.day.empty())
    r.fail("refers_to_seq", "exactly one of refers_to_seq (> 0) and day must be given");
  if (!a.day.empty()) {
    try {
      Calendar::parse_day(a.day);
    } catch (const Error& e) {
      r.fail("day", e.what());
    }
  }
  if (is_blank(a.text)) r.fail("text", "empty");
  return a;
}

}  // namespace

std::string_view to_string(Side side) { return side == Side::kBuy ? "buy" : "sell"; }
std::string_view to_string(Direction d) { return d == Direction::kLong ? "long" : "exit"; }
std::string_view to_string(EventType type) { return kTypeNames.at(static_cast<std::size_t>(type)); }

std::optional<EventType> parse_event_type(std::string_view name) {
  for (std::size_t i = 0; i < kTypeNames.size(); ++i)
    if (kTypeNames[i] == name) return static_cast<EventType>(i);
  return std::nullopt;
}

std::string encode_payload(const Event& event) {
  Json j = Json::object();
  std::visit(Encoder{j}, event.payload);
  // Invalid UTF-8 (a handler's error text, say) is replaced, never a throw.
  return j.dump(-1, ' ', false, Json::error_handler_t::replace);
}

Payload decode_payload(EventType type, std::string_view text) {
  Json j;
  try {
    j = Json::parse(text);
  } catch (const Json::exception& e) {
    // parse_error, or out_of_range for a number beyond a double ("1e400").
    throw Error(fmt::format("{} payload: invalid JSON: {}", to_string(type), e.what()));
  }
  if (!j.is_object()) throw Error(fmt::format("{} payload: not a JSON object", to_string(type)));
  Reader r(type, j);
  const auto read = [&]() -> Payload {
    switch (type) {
      case EventType::kTick:
        return Tick{r.decimal("price"), r.decimal("volume")};
      case EventType::kBar:
        return Bar{r.decimal("open"), r.decimal("high"), r.decimal("low"), r.decimal("close"),
                   r.decimal("volume")};
      case EventType::kSignal:
        return Signal{r.direction("direction"), r.decimal("price"), r.text("reason")};
      case EventType::kOrder:
        return Order{r.side("side"), r.decimal("quantity"), r.decimal("price"),
                     r.seq("signal_seq")};
      case EventType::kFill:
        return Fill{r.side("side"), r.decimal("quantity"), r.decimal("price"),
                    r.decimal("commission"), r.seq("order_seq")};
      case EventType::kRiskRejected:
        return RiskRejected{r.direction("direction"), r.text("reason"), r.seq("signal_seq")};
      case EventType::kHandlerError:
        return HandlerError{r.text("handler"), r.seq("event_seq"), r.text("error")};
      case EventType::kRunStarted:
        return RunStarted{r.text("input"),
                          r.text("input_sha256"),
                          r.one_of("input_kind", {"bars", "ticks"}),
                          r.text("symbol"),
                          r.integer("window"),
                          r.text("quantity"),
                          r.text("risk_per_trade"),
                          r.text("capital"),
                          r.text("max_daily_loss"),
                          r.text("max_position"),
                          r.one_of("fill", {"signal", "next-open"}),
                          r.text("slippage_bps"),
                          r.text("commission"),
                          r.text("tz"),
                          r.text("version")};
      case EventType::kRunFinished:
        return RunFinished{r.seq("run_seq"), r.integer("rows"), r.integer("events"),
                           r.optional_seqs("resumed_at")};
      case EventType::kAnnotation:
        return read_annotation(r);
    }
    throw Error("unknown event type");
  };
  Payload payload = read();
  // Schema version 2 wrote these two RUN_STARTED fields, always 0, since removed.
  if (type == EventType::kRunStarted) r.allow({"resumes", "skipped_rows"});
  r.finish();
  return payload;
}

}  // namespace blotter
