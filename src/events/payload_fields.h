// The fields of each event type's payload, declared once: their JSON names in
// the order the journal writes them, the member each is read into and written
// from, and its kind. The encoder, the canonical and the strict decoder
// (event.cpp) and docs/JOURNAL_FORMAT.md's tables (checked by a test) all
// follow these declarations. Private to the library and its tests.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <tuple>
#include <utility>
#include <variant>
#include <vector>

#include "blotter/event.h"

namespace blotter::detail {

// How a field's value is written in JSON, and which C++ type holds it.
enum class FieldKind : std::uint8_t {
  kDecimal,    // Decimal: a JSON string of its exact text ("100.34")
  kText,       // std::string: any JSON string
  kOneOf,      // std::string: a JSON string, one of the field's allowed values
  kSeq,        // Seq: a JSON integer >= 0, a sequence number
  kInteger,    // std::int64_t: any JSON integer of 64 bits signed
  kSide,       // Side: "buy" or "sell"
  kDirection,  // Direction: "long" or "exit"
  kSeqList,    // std::vector<Seq>: a JSON array of sequence numbers
};

// A field older journals lack: absent, it reads as `value` (a text field), or
// as an empty list (a list field, whose `value` must be empty).
struct WhenAbsent {
  std::string_view value;
};

// A field written only when its value is not `value`, the value it reads as
// when absent: a payload with the usual value has the same bytes as one
// written before the field existed.
struct UnlessUsual {
  std::string_view value;
};

// One field of payload type T: its JSON name, the member that holds it, its
// kind and, for kOneOf, the values allowed.
template <class T, class V, FieldKind K>
struct Field {
  using Payload = T;
  using Value = V;
  static constexpr FieldKind kind = K;

