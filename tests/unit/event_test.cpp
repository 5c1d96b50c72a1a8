#include "blotter/event.h"

#include <doctest/doctest.h>

#include <cstdint>
#include <iterator>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <type_traits>
#include <variant>
#include <vector>

#include "blotter/error.h"
#include "events/payload_json.h"
#include "test_support.h"

using namespace blotter;

namespace {

Decimal d(const char* text) { return Decimal::from_string(text); }

template <class T>
T round_trip(const T& body) {
  const Event event = make_event(1'709'251'200'000'000'000, "GOOG", body);
  const std::string json = encode_payload(event);
  const Payload decoded = decode_payload(event.type(), json);
  INFO("json: ", json);
  REQUIRE(std::holds_alternative<T>(decoded));
  return std::get<T>(decoded);
}

// The message decode_payload throws for `json`; empty if it did not throw.
std::string decode_error(EventType type, std::string_view json) {
  try {
    decode_payload(type, json);
  } catch (const Error& e) {
    return e.what();
  }
  return {};
}

bool contains(const std::string& text, std::string_view part) {
  return text.find(part) != std::string::npos;
}

using OrderedJson = nlohmann::ordered_json;

// The payload text as blotter wrote it with nlohmann::ordered_json before it
// had a writer of its own: journals on disk hold this text, and their hash
// chains cover it, so the writer must give the same bytes.
std::string nlohmann_payload(const Event& e) {
  OrderedJson j = OrderedJson::object();
  const auto dec = [](Decimal v) { return v.to_string(); };
  std::visit(
      [&](const auto& p) {
        using T = std::decay_t<decltype(p)>;
        if constexpr (std::is_same_v<T, Tick>) {
          j["price"] = dec(p.price);
          j["volume"] = dec(p.volume);
        } else if constexpr (std::is_same_v<T, Bar>) {
          j["open"] = dec(p.open);
          j["high"] = dec(p.high);
          j["low"] = dec(p.low);
          j["close"] = dec(p.close);
          j["volume"] = dec(p.volume);
        } else if constexpr (std::is_same_v<T, Signal>) {
          j["direction"] = to_string(p.direction);
          j["price"] = dec(p.price);
          j["reason"] = p.reason;
        } else if constexpr (std::is_same_v<T, Order>) {
          j["side"] = to_string(p.side);
          j["quantity"] = dec(p.quantity);
          j["price"] = dec(p.price);
          j["signal_seq"] = p.signal_seq;
        } else if constexpr (std::is_same_v<T, Fill>) {
          j["side"] = to_string(p.side);
          j["quantity"] = dec(p.quantity);
          j["price"] = dec(p.price);
          j["commission"] = dec(p.commission);
          j["order_seq"] = p.order_seq;
        } else if constexpr (std::is_same_v<T, RiskRejected>) {
          j["direction"] = to_string(p.direction);
          j["reason"] = p.reason;
          j["signal_seq"] = p.signal_seq;
        } else if constexpr (std::is_same_v<T, HandlerError>) {
          j["handler"] = p.handler;
          j["event_seq"] = p.event_seq;
          j["error"] = p.error;
        } else if constexpr (std::is_same_v<T, RunStarted>) {
          j["input"] = p.input;
          j["input_sha256"] = p.input_sha256;
          j["input_kind"] = p.input_kind;
          j["symbol"] = p.symbol;
          j["window"] = p.window;
          j["quantity"] = p.quantity;
          j["risk_per_trade"] = p.risk_per_trade;
          j["capital"] = p.capital;
          j["max_daily_loss"] = p.max_daily_loss;
          j["max_position"] = p.max_position;
          j["fill"] = p.fill;
          j["slippage_bps"] = p.slippage_bps;
          j["commission"] = p.commission;
          j["tz"] = p.tz;
          j["version"] = p.version;
          j["strategy"] = p.strategy;
          j["broker"] = p.broker;
          j["source"] = p.source;
          j["strategy_version"] = p.strategy_version;
          j["params"] = p.params;
          j["strategy_sha256"] = p.strategy_sha256;
        } else if constexpr (std::is_same_v<T, RunFinished>) {
          j["run_seq"] = p.run_seq;
          j["rows"] = p.rows;
          j["events"] = p.events;
          j["resumed_at"] = p.resumed_at;
          if (p.ended != "end_of_input") j["ended"] = p.ended;
        } else if constexpr (std::is_same_v<T, Annotation>) {
          j["refers_to_seq"] = p.refers_to_seq;
          j["day"] = p.day;
          j["tag"] = p.tag;
          j["text"] = p.text;
        } else {
          static_assert(std::is_same_v<T, InputRejected>);
          j["line"] = p.line;
          j["field"] = p.field;
          j["message"] = p.message;
          j["row"] = p.row;
        }
      },
      e.payload);
  return j.dump(-1, ' ', false, OrderedJson::error_handler_t::replace);
}

// Texts that test a JSON string writer: quotes, backslashes, every kind of
// control character, DEL, UTF-8 of 2, 3 and 4 bytes, and invalid UTF-8.
const std::vector<std::string> kAwkwardTexts = {
    "",
    "plain ASCII, punctuation ~!@#$%^&*()_+{}[]|:;'<>?,./`",
    "a \"quoted\" word",
    "back\\slash and /slash",
    "tab\there, new\nline, cr\r, bs\b, ff\f",
    std::string("nul \0 byte", 10),
    "\x01\x02\x1f unit separator",
    "del \x7f",
    "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x93\x88",
    "bad \xff byte",
    "truncated \xe2\x82",
    "overlong \xc0\xaf",
    "lone continuation \x80 byte",
};

// One event of every type, with values at the edges of their ranges.
std::vector<Event> every_type() {
  const Decimal max = Decimal::from_raw(INT64_MAX);
  const Decimal tiny = Decimal::from_raw(1);
  const RunStarted m = testing::sample_manifest();
  return {
      make_event(0, "X", Tick{d("100.34"), tiny}),
      make_event(0, "X", Tick{max, -max}),
      make_event(0, "X", Bar{d("100"), d("104.06"), d("95.96"), d("-0.5"), d("22351900")}),
      make_event(0, "X", Signal{Direction::kLong, d("1"), ""}),
      make_event(0, "X", Signal{Direction::kExit, d("99.99999999"), "close < 20-day mean"}),
      make_event(0, "X", Order{Side::kBuy, d("1"), d("1"), 0}),
      make_event(0, "X", Order{Side::kSell, d("12.5"), d("0.00000001"), INT64_MAX}),
      make_event(0, "X", Fill{Side::kBuy, d("10"), d("100.35"), d("0.00000123"), 9'000'000'000}),
      make_event(0, "X", RiskRejected{Direction::kLong, "daily loss limit", 7}),
      make_event(0, "", HandlerError{"risk_manager", 3, "boom"}),
      make_event(0, "", m),
      make_event(0, "", RunFinished{1, 2, 3, {}}),
      make_event(0, "", RunFinished{1, INT64_MAX, 0, {5, 900}}),
      make_event(0, "", Annotation{3, "", "", "a note"}),
      make_event(0, "", Annotation{0, "2024-03-01", "halt", "exchange closed"}),
      make_event(0, "", RunFinished{1, 2, 3, {4}, "sigterm"}),
      make_event(0, "", InputRejected{1, "", "feed:1: no header", ""}),
      make_event(0, "",
                 InputRejected{INT64_MAX, "close", "-:9: field 'close': 'x' is not a number",
                               "2024-01-02,1,2,0.5,x,7"}),
  };
}

// The strict decoder's error for `json`; empty if it did not throw.
std::string strict_error(EventType type, std::string_view json) {
  try {
    detail::decode_payload_strict(type, json);
  } catch (const Error& e) {
    return e.what();
  }
  return {};
}

}  // namespace

TEST_SUITE("event") {
  TEST_CASE("encoding into a string replaces what it held with the same text") {
    std::string out = std::string(300, 'x');
    for (const Event& e :
         {make_event(1, "A", Bar{d("100"), d("104.06"), d("95.96"), d("-100.34"), d("7")}),
          make_event(2, "A", Signal{Direction::kExit, d("0.5"), "close \"below\" MA"}),
          make_event(3, "", RunFinished{1, 2, 3, {4, 5}})}) {
      encode_payload(e, out);
      CHECK(out == encode_payload(e));
    }
  }

  TEST_CASE("a tick round trips through its JSON payload") {
    const Tick out = round_trip(Tick{d("100.34"), d("0.00000001")});
    CHECK(out.price == d("100.34"));
    CHECK(out.volume == d("0.00000001"));
  }

  TEST_CASE("a bar round trips through its JSON payload") {
    const Bar out = round_trip(Bar{d("100"), d("104.06"), d("95.96"), d("100.34"), d("22351900")});
    CHECK(out.open == d("100"));
    CHECK(out.high == d("104.06"));
    CHECK(out.low == d("95.96"));
    CHECK(out.close == d("100.34"));
    CHECK(out.volume == d("22351900"));
  }

  TEST_CASE("a signal round trips through its JSON payload") {
    const Signal out =
        round_trip(Signal{Direction::kExit, d("99.99999999"), "close < 20-day mean"});
    CHECK(out.direction == Direction::kExit);
    CHECK(out.price == d("99.99999999"));
    CHECK(out.reason == "close < 20-day mean");
    CHECK(round_trip(Signal{Direction::kLong, d("1"), ""}).direction == Direction::kLong);
  }

  TEST_CASE("an order round trips through its JSON payload") {
    const Order out = round_trip(Order{Side::kSell, d("12.5"), d("-0.5"), 42});
    CHECK(out.side == Side::kSell);
    CHECK(out.quantity == d("12.5"));
    CHECK(out.price == d("-0.5"));
    CHECK(out.signal_seq == 42);
    CHECK(round_trip(Order{Side::kBuy, d("1"), d("1"), 0}).side == Side::kBuy);
  }

  TEST_CASE("a fill round trips through its JSON payload") {
    const Fill out =
        round_trip(Fill{Side::kBuy, d("10"), d("100.35"), d("0.00000123"), 9'000'000'000});
    CHECK(out.side == Side::kBuy);
    CHECK(out.quantity == d("10"));
    CHECK(out.price == d("100.35"));
    CHECK(out.commission == d("0.00000123"));
    CHECK(out.order_seq == 9'000'000'000);
  }

  TEST_CASE("a risk rejection round trips through its JSON payload") {
    const RiskRejected out = round_trip(RiskRejected{Direction::kLong, "daily loss limit", 7});
    CHECK(out.direction == Direction::kLong);
    CHECK(out.reason == "daily loss limit");
    CHECK(out.signal_seq == 7);
  }

  TEST_CASE("a handler error round trips through its JSON payload") {
    const HandlerError out =
        round_trip(HandlerError{"risk_manager", 3, "boom: \"quoted\"\nsecond line \xc3\xa9"});
    CHECK(out.handler == "risk_manager");
    CHECK(out.event_seq == 3);
    CHECK(out.error == "boom: \"quoted\"\nsecond line \xc3\xa9");
  }

  TEST_CASE("the extreme decimals round trip exactly") {
    const Decimal max = Decimal::from_raw(INT64_MAX);
    const Tick out = round_trip(Tick{max, -max});
    CHECK(out.price == max);
    CHECK(out.volume == -max);
  }

  TEST_CASE("a bar's payload has its keys in a fixed order and decimals as strings") {
    const Event e =
        make_event(0, "GOOG", Bar{d("100.0"), d("104.06"), d("95.96"), d("100.34"), d("22351900")});
    CHECK(encode_payload(e) ==
          R"({"open":"100","high":"104.06","low":"95.96","close":"100.34","volume":"22351900"})");
  }

  TEST_CASE("every payload's JSON text is fixed") {
    CHECK(encode_payload(make_event(0, "X", Tick{d("1.5"), d("0")})) ==
          R"({"price":"1.5","volume":"0"})");
    CHECK(encode_payload(make_event(0, "X", Signal{Direction::kLong, d("2"), "r"})) ==
          R"({"direction":"long","price":"2","reason":"r"})");
    CHECK(encode_payload(make_event(0, "X", Order{Side::kBuy, d("3"), d("4.25"), 5})) ==
          R"({"side":"buy","quantity":"3","price":"4.25","signal_seq":5})");
    CHECK(encode_payload(make_event(0, "X", Fill{Side::kSell, d("3"), d("4.25"), d("0.01"), 6})) ==
          R"({"side":"sell","quantity":"3","price":"4.25","commission":"0.01","order_seq":6})");
    CHECK(encode_payload(make_event(0, "X", RiskRejected{Direction::kExit, "no position", 8})) ==
          R"({"direction":"exit","reason":"no position","signal_seq":8})");
    CHECK(encode_payload(make_event(0, "", HandlerError{"h", 9, "e"})) ==
          R"({"handler":"h","event_seq":9,"error":"e"})");
  }

  TEST_CASE("the payload does not depend on the event's time, symbol or seq") {
    Event a = make_event(1, "A", Tick{d("1"), d("2")});
    Event b = make_event(2, "B", Tick{d("1"), d("2")});
    b.seq = 99;
    CHECK(encode_payload(a) == encode_payload(b));
  }

  TEST_CASE("invalid UTF-8 in a text field is replaced, not thrown") {
    const Event e = make_event(0, "", HandlerError{"h", 1, "bad \xff byte"});
    std::string json;
    REQUIRE_NOTHROW(json = encode_payload(e));
    const auto out = std::get<HandlerError>(decode_payload(EventType::kHandlerError, json));
    CHECK(out.error == "bad \xef\xbf\xbd byte");  // U+FFFD
  }

  TEST_CASE("decode refuses invalid JSON") {
    for (const std::string json :
         {"", "{", "{\"price\":", "not json", "{\"price\":\"1\"} trailing"}) {
      CAPTURE(json);
      const std::string why = decode_error(EventType::kTick, json);
      CHECK(contains(why, "TICK payload"));
      CHECK(contains(why, "invalid JSON"));
    }
  }

  TEST_CASE("regression: a number beyond a double's range is a blotter::Error, not a JSON one") {
    // nlohmann throws out_of_range, not parse_error, for "1e400": it escaped decode_payload.
    const std::string why =
        decode_error(EventType::kHandlerError, R"({"handler":"h","event_seq":1e400,"error":"e"})");
    CHECK(contains(why, "HANDLER_ERROR payload"));
    CHECK(contains(why, "invalid JSON"));
    CHECK(contains(decode_error(EventType::kRunFinished, R"({"run_seq":-1e999})"), "invalid JSON"));
  }

  TEST_CASE("decode refuses JSON that is not an object") {
    for (const std::string json : {"[]", "null", "\"1\"", "42", "[\"1\",\"2\"]"}) {
      CAPTURE(json);
      CHECK(contains(decode_error(EventType::kBar, json), "not a JSON object"));
    }
  }

  TEST_CASE("a missing field is named in the error") {
    const std::string why =
        decode_error(EventType::kBar, R"({"open":"1","high":"2","low":"1","volume":"5"})");
    CHECK(contains(why, "BAR payload"));
    CHECK(contains(why, "'close'"));
    CHECK(contains(why, "missing"));
    CHECK(contains(decode_error(EventType::kFill,
                                R"({"side":"buy","quantity":"1","price":"1","commission":"0"})"),
                   "'order_seq'"));
    CHECK(contains(decode_error(EventType::kHandlerError, R"({"handler":"h","event_seq":1})"),
                   "'error'"));
    CHECK(contains(decode_error(EventType::kSignal, "{}"), "'direction'"));
  }

  TEST_CASE("a decimal given as a JSON number is refused") {
    const std::string why = decode_error(EventType::kTick, R"({"price":100.34,"volume":"1"})");
    CHECK(contains(why, "'price'"));
    CHECK(contains(why, "string"));
    CHECK(contains(decode_error(EventType::kTick, R"({"price":"1","volume":5})"), "'volume'"));
  }

  TEST_CASE("a decimal string that is not exact is refused") {
    CHECK(contains(decode_error(EventType::kTick, R"({"price":"1.000000001","volume":"1"})"),
                   "'price'"));
    CHECK(contains(decode_error(EventType::kTick, R"({"price":"NaN","volume":"1"})"), "'price'"));
    CHECK(
        contains(decode_error(EventType::kTick, R"({"price":"1","volume":"1e400"})"), "'volume'"));
    CHECK(contains(decode_error(EventType::kTick, R"({"price":"","volume":"1"})"), "'price'"));
  }

  TEST_CASE("a bad side or direction is refused") {
    CHECK(contains(decode_error(EventType::kOrder,
                                R"({"side":"hold","quantity":"1","price":"1","signal_seq":1})"),
                   "'side'"));
    CHECK(contains(decode_error(EventType::kOrder,
                                R"({"side":"BUY","quantity":"1","price":"1","signal_seq":1})"),
                   "'side'"));
    CHECK(contains(
        decode_error(EventType::kSignal, R"({"direction":"short","price":"1","reason":""})"),
        "'direction'"));
    CHECK(contains(
        decode_error(EventType::kRiskRejected, R"({"direction":0,"reason":"","signal_seq":1})"),
        "'direction'"));
  }

  TEST_CASE("a sequence number must be a non-negative JSON integer") {
    for (const std::string seq : {"-1", "\"1\"", "1.5", "null", "18446744073709551615"}) {
      CAPTURE(seq);
      const std::string json =
          std::string(R"({"side":"buy","quantity":"1","price":"1","signal_seq":)") +
          std::string(seq) + "}";
      CHECK(contains(decode_error(EventType::kOrder, json), "'signal_seq'"));
    }
  }

  TEST_CASE("a text field must be a JSON string") {
    CHECK(contains(
        decode_error(EventType::kHandlerError, R"({"handler":1,"event_seq":1,"error":"e"})"),
        "'handler'"));
    CHECK(contains(
        decode_error(EventType::kSignal, R"({"direction":"long","price":"1","reason":null})"),
        "'reason'"));
  }

  TEST_CASE("one type's payload is not accepted as another's") {
    const Event bar = make_event(0, "X", Bar{d("1"), d("2"), d("1"), d("2"), d("3")});
    CHECK(contains(decode_error(EventType::kTick, encode_payload(bar)), "'price'"));
  }

  TEST_CASE("event type names round trip for every type") {
    const char* names[] = {"TICK",         "BAR",           "SIGNAL",        "ORDER",
                           "FILL",         "RISK_REJECTED", "HANDLER_ERROR", "RUN_STARTED",
                           "RUN_FINISHED", "ANNOTATION",    "INPUT_REJECTED"};
    static_assert(std::size(names) == kEventTypeCount);
    for (std::size_t i = 0; i < kEventTypeCount; ++i) {
      const auto type = static_cast<EventType>(i);
      CAPTURE(i);
      CHECK(to_string(type) == names[i]);
      CHECK(parse_event_type(names[i]) == type);
    }
  }

  TEST_CASE("an unknown event type name is not parsed") {
    for (const std::string name : {"", "UNKNOWN", "BARS", "TICK ", "RISK REJECTED"}) {
      CAPTURE(name);
      CHECK_FALSE(parse_event_type(name).has_value());
    }
  }

  TEST_CASE("an event's type follows its payload") {
    CHECK(make_event(0, "", Tick{}).type() == EventType::kTick);
    CHECK(make_event(0, "", Bar{}).type() == EventType::kBar);
    CHECK(make_event(0, "", Signal{}).type() == EventType::kSignal);
    CHECK(make_event(0, "", Order{}).type() == EventType::kOrder);
    CHECK(make_event(0, "", Fill{}).type() == EventType::kFill);
    CHECK(make_event(0, "", RiskRejected{}).type() == EventType::kRiskRejected);
    CHECK(make_event(0, "", HandlerError{}).type() == EventType::kHandlerError);
    CHECK(make_event(0, "", RunStarted{}).type() == EventType::kRunStarted);
    CHECK(make_event(0, "", RunFinished{}).type() == EventType::kRunFinished);
    CHECK(make_event(0, "", Annotation{}).type() == EventType::kAnnotation);
    CHECK(make_event(0, "", InputRejected{}).type() == EventType::kInputRejected);
  }

  TEST_CASE("a run manifest round trips with every field") {
    RunStarted m;
    m.input = "data/x.csv";
    m.input_sha256 = std::string(64, 'a');
    m.input_kind = "bars";
    m.symbol = "GOOG";
    m.window = 21;
    m.quantity = "2";
    m.risk_per_trade = "0.01";
    m.capital = "50000";
    m.max_daily_loss = "0.03";
    m.max_position = "4";
    m.fill = "next-open";
    m.slippage_bps = "1.5";
    m.commission = "0.005";
    m.tz = "America/New_York";
    m.version = "0.1.0";
    m.strategy = "every_nth";
    m.broker = "fixed_price";
    m.source = "memory";
    const Event e = make_event(0, "", m);
    const auto out =
        std::get<RunStarted>(decode_payload(EventType::kRunStarted, encode_payload(e)));
    CHECK(encode_payload(make_event(0, "", out)) == encode_payload(e));
    CHECK(out.window == 21);
    CHECK(out.tz == "America/New_York");
    CHECK(out.strategy == "every_nth");
    CHECK(out.broker == "fixed_price");
    CHECK(out.source == "memory");
    // The seams' names come last, after every field older journals have.
    CHECK(
        encode_payload(e).find(
            R"("version":"0.1.0","strategy":"every_nth","broker":"fixed_price","source":"memory",)") !=
        std::string::npos);
    const auto fin = std::get<RunFinished>(
        decode_payload(EventType::kRunFinished,
                       encode_payload(make_event(0, "", RunFinished{1, 1047, 1294, {400, 900}}))));
    CHECK(fin.run_seq == 1);
    CHECK(fin.rows == 1047);
    CHECK(fin.events == 1294);
    CHECK(fin.resumed_at == std::vector<Seq>{400, 900});
  }

  TEST_CASE("a RUN_FINISHED of schema version 2 has no resumed_at and reads as never resumed") {
    const auto fin = std::get<RunFinished>(
        decode_payload(EventType::kRunFinished, R"({"run_seq":1,"rows":3,"events":5})"));
    CHECK(fin.events == 5);
    CHECK(fin.resumed_at.empty());
    CHECK_THROWS_WITH_AS(decode_payload(EventType::kRunFinished,
                                        R"({"run_seq":1,"rows":3,"events":5,"resumed_at":[-1]})"),
                         doctest::Contains("resumed_at"), Error);
  }

  TEST_CASE("a RUN_FINISHED that ended at the end of input has no ended, as before the field") {
    RunFinished fin{1, 3, 5, {}};
    CHECK(encode_payload(make_event(0, "", fin)) ==
          R"({"run_seq":1,"rows":3,"events":5,"resumed_at":[]})");
    CHECK(round_trip(fin).ended == "end_of_input");
    // Written as older journals wrote it, it reads as ending at the end of input.
    CHECK(std::get<RunFinished>(
              decode_payload(EventType::kRunFinished, R"({"run_seq":1,"rows":3,"events":5})"))
              .ended == "end_of_input");
  }

  TEST_CASE("a RUN_FINISHED that ended otherwise says how, and round trips") {
    for (const std::string ended : {"sigint", "sigterm", "until", "bad_row"}) {
      CAPTURE(ended);
      RunFinished fin{1, 3, 5, {2}, ended};
      CHECK(encode_payload(make_event(0, "", fin)) ==
            R"({"run_seq":1,"rows":3,"events":5,"resumed_at":[2],"ended":")" + ended + R"("})");
      CHECK(round_trip(fin).ended == ended);
    }
    // An explicit end_of_input is read too, though blotter does not write it.
    CHECK(std::get<RunFinished>(
              decode_payload(EventType::kRunFinished,
                             R"({"run_seq":1,"rows":3,"events":5,"ended":"end_of_input"})"))
              .ended == "end_of_input");
  }

  TEST_CASE("a RUN_FINISHED with an unknown ending is refused, naming the field") {
    CHECK(contains(decode_error(EventType::kRunFinished,
                                R"({"run_seq":1,"rows":3,"events":5,"ended":"crash"})"),
                   "'ended': 'crash' is not one of"));
    CHECK(contains(
        decode_error(EventType::kRunFinished, R"({"run_seq":1,"rows":3,"events":5,"ended":7})"),
        "'ended': expected a string"));
  }

  TEST_CASE("an input rejection round trips through its JSON payload, fields in order") {
    const InputRejected in{12, "close", "-:12: field 'close': 'x' is not a number",
                           "2024-01-02,1,2,0.5,x,\\x1B\"q\""};
    CHECK(encode_payload(make_event(0, "", in)) ==
          R"({"line":12,"field":"close","message":"-:12: field 'close': 'x' is not a number",)"
          R"("row":"2024-01-02,1,2,0.5,x,\\x1B\"q\""})");
    const InputRejected out = round_trip(in);
    CHECK(out.line == 12);
    CHECK(out.field == "close");
    CHECK(out.message == in.message);
    CHECK(out.row == in.row);
    CHECK(
        contains(decode_error(EventType::kInputRejected, R"({"line":1,"field":"","message":"m"})"),
                 "'row': missing"));
    CHECK(contains(decode_error(EventType::kInputRejected,
                                R"({"line":"1","field":"","message":"m","row":""})"),
                   "'line': expected an integer"));
  }

  TEST_CASE("an annotation round trips through its JSON payload") {
    const auto about_seq = round_trip(Annotation{42, "", "review", "a \"late\" fill, ünïcode"});
    CHECK(about_seq.refers_to_seq == 42);
    CHECK(about_seq.day.empty());
    CHECK(about_seq.tag == "review");
    CHECK(about_seq.text == "a \"late\" fill, ünïcode");
    const auto about_day = round_trip(Annotation{0, "2006-09-11", "", "fed day"});
    CHECK(about_day.refers_to_seq == 0);
    CHECK(about_day.day == "2006-09-11");
    CHECK(encode_payload(make_event(0, "", Annotation{7, "", "t", "x"})) ==
          R"({"refers_to_seq":7,"day":"","tag":"t","text":"x"})");
  }

  TEST_CASE("an annotation is about exactly one event or one valid day, with text") {
    const auto error = [](std::string_view json) {
      return decode_error(EventType::kAnnotation, json);
    };
    CHECK(contains(error(R"({"refers_to_seq":0,"day":"","tag":"","text":"x"})"),
                   "field 'refers_to_seq': exactly one"));
    CHECK(contains(error(R"({"refers_to_seq":3,"day":"2006-09-11","tag":"","text":"x"})"),
                   "field 'refers_to_seq': exactly one"));
    CHECK(contains(error(R"({"refers_to_seq":0,"day":"2006-02-30","tag":"","text":"x"})"),
                   "field 'day'"));
    CHECK(contains(error(R"({"refers_to_seq":0,"day":"11/09/2006","tag":"","text":"x"})"),
                   "field 'day'"));
    CHECK(contains(error(R"({"refers_to_seq":3,"day":"","tag":"","text":" \n "})"),
                   "field 'text': empty"));
    CHECK(contains(error(R"({"refers_to_seq":3,"day":"","text":"x"})"), "field 'tag': missing"));
    CHECK(error(R"({"refers_to_seq":3,"day":"","tag":"","text":"x"})").empty());
  }

  TEST_CASE("a field the type does not have is refused") {
    CHECK(contains(decode_error(EventType::kTick, R"({"price":"1","volume":"1","venue":"X"})"),
                   "TICK payload: field 'venue': not a field of TICK"));
    CHECK(contains(
        decode_error(EventType::kRunFinished, R"({"run_seq":1,"rows":2,"events":3,"extra":null})"),
        "field 'extra'"));
  }

  TEST_CASE("a manifest without the seams' names reads as ma_crossover, paper and csv") {
    // RUN_STARTED as journals written before the seams were recorded have it.
    const std::string old =
        R"({"input":"a.csv","input_sha256":"00","input_kind":"bars","symbol":"X","window":20,)"
        R"("quantity":"1","risk_per_trade":"","capital":"100000","max_daily_loss":"0.02",)"
        R"("max_position":"","fill":"signal","slippage_bps":"0","commission":"0","tz":"UTC",)"
        R"("version":"0.1.0"})";
    const auto m = std::get<RunStarted>(decode_payload(EventType::kRunStarted, old));
    CHECK(m.strategy == "ma_crossover");
    CHECK(m.broker == "paper");
    CHECK(m.source == "csv");
    CHECK(m.strategy_version == 1);
    CHECK(m.params.empty());
    CHECK(m.strategy_sha256.empty());
    // Written again, it has them, at the end.
    CHECK(encode_payload(make_event(0, "", m)) ==
          old.substr(0, old.size() - 1) +
              R"(,"strategy":"ma_crossover","broker":"paper","source":"csv",)"
              R"("strategy_version":1,"params":"","strategy_sha256":""})");
    // A name that is not text is refused like any other field.
    std::string bad = old;
    bad.replace(bad.size() - 1, 1, R"(,"strategy":7})");
    CHECK(contains(decode_error(EventType::kRunStarted, bad), "field 'strategy'"));
  }

  TEST_CASE("an integer beyond 64 bits signed is refused") {
    CHECK(contains(decode_error(EventType::kRunFinished,
                                R"({"run_seq":1,"rows":9223372036854775808,"events":3})"),
                   "field 'rows': out of range"));
    CHECK(decode_error(EventType::kRunFinished,
                       R"({"run_seq":1,"rows":9223372036854775807,"events":3})")
              .empty());
  }

  TEST_CASE("a manifest's input kind and fill model are one of their values") {
    RunStarted m;
    m.input_kind = "bars";
    m.fill = "signal";
    const std::string good = encode_payload(make_event(0, "", m));
    CHECK(decode_error(EventType::kRunStarted, good).empty());
    std::string bad_kind = good;
    bad_kind.replace(bad_kind.find("\"bars\""), 6, "\"bar\"");
    CHECK(contains(decode_error(EventType::kRunStarted, bad_kind), "field 'input_kind'"));
    std::string bad_fill = good;
    bad_fill.replace(bad_fill.find("\"signal\""), 8, "\"close\"");
    CHECK(contains(decode_error(EventType::kRunStarted, bad_fill), "field 'fill'"));
  }

  TEST_CASE("every payload is written byte for byte as nlohmann::json wrote it") {
    for (const Event& e : every_type()) {
      CAPTURE(to_string(e.type()));
      CHECK(encode_payload(e) == nlohmann_payload(e));
    }
    for (const std::string& text : kAwkwardTexts) {
      CAPTURE(text);
      for (const Event& e : {make_event(0, "", Signal{Direction::kLong, d("1"), text}),
                             make_event(0, "", RiskRejected{Direction::kExit, text, 1}),
                             make_event(0, "", HandlerError{text, 2, text}),
                             make_event(0, "", Annotation{1, "", text, text + "x"})})
        CHECK(encode_payload(e) == nlohmann_payload(e));
    }
  }

  TEST_CASE("strings are escaped exactly as nlohmann::json escapes them") {
    // Control characters as \uXXXX in lower case; DEL is not one to JSON and stays as it is.
    CHECK(encode_payload(make_event(0, "", HandlerError{"h", 1, "a\"b\\c\n\x01\x1f\x7f"})) ==
          std::string(R"({"handler":"h","event_seq":1,"error":"a\"b\\c\n\u0001\u001f)") +
              "\x7f\"}");
    std::string written;
    detail::append_json_string(written, "a\"b\\c\n\x01\x7f");
    CHECK(written == "\"a\\\"b\\\\c\\n\\u0001\x7f\"");
    for (const std::string& text : kAwkwardTexts) {
      CAPTURE(text);
      std::string out = "prefix:";
      detail::append_json_string(out, text);
      CHECK(out == "prefix:" + OrderedJson(text).dump(-1, ' ', false,
                                                      OrderedJson::error_handler_t::replace));
    }
  }

  TEST_CASE("awkward text round trips through the payload of every type that holds text") {
    for (const std::string& text : kAwkwardTexts) {
      CAPTURE(text);
      const std::string valid_utf8 =
          std::get<HandlerError>(
              decode_payload(EventType::kHandlerError,
                             encode_payload(make_event(0, "", HandlerError{"h", 1, text}))))
              .error;
      CHECK(round_trip(Signal{Direction::kLong, d("1"), text}).reason == valid_utf8);
      CHECK(round_trip(RiskRejected{Direction::kExit, text, 1}).reason == valid_utf8);
      CHECK(round_trip(HandlerError{text, 2, text}).handler == valid_utf8);
    }
    CHECK(round_trip(Signal{Direction::kLong, d("1"), "tab\there \"q\" caf\xc3\xa9"}).reason ==
          "tab\there \"q\" caf\xc3\xa9");
  }

  TEST_CASE("the canonical form decodes on the fast path to what the strict decoder reads") {
    int fast = 0;
    for (const Event& e : every_type()) {
      const std::string json = encode_payload(e);
      CAPTURE(json);
      const auto canonical = detail::decode_canonical_payload(e.type(), json);
      const Payload strict = detail::decode_payload_strict(e.type(), json);
      const bool once_per_run =
          e.type() == EventType::kRunStarted || e.type() == EventType::kRunFinished ||
          e.type() == EventType::kAnnotation || e.type() == EventType::kInputRejected;
      CHECK(canonical.has_value() == !once_per_run);
      if (!canonical) continue;
      ++fast;
      Event a, b;
      a.payload = *canonical;
      b.payload = strict;
      CHECK(a.type() == e.type());
      CHECK(encode_payload(a) == encode_payload(b));
      CHECK(encode_payload(a) == json);
    }
    CHECK(fast == 10);
  }

  TEST_CASE("valid JSON in another form is left to the strict decoder and reads the same") {
    struct Case {
      EventType type;
      std::string canonical, other;
    };
    const std::vector<Case> cases = {
        {EventType::kTick, R"({"price":"1.5","volume":"0"})",
         R"({ "price": "1.5", "volume": "0" })"},
        {EventType::kTick, R"({"price":"1.5","volume":"0"})", R"({"volume":"0","price":"1.5"})"},
        {EventType::kTick, R"({"price":"1.5","volume":"0"})",
         "{\"price\":\"1.5\",\"volume\":\"0\"}\n"},
        {EventType::kBar, R"({"open":"1","high":"2","low":"0.5","close":"1.5","volume":"10"})",
         R"({"open":"1","high":"2","low":"0.5","close":"1.5","volume":"1\u0030"})"},
        {EventType::kSignal, R"({"direction":"long","price":"2","reason":"A/B"})",
         R"({"direction":"long","price":"2","reason":"\u0041\/B"})"},
        {EventType::kOrder, R"({"side":"buy","quantity":"3","price":"4.25","signal_seq":5})",
         R"({"side":"buy","quantity":"3","price":"4.25","signal_seq":5 })"},
        {EventType::kFill,
         R"({"side":"sell","quantity":"3","price":"4.25","commission":"0.01","order_seq":6})",
         R"({"order_seq":6,"commission":"0.01","price":"4.25","quantity":"3","side":"sell"})"},
        {EventType::kRiskRejected, R"({"direction":"exit","reason":"x","signal_seq":8})",
         "{\"direction\":\"exit\",\"reason\":\"x\",\t\"signal_seq\":8}"},
        {EventType::kHandlerError, R"({"handler":"h","event_seq":0,"error":"e"})",
         R"({"handler":"h","event_seq":-0,"error":"e"})"},
    };
    for (const Case& c : cases) {
      CAPTURE(c.other);
      REQUIRE(detail::decode_canonical_payload(c.type, c.canonical).has_value());
      CHECK_FALSE(detail::decode_canonical_payload(c.type, c.other).has_value());
      Event a, b;
      a.payload = decode_payload(c.type, c.other);
      b.payload = decode_payload(c.type, c.canonical);
      CHECK(encode_payload(a) == c.canonical);
      CHECK(encode_payload(b) == c.canonical);
    }
  }

  TEST_CASE("decimal text in any exact form reads the same on the fast path") {
    for (const std::string json :
         {R"({"price":"1.5e2","volume":"0"})", R"({"price":"+1.50000000000","volume":"02"})",
          R"({"price":"-.5","volume":"1."})"}) {
      CAPTURE(json);
      const auto fast = detail::decode_canonical_payload(EventType::kTick, json);
      REQUIRE(fast.has_value());
      const Tick strict = std::get<Tick>(detail::decode_payload_strict(EventType::kTick, json));
      CHECK(std::get<Tick>(*fast).price == strict.price);
      CHECK(std::get<Tick>(*fast).volume == strict.volume);
    }
  }

  TEST_CASE("what the fast path refuses gets the strict decoder's error") {
    struct Case {
      EventType type;
      std::string json;
    };
    const std::vector<Case> cases = {
        {EventType::kTick, R"({"price":"1.123456789","volume":"0"})"},
        {EventType::kTick, R"({"price":"nan","volume":"0"})"},
        {EventType::kTick, R"({"price":"","volume":"0"})"},
        {EventType::kTick, R"({"price":"92233720368.54775808","volume":"0"})"},
        {EventType::kTick, R"({"price":"1","volume":"0","venue":"X"})"},
        {EventType::kTick, R"({"price":"1"})"},
        {EventType::kTick, R"({"price":1,"volume":"0"})"},
        {EventType::kTick, R"({"price":"1","volume":"0"}})"},
        {EventType::kTick, R"({"price":"1","volume":"0")"},
        {EventType::kTick, "{\"price\":\"1\",\"volume\":\"0\x01\"}"},
        {EventType::kSignal, R"({"direction":"short","price":"2","reason":"r"})"},
        {EventType::kSignal, "{\"direction\":\"long\",\"price\":\"2\",\"reason\":\"\xff\"}"},
        {EventType::kOrder, R"({"side":"hold","quantity":"3","price":"4","signal_seq":5})"},
        {EventType::kOrder, R"({"side":"buy","quantity":"3","price":"4","signal_seq":-5})"},
        {EventType::kOrder, R"({"side":"buy","quantity":"3","price":"4","signal_seq":05})"},
        {EventType::kOrder, R"({"side":"buy","quantity":"3","price":"4","signal_seq":5.0})"},
        {EventType::kOrder, R"({"side":"buy","quantity":"3","price":"4","signal_seq":"5"})"},
        {EventType::kFill,
         R"({"side":"buy","quantity":"3","price":"4","commission":"0","order_seq":9223372036854775808})"},
        {EventType::kFill,
         R"({"side":"buy","quantity":"3","price":"4","commission":"0","order_seq":1e3})"},
        {EventType::kRiskRejected, R"({"direction":"long","reason":"r"})"},
        {EventType::kHandlerError, R"({"handler":"h","event_seq":1,"error":null})"},
        {EventType::kHandlerError, R"({"handler":"h","event_seq":1e400,"error":"e"})"},
        {EventType::kBar, R"({"open":"1","high":"2","low":"0.5","close":"1.5"})"},
        {EventType::kBar, R"({"close":"1.5"})"},
    };
    for (const Case& c : cases) {
      CAPTURE(c.json);
      CHECK_FALSE(detail::decode_canonical_payload(c.type, c.json).has_value());
      const std::string strict = strict_error(c.type, c.json);
      CHECK_FALSE(strict.empty());
      CHECK(decode_error(c.type, c.json) == strict);
    }
  }

  TEST_CASE("the fast path reads sequence numbers up to the largest 64-bit one and no further") {
    const std::string prefix = R"({"side":"buy","quantity":"3","price":"4","signal_seq":)";
    const auto order =
        detail::decode_canonical_payload(EventType::kOrder, prefix + "999999999999999999}");
    REQUIRE(order.has_value());
    CHECK(std::get<Order>(*order).signal_seq == 999'999'999'999'999'999);
    const auto largest =
        detail::decode_canonical_payload(EventType::kOrder, prefix + "9223372036854775807}");
    REQUIRE(largest.has_value());
    CHECK(std::get<Order>(*largest).signal_seq == INT64_MAX);
    for (const char* beyond : {"9223372036854775808}", "18446744073709551615}",
                               "18446744073709551616}", "99999999999999999999}"}) {
      CAPTURE(beyond);
      CHECK_FALSE(detail::decode_canonical_payload(EventType::kOrder, prefix + beyond).has_value());
      CHECK_FALSE(decode_error(EventType::kOrder, prefix + beyond).empty());
    }
    const auto zero = detail::decode_canonical_payload(EventType::kOrder, prefix + "0}");
    REQUIRE(zero.has_value());
    CHECK(std::get<Order>(*zero).signal_seq == 0);
  }

  TEST_CASE("sides and directions have their lower-case names") {
    CHECK(to_string(Side::kBuy) == "buy");
    CHECK(to_string(Side::kSell) == "sell");
    CHECK(to_string(Direction::kLong) == "long");
    CHECK(to_string(Direction::kExit) == "exit");
  }

  TEST_CASE("make_event sets time and symbol and leaves seq unassigned") {
    const Event e = make_event(123, "GOOG", Tick{d("1"), d("2")});
    CHECK(e.ts_ns == 123);
    CHECK(e.symbol == "GOOG");
    CHECK(e.seq == 0);
    CHECK(e.as<Tick>().price == d("1"));
    CHECK(e.get_if<Tick>() != nullptr);
    CHECK(e.get_if<Bar>() == nullptr);
  }
}
