// End to end: `blotter run` on bad input files. Each is refused with exit
// status 2 and one line on stderr naming file, line and field, in bounded
// memory, and the journal is left exactly as it was. The CSV variants the
// README accepts give the same events as the plain file.
#include <doctest/doctest.h>
#include <fmt/format.h>
#include <sys/stat.h>

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "blotter/error.h"
#include "blotter/trading_system.h"
#include "cli_helpers.h"

using namespace blotter;
using namespace blotter::testing;

namespace {

constexpr const char* kHeader = "timestamp,open,high,low,close,volume\n";
constexpr const char* kExpectedHeader = "(expected timestamp,open,high,low,close,volume[,symbol])";
constexpr const char* kSymbolHeader = "timestamp,symbol,open,high,low,close,volume\n";
constexpr const char* kTimestampHelp =
    "expected an ISO-8601 date, a date-time with Z or an offset, or epoch seconds";
constexpr std::size_t kMiB = 1 << 20;
// No refusal may cost more memory than this over refusing a one-line file.
constexpr long kMaxExtraRssKb = 16 * 1024;

// Everything of a journal that a refused run could change.
struct JournalImage {
  std::string events, schema, bytes;
};

JournalImage image(const std::string& db) {
  JournalImage j;
  {
    SQLite::Database d(db, SQLite::OPEN_READONLY);
    SQLite::Statement events(
        d, "SELECT seq, ts_ns, type, symbol, payload, recorded_ns FROM events ORDER BY seq");
    while (events.executeStep())
      for (int c = 0; c < 6; ++c)
        j.events += events.getColumn(c).getString() + (c < 5 ? "|" : "\n");
    SQLite::Statement schema(d, "SELECT type, name, sql FROM sqlite_schema ORDER BY type, name");
    while (schema.executeStep())
      for (int c = 0; c < 3; ++c)
        j.schema += schema.getColumn(c).getString() + (c < 2 ? "|" : "\n");
    j.schema += "user_version " + d.execAndGet("PRAGMA user_version").getString();
    j.schema += " application_id " + d.execAndGet("PRAGMA application_id").getString();
  }
  j.bytes = read_file(db);
  return j;
}

// An input file the run must refuse, and the line it must print after
// "blotter: PATH": `where` (":LINE", then ": field 'F'" if the error has a
// field), then ": " and `message`.
struct BadInput {
  const char* what;
  std::string content;
  std::string where;
  std::string message;
  std::vector<std::string> options = {"--symbol", "X"};
  const char* kind = "--bars";
  std::size_t pad_bytes = 0;  // streamed after `content`: this many bytes of `pad`
  char pad = '1';
  enum class Make { kFile, kNothing, kDirectory, kFifo } make = Make::kFile;
};

std::string field(const char* line, const char* name) {
  return fmt::format(":{}: field '{}'", line, name);
}

std::vector<BadInput> bad_inputs() {
  const std::string h = kHeader;
  const std::string sh = kSymbolHeader;
  const std::string ts_help = kTimestampHelp;
  const std::string empty_help =
      "(expected the header timestamp,open,high,low,close,volume[,symbol])";
  const std::string commas(kMiB - 16, ',');
  const std::string digits(kMiB - 64, '1');
  using Make = BadInput::Make;
  return {
      {"a missing file",
       "",
       "",
       "cannot open: No such file or directory",
       {"--symbol", "X"},
       "--bars",
       0,
       '1',
       Make::kNothing},
      {"a directory",
       "",
       "",
       "cannot open: is a directory",
       {"--symbol", "X"},
       "--bars",
       0,
       '1',
       Make::kDirectory},
      // Regression: it was validated, then read again as empty after the
      // journal was created ("empty file"); with no writer, opening it blocked.
      {"a pipe",
       "",
       "",
       "not a regular file (a pipe or a device): blotter run reads its input more than once",
       {"--symbol", "X"},
       "--bars",
       0,
       '1',
       Make::kFifo},
      {"an empty file", "", "", "empty file " + empty_help},
      {"only blank lines", "\n  \r\n\n", "", "empty file " + empty_help},
      {"a header and no rows", h, ":1", "no data rows after the header"},
      {"a missing column", "timestamp,open,high,low,volume\n2024-01-02,1,1,1,1\n",
       field("1", "close"), fmt::format("missing column {}", kExpectedHeader)},
      {"a misspelt column", "timestamp,open,high,low,clsoe,volume\n2024-01-02,1,1,1,1,1\n",
       field("1", "clsoe"), fmt::format("unknown column {}", kExpectedHeader)},
      {"an extra, unknown column",
       "timestamp,open,high,low,close,volume,note\n2024-01-02,1,1,1,1,1,x\n", field("1", "note"),
       fmt::format("unknown column {}", kExpectedHeader)},
      // Regression: a spreadsheet's ';' or tab separators gave "unknown column"
      // with the whole header as one name.
      {"a ';'-separated file", "timestamp;open;high;low;close;volume\n2024-01-02;1;1;1;1;1\n",
       field("1", "timestamp;open;high;low;close;volume"),
       fmt::format("the header looks ';'-separated; blotter reads comma-separated files {}",
                   kExpectedHeader)},
      {"a tab-separated file",
       "timestamp\topen\thigh\tlow\tclose\tvolume\n2024-01-02\t1\t1\t1\t1\t1\n",
       field("1", "timestamp\\x09open\\x09high\\x09low\\x09close\\x09volume"),
       fmt::format("the header looks tab-separated; blotter reads comma-separated files {}",
                   kExpectedHeader)},
      {"a value under the header's trailing comma",
       h.substr(0, h.size() - 1) + ",\n2024-01-02,1,1,1,1,1,x\n", field("2", "#7"),
       "not empty, in a column without a name in the header"},
      {"a trailing comma on a row only", h + "2024-01-02,1,1,1,1,1,\n", ":2",
       "expected 6 fields, found 7 (the line ends with a comma, the header does not)"},
      {"a repeated column", "timestamp,open,high,low,close,Close,volume\n2024-01-02,1,1,1,1,1,1\n",
       field("1", "close"), "column appears twice"},
      {"a tick column in a bar file", "timestamp,price\n2024-01-02,1\n", field("1", "price"),
       fmt::format("unknown column {}", kExpectedHeader)},
      {"a row with too few fields", h + "2024-01-02,1,1,1,1\n", ":2", "expected 6 fields, found 5"},
      {"a row with too many fields", h + "2024-01-02,1,1,1,1,1,1\n", ":2",
       "expected 6 fields, found 7"},
      {"an unterminated quote", h + "2024-01-02,\"1,1,1,1,1\n", field("2", "#2"),
       "unterminated quoted field"},
      {"NaN", h + "2024-01-02,1,1,1,NaN,1\n", field("2", "close"), "'NaN' is not a finite number"},
      {"inf", h + "2024-01-02,1,inf,1,1,1\n", field("2", "high"), "'inf' is not a finite number"},
      {"-Infinity", h + "2024-01-02,1,1,-Infinity,1,1\n", field("2", "low"),
       "'-Infinity' is not a finite number"},
      {"1e400", h + "2024-01-02,1,1,1,1,1e400\n", field("2", "volume"),
       "'1e400' is out of range (at most ±92233720368.54775807)"},
      {"a volume beyond the fixed-point range", h + "2024-01-02,1,1,1,1,92233720368.54775808\n",
       field("2", "volume"),
       "'92233720368.54775808' is out of range (at most ±92233720368.54775807)"},
      {"a price beyond the fixed-point range", h + "2024-01-02,1,92233720369,1,1,1\n",
       field("2", "high"), "'92233720369' is out of range (at most ±92233720368.54775807)"},
      {"a tick price beyond the fixed-point range",
       "timestamp,price\n1704153600,-92233720368.54775808\n",
       field("2", "price"),
       "'-92233720368.54775808' is out of range (at most ±92233720368.54775807)",
       {"--symbol", "X"},
       "--ticks"},
      {"more than 8 decimal places", h + "2024-01-02,1,1,1,100.123456789,1\n", field("2", "close"),
       "'100.123456789' is more than 8 decimal places"},
      {"a number that is not a number", h + "2024-01-02,1,1,1,$5,1\n", field("2", "close"),
       "'$5' is not a number"},
      {"an empty number", h + "2024-01-02,1,1,1,,1\n", field("2", "close"),
       "empty (expected a number)"},
      {"a negative price", h + "2024-01-02,-1,1,1,1,1\n", field("2", "open"), "must be positive"},
      {"a zero price", h + "2024-01-02,1,1,1,0,1\n", field("2", "close"), "must be positive"},
      {"a zero tick price",
       "timestamp,price\n1704153600,0\n",
       field("2", "price"),
       "must be positive",
       {"--symbol", "X"},
       "--ticks"},
      {"high below low", h + "2024-01-02,1,1,2,1,1\n", field("2", "high"), "high 1 is below low 2"},
      {"a negative volume", h + "2024-01-02,1,1,1,1,-5\n", field("2", "volume"),
       "must not be negative"},
      {"timestamps going backwards", h + "2024-01-03,1,1,1,1,1\n2024-01-02,1,1,1,1,1\n",
       field("3", "timestamp"),
       "2024-01-02T00:00:00Z is not after the previous X row's 2024-01-03T00:00:00Z"},
      {"a duplicated timestamp", h + "2024-01-03,1,1,1,1,1\n2024-01-03,1,1,1,1,1\n",
       field("3", "timestamp"),
       "2024-01-03T00:00:00Z is not after the previous X row's 2024-01-03T00:00:00Z"},
      {"timestamps going backwards across symbols",
       sh + "2024-01-03,A,1,1,1,1,1\n2024-01-02,B,1,1,1,1,1\n",
       field("3", "timestamp"),
       "2024-01-02T00:00:00Z is before the previous row's 2024-01-03T00:00:00Z (rows must be in "
       "time order)",
       {}},
      {"mixed timestamp formats", h + "2024-01-02,1,1,1,1,1\n1704326400,1,1,1,1,1\n",
       field("3", "timestamp"), "'1704326400' is not in the same format as the first row's"},
      {"a date-time without a zone", h + "2024-01-02T10:00:00,1,1,1,1,1\n", field("2", "timestamp"),
       "'2024-01-02T10:00:00' is not a timestamp (a date-time needs 'Z' or an offset such as "
       "+02:00); " +
           ts_help},
      {"a date that does not exist", h + "2024-02-30,1,1,1,1,1\n", field("2", "timestamp"),
       "'2024-02-30' is not a timestamp (not a calendar date); " + ts_help},
      {"a symbol with a control character",
       sh + "2024-01-02,A\x01"
            "B,1,1,1,1,1\n",
       field("2", "symbol"),
       "contains a control character or a space",
       {}},
      {"a symbol with a terminal escape",
       sh + "2024-01-02,\x1b[2J,1,1,1,1,1\n",
       field("2", "symbol"),
       "contains a control character or a space",
       {}},
      {"a symbol that is not UTF-8",
       sh + "2024-01-02,\xff\xfe"
            "AB,1,1,1,1,1\n",
       field("2", "symbol"),
       "'\\xFF\\xFEAB' is not UTF-8",
       {}},
      {"an empty symbol", sh + "2024-01-02,,1,1,1,1,1\n", field("2", "symbol"), "empty", {}},
      {"no rows for the symbol asked for",
       sh + "2024-01-02,A,1,1,1,1,1\n",
       field("2", "symbol"),
       "no rows for symbol 'IBM'",
       {"--symbol", "IBM"}},
      {"no symbol column and no --symbol",
       h + "2024-01-02,1,1,1,1,1\n",
       field("1", "symbol"),
       "the file has no symbol column and no symbol was given for it",
       {}},
      {"a gzip file (binary, NUL bytes)",
       std::string("\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03\xed\x9d\x5b\x8f", 14), ":1",
       "NUL byte: the file is not text"},
      {"a NUL byte in a row", h + std::string("2024-01-02,1,1,1,1\0,1\n", 22), ":2",
       "NUL byte: the file is not text"},
      {"a PNG image (binary, shown escaped)",
       std::string("\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x10", 20), field("1", "\\x89png"),
       fmt::format("unknown column {}", kExpectedHeader)},
      {"control characters and bytes that are not UTF-8 in the header",
       "a\x01\x1b\x7f\x80\xc3\xa9\xff,open\n", field("1", "a\\x01\\x1B\\x7F\\x80\xc3\xa9\\xFF"),
       fmt::format("unknown column {}", kExpectedHeader)},
      {"a terminal escape in a number", h + "2024-01-02,1,1,1,\x1b[2J\r1,1\n", field("2", "close"),
       "'\\x1B[2J\\x0D1' is not a number"},
      {"a number a megabyte long", h + "2024-01-02,1,1,1,1," + digits + "\n", field("2", "volume"),
       fmt::format("'{}... ({} bytes)' is too many digits", std::string(64, '1'), digits.size())},
      {"a row of a million commas", h + commas + "\n", ":2",
       fmt::format("expected 6 fields, found {}", commas.size() + 1)},
      {"a header of a million commas", commas + "\n", field("1", "#1"),
       fmt::format("unknown column {}", kExpectedHeader)},
      {"a 64 MiB line with no newline",
       h + "2024-01-02,1,1,1,1,",
       ":2",
       fmt::format("line longer than {} bytes (is this a CSV file?)", kMiB),
       {"--symbol", "X"},
       "--bars",
       64 * kMiB},
  };
}

void write_input(const BadInput& row, const std::string& path) {
  if (row.make == BadInput::Make::kNothing) return;
  if (row.make == BadInput::Make::kDirectory) {
    std::filesystem::create_directory(path);
    return;
  }
  if (row.make == BadInput::Make::kFifo) {
    REQUIRE(::mkfifo(path.c_str(), 0600) == 0);
    return;
  }
  std::ofstream out(path, std::ios::binary);
  out.write(row.content.data(), static_cast<std::streamsize>(row.content.size()));
  const std::string chunk(kMiB, row.pad);
  for (std::size_t left = row.pad_bytes; left > 0;) {
    const std::size_t n = std::min(left, chunk.size());
    out.write(chunk.data(), static_cast<std::streamsize>(n));
    left -= n;
  }
  out.close();
  REQUIRE(out.good());
}

struct GoodInput {
  const char* what;
  std::string content;
  std::vector<std::string> options = {"--symbol", "GOOG"};
};

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::size_t begin = 0;
  for (std::size_t nl; (nl = text.find('\n', begin)) != std::string::npos; begin = nl + 1)
    lines.push_back(text.substr(begin, nl - begin));
  return lines;
}