  std::string_view name;
  V T::*member;
  std::span<const std::string_view> allowed = {};  // kOneOf only
  bool optional = false;                           // absent reads as `if_absent`
  std::string_view if_absent = {};
  bool unless_usual = false;  // not written when it holds `if_absent` (optional only)
};

template <class T>
constexpr Field<T, Decimal, FieldKind::kDecimal> decimal(std::string_view name, Decimal T::*m) {
  return {name, m};
}
template <class T>
constexpr Field<T, std::string, FieldKind::kText> text(std::string_view name, std::string T::*m) {
  return {name, m};
}
template <class T>
constexpr Field<T, std::string, FieldKind::kText> text(std::string_view name, std::string T::*m,
                                                       WhenAbsent absent) {
  return {name, m, {}, true, absent.value};
}
template <class T>
constexpr Field<T, std::int64_t, FieldKind::kInteger> integer(std::string_view name,
                                                              std::int64_t T::*m,
                                                              WhenAbsent absent) {
  return {name, m, {}, true, absent.value};
}
template <class T>
constexpr Field<T, std::string, FieldKind::kOneOf> one_of(
    std::string_view name, std::string T::*m, std::span<const std::string_view> allowed) {
  return {name, m, allowed};
}
template <class T>
constexpr Field<T, std::string, FieldKind::kOneOf> one_of(std::string_view name, std::string T::*m,
                                                          std::span<const std::string_view> allowed,
                                                          UnlessUsual usual) {
  return {name, m, allowed, true, usual.value, true};
}
template <class T>
constexpr Field<T, Seq, FieldKind::kSeq> seq(std::string_view name, Seq T::*m) {
  return {name, m};
}
template <class T>
constexpr Field<T, std::int64_t, FieldKind::kInteger> integer(std::string_view name,
                                                              std::int64_t T::*m) {
  return {name, m};
}
template <class T>
constexpr Field<T, Side, FieldKind::kSide> side(std::string_view name, Side T::*m) {
  return {name, m};
}
template <class T>
constexpr Field<T, Direction, FieldKind::kDirection> direction(std::string_view name,
                                                               Direction T::*m) {
  return {name, m};
}
template <class T>
constexpr Field<T, std::vector<Seq>, FieldKind::kSeqList> seq_list(std::string_view name,
                                                                   std::vector<Seq> T::*m,
                                                                   WhenAbsent absent) {
  return {name, m, {}, true, absent.value};
}

// PayloadFields<T>::fields: T's fields in journal order. ::ignored: keys that
// older journals wrote and a reader accepts and ignores. ::canonical: whether
// decode_canonical_payload reads the type (the types journaled once per
// market event; the others are rare enough for the strict decoder alone).
template <class T>
struct PayloadFields;

inline constexpr std::array<std::string_view, 2> kInputKinds = {"bars", "ticks"};
inline constexpr std::array<std::string_view, 2> kFillModels = {"signal", "next-open"};
inline constexpr std::array<std::string_view, 5> kRunEndings = {"end_of_input", "sigint", "sigterm",
                                                                "until", "bad_row"};
inline constexpr std::array<std::string_view, 2> kRunStartedSchema2Keys = {"resumes",
                                                                           "skipped_rows"};

template <>
struct PayloadFields<Tick> {
  static constexpr bool canonical = true;
  static constexpr std::span<const std::string_view> ignored = {};
  static constexpr auto fields = std::tuple{
      decimal("price", &Tick::price),
      decimal("volume", &Tick::volume),
  };
};

template <>
struct PayloadFields<Bar> {
  static constexpr bool canonical = true;
  static constexpr std::span<const std::string_view> ignored = {};
  static constexpr auto fields = std::tuple{
      decimal("open", &Bar::open),   decimal("high", &Bar::high),     decimal("low", &Bar::low),
      decimal("close", &Bar::close), decimal("volume", &Bar::volume),
  };
};

template <>
struct PayloadFields<Signal> {
  static constexpr bool canonical = true;
  static constexpr std::span<const std::string_view> ignored = {};
  static constexpr auto fields = std::tuple{
      direction("direction", &Signal::direction),
      decimal("price", &Signal::price),
      text("reason", &Signal::reason),
  };
};

template <>
struct PayloadFields<Order> {
  static constexpr bool canonical = true;
  static constexpr std::span<const std::string_view> ignored = {};
  static constexpr auto fields = std::tuple{
      side("side", &Order::side),
      decimal("quantity", &Order::quantity),
      decimal("price", &Order::price),
      seq("signal_seq", &Order::signal_seq),
  };
};

template <>
struct PayloadFields<Fill> {
  static constexpr bool canonical = true;
  static constexpr std::span<const std::string_view> ignored = {};
  static constexpr auto fields = std::tuple{
      side("side", &Fill::side),          decimal("quantity", &Fill::quantity),
      decimal("price", &Fill::price),     decimal("commission", &Fill::commission),
      seq("order_seq", &Fill::order_seq),
  };
};

template <>
struct PayloadFields<RiskRejected> {
  static constexpr bool canonical = true;
  static constexpr std::span<const std::string_view> ignored = {};
  static constexpr auto fields = std::tuple{
      direction("direction", &RiskRejected::direction),
      text("reason", &RiskRejected::reason),
      seq("signal_seq", &RiskRejected::signal_seq),
  };
};

template <>
struct PayloadFields<HandlerError> {
  static constexpr bool canonical = true;
  static constexpr std::span<const std::string_view> ignored = {};
  static constexpr auto fields = std::tuple{
      text("handler", &HandlerError::handler),
      seq("event_seq", &HandlerError::event_seq),
      text("error", &HandlerError::error),
  };
};

template <>
struct PayloadFields<RunStarted> {
  static constexpr bool canonical = false;
  // Schema version 2 wrote these, always 0, since removed.
  static constexpr std::span<const std::string_view> ignored = kRunStartedSchema2Keys;
  static constexpr auto fields = std::tuple{
      text("input", &RunStarted::input),
      text("input_sha256", &RunStarted::input_sha256),
      one_of("input_kind", &RunStarted::input_kind, kInputKinds),
      text("symbol", &RunStarted::symbol),
      integer("window", &RunStarted::window),
      text("quantity", &RunStarted::quantity),
      text("risk_per_trade", &RunStarted::risk_per_trade),
      text("capital", &RunStarted::capital),
      text("max_daily_loss", &RunStarted::max_daily_loss),
      text("max_position", &RunStarted::max_position),
      one_of("fill", &RunStarted::fill, kFillModels),
      text("slippage_bps", &RunStarted::slippage_bps),
      text("commission", &RunStarted::commission),
      text("tz", &RunStarted::tz),
      text("version", &RunStarted::version),
      // The seams' implementations; journals before them ran these.
      text("strategy", &RunStarted::strategy, WhenAbsent{"ma_crossover"}),
      text("broker", &RunStarted::broker, WhenAbsent{"paper"}),
      text("source", &RunStarted::source, WhenAbsent{"csv"}),
      // The strategy's version and parameters; journals before them ran
      // ma_crossover version 1 with `window` (strategy_params_of).
      integer("strategy_version", &RunStarted::strategy_version, WhenAbsent{"1"}),
      text("params", &RunStarted::params, WhenAbsent{""}),
      text("strategy_sha256", &RunStarted::strategy_sha256, WhenAbsent{""}),
  };
};

template <>
struct PayloadFields<RunFinished> {
  static constexpr bool canonical = false;
  static constexpr std::span<const std::string_view> ignored = {};
  static constexpr auto fields = std::tuple{
      seq("run_seq", &RunFinished::run_seq),
      integer("rows", &RunFinished::rows),
      integer("events", &RunFinished::events),
      seq_list("resumed_at", &RunFinished::resumed_at, WhenAbsent{}),  // absent at schema 2
      // Written only for a run that did not end at the end of its input, so
      // that a file run's RUN_FINISHED is the bytes older releases wrote.
      one_of("ended", &RunFinished::ended, kRunEndings, UnlessUsual{"end_of_input"}),
  };
};

template <>
struct PayloadFields<Annotation> {
  static constexpr bool canonical = false;
  static constexpr std::span<const std::string_view> ignored = {};
  static constexpr auto fields = std::tuple{
      seq("refers_to_seq", &Annotation::refers_to_seq),
      text("day", &Annotation::day),
      text("tag", &Annotation::tag),
      text("text", &Annotation::text),
  };
};

template <>
struct PayloadFields<InputRejected> {
  static constexpr bool canonical = false;
  static constexpr std::span<const std::string_view> ignored = {};
  static constexpr auto fields = std::tuple{
      integer("line", &InputRejected::line),
      text("field", &InputRejected::field),
      text("message", &InputRejected::message),
      text("row", &InputRejected::row),
  };
};

// Calls `visit(field)` for each of T's fields in order, each a constant.
template <class T, class Visit>
constexpr void for_each_field(Visit&& visit) {
  std::apply([&](const auto&... field) { (visit(field), ...); }, PayloadFields<T>::fields);
}

// One field as docs/JOURNAL_FORMAT.md's payload tables give it.
struct FieldDescription {
  std::string name;
  std::string json_type;  // e.g. decimal, string, seq, "buy" or "sell", [seq]; absent: []
};

template <class F>
std::string json_type_of(const F& field) {
  std::string type;
  const auto alternatives = [&type](std::span<const std::string_view> values) {
    for (std::size_t i = 0; i < values.size(); ++i) {
      if (i) type += " or ";
      type += '"';
      type += values[i];
      type += '"';
    }
  };
  switch (F::kind) {
    case FieldKind::kDecimal:
      type = "decimal";
      break;
    case FieldKind::kText:
      type = "string";
      break;
    case FieldKind::kOneOf:
      alternatives(field.allowed);
      break;
    case FieldKind::kSeq:
      type = "seq";
      break;
    case FieldKind::kInteger:
      type = "integer";
      break;
    case FieldKind::kSide:
      alternatives(std::array<std::string_view, 2>{"buy", "sell"});
      break;
    case FieldKind::kDirection:
      alternatives(std::array<std::string_view, 2>{"long", "exit"});
      break;
    case FieldKind::kSeqList:
      type = "[seq]";
      break;
  }
  if (field.optional) {
    type += "; absent: ";
    type += F::kind == FieldKind::kSeqList   ? std::string("[]")
            : F::kind == FieldKind::kInteger ? std::string(field.if_absent)
                                             : '"' + std::string(field.if_absent) + '"';
  }
  return type;
}

// The fields of `type`'s payload in journal order, as documented.
inline std::vector<FieldDescription> describe_payload(EventType type) {
  std::vector<FieldDescription> out;
  [&]<std::size_t... I>(std::index_sequence<I...>) {
    ((static_cast<std::size_t>(type) == I
          ? for_each_field<std::variant_alternative_t<I, blotter::Payload>>([&](const auto& f) {
              out.push_back({std::string(f.name), json_type_of(f)});
            })
          : void()),
     ...);
  }
  (std::make_index_sequence<kEventTypeCount>());
  return out;
}

// The keys older journals wrote for `type`, which a reader ignores.
inline std::span<const std::string_view> ignored_keys(EventType type) {
  std::span<const std::string_view> out;
  [&]<std::size_t... I>(std::index_sequence<I...>) {
    ((static_cast<std::size_t>(type) == I
          ? void(out = PayloadFields<std::variant_alternative_t<I, blotter::Payload>>::ignored)
          : void()),
     ...);
  }
  (std::make_index_sequence<kEventTypeCount>());
  return out;
}

}  // namespace blotter::detail
