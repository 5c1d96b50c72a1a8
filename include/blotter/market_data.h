// Market data from CSV files, validated row by row, published as BAR/TICK events.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "blotter/bus.h"
#include "blotter/market_data_source.h"

namespace blotter {
namespace detail {
class SymbolTable;
}

enum class MarketDataKind {
  kBars,   // timestamp,open,high,low,close,volume[,symbol]
  kTicks,  // timestamp,price[,volume][,symbol]
};

struct CsvOptions {
  MarketDataKind kind = MarketDataKind::kBars;
  // The symbol of every row when the file has no symbol column. With a
  // symbol column, only that symbol's rows are read (empty: all rows).
  std::string symbol;
};

// The CSV file source ("csv"), the first MarketDataSource: streams a CSV file
// of bars or ticks, one validated event at a time, in constant memory (a
// line may be at most kMaxLineBytes long). Re-readable: sha256() reads the
// file anew, as far as it was when opened (bytes appended since are not
// read).
//
// Accepted: a UTF-8 byte-order mark; CRLF line ends; blank lines (skipped);
// columns in any order, names case-insensitive; fields in double quotes
// (RFC 4180); decimals with an exponent, given exactly; commas at the end of
// the header (columns without a name, whose fields must be empty); ticks of
// one symbol at the same time, in file order.
// Refused, with an InputError naming file, line and field: a missing file;
// a file with no header or no rows; a missing, unknown or repeated column;
// a row with the wrong number of fields; a field that is not a number or not
// exact to 8 places, NaN, infinities or values beyond the decimal range; a
// price <= 0; a negative volume; high < low; a timestamp that is not valid,
// is of another format than the first row's, is not after the previous
// row's of the same symbol (for ticks: before it), or is before the previous row's (the file must
// be in time order); an empty symbol or one with control characters, spaces,
// more than 32 bytes or bytes that are not UTF-8; a NUL byte; a line longer
// than kMaxLineBytes. Text from the file quoted in a message is cut short and
// has control characters and non-UTF-8 bytes escaped (\xNN): the message is
// one line of bounded length whatever the file holds.
//
// Live (MarketDataSource's "Live sources"): from_stdin() and follow() read
// the same format as rows arrive, with the same checks; the header is read
// by the first next() that finds it whole. A bad data row is rejected and
// passed over; a bad header, a read error or a line longer than
// kMaxLineBytes ends the source.
class CsvMarketData final : public MarketDataSource {
 public:
  static constexpr std::size_t kMaxLineBytes = 1 << 20;

  // Opens the file and reads its header. Throws blotter::InputError.
  // The file as it is now: its first size() bytes, and at most `max_bytes`
  // of them (a run pins every reader of its input to the size the first one
  // saw, so rows appended meanwhile are the next run's).
  CsvMarketData(const std::string& path, CsvOptions options,
                std::optional<std::uint64_t> max_bytes = std::nullopt);
  // A live source reading standard input (named "-") until it is closed.
  static std::unique_ptr<CsvMarketData> from_stdin(CsvOptions options);
  // A live source reading the file at `path` from its start, then what is
  // appended to it, never ending (like tail -f). Throws blotter::InputError
  // if it cannot be opened.
  static std::unique_ptr<CsvMarketData> follow(const std::string& path, CsvOptions options);
  ~CsvMarketData() override;
  CsvMarketData(const CsvMarketData&) = delete;
  CsvMarketData& operator=(const CsvMarketData&) = delete;

  // The next row as a BAR or TICK event (seq 0), or nullopt at the end of the
  // file. Throws blotter::InputError at the first bad row.
  std::optional<Event> next() override;

  std::string_view kind() const override { return "csv"; }
  const std::string& name() const override { return path_; }
  const std::string& path() const { return path_; }
  std::int64_t line() const override { return line_; }  // the line last read, 1-based
  std::int64_t rows() const override { return rows_; }  // events returned so far
  std::uint64_t bytes_read() const override { return bytes_; }
  std::uint64_t file_size() const { return size_; }
  std::optional<std::uint64_t> size() const override { return size_; }
  // The SHA-256 of the file's first size() bytes, read anew. Throws
  // blotter::InputError, also if the file is now shorter.
  std::optional<std::string> sha256() const override;

