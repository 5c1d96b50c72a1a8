#include "blotter/market_data.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <poll.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cassert>
#include <cerrno>
#include <cstring>
#include <set>

#include "blotter/error.h"
#include "blotter/terminal_text.h"
#include "core/digest.h"
#include "trading/symbol_table.h"

namespace blotter {
namespace {

constexpr std::size_t kReadChunk = 64 * 1024;
// How often a followed file that has not grown is looked at again.
constexpr std::chrono::milliseconds kFollowPoll{2};
constexpr std::size_t kMaxSymbolBytes = 32;
// The time of a symbol without rows (rows have times after INT64_MIN).
constexpr TimestampNs kNoRowYet = INT64_MIN;
// Text from the file quoted in an error message is cut to this many bytes.
constexpr std::size_t kShownBytes = kQuotedInputBytes;

// `text` from the file as an error message shows it: escaped, so that the
// message stays one line and cannot drive the terminal, and cut short.
std::string shown(std::string_view text) { return terminal_text(text, kShownBytes); }

std::string_view trim(std::string_view s) {
  std::size_t b = 0, e = s.size();
  while (b < e && (s[b] == ' ' || s[b] == '\t')) ++b;
  while (e > b && (s[e - 1] == ' ' || s[e - 1] == '\t')) --e;
  return s.substr(b, e - b);
}

std::string lower(std::string s) {
  for (char& c : s)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return s;
}

bool is_blank(const std::string& s) {
  for (char c : s)
    if (c != ' ' && c != '\t') return false;
  return true;
}

const std::vector<std::string>& required_columns(MarketDataKind kind) {
  static const std::vector<std::string> kBars = {"timestamp", "open",  "high",
                                                 "low",       "close", "volume"};
  static const std::vector<std::string> kTicks = {"timestamp", "price"};
  return kind == MarketDataKind::kBars ? kBars : kTicks;
}

std::string expected_header(MarketDataKind kind) {
  return kind == MarketDataKind::kBars ? "timestamp,open,high,low,close,volume[,symbol]"
                                       : "timestamp,price[,volume][,symbol]";
}

}  // namespace

CsvMarketData::CsvMarketData(const std::string& path, CsvOptions options,
                             std::optional<std::uint64_t> max_bytes)
    : path_(path),
      options_(std::move(options)),
      buffer_(kReadChunk),
      symbol_ids_(std::make_unique<detail::SymbolTable>()) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0)
    throw InputError(path_, 0, "", fmt::format("cannot open: {}", std::strerror(errno)));
  if (S_ISDIR(st.st_mode)) throw InputError(path_, 0, "", "cannot open: is a directory");
  file_.reset(std::fopen(path.c_str(), "rb"));
  if (file_ == nullptr)
    throw InputError(path_, 0, "", fmt::format("cannot open: {}", std::strerror(errno)));
  size_ = static_cast<std::uint64_t>(st.st_size);
  if (max_bytes) size_ = std::min(size_, *max_bytes);
  read_header();
}

CsvMarketData::CsvMarketData(std::string name, CsvOptions options, Reading reading, int fd)
    : path_(std::move(name)),
      options_(std::move(options)),
      reading_(reading),
      fd_(fd),
      buffer_(kReadChunk),
      symbol_ids_(std::make_unique<detail::SymbolTable>()) {}

std::unique_ptr<CsvMarketData> CsvMarketData::from_stdin(CsvOptions options) {
  return std::unique_ptr<CsvMarketData>(
      new CsvMarketData("-", std::move(options), Reading::kPipe, STDIN_FILENO));
}

std::unique_ptr<CsvMarketData> CsvMarketData::follow(const std::string& path, CsvOptions options) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0)
    throw InputError(path, 0, "", fmt::format("cannot open: {}", std::strerror(errno)));
  if (S_ISDIR(st.st_mode)) throw InputError(path, 0, "", "cannot open: is a directory");
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw InputError(path, 0, "", fmt::format("cannot open: {}", std::strerror(errno)));
  return std::unique_ptr<CsvMarketData>(
      new CsvMarketData(path, std::move(options), Reading::kFollow, fd));
}

void CsvMarketData::read_header() {
  std::string header;
  do {
    if (!read_line(header)) {
      if (live() && !ended_) return;  // not whole yet
      throw InputError(
          path_, 0, "",
          fmt::format("empty file (expected the header {})", expected_header(options_.kind)));
    }
    if (header.find('\0') != std::string::npos) fail("", "NUL byte: the file is not text");
  } while (is_blank(header));
  parse_header(std::move(header));
}

