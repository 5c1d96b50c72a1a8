// The typed events that travel on the bus and are stored in the journal.
// docs/JOURNAL_FORMAT.md describes each type's JSON payload.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "blotter/decimal.h"
#include "blotter/timestamp.h"

namespace blotter {

// Journal sequence number: 1, 2, 3, ... without gaps. 0 means "not yet journaled".
using Seq = std::int64_t;

enum class Side : std::uint8_t { kBuy, kSell };
enum class Direction : std::uint8_t { kLong, kExit };

std::string_view to_string(Side side);            // "buy", "sell"
std::string_view to_string(Direction direction);  // "long", "exit"

// A trade or quote print.
struct Tick {
  Decimal price;
  Decimal volume;
};

// An OHLCV bar; its time is the bar's timestamp as given by the data.
struct Bar {
  Decimal open, high, low, close, volume;
};

struct Signal {
  Direction direction = Direction::kLong;
  Decimal price;  // the close (or tick price) that triggered it
  std::string reason;
};

struct Order {
  Side side = Side::kBuy;
  Decimal quantity;
  Decimal price;  // the reference price: the signal's
  Seq signal_seq = 0;
};

struct Fill {
  Side side = Side::kBuy;
  Decimal quantity;
  Decimal price;  // after slippage
  Decimal commission;
  Seq order_seq = 0;
};

struct RiskRejected {
  Direction direction = Direction::kLong;
  std::string reason;
  Seq signal_seq = 0;
};

// A handler threw while handling event `event_seq`.
struct HandlerError {
  std::string handler;
  Seq event_seq = 0;
  std::string error;
};

// The configuration of a run, recorded so that it can be replayed, re-simulated
// and resumed. Decimals as exact text; empty text: the option was not given.
struct RunStarted {
  std::string input;                // the input file as given
  std::string input_sha256;         // hex digest of the input file's bytes
  std::string input_kind = "bars";  // or "ticks"
  std::string symbol;               // --symbol, empty if not given
  std::int64_t window = 0;
  std::string quantity, risk_per_trade, capital, max_daily_loss, max_position;
  std::string fill = "signal";  // or "next-open"
  std::string slippage_bps, commission;
  std::string tz;
  std::string version;  // blotter's version
  // The implementation of each seam the run used (journals written before
  // these fields existed read as these defaults).
  std::string strategy = "ma_crossover";
  std::string broker = "paper";
  std::string source = "csv";
  // The strategy's version, its parameters as canonical text
  // (StrategyParams::canonical) and the SHA-256 of its whole configuration
  // (strategy_configuration in trading_system.h). Journals written before
  // these fields read as version 1, "" and "".
  std::int64_t strategy_version = 1;
  std::string params;
  std::string strategy_sha256;
};

struct RunFinished {
  Seq run_seq = 0;          // the RUN_STARTED this run began with
  std::int64_t rows = 0;    // input rows the run journaled
  std::int64_t events = 0;  // events of the run, its RUN_STARTED and this one included
  // Where the run was resumed after an interruption: the first seq each
  // resumption appended (also in the run_resumptions table). Empty if none.
  std::vector<Seq> resumed_at;
  // How the run ended: "end_of_input", "sigint", "sigterm", "until" (the
  // event time it was given to stop at was reached) or "bad_row" (a bad input
  // row stopped a live session). Journals written before this field read as
  // "end_of_input".
  std::string ended = "end_of_input";
};

// A note added to the journal after the fact (`blotter annotate`), about one
// recorded event or one trading day: exactly one of `refers_to_seq` (> 0) and
// `day` ("YYYY-MM-DD") is set. A correction is a new annotation.
struct Annotation {
  Seq refers_to_seq = 0;  // 0: about a day
  std::string day;        // empty: about an event
  std::string tag;        // empty if not given
  std::string text;       // not blank
};

// An input row a live session skipped because it was not valid: the run
// journals it instead of stopping (a file is checked whole before anything
// commits, so a file run never writes one). Nothing replays it.
struct InputRejected {
  std::int64_t line = 0;  // the input line, 1-based
  std::string field;      // the field that was wrong; empty for the row as a whole
  std::string message;    // the one-line message a file run gives for the row
  std::string row;        // the line as read, escaped and cut short (input_rejected())
};

// New types go at the end: a type's number and name never change.
using Payload = std::variant<Tick, Bar, Signal, Order, Fill, RiskRejected, HandlerError, RunStarted,
                             RunFinished, Annotation, InputRejected>;

// The type tag stored in the journal's `type` column. The order follows Payload's.
enum class EventType : std::uint8_t {
  kTick,
  kBar,
  kSignal,
  kOrder,
  kFill,
  kRiskRejected,
  kHandlerError,
  kRunStarted,
  kRunFinished,
  kAnnotation,
  kInputRejected,
};
inline constexpr std::size_t kEventTypeCount = std::variant_size_v<Payload>;
static_assert(static_cast<std::size_t>(EventType::kInputRejected) + 1 == kEventTypeCount);

std::string_view to_string(EventType type);  // "TICK", "BAR", ..., "INPUT_REJECTED"
std::optional<EventType> parse_event_type(std::string_view name);

struct Event {
  Seq seq = 0;                   // assigned by the journal on append
  TimestampNs ts_ns = 0;         // event time, from the data or the causing event
  std::int64_t recorded_ns = 0;  // wall-clock time of the append; not part of determinism
  std::string symbol;            // empty when the event has none
  Payload payload;