  bool live() const override { return reading_ != Reading::kFile; }
  bool ended() const override { return ended_; }
  void wait_for_input(std::chrono::steady_clock::time_point deadline) override;
  std::optional<std::string> rejected_row() const override { return rejected_; }

 private:
  enum class Reading { kFile, kPipe, kFollow };
  CsvMarketData(std::string name, CsvOptions options, Reading reading, int fd);
  void read_header();
  void parse_header(std::string header);
  std::optional<Event> next_row();
  // The next whole line into `out`; false at the end (or, live, if there is
  // no whole line yet).
  bool read_line(std::string& out);
  bool read_file_line(std::string& out);
  bool read_live_line(std::string& out);
  // Counts the line read into `out` and drops its CR and byte-order mark.
  void finish_line(std::string& out);
  // Splits `line` into `fields`, at most `keep` of them, and returns how many
  // it has. The views point into `line`, or into quoted_ when it has quotes.
  std::size_t split(const std::string& line, std::size_t keep,
                    std::vector<std::string_view>& fields);
  [[noreturn]] void fail(const std::string& field, const std::string& message) const;
  Decimal decimal_field(const std::vector<std::string_view>& fields, int column, const char* name);
  TimestampNs timestamp_field(const std::vector<std::string_view>& fields);

  std::string path_;
  CsvOptions options_;
  struct FileCloser {
    void operator()(std::FILE* file) const { std::fclose(file); }
  };
  // A member, so that it is closed when the constructor throws too.
  std::unique_ptr<std::FILE, FileCloser> file_;
  Reading reading_ = Reading::kFile;
  int fd_ = -1;  // live: the descriptor read (owned when following a file)
  bool header_read_ = false;
  bool ended_ = false;
  std::string pending_;        // live: bytes read after the last whole line
  bool discarding_ = false;    // live: dropping the rest of a line too long
  std::string overlong_head_;  // live: that line's first bytes
  static constexpr std::size_t kOverlongHeadBytes = kQuotedInputBytes;
  std::size_t pending_scanned_ = 0;  // of pending_, the bytes known to hold no newline
  std::optional<std::string> rejected_;
  std::vector<char> buffer_;
  std::size_t buffer_pos_ = 0, buffer_len_ = 0;
  std::int64_t line_ = 0;
  std::int64_t rows_ = 0;
  std::uint64_t bytes_ = 0, size_ = 0;
  std::uint64_t fetched_ = 0;  // file: bytes read from the file (at most size_)
  std::size_t column_count_ = 0;
  std::size_t named_count_ = 0;         // the columns before the header's trailing commas
  std::map<std::string, int> columns_;  // name -> index
  int symbol_column_ = -1, timestamp_column_ = -1;
  // Bars: open, high, low, close, volume. Ticks: price, volume (-1: none).
  std::array<int, 5> value_columns_{};
  std::optional<TimestampFormat> ts_format_;
  TimestampNs last_ts_ = INT64_MIN;
  // The last row's time of each symbol, by the symbol's id in symbol_ids_.
  std::unique_ptr<detail::SymbolTable> symbol_ids_;
  std::vector<TimestampNs> last_ts_by_symbol_;
  std::string line_text_;
  std::vector<std::string_view> fields_;  // the current row's, reused
  std::vector<std::string> quoted_;       // the text of a row's fields, when it has quotes
};

// Publishes market events on the bus: the only component that brings data in.
class MarketDataFeed {
 public:
  explicit MarketDataFeed(EventBus& bus) : bus_(bus) {}

  // Publishes every row of `source`; calls `after_row` once each row's
  // consequences are handled (the run uses it to commit batches and show
  // progress). Returns the number of rows published.
  std::int64_t publish_all(MarketDataSource& source,
                           const std::function<void(const MarketDataSource&)>& after_row = {});

 private:
  EventBus& bus_;
};

}  // namespace blotter