// Rewrites each line of `text` with `f` and joins them with `eol`.
template <class F>
std::string rewrite(const std::string& text, F f, const std::string& eol = "\n") {
  std::string out;
  for (const std::string& line : lines_of(text)) out += f(line) + eol;
  return out;
}

std::vector<std::string> split(const std::string& line) {
  std::vector<std::string> fields(1);
  for (char c : line) {
    if (c == ',') {
      fields.emplace_back();
    } else {
      fields.back() += c;
    }
  }
  return fields;
}

std::vector<GoodInput> good_inputs(const std::string& plain) {
  const auto same = [](const std::string& line) { return line; };
  const auto quoted = [](const std::string& line) {
    std::string out;
    for (const std::string& f : split(line)) out += (out.empty() ? "\"" : ",\"") + f + "\"";
    return out;
  };
  // Joined with "\n", the second blank line ends in CRLF.
  const auto blank_between = [](const std::string& line) { return line + "\n  \t\n\r"; };
  const auto blank_between_crlf = [](const std::string& line) { return line + "\r\n \r\n"; };
  // close,VOLUME,Open,low,TimeStamp,HIGH from timestamp,open,high,low,close,volume.
  const auto reordered = [](const std::string& line) {
    std::vector<std::string> f = split(line);
    if (f[0] == "timestamp") f = {"TimeStamp", "Open", "HIGH", "low", "close", "VOLUME"};
    return f[4] + "," + f[5] + "," + f[1] + "," + f[3] + "," + f[0] + "," + f[2];
  };
  const auto with_symbol = [](const std::string& line) {
    return line + (line.rfind("timestamp", 0) == 0 ? ",symbol" : ",GOOG");
  };
  const auto trailing = [](const std::string& line) { return line + ","; };
  std::string no_final_newline = plain;
  no_final_newline.pop_back();
  return {
      {"CRLF line ends", rewrite(plain, same, "\r\n")},
      {"a UTF-8 byte-order mark", "\xEF\xBB\xBF" + plain},
      {"every field in double quotes", rewrite(plain, quoted)},
      {"blank lines between rows and at both ends", "\n \n" + rewrite(plain, blank_between) + "\n"},
      {"no newline after the last row", no_final_newline},
      {"columns in another order, names in any case", rewrite(plain, reordered)},
      {"a symbol column instead of --symbol", rewrite(plain, with_symbol), {}},
      {"a trailing comma on every line (a spreadsheet's empty column)", rewrite(plain, trailing)},
      {"all of these at once",
       "\xEF\xBB\xBF\r\n" +
           rewrite(rewrite(rewrite(plain, with_symbol), quoted), blank_between_crlf, "\r\n"),
       {}},
  };
}