void CsvMarketData::parse_header(std::string header) {
  std::set<std::string> allowed(required_columns(options_.kind).begin(),
                                required_columns(options_.kind).end());
  allowed.insert("symbol");
  if (options_.kind == MarketDataKind::kTicks) allowed.insert("volume");
  // A header that ends with commas (a spreadsheet's export of empty columns)
  // has columns without a name: accepted, and every row's fields there must
  // be empty. A header of nothing but commas has no such tail.
  const std::size_t named_end = header.find_last_not_of(" \t,");
  std::size_t unnamed = 0;
  if (named_end != std::string::npos) {
    unnamed = static_cast<std::size_t>(
        std::count(header.begin() + static_cast<std::ptrdiff_t>(named_end) + 1, header.end(), ','));
    header.resize(named_end + 1);
  }
  // One name more than there are columns is enough: it is unknown or repeated.
  std::vector<std::string_view> names;
  named_count_ = split(header, allowed.size() + 1, names);
  column_count_ = named_count_ + unnamed;
  for (std::size_t i = 0; i < names.size(); ++i) {
    const std::string name = lower(std::string(trim(names[i])));
    if (!allowed.count(name)) {
      // Another separator: the whole header is one name.
      if (names.size() == 1) {
        const auto semicolons = std::count(header.begin(), header.end(), ';');
        const auto tabs = std::count(header.begin(), header.end(), '\t');
        if (semicolons + tabs > 0)
          fail(shown(name),
               fmt::format("the header looks {}-separated; blotter reads "
                           "comma-separated files (expected {})",
                           semicolons >= tabs ? "';'" : "tab", expected_header(options_.kind)));
      }
      fail(name.empty() ? fmt::format("#{}", i + 1) : shown(name),
           fmt::format("unknown column (expected {})", expected_header(options_.kind)));
    }
    if (!columns_.emplace(name, static_cast<int>(i)).second) fail(name, "column appears twice");
  }
  assert(named_count_ == names.size());
  for (const std::string& name : required_columns(options_.kind))
    if (!columns_.count(name))
      fail(name, fmt::format("missing column (expected {})", expected_header(options_.kind)));
  if (!columns_.count("symbol") && options_.symbol.empty())
    fail("symbol", "the file has no symbol column and no symbol was given for it");
  // Looked up once here, not by name on every row.
  const auto index = [&](const char* name) {
    const auto it = columns_.find(name);
    return it == columns_.end() ? -1 : it->second;
  };
  symbol_column_ = index("symbol");
  timestamp_column_ = index("timestamp");
  value_columns_ = options_.kind == MarketDataKind::kBars
                       ? std::array<int, 5>{index("open"), index("high"), index("low"),
                                            index("close"), index("volume")}
                       : std::array<int, 5>{index("price"), index("volume"), -1, -1, -1};
  header_read_ = true;
}

CsvMarketData::~CsvMarketData() {
  if (reading_ == Reading::kFollow) ::close(fd_);
}

void CsvMarketData::fail(const std::string& field, const std::string& message) const {
  throw InputError(path_, line_, field, message);
}

bool CsvMarketData::read_line(std::string& out) {
  if (reading_ != Reading::kFile ? !read_live_line(out) : !read_file_line(out)) return false;
  finish_line(out);
  return true;
}

bool CsvMarketData::read_file_line(std::string& out) {
  out.clear();
  bool any = false;
  for (;;) {
    if (buffer_pos_ == buffer_len_) {
      // The file as it was when opened: what is appended later is not read.
      const auto want =
          static_cast<std::size_t>(std::min<std::uint64_t>(buffer_.size(), size_ - fetched_));
      buffer_len_ = want ? std::fread(buffer_.data(), 1, want, file_.get()) : 0;
      fetched_ += buffer_len_;
      buffer_pos_ = 0;
      if (buffer_len_ == 0) {
        if (std::ferror(file_.get())) fail("", fmt::format("read error: {}", std::strerror(errno)));
        if (!any) return false;
        break;
      }
    }
    any = true;
    const char* begin = buffer_.data() + buffer_pos_;
    const std::size_t avail = buffer_len_ - buffer_pos_;
    const void* nl = std::memchr(begin, '\n', avail);
    const std::size_t take =
        nl ? static_cast<std::size_t>(static_cast<const char*>(nl) - begin) : avail;
    if (out.size() + take > kMaxLineBytes) {
      ++line_;
      fail("", fmt::format("line longer than {} bytes (is this a CSV file?)", kMaxLineBytes));
    }
    out.append(begin, take);
    buffer_pos_ += take + (nl ? 1 : 0);
    bytes_ += take + (nl ? 1 : 0);
    if (nl) break;
  }
  return true;
}

