#include "blotter/event.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <initializer_list>
#include <iterator>
#include <nlohmann/json.hpp>
#include <vector>

#include "blotter/calendar.h"
#include "blotter/error.h"
#include "payload_json.h"

namespace blotter {
namespace {

using namespace std::string_view_literals;

using Json = nlohmann::ordered_json;

constexpr std::array<std::string_view, kEventTypeCount> kTypeNames = {
    "TICK",          "BAR",           "SIGNAL",      "ORDER",        "FILL",
    "RISK_REJECTED", "HANDLER_ERROR", "RUN_STARTED", "RUN_FINISHED", "ANNOTATION"};

// Writes a payload object in the canonical form: keys in the order given, no
// whitespace, decimals as strings of their exact text. The text is the same,
// byte for byte, as nlohmann's dump() of the same ordered object, which wrote
// every journal before this writer: the hash chain covers it.
class Writer {
 public:
  explicit Writer(std::string& out) : out_(out) {}
  Writer(const Writer&) = delete;
  Writer& operator=(const Writer&) = delete;

  void text(std::string_view name, std::string_view value) {
    key(name);
    flush();
    detail::append_json_string(out_, value);
  }
  void decimal(std::string_view name, Decimal value) {
    key(name);
    room(Decimal::kMaxTextSize + 2);
    *at_++ = '"';
    at_ = value.format_to(at_);  // digits, '.' and '-': nothing to escape
    *at_++ = '"';
  }
  void integer(std::string_view name, std::int64_t value) {
    key(name);
    append_integer(value);
  }
  void integers(std::string_view name, const std::vector<Seq>& values) {
    key(name);
    room(1);
    *at_++ = '[';
    for (std::size_t i = 0; i < values.size(); ++i) {
      room(1);
      if (i) *at_++ = ',';
      append_integer(values[i]);
    }
    room(1);
    *at_++ = ']';
  }
  void finish() {
    room(1);
    *at_++ = '}';
    flush();
  }

 private:
  // Numbers and keys go to a buffer on the stack first, and to `out_` in
  // one append when it fills or at the end: a BAR is one append, not twenty.
  static constexpr std::size_t kBufferSize = 256;

  void room(std::size_t n) {
    if (static_cast<std::size_t>(buffer_.data() + kBufferSize - at_) < n) flush();
  }
  void flush() {
    out_.append(buffer_.data(), static_cast<std::size_t>(at_ - buffer_.data()));
    at_ = buffer_.data();
  }
  void key(std::string_view name) {
    // The type's own field names: short, nothing to escape.
    room(name.size() + 4);
    *at_++ = separator_;
    separator_ = ',';
    *at_++ = '"';
    at_ = std::copy(name.begin(), name.end(), at_);
    *at_++ = '"';
    *at_++ = ':';
  }
  void append_integer(std::int64_t value) {
    room(20);  // INT64_MIN: 20 chars
    at_ = std::to_chars(at_, buffer_.data() + kBufferSize, value).ptr;
  }

