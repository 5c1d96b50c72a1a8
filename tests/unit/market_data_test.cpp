#include "blotter/market_data.h"

#include <doctest/doctest.h>
#include <fmt/format.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "blotter/bus.h"
#include "blotter/error.h"
#include "blotter/store.h"

using namespace blotter;
namespace fs = std::filesystem;

namespace {

constexpr const char* kBarHeader = "timestamp,open,high,low,close,volume\n";

Decimal d(const char* text) { return Decimal::from_string(text); }

TimestampNs ts(const char* text) {
  const auto value = parse_timestamp(text);
  REQUIRE(value.has_value());
  return *value;
}

std::string unique_path() {
  static int counter = 0;
  return (fs::temp_directory_path() / ("blotter_market_data_test_" + std::to_string(::getpid()) +
                                       "_" + std::to_string(++counter) + ".csv"))
      .string();
}

// A file in the temp directory holding `content`, removed when it goes out of scope.
class TempCsv {
 public:
  explicit TempCsv(std::string_view content) : path_(unique_path()) {
    std::ofstream out(path_, std::ios::binary);
    out.write(content.data(), static_cast<std::streamsize>(content.size()));
    out.close();
    REQUIRE(out.good());
  }
  ~TempCsv() {
    std::error_code ignored;
    fs::remove(path_, ignored);
  }
  TempCsv(const TempCsv&) = delete;
  TempCsv& operator=(const TempCsv&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

CsvOptions bars(std::string symbol = "GOOG") { return {MarketDataKind::kBars, std::move(symbol)}; }
CsvOptions ticks(std::string symbol = "GOOG") {
  return {MarketDataKind::kTicks, std::move(symbol)};
}

std::vector<Event> read_all(const std::string& path, const CsvOptions& options) {
  CsvMarketData source(path, options);
  std::vector<Event> events;
  while (auto e = source.next()) events.push_back(std::move(*e));
  return events;
}

std::vector<Event> read_text(std::string_view content, const CsvOptions& options = bars()) {
  TempCsv file(content);
  return read_all(file.path(), options);
}

struct Refusal {
  std::string path;
  std::optional<InputError> error;
};

// Reads `content` to the end and returns the InputError it was refused with.
Refusal refuse(std::string_view content, const CsvOptions& options = bars()) {
  TempCsv file(content);
  Refusal r{file.path(), std::nullopt};
  try {
    read_all(file.path(), options);
  } catch (const InputError& e) {
    r.error = e;
  }
  return r;
}

// Checks that the error names file, line and field, and says `message` on one line.
void check_error(const Refusal& r, std::int64_t line, const std::string& field,
                 std::string_view message) {
  REQUIRE_MESSAGE(r.error.has_value(), "the file was accepted");
  const InputError& e = *r.error;
  const std::string what = e.what();
  INFO("what(): ", what);
  CHECK(e.file() == r.path);
  CHECK(e.line() == line);
  CHECK(e.field() == field);
  CHECK(what.find('\n') == std::string::npos);
  const std::string where = line > 0 ? r.path + ":" + std::to_string(line) + ": " : r.path + ": ";
  CHECK(what.rfind(where, 0) == 0);
  if (!field.empty()) CHECK(what.find("field '" + field + "'") != std::string::npos);
  CHECK(what.find(message) != std::string::npos);
}

std::string goog_path() { return std::string(BLOTTER_TEST_DATA) + "/goog_daily.csv"; }

}  // namespace

TEST_SUITE("market_data") {
  TEST_CASE("the GOOG daily file reads as 1047 bars in time order") {
    CsvMarketData source(goog_path(), bars());
    std::vector<Event> events;
    while (auto e = source.next()) events.push_back(std::move(*e));
    REQUIRE(events.size() == 1047);
    CHECK(source.rows() == 1047);
    CHECK(source.line() == 1048);
    CHECK(source.bytes_read() == source.file_size());
    CHECK(source.file_size() == fs::file_size(goog_path()));

    const Event& first = events.front();
    CHECK(first.seq == 0);
    CHECK(first.type() == EventType::kBar);
    CHECK(first.symbol == "GOOG");
    CHECK(first.ts_ns == ts("2004-08-19"));
    CHECK(first.as<Bar>().open == d("100"));
    CHECK(first.as<Bar>().high == d("104.06"));
    CHECK(first.as<Bar>().low == d("95.96"));
    CHECK(first.as<Bar>().close == d("100.34"));
    CHECK(first.as<Bar>().volume == d("22351900"));

    const Event& last = events.back();
    CHECK(last.ts_ns == ts("2008-10-14"));
    CHECK(last.as<Bar>().close == d("362.71"));
    for (std::size_t i = 1; i < events.size(); ++i) REQUIRE(events[i - 1].ts_ns < events[i].ts_ns);
  }

  TEST_CASE("next keeps returning nothing after the end") {
    TempCsv file(std::string(kBarHeader) + "2024-03-01,1,2,1,2,10\n");
    CsvMarketData source(file.path(), bars());
    CHECK(source.next().has_value());
    CHECK_FALSE(source.next().has_value());
    CHECK_FALSE(source.next().has_value());
    CHECK(source.rows() == 1);
  }

  TEST_CASE("CRLF line ends read like LF") {
    const auto lf =
        read_text(std::string(kBarHeader) + "2024-03-01,1,2,0.5,1.5,10\n2024-03-04,2,3,1,2.5,20\n");
    const auto crlf = read_text(
        "timestamp,open,high,low,close,volume\r\n2024-03-01,1,2,0.5,1.5,10\r\n2024-03-04,2,3,1,2.5,"
        "20\r\n");
    REQUIRE(crlf.size() == 2);
    REQUIRE(lf.size() == 2);
    for (std::size_t i = 0; i < 2; ++i) {
      CHECK(crlf[i].ts_ns == lf[i].ts_ns);
      CHECK(crlf[i].as<Bar>().volume == lf[i].as<Bar>().volume);
      CHECK(crlf[i].as<Bar>().close == lf[i].as<Bar>().close);
    }
    CHECK(crlf[1].as<Bar>().volume == d("20"));
  }

  TEST_CASE("a UTF-8 byte-order mark before the header is skipped") {
    const auto events =
        read_text("\xEF\xBB\xBFtimestamp,open,high,low,close,volume\n2024-03-01,1,2,1,2,10\n");
    REQUIRE(events.size() == 1);
    CHECK(events[0].ts_ns == ts("2024-03-01"));
  }

  TEST_CASE("blank lines are skipped but still counted") {
    const std::string content = std::string("\n") + kBarHeader +
                                "\n2024-03-01,1,2,1,2,10\n  \n\r\n\t\n2024-03-04,1,2,1,2,10\n\n\n";
    const auto events = read_text(content);
    REQUIRE(events.size() == 2);
    CHECK(events[1].ts_ns == ts("2024-03-04"));
    // The bad row is on line 5, after two blank lines.
    check_error(
        refuse(std::string(kBarHeader) + "2024-03-01,1,2,1,2,10\n\n\n2024-03-04,1,2,1,x,10\n"), 5,
        "close", "not a number");
  }

  TEST_CASE("the last line may lack a newline") {
    const auto events =
        read_text(std::string(kBarHeader) + "2024-03-01,1,2,1,2,10\n2024-03-04,1,2,1,3,10");
    REQUIRE(events.size() == 2);
    CHECK(events[1].as<Bar>().close == d("3"));
  }

  TEST_CASE("quoted fields are read as RFC 4180 says") {
    const auto events = read_text(
        "\"timestamp\",\"open\",high,low,close,volume,\"symbol\"\n"
        "\"2024-03-01\",\"100.5\",101,100,\"100.75\",\"1000\",\"A\"\"B\"\n"
        "2024-03-04, \"99\" ,101,98,100,0,\"C,D\"\n",
        bars(""));
    REQUIRE(events.size() == 2);
    CHECK(events[0].as<Bar>().open == d("100.5"));
    CHECK(events[0].as<Bar>().close == d("100.75"));
    CHECK(events[0].symbol == "A\"B");
    CHECK(events[1].as<Bar>().open == d("99"));
    CHECK(events[1].symbol == "C,D");
  }

  TEST_CASE("an unterminated quote is refused") {
    check_error(refuse(std::string(kBarHeader) + "2024-03-01,\"1,2,1,2,10\n"), 2, "#2",
                "unterminated");
  }

  TEST_CASE("columns may come in any order and any case") {
    const auto events = read_text("VOLUME,Close,LOW,High,Open,TimeStamp\n10,4,1,5,2,2024-03-01\n");
    REQUIRE(events.size() == 1);
    const Bar& bar = events[0].as<Bar>();
    CHECK(bar.open == d("2"));
    CHECK(bar.high == d("5"));
    CHECK(bar.low == d("1"));
    CHECK(bar.close == d("4"));
    CHECK(bar.volume == d("10"));
    CHECK(events[0].ts_ns == ts("2024-03-01"));
  }

  TEST_CASE("a symbol column gives each row its symbol") {
    const std::string content =
        "timestamp,symbol,open,high,low,close,volume\n"
        "2024-03-01,AAPL,1,2,1,2,10\n"
        "2024-03-01,MSFT,3,4,3,4,10\n"
        "2024-03-04,AAPL,1,2,1,1.5,10\n";
    const auto events = read_text(content, bars(""));
    REQUIRE(events.size() == 3);
    CHECK(events[0].symbol == "AAPL");
    CHECK(events[1].symbol == "MSFT");
    CHECK(events[2].symbol == "AAPL");
    // Two symbols may share a timestamp.
    CHECK(events[0].ts_ns == events[1].ts_ns);
  }

  TEST_CASE("CsvOptions::symbol picks one symbol's rows from a symbol column") {
    const std::string content =
        "timestamp,symbol,open,high,low,close,volume\n"
        "2024-03-01,AAPL,1,2,1,2,10\n"
        "2024-03-01,MSFT,3,4,3,4,10\n"
        "2024-03-04,AAPL,1,2,1,1.5,10\n"
        "2024-03-05,MSFT,3,4,3,3.5,10\n";
    const auto msft = read_text(content, bars("MSFT"));
    REQUIRE(msft.size() == 2);
    CHECK(msft[0].symbol == "MSFT");
    CHECK(msft[0].as<Bar>().close == d("4"));
    CHECK(msft[1].symbol == "MSFT");
    CHECK(msft[1].as<Bar>().close == d("3.5"));
    const auto aapl = read_text(content, bars("AAPL"));
    REQUIRE(aapl.size() == 2);
    CHECK(aapl[1].ts_ns == ts("2024-03-04"));
  }

  TEST_CASE("a symbol with no rows in the file is refused") {
    const std::string content =
        "timestamp,symbol,open,high,low,close,volume\n2024-03-01,AAPL,1,2,1,2,10\n";
    check_error(refuse(content, bars("IBM")), 2, "symbol", "IBM");
  }

  TEST_CASE("without a symbol column every row gets CsvOptions::symbol") {
    const auto events = read_text(std::string(kBarHeader) + "2024-03-01,1,2,1,2,10\n", bars("XYZ"));
    REQUIRE(events.size() == 1);
    CHECK(events[0].symbol == "XYZ");
  }

  TEST_CASE("ticks with a volume column") {
    const auto events = read_text(
        "timestamp,price,volume\n2024-03-01T14:30:00Z,100.25,300\n2024-03-01T14:30:00.5Z,100.5,0\n",
        ticks());
    REQUIRE(events.size() == 2);
    CHECK(events[0].type() == EventType::kTick);
    CHECK(events[0].as<Tick>().price == d("100.25"));
    CHECK(events[0].as<Tick>().volume == d("300"));
    CHECK(events[1].ts_ns == ts("2024-03-01T14:30:00Z") + 500'000'000);
    CHECK(events[1].as<Tick>().volume == Decimal());
  }

  TEST_CASE("ticks without a volume column have zero volume") {
    const auto events = read_text("price,timestamp\n7.5,1709301000\n8,1709301000.25\n", ticks());
    REQUIRE(events.size() == 2);
    CHECK(events[0].as<Tick>().price == d("7.5"));
    CHECK(events[0].as<Tick>().volume == Decimal());
    CHECK(events[0].ts_ns == ts("1709301000"));
    CHECK(events[1].ts_ns == ts("1709301000.25"));
  }

  TEST_CASE("decimals with an exponent are read exactly") {
    const auto events =
        read_text(std::string(kBarHeader) + "2024-03-01,1.5e2,1.51E2,1.49e+2,150.5,2.5e6\n");
    REQUIRE(events.size() == 1);
    CHECK(events[0].as<Bar>().open == d("150"));
    CHECK(events[0].as<Bar>().high == d("151"));
    CHECK(events[0].as<Bar>().low == d("149"));
    CHECK(events[0].as<Bar>().volume == d("2500000"));
  }

  TEST_CASE("date-times with an offset are read as UTC") {
    const auto events =
        read_text(std::string(kBarHeader) +
                  "2024-03-01T09:30:00-05:00,1,2,1,2,10\n2024-03-01 16:00:00+00:00,1,2,1,2,10\n");
    REQUIRE(events.size() == 2);
    CHECK(events[0].ts_ns == ts("2024-03-01T14:30:00Z"));
    CHECK(events[1].ts_ns == ts("2024-03-01T16:00:00Z"));
  }

  TEST_CASE("a missing file is refused naming it") {
    const std::string path = unique_path();
    Refusal r{path, std::nullopt};
    try {
      CsvMarketData source(path, bars());
    } catch (const InputError& e) {
      r.error = e;
    }
    check_error(r, 0, "", "cannot open");
  }

  TEST_CASE("a directory is refused") {
    const std::string dir = fs::temp_directory_path().string();
    CHECK_THROWS_AS(CsvMarketData(dir, bars()), InputError);
  }

  TEST_CASE("an empty file is refused") {
    check_error(refuse(""), 0, "", "empty file");
    check_error(refuse("\n\n  \n"), 0, "", "empty file");
  }

  TEST_CASE("a header without rows is refused") {
    check_error(refuse(kBarHeader), 1, "", "no data rows");
    check_error(refuse(std::string(kBarHeader) + "\n\n"), 3, "", "no data rows");
  }

  TEST_CASE("a missing column is refused naming it") {
    check_error(refuse("timestamp,open,high,low,close\n2024-03-01,1,2,1,2\n"), 1, "volume",
                "missing column");
    check_error(refuse("timestamp,volume\n2024-03-01,1\n", ticks()), 1, "price", "missing column");
  }

  TEST_CASE("a misspelt column is refused naming it") {
    check_error(refuse("timestamp,open,high,low,clsoe,volume\n2024-03-01,1,2,1,2,10\n"), 1, "clsoe",
                "unknown column");
  }

  TEST_CASE("an extra unknown column is refused") {
    check_error(refuse("timestamp,open,high,low,close,volume,note\n2024-03-01,1,2,1,2,10,x\n"), 1,
                "note", "unknown column");
    // A column without a name is one only at the end (trailing commas: accepted).
    check_error(refuse("timestamp,open,,high,low,close,volume\n2024-03-01,1,,2,1,2,10\n"), 1, "#3",
                "unknown column");
    // A bar file's columns are not a tick file's.
    check_error(refuse("timestamp,price,open\n2024-03-01,1,1\n", ticks()), 1, "open",
                "unknown column");
  }

  TEST_CASE("a repeated column is refused") {
    check_error(refuse("timestamp,open,high,low,close,Close,volume\n2024-03-01,1,2,1,2,2,10\n"), 1,
                "close", "twice");
  }

  TEST_CASE("a row with the wrong number of fields is refused") {
    check_error(refuse(std::string(kBarHeader) + "2024-03-01,1,2,1,2,10\n2024-03-04,1,2,1,2\n"), 3,
                "", "expected 6 fields, found 5");
    check_error(refuse(std::string(kBarHeader) + "2024-03-01,1,2,1,2,10,11\n"), 2, "",
                "expected 6 fields, found 7");
  }

  TEST_CASE("NaN and infinities are refused naming the field") {
    check_error(refuse(std::string(kBarHeader) + "2024-03-01,1,2,1,NaN,10\n"), 2, "close",
                "finite");
    check_error(refuse(std::string(kBarHeader) + "2024-03-01,1,inf,1,2,10\n"), 2, "high", "finite");
    check_error(refuse(std::string(kBarHeader) + "2024-03-01,1,2,-Infinity,2,10\n"), 2, "low",
                "finite");
  }

  TEST_CASE("a value beyond the decimal range is refused") {
    check_error(refuse(std::string(kBarHeader) + "2024-03-01,1,2,1,2,1e400\n"), 2, "volume",
                "range");
    check_error(refuse(std::string(kBarHeader) + "2024-03-01,1e11,1e11,1,2,1\n"), 2, "open",
                "range");
  }

  TEST_CASE("a field that is not a number is refused") {
    check_error(refuse(std::string(kBarHeader) + "2024-03-01,abc,2,1,2,10\n"), 2, "open", "'abc'");
    check_error(refuse(std::string(kBarHeader) + "2024-03-01,1,2,1,,10\n"), 2, "close", "empty");
    check_error(refuse(std::string(kBarHeader) + "2024-03-01,1,2,1,2,1.2.3\n"), 2, "volume",
                "not a number");
    check_error(refuse("timestamp,price\n2024-03-01,$5\n", ticks()), 2, "price", "not a number");
  }

  TEST_CASE("a value not exact to eight places is refused") {
    check_error(refuse(std::string(kBarHeader) + "2024-03-01,1,2,1,100.123456789,10\n"), 2, "close",
                "8 decimal places");
  }

  TEST_CASE("a zero or negative price is refused") {
    check_error(refuse(std::string(kBarHeader) + "2024-03-01,0,2,1,2,10\n"), 2, "open", "positive");
    check_error(refuse(std::string(kBarHeader) + "2024-03-01,1,2,1,-2,10\n"), 2, "close",
                "positive");
    check_error(refuse(std::string(kBarHeader) + "2024-03-01,1,2,0,2,10\n"), 2, "low", "positive");
    check_error(refuse(std::string(kBarHeader) + "2024-03-01,1,-2,-3,1,10\n"), 2, "high",
                "positive");
    check_error(refuse("timestamp,price\n2024-03-01,0\n", ticks()), 2, "price", "positive");
    check_error(refuse("timestamp,price\n2024-03-01,-0.01\n", ticks()), 2, "price", "positive");
  }

  TEST_CASE("a negative volume is refused and a zero volume accepted") {
    check_error(refuse(std::string(kBarHeader) + "2024-03-01,1,2,1,2,-1\n"), 2, "volume",
                "negative");
    check_error(refuse("timestamp,price,volume\n2024-03-01,1,-0.5\n", ticks()), 2, "volume",
                "negative");
    CHECK(read_text(std::string(kBarHeader) + "2024-03-01,1,2,1,2,0\n").size() == 1);
  }

  TEST_CASE("high below low is refused") {
    check_error(refuse(std::string(kBarHeader) +
                       "2024-03-01,1,2,1,2,10\n2024-03-04,1,1.5,1.50000001,1.5,10\n"),
                3, "high", "below low");
    CHECK(read_text(std::string(kBarHeader) + "2024-03-01,1.5,1.5,1.5,1.5,10\n").size() == 1);
  }

  TEST_CASE("an invalid timestamp is refused") {
    check_error(refuse(std::string(kBarHeader) + "2024-02-30,1,2,1,2,10\n"), 2, "timestamp",
                "2024-02-30");
    check_error(refuse(std::string(kBarHeader) + "yesterday,1,2,1,2,10\n"), 2, "timestamp",
                "not a timestamp");
  }

  TEST_CASE("a date-time without a zone is refused") {
    check_error(refuse(std::string(kBarHeader) + "2024-03-01T14:30:00,1,2,1,2,10\n"), 2,
                "timestamp", "'Z' or an offset");
  }

  TEST_CASE("a timestamp not after the previous one of the same symbol is refused") {
    check_error(refuse(std::string(kBarHeader) + "2024-03-01,1,2,1,2,10\n2024-03-01,1,2,1,2,10\n"),
                3, "timestamp", "not after");
    check_error(refuse(std::string(kBarHeader) + "2024-03-04,1,2,1,2,10\n2024-03-01,1,2,1,2,10\n"),
                3, "timestamp", "not after");
    // The same instant written with another offset is the same time.
    check_error(refuse(std::string(kBarHeader) +
                       "2024-03-01T10:00:00Z,1,2,1,2,10\n2024-03-01T12:00:00+02:00,1,2,1,2,10\n"),
                3, "timestamp", "not after");
  }

  TEST_CASE("ticks of one symbol at the same time are read in file order") {
    const auto events = read_text(
        "timestamp,symbol,price,volume\n2024-03-01T14:30:00Z,A,10,1\n2024-03-01T14:30:00Z,A,10.5,"
        "2\n"
        "2024-03-01T14:30:00Z,B,7,1\n2024-03-01T14:30:00Z,A,10.25,3\n2024-03-01T14:30:01Z,A,11,1\n",
        ticks(""));
    REQUIRE(events.size() == 5);
    CHECK(events[0].as<Tick>().price == d("10"));
    CHECK(events[1].as<Tick>().price == d("10.5"));
    CHECK(events[2].symbol == "B");
    CHECK(events[3].as<Tick>().price == d("10.25"));
    CHECK(events[3].ts_ns == events[0].ts_ns);
    // Backwards is still refused for ticks, and the same time for bars.
    check_error(
        refuse("timestamp,price\n2024-03-01T14:30:01Z,1\n2024-03-01T14:30:00Z,1\n", ticks()), 3,
        "timestamp", "not after");
  }

  TEST_CASE("a header in another separator than ',' is named") {
    check_error(refuse("timestamp;open;high;low;close;volume\n2024-03-01;1;2;1;2;10\n"), 1,
                "timestamp;open;high;low;close;volume", "the header looks ';'-separated");
    check_error(refuse("timestamp\tprice\n2024-03-01\t1\n", ticks()), 1, "timestamp\\x09price",
                "the header looks tab-separated");
    // A comma-separated header with an unknown name stays an unknown column.
    check_error(refuse("timestamp,open,high,low,close,vol;ume\n2024-03-01,1,2,1,2,10\n"), 1,
                "vol;ume", "unknown column");
  }

  TEST_CASE("trailing commas on every line are columns without a name, and must stay empty") {
    const auto events = read_text(
        "timestamp,open,high,low,close,volume,\n2024-03-01,1,2,1,2,10,\n2024-03-04,1,2,1,3,10, \n");
    REQUIRE(events.size() == 2);
    CHECK(events[1].as<Bar>().close == d("3"));
    const auto two = read_text("timestamp,price,,\n2024-03-01,1,,\n", ticks());
    CHECK(two.size() == 1);
    check_error(refuse("timestamp,open,high,low,close,volume,\n2024-03-01,1,2,1,2,10,7\n"), 2, "#7",
                "column without a name");
    check_error(refuse("timestamp,open,high,low,close,volume,\n2024-03-01,1,2,1,2,10\n"), 2, "",
                "expected 7 fields, found 6");
    check_error(refuse("timestamp,open,high,low,close,volume\n2024-03-01,1,2,1,2,10,\n"), 2, "",
                "the line ends with a comma, the header does not");
  }

  TEST_CASE("a timestamp going backwards across symbols is refused") {
    check_error(refuse("timestamp,symbol,open,high,low,close,volume\n"
                       "2024-03-04,AAPL,1,2,1,2,10\n"
                       "2024-03-01,MSFT,1,2,1,2,10\n",
                       bars("")),
                3, "timestamp", "time order");
  }

  TEST_CASE("a file mixing timestamp formats is refused") {
    check_error(refuse(std::string(kBarHeader) + "2024-03-01,1,2,1,2,10\n1709510400,1,2,1,2,10\n"),
                3, "timestamp", "same format");
    check_error(refuse(std::string(kBarHeader) +
                       "2024-03-01,1,2,1,2,10\n2024-03-04T00:00:00Z,1,2,1,2,10\n"),
                3, "timestamp", "same format");
  }

  TEST_CASE("a symbol with a control character, a space or too many bytes is refused") {
    const std::string header = "timestamp,symbol,open,high,low,close,volume\n";
    check_error(refuse(header + "2024-03-01,GO\x01OG,1,2,1,2,10\n", bars("")), 2, "symbol",
                "control character");
    check_error(refuse(header + "2024-03-01,GO\x7fOG,1,2,1,2,10\n", bars("")), 2, "symbol",
                "control character");
    check_error(refuse(header + "2024-03-01,GO OG,1,2,1,2,10\n", bars("")), 2, "symbol", "space");
    check_error(refuse(header + "2024-03-01,,1,2,1,2,10\n", bars("")), 2, "symbol", "empty");
    check_error(refuse(header + "2024-03-01," + std::string(33, 'A') + ",1,2,1,2,10\n", bars("")),
                2, "symbol", "32 bytes");
    CHECK(read_text(header + "2024-03-01," + std::string(32, 'A') + ",1,2,1,2,10\n", bars(""))
              .size() == 1);
  }

  TEST_CASE("a file without a symbol column needs CsvOptions::symbol") {
    TempCsv file(std::string(kBarHeader) + "2024-03-01,1,2,1,2,10\n");
    Refusal r{file.path(), std::nullopt};
    try {
      CsvMarketData source(file.path(), bars(""));
    } catch (const InputError& e) {
      r.error = e;
    }
    check_error(r, 1, "symbol", "no symbol column");
  }

  TEST_CASE("a NUL byte is refused as binary") {
    const std::string content =
        std::string(kBarHeader) + std::string("2024-03-01,1,2,1\0,2,10\n", 23);
    REQUIRE(content.find('\0') != std::string::npos);
    check_error(refuse(content), 2, "", "NUL byte");
  }

  TEST_CASE("a line longer than kMaxLineBytes is refused") {
    std::string content = kBarHeader;
    content.append(CsvMarketData::kMaxLineBytes + 100'000, '1');
    check_error(refuse(content), 2, "", "longer than");
    check_error(refuse(std::string(CsvMarketData::kMaxLineBytes + 1, 'x') + "\n"), 1, "",
                "longer than");
  }

  TEST_CASE("a line of exactly kMaxLineBytes is accepted") {
    std::string row = "2024-03-01,1,2,1,2,";
    row.append(CsvMarketData::kMaxLineBytes - row.size() - 1, '0');
    row += '1';
    REQUIRE(row.size() == CsvMarketData::kMaxLineBytes);
    const auto events = read_text(std::string(kBarHeader) + row + "\n");
    REQUIRE(events.size() == 1);
    CHECK(events[0].as<Bar>().volume == d("1"));
  }

  TEST_CASE("regression: a file refused in the constructor is closed") {
    // The FILE was closed only by the destructor, which a throwing
    // constructor never reaches: every refused header leaked a descriptor.
    auto open_descriptors = [] {
      return std::distance(fs::directory_iterator("/proc/self/fd"), fs::directory_iterator());
    };
    TempCsv file("timestamp,open,high,low,clsoe,volume\n2024-03-01,1,2,1,2,10\n");
    const auto before = open_descriptors();
    for (int i = 0; i < 64; ++i) CHECK_THROWS_AS(CsvMarketData(file.path(), bars()), InputError);
    CHECK(open_descriptors() == before);
  }

  TEST_CASE("regression: text from the file in an error is escaped and cut short") {
    // Raw bytes reached the terminal ("\x1b[2J" cleared it, "\r" overwrote
    // the line) and a megabyte-long field became a megabyte-long message.
    check_error(refuse(std::string(kBarHeader) + "2024-03-01,1,2,1,\x1b[2J\r\x01,10\n"), 2, "close",
                "'\\x1B[2J\\x0D\\x01' is not a number");
    check_error(refuse("time\xffstamp,open,high,low,close,volume\n2024-03-01,1,2,1,2,10\n"), 1,
                "time\\xFFstamp", "unknown column");
    const std::string digits(CsvMarketData::kMaxLineBytes - 100, '7');
    const Refusal r = refuse(std::string(kBarHeader) + "2024-03-01,1,2,1,2," + digits + "\n");
    check_error(r, 2, "volume",
                "'" + std::string(64, '7') + "... (" + std::to_string(digits.size()) + " bytes)'");
    CHECK(std::string(r.error->what()).size() < 300);
    // UTF-8 is shown as it is.
    check_error(refuse(std::string(kBarHeader) + "2024-03-01,1,2,1,2,\xc3\xa9\n"), 2, "volume",
                "'\xc3\xa9' is not a number");
  }

  TEST_CASE("a symbol that is not UTF-8 is refused") {
    const std::string header = "timestamp,symbol,open,high,low,close,volume\n";
    check_error(refuse(header + "2024-03-01,AB\xff,1,2,1,2,10\n", bars("")), 2, "symbol",
                "'AB\\xFF' is not UTF-8");
    // An overlong form of '/' and a lone continuation byte.
    check_error(refuse(header + "2024-03-01,\xc0\xaf,1,2,1,2,10\n", bars("")), 2, "symbol",
                "not UTF-8");
    check_error(refuse(header + "2024-03-01,\x80"
                                "A,1,2,1,2,10\n",
                       bars("")),
                2, "symbol", "not UTF-8");
    const auto events =
        read_text(header + "2024-03-01,\xc3\xa9\xe2\x82\xac,1,2,1,2,10\n", bars(""));
    REQUIRE(events.size() == 1);
    CHECK(events[0].symbol == "\xc3\xa9\xe2\x82\xac");  // é€
  }

  TEST_CASE("a row of a million commas is refused with its field count") {
    // Its fields past the header's count are counted, not kept (the CLI
    // suite bad_input checks the memory this takes).
    const std::string commas(1'000'000, ',');
    check_error(refuse(std::string(kBarHeader) + commas + "\n"), 2, "",
                "expected 6 fields, found 1000001");
    check_error(refuse(commas + "\n"), 1, "#1", "unknown column");
  }

  TEST_CASE("publish_all publishes one event per row in order") {
    TempCsv file(std::string(kBarHeader) +
                 "2024-03-01,1,2,1,1.5,10\n2024-03-04,1,2,1,1.75,20\n2024-03-05,1,2,1,1.25,30\n");
    MemoryStore store([] { return std::int64_t{42}; });
    EventBus bus(store);
    std::vector<Seq> handled;
    bus.subscribe(EventType::kBar, "recorder", [&](const Event& e) { handled.push_back(e.seq); });
    MarketDataFeed feed(bus);
    CsvMarketData source(file.path(), bars());
    std::vector<std::int64_t> rows_after;
    const auto published = feed.publish_all(
        source, [&](const MarketDataSource& s) { rows_after.push_back(s.rows()); });

    CHECK(published == 3);
    CHECK(bus.published(EventType::kBar) == 3);
    CHECK(rows_after == std::vector<std::int64_t>{1, 2, 3});
    CHECK(handled == std::vector<Seq>{1, 2, 3});
    const auto& events = store.events();
    REQUIRE(events.size() == 3);
    for (std::size_t i = 0; i < events.size(); ++i) {
      CAPTURE(i);
      CHECK(events[i].seq == static_cast<Seq>(i + 1));
      CHECK(events[i].symbol == "GOOG");
      CHECK(events[i].type() == EventType::kBar);
    }
    CHECK(events[0].ts_ns == ts("2024-03-01"));
    CHECK(events[1].ts_ns == ts("2024-03-04"));
    CHECK(events[2].ts_ns == ts("2024-03-05"));
    CHECK(events[0].as<Bar>().close == d("1.5"));
    CHECK(events[1].as<Bar>().close == d("1.75"));
    CHECK(events[2].as<Bar>().close == d("1.25"));
  }

  TEST_CASE("publish_all stops at a bad row after publishing the rows before it") {
    TempCsv file(std::string(kBarHeader) +
                 "2024-03-01,1,2,1,1.5,10\n2024-03-04,1,2,1,1.75,20\n2024-03-05,1,2,1,0,30\n");
    MemoryStore store;
    EventBus bus(store);
    MarketDataFeed feed(bus);
    CsvMarketData source(file.path(), bars());
    CHECK_THROWS_AS(feed.publish_all(source), InputError);
    CHECK(store.last_seq() == 2);
    CHECK(source.line() == 4);
  }

  TEST_CASE("publish_all publishes the whole GOOG file") {
    MemoryStore store;
    EventBus bus(store);
    MarketDataFeed feed(bus);
    CsvMarketData source(goog_path(), bars());
    CHECK(feed.publish_all(source) == 1047);
    CHECK(store.last_seq() == 1047);
    CHECK(store.events().back().as<Bar>().close == d("362.71"));
  }

  TEST_CASE("a followed file gives its rows, then the rows appended, a partial line once whole") {
    TempCsv file(std::string(kBarHeader) + "2024-01-02,1,2,1,2,10\n");
    const auto source = CsvMarketData::follow(file.path(), bars());
    CHECK(source->live());
    CHECK_FALSE(source->sha256().has_value());
    REQUIRE(source->next().has_value());
    CHECK_FALSE(source->next().has_value());  // no row yet
    CHECK_FALSE(source->ended());
    std::ofstream out(file.path(), std::ios::app | std::ios::binary);
    out << "2024-01-03,2,3,2,3,10\n2024-01-04,3,4" << std::flush;
    const auto row = source->next();
    REQUIRE(row.has_value());
    CHECK(row->ts_ns == ts("2024-01-03"));
    CHECK_FALSE(source->next().has_value());  // the partial line waits for its newline
    out << ",3,4,10\n" << std::flush;
    const auto whole = source->next();
    REQUIRE(whole.has_value());
    CHECK(std::get<Bar>(whole->payload).close == d("4"));
    CHECK(source->line() == 4);
    CHECK_FALSE(source->ended());  // a followed file never ends by itself
  }

  TEST_CASE("a live source goes on after a bad row, whose raw text it gives") {
    TempCsv file(std::string(kBarHeader) +
                 "2024-01-02,1,2,1,2,10\n2024-01-03,1,2,1,x\x01y,10\r\n2024-01-01,1,2,1,2,10\n"
                 "2024-01-04,1,2,1,3,10\n");
    const auto source = CsvMarketData::follow(file.path(), bars());
    REQUIRE(source->next().has_value());
    CHECK_FALSE(source->rejected_row().has_value());
    try {
      source->next();
      FAIL("the bad row was accepted");
    } catch (const InputError& e) {
      CHECK(e.line() == 3);
      CHECK(e.field() == "close");
      CHECK(source->rejected_row() == std::optional<std::string>("2024-01-03,1,2,1,x\x01y,10"));
    }
    // A row before the last good one is refused against that row, not the bad one.
    CHECK_THROWS_AS(source->next(), InputError);
    const auto row = source->next();
    REQUIRE(row.has_value());
    CHECK(row->ts_ns == ts("2024-01-04"));
    CHECK_FALSE(source->rejected_row().has_value());
    CHECK(source->rows() == 2);
  }

  TEST_CASE("a followed file waits for its header") {
    TempCsv file("");
    const auto source = CsvMarketData::follow(file.path(), bars());
    CHECK_FALSE(source->next().has_value());
    std::ofstream out(file.path(), std::ios::app | std::ios::binary);
    out << kBarHeader << "2024-01-02,1,2,1,2,10\n" << std::flush;
    CHECK(source->next().has_value());
  }

  TEST_CASE("wait_for_input on a followed file that does not grow returns at the deadline") {
    TempCsv file(kBarHeader);
    const auto source = CsvMarketData::follow(file.path(), bars());
    CHECK_FALSE(source->next().has_value());
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(20);
    source->wait_for_input(deadline);
    CHECK(std::chrono::steady_clock::now() >= deadline);
    CHECK_FALSE(source->next().has_value());
  }

  TEST_CASE("a rejected row is journaled with the error's line, field and message, quoted") {
    // A bad close, then bytes that could drive a terminal and a long tail.
    const std::string bad = "2024-01-03,10,11,9,x\x1b[2J," + std::string(80, '7');
    TempCsv file(std::string(kBarHeader) + "2024-01-02,10,11,9,10.5,100\n" + bad + "\n");
    CsvMarketData source(file.path(), bars());
    REQUIRE(source.next().has_value());
    try {
      source.next();
      FAIL("the bad row was read");
    } catch (const InputError& e) {
      const InputRejected rejected = input_rejected(e, bad);
      CHECK(rejected.line == 3);
      CHECK(rejected.field == "close");
      CHECK(rejected.message == e.what());
      CHECK(rejected.row.starts_with("2024-01-03,10,11,9,x\\x1B[2J,777"));
      CHECK(rejected.row.ends_with(fmt::format("... ({} bytes)", bad.size())));
      CHECK(rejected.row.size() < bad.size());
      CHECK(rejected.row.find('\x1b') == std::string::npos);
    }
    // A row that names no field, and one short enough to be kept whole.
    const InputRejected whole =
        input_rejected(InputError("-", 7, "", "expected 6 fields, got 2"), "2024-01-03,1");
    CHECK(whole.line == 7);
    CHECK(whole.field.empty());
    CHECK(whole.message == "-:7: expected 6 fields, got 2");
    CHECK(whole.row == "2024-01-03,1");
  }
}