bool CsvMarketData::read_live_line(std::string& out) {
  const auto too_long = [&](std::size_t consumed) {
    // A bad row like any other: a stream goes on after it (not after a
    // header this long). Its first bytes are what it is journaled as.
    bytes_ += consumed;
    ++line_;
    if (header_read_) rejected_ = std::move(overlong_head_);
    overlong_head_.clear();
    discarding_ = false;
    fail("", fmt::format("line longer than {} bytes (is this a CSV file?)", kMaxLineBytes));
  };
  for (;;) {
    const std::size_t nl = pending_.find('\n', pending_scanned_);
    if (discarding_ && (nl != std::string::npos || ended_)) {
      const std::size_t take = nl != std::string::npos ? nl + 1 : pending_.size();
      pending_.erase(0, take);
      pending_scanned_ = 0;
      too_long(take);
    }
    if (nl != std::string::npos && nl > kMaxLineBytes) {
      overlong_head_.assign(pending_, 0, kOverlongHeadBytes);
      pending_.erase(0, nl + 1);
      pending_scanned_ = 0;
      too_long(nl + 1);
    }
    if (nl != std::string::npos) {
      out.assign(pending_, 0, nl);
      pending_.erase(0, nl + 1);
      pending_scanned_ = 0;
      bytes_ += nl + 1;
      return true;
    }
    if (!discarding_ && pending_.size() > kMaxLineBytes) {
      // The rest of the line is dropped as it comes, up to its newline.
      discarding_ = true;
      overlong_head_.assign(pending_, 0, kOverlongHeadBytes);
    }
    if (discarding_) {
      bytes_ += pending_.size();
      pending_.clear();
    }
    pending_scanned_ = pending_.size();
    if (ended_) {
      if (discarding_) continue;  // its end is the line's
      // A pipe's last line may lack its newline.
      if (pending_.empty()) return false;
      out = std::move(pending_);
      bytes_ += out.size();
      pending_.clear();
      pending_scanned_ = 0;
      return true;
    }
    // Read only what is there: a pipe is polled first, and a followed
    // file's read() returns 0 at its current end.
    if (reading_ == Reading::kPipe) {
      pollfd ready{fd_, POLLIN, 0};
      if (::poll(&ready, 1, 0) <= 0) return false;
    }
    const ssize_t n = ::read(fd_, buffer_.data(), buffer_.size());
    if (n < 0) {
      if (errno == EINTR || errno == EAGAIN) return false;
      fail("", fmt::format("read error: {}", std::strerror(errno)));
    }
    if (n == 0) {
      if (reading_ == Reading::kFollow) return false;  // more may be appended
      ended_ = true;
      continue;
    }
    pending_.append(buffer_.data(), static_cast<std::size_t>(n));
  }
}

void CsvMarketData::finish_line(std::string& out) {
  ++line_;
  if (!out.empty() && out.back() == '\r') out.pop_back();
  if (line_ == 1 && out.compare(0, 3, "\xEF\xBB\xBF") == 0) out.erase(0, 3);
}

void CsvMarketData::wait_for_input(std::chrono::steady_clock::time_point deadline) {
  using namespace std::chrono;
  if (reading_ == Reading::kFile || ended_) return;
  const auto now = steady_clock::now();
  if (deadline <= now) return;
  // Rounded up, so that the wait does not end before the deadline.
  const auto wait_ms = ceil<milliseconds>(deadline - now).count();
  if (reading_ == Reading::kPipe) {
    pollfd ready{fd_, POLLIN, 0};
    if (::poll(&ready, 1, static_cast<int>(std::min<std::int64_t>(wait_ms, INT32_MAX))) < 0 &&
        errno != EINTR)
      fail("", fmt::format("read error: {}", std::strerror(errno)));
    return;
  }
  // A regular file is always "ready" to poll(): its size is looked at every
  // kFollowPoll instead, until it has grown or the deadline has come.
  for (;;) {
    struct stat st {};
    if (::fstat(fd_, &st) != 0) fail("", fmt::format("read error: {}", std::strerror(errno)));
    const off_t at = ::lseek(fd_, 0, SEEK_CUR);
    if (at >= 0 && st.st_size > at) return;
    const auto left = deadline - steady_clock::now();
    if (left <= steady_clock::duration::zero()) return;
    const auto step = std::min<steady_clock::duration>(left, kFollowPoll);
    timespec pause{0, static_cast<long>(duration_cast<nanoseconds>(step).count())};
    if (::nanosleep(&pause, nullptr) != 0) return;  // a signal: the caller looks at why
  }
}