  std::string& out_;
  char separator_ = '{';
  std::array<char, kBufferSize> buffer_;
  char* at_ = buffer_.data();
};

struct Encoder {
  Writer& w;
  void operator()(const Tick& t) const {
    w.decimal("price", t.price);
    w.decimal("volume", t.volume);
  }
  void operator()(const Bar& b) const {
    w.decimal("open", b.open);
    w.decimal("high", b.high);
    w.decimal("low", b.low);
    w.decimal("close", b.close);
    w.decimal("volume", b.volume);
  }
  void operator()(const Signal& s) const {
    w.text("direction", to_string(s.direction));
    w.decimal("price", s.price);
    w.text("reason", s.reason);
  }
  void operator()(const Order& o) const {
    w.text("side", to_string(o.side));
    w.decimal("quantity", o.quantity);
    w.decimal("price", o.price);
    w.integer("signal_seq", o.signal_seq);
  }
  void operator()(const Fill& f) const {
    w.text("side", to_string(f.side));
    w.decimal("quantity", f.quantity);
    w.decimal("price", f.price);
    w.decimal("commission", f.commission);
    w.integer("order_seq", f.order_seq);
  }
  void operator()(const RiskRejected& r) const {
    w.text("direction", to_string(r.direction));
    w.text("reason", r.reason);
    w.integer("signal_seq", r.signal_seq);
  }
  void operator()(const HandlerError& h) const {
    w.text("handler", h.handler);
    w.integer("event_seq", h.event_seq);
    w.text("error", h.error);
  }
  void operator()(const RunStarted& r) const {
    w.text("input", r.input);
    w.text("input_sha256", r.input_sha256);
    w.text("input_kind", r.input_kind);
    w.text("symbol", r.symbol);
    w.integer("window", r.window);
    w.text("quantity", r.quantity);
    w.text("risk_per_trade", r.risk_per_trade);
    w.text("capital", r.capital);
    w.text("max_daily_loss", r.max_daily_loss);
    w.text("max_position", r.max_position);
    w.text("fill", r.fill);
    w.text("slippage_bps", r.slippage_bps);
    w.text("commission", r.commission);
    w.text("tz", r.tz);
    w.text("version", r.version);
    w.text("strategy", r.strategy);
    w.text("broker", r.broker);
    w.text("source", r.source);
  }
  void operator()(const RunFinished& r) const {
    w.integer("run_seq", r.run_seq);
    w.integer("rows", r.rows);
    w.integer("events", r.events);
    w.integers("resumed_at", r.resumed_at);
  }
  void operator()(const Annotation& a) const {
    w.integer("refers_to_seq", a.refers_to_seq);
    w.text("day", a.day);
    w.text("tag", a.tag);
    w.text("text", a.text);
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
  // A string; absent reads as `absent` (a field added since).
  std::string optional_text(const char* name, std::string_view absent) {
    if (j_.find(name) == j_.end()) {
      read_.push_back(name);
      return std::string(absent);
    }
    return text(name);
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

// A plain JSON string's content: printable ASCII without '"' or '\\', which
// JSON and nlohmann's dump() both take as it is.
bool is_plain(unsigned char c) { return c >= 0x20 && c < 0x7f && c != '"' && c != '\\'; }

// Reads the canonical form encode_payload writes, field by field in the
// type's order. Any deviation (whitespace, another order, an escape, a value
// the type does not allow) makes a read return false; decode_payload then
// leaves the text to the strict decoder, which accepts what is valid in
// another form and words the error for what is not. So what this reader
// accepts must be exactly what the strict decoder reads the same way.
class CanonicalReader {
 public:
  explicit CanonicalReader(std::string_view json)
      : p_(json.data()), end_(json.data() + json.size()) {}

  template <std::size_t N>
  bool text(const char (&name)[N], std::string& value) {
    std::string_view v;
    if (!key(name) || !string(v)) return false;
    value.assign(v);
    return true;
  }
  template <std::size_t N>
  bool decimal(const char (&name)[N], Decimal& value) {
    std::string_view v;
    if (!key(name) || !string(v)) return false;
    const auto d = Decimal::parse(v);
    if (!d) return false;
    value = *d;
    return true;
  }
  template <std::size_t N>
  bool seq(const char (&name)[N], Seq& value) {
    if (!key(name)) return false;
    // Up to 19 digits fit in 64 bits unsigned; a leading zero is not JSON.
    const char* start = p_;
    std::uint64_t n = 0;
    while (p_ != end_ && *p_ >= '0' && *p_ <= '9' && p_ - start < 19)
      n = n * 10 + static_cast<std::uint64_t>(*p_++ - '0');
    if (p_ == start || (*start == '0' && p_ - start > 1)) return false;
    if (p_ != end_ && *p_ >= '0' && *p_ <= '9') return false;
    if (n > static_cast<std::uint64_t>(INT64_MAX)) return false;
    value = static_cast<Seq>(n);
    return true;
  }
  template <std::size_t N>
  bool side(const char (&name)[N], Side& value) {
    std::string_view v;
    if (!key(name) || !string(v)) return false;
    if (v == "buy") return value = Side::kBuy, true;
    if (v == "sell") return value = Side::kSell, true;
    return false;
  }
  template <std::size_t N>
  bool direction(const char (&name)[N], Direction& value) {
    std::string_view v;
    if (!key(name) || !string(v)) return false;
    if (v == "long") return value = Direction::kLong, true;
    if (v == "exit") return value = Direction::kExit, true;
    return false;
  }
  // The closing brace, and nothing after it.
  bool finish() { return end_ - p_ == 1 && *p_ == '}'; }

 private:
  // The separator, then '"', `name`, '"' and ':'. The name's length is a
  // constant, so that the comparison unrolls (memcmp is a call for most lengths).
  template <std::size_t N>
  bool key(const char (&name)[N]) {
    constexpr std::size_t n = N - 1;
    if (static_cast<std::size_t>(end_ - p_) < n + 4) return false;
    if (p_[0] != separator_ || p_[1] != '"' || p_[n + 2] != '"' || p_[n + 3] != ':') return false;
    for (std::size_t i = 0; i < n; ++i)
      if (p_[i + 2] != name[i]) return false;
    p_ += n + 4;
    separator_ = ',';
    return true;
  }
  bool string(std::string_view& value) {
    if (p_ == end_ || *p_ != '"') return false;
    const char* start = ++p_;
    while (p_ != end_ && is_plain(static_cast<unsigned char>(*p_))) ++p_;
    if (p_ == end_ || *p_ != '"') return false;
    value = std::string_view(start, static_cast<std::size_t>(p_ - start));
    ++p_;
    return true;
  }

  const char* p_;
  const char* end_;
  char separator_ = '{';
};

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
  std::string out;
  out.reserve(128);
  encode_payload(event, out);
  return out;
}

void encode_payload(const Event& event, std::string& out) {
  out.clear();
  Writer w(out);
  std::visit(Encoder{w}, event.payload);
  w.finish();
}

Payload decode_payload(EventType type, std::string_view json) {
  if (auto payload = detail::decode_canonical_payload(type, json)) return std::move(*payload);
  return detail::decode_payload_strict(type, json);
}

namespace detail {

void append_json_string(std::string& out, std::string_view text) {
  const bool plain = std::all_of(text.begin(), text.end(),
                                 [](char c) { return is_plain(static_cast<unsigned char>(c)); });
  if (plain) {
    out += '"';
    out += text;
    out += '"';
    return;
  }
  // Escapes and UTF-8 (and its repair) are rare here: left to nlohmann, whose
  // output the journals hold.
  out += Json(std::string(text)).dump(-1, ' ', false, Json::error_handler_t::replace);
}

std::optional<Payload> decode_canonical_payload(EventType type, std::string_view json) {
  CanonicalReader r(json);
  switch (type) {
    case EventType::kTick: {
      Tick t;
      if (r.decimal("price", t.price) && r.decimal("volume", t.volume) && r.finish()) return t;
      break;
    }
    case EventType::kBar: {
      Bar b;
      if (r.decimal("open", b.open) && r.decimal("high", b.high) && r.decimal("low", b.low) &&
          r.decimal("close", b.close) && r.decimal("volume", b.volume) && r.finish())
        return b;
      break;
    }
    case EventType::kSignal: {
      Signal s;
      if (r.direction("direction", s.direction) && r.decimal("price", s.price) &&
          r.text("reason", s.reason) && r.finish())
        return s;
      break;
    }
    case EventType::kOrder: {
      Order o;
      if (r.side("side", o.side) && r.decimal("quantity", o.quantity) &&
          r.decimal("price", o.price) && r.seq("signal_seq", o.signal_seq) && r.finish())
        return o;
      break;
    }
    case EventType::kFill: {
      Fill f;
      if (r.side("side", f.side) && r.decimal("quantity", f.quantity) &&
          r.decimal("price", f.price) && r.decimal("commission", f.commission) &&
          r.seq("order_seq", f.order_seq) && r.finish())
        return f;
      break;
    }
    case EventType::kRiskRejected: {
      RiskRejected rr;
      if (r.direction("direction", rr.direction) && r.text("reason", rr.reason) &&
          r.seq("signal_seq", rr.signal_seq) && r.finish())
        return rr;
      break;
    }
    case EventType::kHandlerError: {
      HandlerError h;
      if (r.text("handler", h.handler) && r.seq("event_seq", h.event_seq) &&
          r.text("error", h.error) && r.finish())
        return h;
      break;
    }
    case EventType::kRunStarted:
    case EventType::kRunFinished:
    case EventType::kAnnotation:
      break;  // once per run or by hand: the strict decoder is fast enough
  }
  return std::nullopt;
}

Payload decode_payload_strict(EventType type, std::string_view text) {
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
                          r.text("version"),
                          r.optional_text("strategy", "ma_crossover"),
                          r.optional_text("broker", "paper"),
                          r.optional_text("source", "csv")};
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

}  // namespace detail
}  // namespace blotter
