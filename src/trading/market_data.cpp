#include "blotter/market_data.h"

#include <fmt/format.h>
#include <sys/stat.h>

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
constexpr std::size_t kMaxSymbolBytes = 32;
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

CsvMarketData::CsvMarketData(const std::string& path, CsvOptions options)
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

  std::string header;
  do {
    if (!read_line(header))
      throw InputError(
          path_, 0, "",
          fmt::format("empty file (expected the header {})", expected_header(options_.kind)));
  } while (is_blank(header));
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
}

CsvMarketData::~CsvMarketData() = default;

void CsvMarketData::fail(const std::string& field, const std::string& message) const {
  throw InputError(path_, line_, field, message);
}

bool CsvMarketData::read_line(std::string& out) {
  out.clear();
  bool any = false;
  for (;;) {
    if (buffer_pos_ == buffer_len_) {
      buffer_len_ = std::fread(buffer_.data(), 1, buffer_.size(), file_.get());
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
  ++line_;
  if (!out.empty() && out.back() == '\r') out.pop_back();
  if (line_ == 1 && out.compare(0, 3, "\xEF\xBB\xBF") == 0) out.erase(0, 3);
  if (out.find('\0') != std::string::npos) fail("", "NUL byte: the file is not text");
  return true;
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
  const auto format = timestamp_format(text);
  if (!ts_format_) {
    ts_format_ = format;
  } else if (format != ts_format_) {
    fail("timestamp",
         fmt::format("'{}' is not in the same format as the first row's", shown(text)));
  }
  return *ts;
}

std::optional<Event> CsvMarketData::next() {
  for (;;) {
    if (!read_line(line_text_)) {
      if (rows_ == 0 && columns_.count("symbol") && !options_.symbol.empty())
        fail("symbol", fmt::format("no rows for symbol '{}'", shown(options_.symbol)));
      if (rows_ == 0) fail("", "no data rows after the header");
      return std::nullopt;
    }
    if (is_blank(line_text_)) continue;
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
      if (!options_.symbol.empty() && event.symbol != options_.symbol) continue;
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

    const std::uint32_t id = symbol_ids_->add(event.symbol);
    if (id == last_ts_by_symbol_.size()) {
      last_ts_by_symbol_.push_back(event.ts_ns);  // the symbol's first row
    } else {
      TimestampNs& previous = last_ts_by_symbol_[id];
      // Ticks at the same time are normal market data (several trades in one
      // timestamp's resolution), read in file order; bars are one per period.
      if (event.ts_ns < previous ||
          (event.ts_ns == previous && options_.kind == MarketDataKind::kBars))
        fail("timestamp",
             fmt::format("{} is not after the previous {} row's {}", format_timestamp(event.ts_ns),
                         event.symbol, format_timestamp(previous)));
      previous = event.ts_ns;
    }
    if (event.ts_ns < last_ts_)
      fail("timestamp",
           fmt::format("{} is before the previous row's {} (rows must be in time order)",
                       format_timestamp(event.ts_ns), format_timestamp(last_ts_)));
    last_ts_ = event.ts_ns;
    ++rows_;
    return event;
  }
}

std::optional<std::string> CsvMarketData::sha256() const { return detail::sha256_file(path_); }

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