// The events of a journal that depend on the input's rows: all but
// RUN_STARTED, whose payload names the file and its digest.
std::string row_events(const std::string& db) {
  SQLite::Database d(db, SQLite::OPEN_READONLY);
  SQLite::Statement q(d,
                      "SELECT seq, ts_ns, type, symbol, payload FROM events "
                      "WHERE type != 'RUN_STARTED' ORDER BY seq");
  std::string out;
  while (q.executeStep())
    for (int c = 0; c < 5; ++c) out += q.getColumn(c).getString() + (c < 4 ? "|" : "\n");
  return out;
}

}  // namespace

TEST_SUITE("bad_input") {
  TEST_CASE("bad input is refused with one line naming it and leaves the journal as it was") {
    TempDir dir;
    const std::string db = dir.file("journal.db");
    const CliResult first =
        run_cli_args({"run", "--bars", goog_csv(), "--symbol", "GOOG", "--journal", db});
    INFO(first.err);
    REQUIRE(first.exit_code == 0);
    REQUIRE(count(db, "SELECT count(*) FROM runs WHERE finished_seq IS NOT NULL") == 1);
    const JournalImage before = image(db);

    // The memory a refusal of a one-line file costs: the baseline of the rows.
    const std::string tiny = dir.write("tiny.csv", kHeader);
    const CliResult baseline =
        run_cli_args({"run", "--bars", tiny, "--symbol", "X", "--journal", db});
    REQUIRE(baseline.exit_code == 2);
    REQUIRE(baseline.peak_rss_kb > 0);

    int n = 0;
    for (const BadInput& row : bad_inputs()) {
      const std::string what = row.what;
      CAPTURE(what);
      const std::string path = dir.file(fmt::format("input{}.csv", ++n));
      write_input(row, path);
      std::vector<std::string> args = {"run", row.kind, path, "--journal", db};
      args.insert(args.end(), row.options.begin(), row.options.end());
      const CliResult r = run_cli_args(args);
      std::error_code ignored;
      std::filesystem::remove(path, ignored);

      CHECK(r.signal == 0);
      CHECK(r.exit_code == 2);
      CHECK(r.out.empty());
      CHECK(r.err == "blotter: " + path + row.where + ": " + row.message + "\n");
      CHECK(std::count(r.err.begin(), r.err.end(), '\n') == 1);
      CHECK(r.peak_rss_kb - baseline.peak_rss_kb < kMaxExtraRssKb);
      const JournalImage after = image(db);
      CHECK(after.events == before.events);
      CHECK(after.schema == before.schema);
      CHECK(after.bytes == before.bytes);
    }
  }

  TEST_CASE("the CSV variants the README accepts give the plain file's events") {
    TempDir dir;
    const std::string plain = read_file(goog_csv());
    const std::string reference_db = dir.file("plain.db");
    REQUIRE(
        run_cli_args({"run", "--bars", goog_csv(), "--symbol", "GOOG", "--journal", reference_db})
            .exit_code == 0);
    const std::string reference = row_events(reference_db);
    REQUIRE(count(reference_db, "SELECT count(*) FROM bars") == 1047);
    REQUIRE(count(reference_db, "SELECT count(*) FROM fills") > 0);

    int n = 0;
    for (const GoodInput& variant : good_inputs(plain)) {
      const std::string what = variant.what;
      CAPTURE(what);
      ++n;
      const std::string csv = dir.write(fmt::format("variant{}.csv", n), variant.content);
      const std::string db = dir.file(fmt::format("variant{}.db", n));
      std::vector<std::string> args = {"run", "--bars", csv, "--journal", db};
      args.insert(args.end(), variant.options.begin(), variant.options.end());
      const CliResult r = run_cli_args(args);
      INFO(r.err);
      REQUIRE(r.exit_code == 0);
      CHECK(r.err.empty());
      CHECK(row_events(db) == reference);
    }
  }

  TEST_CASE("a run commits nothing before its whole input has passed the check") {
    // The input is checked on another thread while the run goes on, and the
    // run's batches stay open until it has passed. Batches of one row would
    // otherwise commit thousands of times before the run reaches the bad row.
    TempDir dir;
    std::string rows = "timestamp,open,high,low,close,volume,symbol\n";
    for (int i = 0; i < 20'000; ++i)
      rows += fmt::format("{},{},{},{},{},100,S{}\n", 1'704'205'800 + 60 * i, 100 + i % 7,
                          101 + i % 7, 99 + i % 7, 100 + (i * 3) % 7, i % 3);
    const std::string good = dir.write("good.csv", rows);
    const std::string bad = dir.write("bad.csv", rows + "1705405800,100,101,99,x,100,S0\n");
    const auto config = [&](const std::string& input, const std::string& journal) {
      RunConfig c = busy_run_config(input, journal);
      c.batch_rows = 1;
      c.snapshot_every = 500;
      return c;
    };

    const std::string db = dir.file("journal.db");
    REQUIRE(run_paper_trading(config(good, db)).outcome == RunSummary::Outcome::kNew);
    // The hold is lifted once the check passes: a good run commits many batches.
    CHECK(count(db, "SELECT count(*) FROM time_index") > 1);
    const JournalImage before = image(db);

    int progress = 0;
    RunConfig refused = config(bad, db);
    refused.on_progress = [&](const MarketDataSource&) { ++progress; };
    CHECK_THROWS_WITH_AS(run_paper_trading(refused),
                         (bad + ":20002: field 'close': 'x' is not a number").c_str(), InputError);
    CHECK(progress == 0);
    const JournalImage after = image(db);
    CHECK(after.events == before.events);
    CHECK(after.schema == before.schema);
    CHECK(after.bytes == before.bytes);

    // A journal the refused run created is removed with it.
    const std::string fresh = dir.file("fresh.db");
    CHECK_THROWS_AS(run_paper_trading(config(bad, fresh)), InputError);
    for (const char* suffix : {"", "-wal", "-shm"})
      CHECK_FALSE(std::filesystem::exists(fresh + suffix));
  }
}