  Event() = default;
  // An event of `body`'s type, made in place (make_event() below).
  template <class T>
  Event(TimestampNs ts, std::string&& symbol_text, T&& body)
      : ts_ns(ts),
        symbol(std::move(symbol_text)),
        payload(std::in_place_type<std::decay_t<T>>, std::forward<T>(body)) {}
  template <class T>
  Event(TimestampNs ts, std::string_view symbol_text, T&& body)
      : ts_ns(ts),
        symbol(symbol_text),
        payload(std::in_place_type<std::decay_t<T>>, std::forward<T>(body)) {}

  EventType type() const { return static_cast<EventType>(payload.index()); }
  template <class T>
  const T& as() const {
    return std::get<T>(payload);
  }
  template <class T>
  const T* get_if() const {
    return std::get_if<T>(&payload);
  }
};

template <class T>
Event make_event(TimestampNs ts, std::string&& symbol, T body) {
  return Event(ts, std::move(symbol), std::move(body));
}
// The symbol copied straight into the event (a std::string lvalue comes here
// too): a short symbol is one copy of its bytes, where taking it by value
// would copy it and then move it.
template <class T>
Event make_event(TimestampNs ts, std::string_view symbol, T body) {
  return Event(ts, symbol, std::move(body));
}
template <class T>
Event make_event(TimestampNs ts, const char* symbol, T body) {
  return Event(ts, std::string_view(symbol), std::move(body));
}

// The payload's JSON object text, keys in a fixed order; decimals are JSON
// strings holding their exact text ("100.34") so no reader rounds them.
std::string encode_payload(const Event& event);
// The same text into `out`, replacing what it held (its storage is reused).
void encode_payload(const Event& event, std::string& out);

// Rebuilds the payload of type `type` from its JSON text. Throws
// blotter::Error naming the field if the JSON is invalid or not of the type's
// shape: a field missing, of the wrong JSON type, out of range, not one of
// its allowed values, or not a field of the type at all.
Payload decode_payload(EventType type, std::string_view json);
// The same into `out`, reusing its storage when it holds a payload of that
// type already (a scan decoding row after row into one event). On a throw
// `out` holds some valid payload, not a meaningful one.
void decode_payload(EventType type, std::string_view json, Payload& out);

}  // namespace blotter