std::size_t CsvMarketData::split(const std::string& line, std::size_t keep,
                                 std::vector<std::string_view>& fields) {
  assert(keep > 0);
  fields.clear();
  if (line.find('"') == std::string::npos) {
    // No quotes, the usual case: fields are the text between commas, viewed
    // where it is.
    std::size_t count = 0, start = 0;
    for (;;) {
      const std::size_t comma = line.find(',', start);
      const std::size_t end = comma == std::string::npos ? line.size() : comma;
      if (count < keep) fields.emplace_back(line.data() + start, end - start);
      ++count;
      if (comma == std::string::npos) break;
      start = comma + 1;
    }
    return count;
  }
  quoted_.assign(1, std::string());
  // Fields past `keep` are read into `scratch` and only counted: a line of a
  // million commas costs a counter, not a million strings.
  std::string scratch;
  std::size_t count = 1;
  std::string* field = &quoted_.back();
  bool quoted = false, was_quoted = false;
  for (std::size_t i = 0; i < line.size(); ++i) {
    const char c = line[i];
    if (quoted) {
      if (c == '"') {
        if (i + 1 < line.size() && line[i + 1] == '"') {
          *field += '"';
          ++i;
        } else {
          quoted = false;
        }
      } else {
        *field += c;
      }
    } else if (c == ',') {
      ++count;
      if (quoted_.size() < keep) {
        field = &quoted_.emplace_back();
      } else {
        scratch.clear();
        field = &scratch;
      }
      was_quoted = false;
    } else if (c == '"' && !was_quoted && is_blank(*field)) {
      field->clear();
      quoted = was_quoted = true;
    } else if (was_quoted && c != ' ' && c != '\t') {
      fail(fmt::format("#{}", count), "text after a closing quote");
    } else if (!was_quoted) {
      *field += c;
    }
  }
  if (quoted) fail(fmt::format("#{}", count), "unterminated quoted field");
  fields.assign(quoted_.begin(), quoted_.end());
  return count;
}

Decimal CsvMarketData::decimal_field(const std::vector<std::string_view>& fields, int column,
                                     const char* name) {
  // Callers pass a column the header has, never -1.
  const std::string_view text = trim(fields[static_cast<std::size_t>(column)]);
  std::string why;
  if (text.empty()) fail(name, "empty (expected a number)");
  auto value = Decimal::parse(text, &why);
  if (!value) fail(name, fmt::format("'{}' is {}", shown(text), why));
  return *value;
}

TimestampNs CsvMarketData::timestamp_field(const std::vector<std::string_view>& fields) {
  const std::string_view text = trim(fields[static_cast<std::size_t>(timestamp_column_)]);
  std::string why;
  const auto ts = parse_timestamp(text, &why);
  if (!ts)
    fail("timestamp", fmt::format("'{}' is not a timestamp ({}); expected an ISO-8601 date, a "
                                  "date-time with Z or an offset, or epoch seconds",
                                  shown(text), why));
  // The first good row's format is the input's (next_row records it).
  if (ts_format_ && timestamp_format(text) != ts_format_) {
    fail("timestamp",
         fmt::format("'{}' is not in the same format as the first row's", shown(text)));
  }
  return *ts;
}

std::optional<Event> CsvMarketData::next() {
  rejected_.reset();
  if (!header_read_) {
    read_header();
    if (!header_read_) return std::nullopt;
  }
  for (;;) {
    if (!read_line(line_text_)) {
      if (live() && !ended_) return std::nullopt;  // no whole row yet
      if (rows_ == 0 && columns_.count("symbol") && !options_.symbol.empty())
        fail("symbol", fmt::format("no rows for symbol '{}'", shown(options_.symbol)));
      if (rows_ == 0) fail("", "no data rows after the header");
      return std::nullopt;
    }
    if (is_blank(line_text_)) continue;
    try {
      if (auto event = next_row()) return event;
    } catch (const InputError&) {
      rejected_ = line_text_;
      throw;
    }
  }
}

