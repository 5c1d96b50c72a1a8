#include "blotter/event.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <iterator>
#include <nlohmann/json.hpp>
#include <optional>
#include <span>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include "blotter/calendar.h"
#include "blotter/error.h"
#include "core/plain_decimal.h"
#include "events/payload_fields.h"
#include "events/payload_json.h"

namespace blotter {
namespace {

using namespace std::string_view_literals;

using Json = nlohmann::ordered_json;

constexpr std::array<std::string_view, kEventTypeCount> kTypeNames = {
    "TICK",          "BAR",         "SIGNAL",       "ORDER",      "FILL",          "RISK_REJECTED",
    "HANDLER_ERROR", "RUN_STARTED", "RUN_FINISHED", "ANNOTATION", "INPUT_REJECTED"};

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

// Writes field `f` of payload `p`.
template <class F, class T>
void write_field(Writer& w, const F& f, const T& p) {
  const auto& v = p.*f.member;
  if constexpr (F::kind == detail::FieldKind::kOneOf)
    if (f.unless_usual && v == f.if_absent) return;
  if constexpr (F::kind == detail::FieldKind::kDecimal)
    w.decimal(f.name, v);
  else if constexpr (F::kind == detail::FieldKind::kText || F::kind == detail::FieldKind::kOneOf)
    w.text(f.name, v);
  else if constexpr (F::kind == detail::FieldKind::kSeq || F::kind == detail::FieldKind::kInteger)
    w.integer(f.name, v);
  else if constexpr (F::kind == detail::FieldKind::kSide ||
                     F::kind == detail::FieldKind::kDirection)
    w.text(f.name, to_string(v));
  else
    w.integers(f.name, v);
}

struct Encoder {
  Writer& w;
  template <class T>
  void operator()(const T& p) const {
    detail::for_each_field<T>([&](const auto& f) { write_field(w, f, p); });
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

  // The field's value, or null if it is absent.
  const Json* find(std::string_view name) {
    read_.push_back(name);
    auto it = j_.find(std::string(name));
    return it == j_.end() ? nullptr : &*it;
  }
  const Json& field(std::string_view name) {
    const Json* v = find(name);
    if (!v) fail(name, "missing");
    return *v;
  }
  std::string text(std::string_view name) { return text(name, field(name)); }
  std::string text(std::string_view name, const Json& v) const {
    if (!v.is_string()) fail(name, "expected a string");
    return v.get<std::string>();
  }
  std::string one_of(std::string_view name, std::span<const std::string_view> allowed) {
    std::string t = text(name);
    if (std::find(allowed.begin(), allowed.end(), t) == allowed.end()) {
      std::string names;
      for (std::string_view a : allowed)
        names += fmt::format("{}'{}'", names.empty() ? "" : ", ", a);
      fail(name, fmt::format("'{}' is not one of {}", t, names));
    }
    return t;
  }
  Decimal decimal(std::string_view name) {
    const std::string t = text(name);
    std::string why;
    auto d = Decimal::parse(t, &why);
    if (!d) fail(name, fmt::format("'{}' is not an exact decimal: {}", t, why));
    return *d;
  }
  std::int64_t integer(std::string_view name) {
    const Json& v = field(name);
    if (!v.is_number_integer()) fail(name, "expected an integer");
    if (v.is_number_unsigned() && v.get<std::uint64_t>() > INT64_MAX) fail(name, "out of range");
    return v.get<std::int64_t>();
  }
  Seq seq(std::string_view name) {
    const Json& v = field(name);
    if (!v.is_number_integer() || v.get<std::int64_t>() < 0)
      fail(name, "expected a sequence number");
    return v.get<Seq>();
  }
  std::vector<Seq> seqs(std::string_view name, const Json& v) const {
    std::vector<Seq> seqs;
    if (!v.is_array()) fail(name, "expected an array of sequence numbers");
    for (const Json& item : v) {
      if (!item.is_number_integer() || item.get<std::int64_t>() < 0)
        fail(name, "expected an array of sequence numbers");
      seqs.push_back(item.get<Seq>());
    }
    return seqs;
  }
  Side side(std::string_view name) {
    const std::string t = text(name);
    if (t == "buy") return Side::kBuy;
    if (t == "sell") return Side::kSell;
    fail(name, fmt::format("'{}' is not buy or sell", t));
  }
  Direction direction(std::string_view name) {
    const std::string t = text(name);
    if (t == "long") return Direction::kLong;
    if (t == "exit") return Direction::kExit;
    fail(name, fmt::format("'{}' is not long or exit", t));
  }
  // Accepts `names` as fields of the type, whatever their value.
  void allow(std::span<const std::string_view> names) {
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

// Reads field `f` into payload `p`, or refuses it naming it.
template <class F, class T>
void read_field(Reader& r, const F& f, T& p) {
  using detail::FieldKind;
  auto& v = p.*f.member;
  if constexpr (F::kind == FieldKind::kDecimal) {
    v = r.decimal(f.name);
  } else if constexpr (F::kind == FieldKind::kText) {
    if (!f.optional)
      v = r.text(f.name);
    else if (const Json* j = r.find(f.name))
      v = r.text(f.name, *j);
    else
      v = f.if_absent;
  } else if constexpr (F::kind == FieldKind::kOneOf) {
    if (!f.optional || r.find(f.name))
      v = r.one_of(f.name, f.allowed);
    else
      v = f.if_absent;
  } else if constexpr (F::kind == FieldKind::kSeq) {
    v = r.seq(f.name);
  } else if constexpr (F::kind == FieldKind::kInteger) {
    if (!f.optional || r.find(f.name))
      v = r.integer(f.name);
    else
      std::from_chars(f.if_absent.data(), f.if_absent.data() + f.if_absent.size(), v);
  } else if constexpr (F::kind == FieldKind::kSide) {
    v = r.side(f.name);
  } else if constexpr (F::kind == FieldKind::kDirection) {
    v = r.direction(f.name);
  } else {
    static_assert(F::kind == FieldKind::kSeqList);
    const Json* j = f.optional ? r.find(f.name) : &r.field(f.name);
    v = j ? r.seqs(f.name, *j) : std::vector<Seq>();
  }
}

// What the fields alone do not say: an annotation is about exactly one event
// or one valid day, and has text.
void check(const Annotation& a, const Reader& r) {
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
}
template <class T>
void check(const T&, const Reader&) {}

// Reads a payload of type T from the JSON object, field by field.
template <class T>
T read_strict(Reader& r) {
  T p;
  detail::for_each_field<T>([&](const auto& f) { read_field(r, f, p); });
  check(p, r);
  r.allow(detail::PayloadFields<T>::ignored);
  r.finish();
  return p;
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
      : begin_(json.data()), p_(json.data()), end_(json.data() + json.size()) {}

  // Each reads field `name`, of N characters, into `value`.
  template <std::size_t N>
  bool text(const char* name, std::string& value) {
    std::string_view v;
    if (!key<N>(name) || !string(v)) return false;
    value.assign(v);
    return true;
  }
  template <std::size_t N>
  bool decimal(const char* name, Decimal& value) {
    if (!key<N>(name)) return false;
    if (plain_decimal(value)) return true;
    std::string_view v;
    if (!string(v)) return false;
    const auto d = Decimal::parse(v);
    if (!d) return false;
    value = *d;
    return true;
  }
  template <std::size_t N>
  bool seq(const char* name, Seq& value) {
    if (!key<N>(name)) return false;
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
  bool side(const char* name, Side& value) {
    std::string_view v;
    if (!key<N>(name) || !string(v)) return false;
    if (v == "buy") return value = Side::kBuy, true;
    if (v == "sell") return value = Side::kSell, true;
    return false;
  }
  template <std::size_t N>
  bool direction(const char* name, Direction& value) {
    std::string_view v;
    if (!key<N>(name) || !string(v)) return false;
    if (v == "long") return value = Direction::kLong, true;
    if (v == "exit") return value = Direction::kExit, true;
    return false;
  }
  // The closing brace, and nothing after it.
  bool finish() { return end_ - p_ == 1 && *p_ == '}'; }

 private:
  // The separator, then '"', `name`, '"' and ':'. The name's length is a
  // constant, so that the comparison unrolls (memcmp is a call for most lengths).
  template <std::size_t n>
  bool key(const char* name) {
    if (static_cast<std::size_t>(end_ - p_) < n + 4) return false;
    if (p_[0] != separator_ || p_[1] != '"' || p_[n + 2] != '"' || p_[n + 3] != ':') return false;
    for (std::size_t i = 0; i < n; ++i)
      if (p_[i + 2] != name[i]) return false;
    p_ += n + 4;
    separator_ = ',';
    return true;
  }
  // A decimal string of the common form "-ddd.dd", with at most 10 whole and
  // 8 fractional digits, read as it is scanned; false, having read nothing,
  // for any other form, which decimal() then leaves to Decimal::parse. The
  // value is Decimal::parse's: it reads this form the same way first.
  bool plain_decimal(Decimal& value) {
    const char* p = p_;
    if (p == end_ || *p++ != '"') return false;
    const bool negative = p != end_ && *p == '-';
    if (negative) ++p;
    std::uint64_t units = 0;
    p = detail::read_plain_digits(begin_, p, end_, units);
    if (p == nullptr || p == end_ || *p != '"') return false;
    const auto signed_units = static_cast<std::int64_t>(units);
    value = Decimal::from_raw(negative ? -signed_units : signed_units);
    p_ = p + 1;
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

  const char* begin_;
  const char* p_;
  const char* end_;
  char separator_ = '{';
};

// Returns `read.template operator()<T>()`, T being the payload type of `type`.
template <std::size_t I = 0, class Read>
decltype(auto) with_payload_type(EventType type, Read&& read) {
  using T = std::variant_alternative_t<I, Payload>;
  if constexpr (I + 1 == kEventTypeCount) {
    return read.template operator()<T>();
  } else {
    if (static_cast<std::size_t>(type) == I) return read.template operator()<T>();
    return with_payload_type<I + 1>(type, std::forward<Read>(read));
  }
}

// Reads field I of payload type T in its canonical form.
template <class T, std::size_t I>
bool read_canonical_field(CanonicalReader& r, T& p) {
  using detail::FieldKind;
  static constexpr const auto& f = std::get<I>(detail::PayloadFields<T>::fields);
  using F = std::remove_cvref_t<decltype(f)>;
  static_assert(!f.optional, "the canonical form has every field");
  constexpr std::size_t n = f.name.size();
  auto& v = p.*f.member;
  if constexpr (F::kind == FieldKind::kDecimal)
    return r.decimal<n>(f.name.data(), v);
  else if constexpr (F::kind == FieldKind::kText)
    return r.text<n>(f.name.data(), v);
  else if constexpr (F::kind == FieldKind::kSeq)
    return r.seq<n>(f.name.data(), v);
  else if constexpr (F::kind == FieldKind::kSide)
    return r.side<n>(f.name.data(), v);
  else if constexpr (F::kind == FieldKind::kDirection)
    return r.direction<n>(f.name.data(), v);
  else
    static_assert(F::kind == FieldKind::kDecimal, "no canonical reading of this kind");
}

template <class T, std::size_t... I>
std::optional<Payload> read_canonical(std::string_view json, std::index_sequence<I...>) {
  CanonicalReader r(json);
  T p;
  if ((read_canonical_field<T, I>(r, p) && ...) && r.finish()) return Payload(std::move(p));
  return std::nullopt;
}

// read_canonical into `out`: into the T it holds, or a T put there.
template <class T, std::size_t... I>
bool read_canonical_into(std::string_view json, Payload& out, std::index_sequence<I...>) {
  T* p = std::get_if<T>(&out);
  if (p == nullptr) p = &out.emplace<T>();
  CanonicalReader r(json);
  return (read_canonical_field<T, I>(r, *p) && ...) && r.finish();
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

void decode_payload(EventType type, std::string_view json, Payload& out) {
  const bool read = with_payload_type(type, [&]<class T>() {
    if constexpr (detail::PayloadFields<T>::canonical)
      return read_canonical_into<T>(
          json, out,
          std::make_index_sequence<std::tuple_size_v<
              std::remove_const_t<decltype(detail::PayloadFields<T>::fields)>>>());
    else
      return false;
  });
  if (!read) out = detail::decode_payload_strict(type, json);
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
  return with_payload_type(type, [&]<class T>() -> std::optional<Payload> {
    if constexpr (PayloadFields<T>::canonical)
      return read_canonical<T>(
          json, std::make_index_sequence<
                    std::tuple_size_v<std::remove_const_t<decltype(PayloadFields<T>::fields)>>>());
    else
      return std::nullopt;
  });
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
  return with_payload_type(type, [&]<class T>() -> Payload { return read_strict<T>(r); });
}

}  // namespace detail
}  // namespace blotter