// The event of the row in line_text_, or nullopt if it is of another symbol
// than the one read. Throws blotter::InputError, changing nothing the rows
// after it are checked against.
std::optional<Event> CsvMarketData::next_row() {
  if (line_text_.find('\0') != std::string::npos) fail("", "NUL byte: the file is not text");
  std::vector<std::string_view>& fields = fields_;
  const std::size_t found = split(line_text_, column_count_, fields);
  if (found != column_count_)
    fail("", fmt::format("expected {} fields, found {}{}", column_count_, found,
                         found == column_count_ + 1 && trim(line_text_).ends_with(',')
                             ? " (the line ends with a comma, the header does not)"
                             : ""));
  for (std::size_t i = named_count_; i < column_count_; ++i)
    if (!trim(fields[i]).empty())
      fail(fmt::format("#{}", i + 1), "not empty, in a column without a name in the header");

  Event event;
  if (symbol_column_ >= 0) {
    event.symbol = trim(fields[static_cast<std::size_t>(symbol_column_)]);
    if (event.symbol.empty()) fail("symbol", "empty");
    if (event.symbol.size() > kMaxSymbolBytes)
      fail("symbol", fmt::format("longer than {} bytes", kMaxSymbolBytes));
    for (const char ch : event.symbol)
      if (const auto c = static_cast<unsigned char>(ch); c < 0x21 || c == 0x7f)
        fail("symbol", "contains a control character or a space");
    if (!is_utf8(event.symbol))
      fail("symbol", fmt::format("'{}' is not UTF-8", shown(event.symbol)));
    if (!options_.symbol.empty() && event.symbol != options_.symbol) return std::nullopt;
  } else {
    event.symbol = options_.symbol;
  }
  event.ts_ns = timestamp_field(fields);

  if (options_.kind == MarketDataKind::kBars) {
    Bar bar{decimal_field(fields, value_columns_[0], "open"),
            decimal_field(fields, value_columns_[1], "high"),
            decimal_field(fields, value_columns_[2], "low"),
            decimal_field(fields, value_columns_[3], "close"),
            decimal_field(fields, value_columns_[4], "volume")};
    if (!bar.open.is_positive()) fail("open", "must be positive");
    if (!bar.high.is_positive()) fail("high", "must be positive");
    if (!bar.low.is_positive()) fail("low", "must be positive");
    if (!bar.close.is_positive()) fail("close", "must be positive");
    if (bar.volume.is_negative()) fail("volume", "must not be negative");
    if (bar.high < bar.low)
      fail("high",
           fmt::format("high {} is below low {}", bar.high.to_string(), bar.low.to_string()));
    event.payload = bar;
  } else {
    Tick tick{decimal_field(fields, value_columns_[0], "price"), Decimal()};
    if (value_columns_[1] >= 0) tick.volume = decimal_field(fields, value_columns_[1], "volume");
    if (!tick.price.is_positive()) fail("price", "must be positive");
    if (tick.volume.is_negative()) fail("volume", "must not be negative");
    event.payload = tick;
  }

  // Every check before any change: a rejected row leaves no trace.
  // A symbol whose rows were all rejected has its id and no time yet.
  const std::uint32_t id = symbol_ids_->add(event.symbol);
  if (id >= last_ts_by_symbol_.size()) last_ts_by_symbol_.resize(id + 1, kNoRowYet);
  TimestampNs& previous = last_ts_by_symbol_[id];
  if (previous != kNoRowYet) {
    // Ticks at the same time are normal market data (several trades in one
    // timestamp's resolution), read in file order; bars are one per period.
    if (event.ts_ns < previous ||
        (event.ts_ns == previous && options_.kind == MarketDataKind::kBars))
      fail("timestamp",
           fmt::format("{} is not after the previous {} row's {}", format_timestamp(event.ts_ns),
                       event.symbol, format_timestamp(previous)));
  }
  if (event.ts_ns < last_ts_)
    fail("timestamp", fmt::format("{} is before the previous row's {} (rows must be in time order)",
                                  format_timestamp(event.ts_ns), format_timestamp(last_ts_)));
  previous = event.ts_ns;
  last_ts_ = event.ts_ns;
  if (!ts_format_)
    ts_format_ = timestamp_format(trim(fields[static_cast<std::size_t>(timestamp_column_)]));
  ++rows_;
  return event;
}

std::optional<std::string> CsvMarketData::sha256() const {
  if (live()) return std::nullopt;  // read once, as it comes
  auto digest = detail::sha256_file_prefix(path_, size_);
  if (!digest)
    throw InputError(path_, 0, "", fmt::format("is shorter than the {} bytes it had", size_));
  return digest;
}

std::int64_t MarketDataFeed::publish_all(
    MarketDataSource& source, const std::function<void(const MarketDataSource&)>& after_row) {
  std::int64_t n = 0;
  while (auto event = source.next()) {
    bus_.publish(std::move(*event));
    ++n;
    if (after_row) after_row(source);
  }
  return n;
}

}  // namespace blotter
