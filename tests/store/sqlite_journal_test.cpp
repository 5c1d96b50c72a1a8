#include "blotter/sqlite_journal.h"

#include <SQLiteCpp/SQLiteCpp.h>
#include <doctest/doctest.h>
#include <stdlib.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <memory>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "blotter/error.h"

namespace fs = std::filesystem;

namespace {

using namespace blotter;

Decimal D(const char* text) { return Decimal::from_string(text); }
TimestampNs T(const char* text) { return parse_timestamp(text).value(); }

// A fresh directory per case, removed with everything in it.
struct TempDir {
  TempDir() {
    std::string pattern = (fs::temp_directory_path() / "blotter-journal-XXXXXX").string();
    REQUIRE(mkdtemp(pattern.data()) != nullptr);
    path = pattern;
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
  std::string file(const char* name) const { return (path / name).string(); }
  std::set<std::string> listing() const {
    std::set<std::string> names;
    for (const auto& entry : fs::directory_iterator(path)) names.insert(entry.path().filename());
    return names;
  }
  fs::path path;
};

std::string read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

// A wall clock that returns *next and then advances it by one second.
struct FakeClock {
  std::shared_ptr<std::int64_t> next = std::make_shared<std::int64_t>(0);
  WallClock clock() const {
    return [next = next] {
      const std::int64_t now = *next;
      *next += 1'000'000'000;
      return now;
    };
  }
};

// Run events compare by their payload text, which holds every field.
bool equal(const RunStarted& a, const RunStarted& b) {
  return encode_payload(make_event(0, "", a)) == encode_payload(make_event(0, "", b));
}
bool equal(const RunFinished& a, const RunFinished& b) {
  return a.run_seq == b.run_seq && a.rows == b.rows && a.events == b.events && a.ended == b.ended;
}
bool equal(const Tick& a, const Tick& b) { return a.price == b.price && a.volume == b.volume; }
bool equal(const Bar& a, const Bar& b) {
  return a.open == b.open && a.high == b.high && a.low == b.low && a.close == b.close &&
         a.volume == b.volume;
}
bool equal(const Signal& a, const Signal& b) {
  return a.direction == b.direction && a.price == b.price && a.reason == b.reason;
}
bool equal(const Order& a, const Order& b) {
  return a.side == b.side && a.quantity == b.quantity && a.price == b.price &&
         a.signal_seq == b.signal_seq;
}
bool equal(const Fill& a, const Fill& b) {
  return a.side == b.side && a.quantity == b.quantity && a.price == b.price &&
         a.commission == b.commission && a.order_seq == b.order_seq;
}
bool equal(const RiskRejected& a, const RiskRejected& b) {
  return a.direction == b.direction && a.reason == b.reason && a.signal_seq == b.signal_seq;
}
bool equal(const HandlerError& a, const HandlerError& b) {
  return a.handler == b.handler && a.event_seq == b.event_seq && a.error == b.error;
}
bool equal(const Annotation& a, const Annotation& b) {
  return a.refers_to_seq == b.refers_to_seq && a.day == b.day && a.tag == b.tag && a.text == b.text;
}
bool equal(const InputRejected& a, const InputRejected& b) {
  return a.line == b.line && a.field == b.field && a.message == b.message && a.row == b.row;
}

bool same_event(const Event& a, const Event& b) {
  if (a.seq != b.seq || a.ts_ns != b.ts_ns || a.recorded_ns != b.recorded_ns ||
      a.symbol != b.symbol || a.payload.index() != b.payload.index())
    return false;
  return std::visit(
      [&](const auto& x) { return equal(x, std::get<std::decay_t<decltype(x)>>(b.payload)); },
      a.payload);
}

constexpr TimestampNs kNanos = 1'709'303'400'123'456'789;  // 2024-03-01T14:30:00.123456789Z
constexpr TimestampNs kPre1970 = -1'500'000'000;           // 1969-12-31T23:59:58.5Z

// One event of every type, every field set.
std::vector<Event> sample_events() {
  return {
      make_event(T("2024-03-01T14:30:00Z"), "GOOG",
                 Bar{D("100.5"), D("104.06"), D("95.96"), D("100.34"), D("22351900")}),
      make_event(kNanos, "GOOG",
                 Signal{Direction::kLong, D("100.34"), "close 100.34 crossed \"above\" MA20 99.5"}),
      make_event(kPre1970, "GOOG", Order{Side::kBuy, D("3"), D("100.34"), 2}),
      make_event(kPre1970, "GOOG", Fill{Side::kSell, D("3"), D("100.24"), D("0.015"), 3}),
      make_event(T("2024-03-01T14:31:00Z"), "MSFT",
                 RiskRejected{Direction::kExit, "daily loss limit, ünïcode", 2}),
      make_event(T("2024-03-01T14:32:00Z"), "", HandlerError{"Portfolio", 4, "line 1\nline 2"}),
      make_event(T("2024-03-01T14:33:00Z"), "EURUSD", Tick{D("1.08155"), D("0.00000001")}),
  };
}

// Appends a tick of price 1 and volume 1 at `ts`; returns its seq.
Seq append_tick(EventStore& store, TimestampNs ts, const std::string& symbol) {
  Event e = make_event(ts, symbol, Tick{D("1"), D("1")});
  return store.append(e);
}

std::vector<Event> scan_all(const EventStore& store, ScanRange range = {}) {
  std::vector<Event> out;
  store.scan(range, [&](const Event& e) {
    out.push_back(e);
    return true;
  });
  return out;
}

// Writes the sample events into a new journal at `path` and commits them.
std::vector<Event> write_sample(const std::string& path, FakeClock clock = {}) {
  auto journal = SqliteJournal::open(path, SqliteJournal::Mode::kWrite, clock.clock());
  *clock.next = T("2024-03-01T14:30:00.5Z");
  std::vector<Event> events = sample_events();
  for (Event& e : events) journal->append(e);
  journal->commit();
  return events;
}

std::string open_error(const std::string& path, SqliteJournal::Mode mode) {
  try {
    SqliteJournal::open(path, mode);
  } catch (const StoreError& e) {
    return e.what();
  }
  return "(no StoreError)";
}

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

}  // namespace

TEST_SUITE("sqlite_journal") {
  TEST_CASE("a missing journal is created with the current schema") {
    TempDir dir;
    const std::string path = dir.file("new.db");
    auto journal = SqliteJournal::open(path, SqliteJournal::Mode::kWrite);
    CHECK(fs::exists(path));
    CHECK(journal->path() == path);
    CHECK(journal->last_seq() == 0);
    CHECK(journal_schema_version() >= 1);
    CHECK(journal->schema_version() == journal_schema_version());
    CHECK(scan_all(*journal).empty());
  }

  TEST_CASE("committed events read back equal after reopening") {
    TempDir dir;
    const std::string path = dir.file("j.db");
    const std::vector<Event> written = write_sample(path);
    for (std::size_t i = 0; i < written.size(); ++i) {
      CHECK(written[i].seq == static_cast<Seq>(i + 1));
      CHECK(written[i].recorded_ns ==
            T("2024-03-01T14:30:00.5Z") + static_cast<std::int64_t>(i) * 1'000'000'000);
    }

    for (auto mode : {SqliteJournal::Mode::kRead, SqliteJournal::Mode::kWrite}) {
      auto journal = SqliteJournal::open(path, mode);
      CHECK(journal->last_seq() == 7);
      const auto read = scan_all(*journal);
      REQUIRE(read.size() == written.size());
      for (std::size_t i = 0; i < read.size(); ++i) {
        INFO("event ", i + 1);
        CHECK(same_event(read[i], written[i]));
      }
      CHECK(read[5].symbol.empty());
      CHECK(read[1].ts_ns == kNanos);
      CHECK(read[2].ts_ns == kPre1970);
    }
  }

  TEST_CASE("a reopened journal continues the sequence") {
    TempDir dir;
    const std::string path = dir.file("j.db");
    write_sample(path);
    auto journal = SqliteJournal::open(path, SqliteJournal::Mode::kWrite);
    Event e = make_event(1, "A", Tick{D("1"), D("1")});
    CHECK(journal->append(e) == 8);
    CHECK(e.seq == 8);
    CHECK(journal->last_seq() == 8);
  }

  TEST_CASE("scan visits a range in seq order and stops when told") {
    TempDir dir;
    const std::string path = dir.file("j.db");
    write_sample(path);
    auto journal = SqliteJournal::open(path, SqliteJournal::Mode::kRead);
    std::vector<Seq> seqs;
    for (const Event& e : scan_all(*journal, {3, 5})) seqs.push_back(e.seq);
    CHECK(seqs == std::vector<Seq>{3, 4, 5});
    seqs.clear();
    ScanRange from_two;
    from_two.from_seq = 2;
    journal->scan(from_two, [&](const Event& e) {
      seqs.push_back(e.seq);
      return seqs.size() < 2;
    });
    CHECK(seqs == std::vector<Seq>{2, 3});
  }

  TEST_CASE("rollback discards the open batch and the sequence continues without a gap") {
    TempDir dir;
    const std::string path = dir.file("j.db");
    {
      auto journal = SqliteJournal::open(path, SqliteJournal::Mode::kWrite);
      for (const char* s : {"A", "B"}) {
        append_tick(*journal, 1, s);
      }
      journal->commit();
      for (const char* s : {"X", "Y"}) {
        append_tick(*journal, 2, s);
      }
      CHECK(journal->last_seq() == 4);
      CHECK(scan_all(*journal).size() == 4);  // appended events are visible to scan
      journal->rollback();
      CHECK(journal->last_seq() == 2);
      CHECK(scan_all(*journal).size() == 2);
      CHECK(append_tick(*journal, 3, "C") == 3);
      journal->commit();
    }
    auto journal = SqliteJournal::open(path, SqliteJournal::Mode::kRead);
    std::string symbols;
    for (const Event& e : scan_all(*journal)) symbols += e.symbol + std::to_string(e.seq);
    CHECK(symbols == "A1B2C3");
  }

  TEST_CASE("an uncommitted batch is gone once the journal is closed") {
    TempDir dir;
    const std::string path = dir.file("j.db");
    {
      auto journal = SqliteJournal::open(path, SqliteJournal::Mode::kWrite);
      append_tick(*journal, 1, "A");
      journal->commit();
      append_tick(*journal, 2, "B");
    }
    auto journal = SqliteJournal::open(path, SqliteJournal::Mode::kRead);
    CHECK(journal->last_seq() == 1);
    CHECK(scan_all(*journal).size() == 1);
  }

  TEST_CASE("a reader sees committed batches only") {
    TempDir dir;
    const std::string path = dir.file("j.db");
    auto writer = SqliteJournal::open(path, SqliteJournal::Mode::kWrite);
    append_tick(*writer, 1, "A");
    writer->commit();
    append_tick(*writer, 2, "B");
    auto reader = SqliteJournal::open(path, SqliteJournal::Mode::kRead);
    CHECK(reader->last_seq() == 1);
    const auto seen = scan_all(*reader);
    REQUIRE(seen.size() == 1);
    CHECK(seen[0].symbol == "A");
  }

  TEST_CASE("closed batches are committed by the writer; rollback drops only the open one") {
    TempDir dir;
    const std::string path = dir.file("j.db");
    // More rows than the writer's queue holds, so appending waits for it.
    constexpr int kRows = 40'000;
    {
      auto journal = SqliteJournal::open(path, SqliteJournal::Mode::kWrite);
      for (int i = 0; i < kRows; ++i) {
        Event e = make_event(i, "A", Tick{Decimal::from_int(i + 1), D("1")});
        journal->append(e);
        if (i % 1000 == 999) journal->close_batch();
      }
      for (int i = 0; i < kRows; ++i) {
        append_tick(*journal, i, "B");
      }
      CHECK(journal->last_seq() == 2 * kRows);
      journal->rollback();
      CHECK(journal->last_seq() == kRows);
      CHECK(append_tick(*journal, kRows, "C") == kRows + 1);
      journal->close_batch();
      // Closing the journal waits for the writer to commit what was closed.
    }
    auto journal = SqliteJournal::open(path, SqliteJournal::Mode::kRead);
    CHECK(journal->last_seq() == kRows + 1);
    std::int64_t n = 0;
    bool in_order = true;
    journal->scan({}, [&](const Event& e) {
      ++n;
      if (e.seq <= kRows)
        in_order &= e.symbol == "A" && e.as<Tick>().price == Decimal::from_int(e.seq);
      else
        in_order &= e.symbol == "C";
      return true;
    });
    CHECK(n == kRows + 1);
    CHECK(in_order);
  }

  TEST_CASE("appending from within a scan of the same journal is refused") {
    TempDir dir;
    const std::string path = dir.file("j.db");
    auto journal = SqliteJournal::open(path, SqliteJournal::Mode::kWrite);
    append_tick(*journal, 1, "A");
    journal->commit();
    journal->scan({}, [&](const Event&) {
      Event b = make_event(2, "B", Tick{D("1"), D("1")});
      CHECK_THROWS_WITH(journal->append(b), doctest::Contains("while scanning it"));
      return true;
    });
    CHECK(append_tick(*journal, 3, "C") == 2);  // after the scan, appending goes on
    journal->commit();
  }

  TEST_CASE("commit() after close_batch() returns once the writer has committed the batch") {
    TempDir dir;
    const std::string path = dir.file("j.db");
    auto writer = SqliteJournal::open(path, SqliteJournal::Mode::kWrite);
    append_tick(*writer, 1, "A");
    writer->close_batch();
    writer->commit();  // nothing left to close: waits for the writer
    auto reader = SqliteJournal::open(path, SqliteJournal::Mode::kRead);
    CHECK(reader->last_seq() == 1);
  }

  TEST_CASE("time ranges read through time_index find exactly the events a full scan finds") {
    TempDir dir;
    const std::string path = dir.file("j.db");
    auto journal = SqliteJournal::open(path, SqliteJournal::Mode::kWrite);
    // Two "runs" over overlapping times, notes that carry earlier times, and
    // batches of several sizes; the last batch is left open (not indexed yet).
    std::uint64_t x = 7;
    const auto next = [&] { return x = x * 6364136223846793005ull + 1442695040888963407ull; };
    TimestampNs ts = 1'000;
    for (int i = 0; i < 3000; ++i) {
      if (i == 1500) ts = 1'500;  // the second run starts earlier
      ts += static_cast<TimestampNs>(next() >> 61);
      const bool note = next() % 50 == 0;
      Event e = note ? make_event(ts - 900, "", Annotation{1, "", "", "note"})
                     : make_event(ts, "A", Tick{D("1"), D("1")});
      journal->append(e);
      if (next() % 97 == 0) journal->close_batch();
    }
    journal->close_batch();
    for (int i = 0; i < 20; ++i) {
      append_tick(*journal, ts + i, "A");
    }
    std::vector<Event> all = scan_all(*journal);
    REQUIRE(all.size() == 3020);
    for (int k = 0; k < 300; ++k) {
      ScanRange range;
      range.from_ts = 500 + static_cast<TimestampNs>(next() % 6000);
      range.to_ts = range.from_ts + static_cast<TimestampNs>(next() % 2000);
      if (k % 3 == 0) range.from_seq = static_cast<Seq>(next() % 3000);
      CAPTURE(range.from_ts);
      CAPTURE(range.to_ts);
      std::vector<Seq> expected, got;
      for (const Event& e : all)
        if (range.matches(e)) expected.push_back(e.seq);
      for (const Event& e : scan_all(*journal, range)) got.push_back(e.seq);
      CHECK(got == expected);
      CHECK(journal->count(range) == static_cast<std::int64_t>(expected.size()));
      Seq last = 0;
      for (const Event& e : all)
        if (e.ts_ns <= range.to_ts && e.type() != EventType::kAnnotation) last = e.seq;
      CHECK(journal->last_seq_at_or_before(range.to_ts) == last);
    }
  }

  TEST_CASE("with Durability::kFull an ORDER is committed when append() returns") {
    for (const Durability durability : {Durability::kNormal, Durability::kFull}) {
      CAPTURE(static_cast<int>(durability));
      TempDir dir;
      const std::string path = dir.file("j.db");
      auto writer =
          SqliteJournal::open(path, SqliteJournal::Mode::kWrite, system_wall_clock(), durability);
      SQLite::Database check(path, SQLite::OPEN_READONLY);
      Event bar = make_event(1, "A", Bar{D("1"), D("1"), D("1"), D("1"), D("1")});
      writer->append(bar);
      Event order = make_event(1, "A", Order{Side::kBuy, D("1"), D("1"), 1});
      writer->append(order);
      const auto visible = [&] { return check.execAndGet("SELECT count(*) FROM events").getInt(); };
      // Write-ahead: the ORDER and what came before it, before any handler runs.
      CHECK(visible() == (durability == Durability::kFull ? 2 : 0));
      Event fill = make_event(1, "A", Fill{Side::kBuy, D("1"), D("1"), D("0"), 2});
      writer->append(fill);
      CHECK(visible() == (durability == Durability::kFull ? 2 : 0));
      writer->commit();
      CHECK(visible() == 3);
    }
  }

  TEST_CASE("the events table refuses UPDATE and DELETE") {
    TempDir dir;
    const std::string path = dir.file("j.db");
    write_sample(path);
    SQLite::Database db(path, SQLite::OPEN_READWRITE);
    try {
      db.exec("UPDATE events SET symbol = 'X' WHERE seq = 1");
      FAIL("UPDATE succeeded");
    } catch (const SQLite::Exception& e) {
      CHECK(contains(e.what(), "append-only"));
    }
    try {
      db.exec("DELETE FROM events WHERE seq = 7");
      FAIL("DELETE succeeded");
    } catch (const SQLite::Exception& e) {
      CHECK(contains(e.what(), "append-only"));
    }
    CHECK(db.execAndGet("SELECT count(*) FROM events").getInt() == 7);
    CHECK(db.execAndGet("SELECT symbol FROM events WHERE seq = 1").getString() == "GOOG");
  }

  TEST_CASE("the timeline view gives ISO-8601 times") {
    TempDir dir;
    const std::string path = dir.file("j.db");
    write_sample(path);
    SQLite::Database db(path, SQLite::OPEN_READONLY);
    SQLite::Statement q(db,
                        "SELECT seq, time, ts_ns, type, symbol, payload, recorded_at FROM timeline "
                        "ORDER BY seq");
    REQUIRE(q.executeStep());
    CHECK(q.getColumn(0).getInt64() == 1);
    CHECK(q.getColumn(1).getString() == "2024-03-01T14:30:00Z");
    CHECK(q.getColumn(2).getInt64() == T("2024-03-01T14:30:00Z"));
    CHECK(q.getColumn(3).getString() == "BAR");
    CHECK(q.getColumn(4).getString() == "GOOG");
    CHECK(q.getColumn(5).getString() ==
          R"({"open":"100.5","high":"104.06","low":"95.96","close":"100.34","volume":"22351900"})");
    CHECK(q.getColumn(6).getString() == "2024-03-01T14:30:00.500Z");
    REQUIRE(q.executeStep());
    CHECK(q.getColumn(1).getString() == "2024-03-01T14:30:00.123456789Z");
    REQUIRE(q.executeStep());
    CHECK(q.getColumn(1).getString() == "1969-12-31T23:59:58.500000000Z");
    REQUIRE(q.executeStep());
    REQUIRE(q.executeStep());
    REQUIRE(q.executeStep());
    CHECK(q.getColumn(3).getString() == "HANDLER_ERROR");
    CHECK(q.getColumn(4).isNull());  // an event without a symbol
  }

  TEST_CASE("one nanosecond before the epoch is the last nanosecond of 1969") {
    TempDir dir;
    const std::string path = dir.file("j.db");
    {
      auto journal = SqliteJournal::open(path, SqliteJournal::Mode::kWrite);
      for (TimestampNs ts : {TimestampNs{-1}, TimestampNs{0}, TimestampNs{-86'400'000'000'000}}) {
        append_tick(*journal, ts, "A");
      }
      journal->commit();
    }
    SQLite::Database db(path, SQLite::OPEN_READONLY);
    SQLite::Statement q(db, "SELECT time FROM timeline ORDER BY seq");
    std::vector<std::string> times;
    while (q.executeStep()) times.push_back(q.getColumn(0).getString());
    CHECK(times == std::vector<std::string>{"1969-12-31T23:59:59.999999999Z",
                                            "1970-01-01T00:00:00Z", "1969-12-31T00:00:00Z"});
    // The same text as blotter's own formatting.
    CHECK(times[0] == format_timestamp(-1));
  }

  TEST_CASE("the typed views give typed columns") {
    TempDir dir;
    const std::string path = dir.file("j.db");
    write_sample(path);
    SQLite::Database db(path, SQLite::OPEN_READONLY);

    SUBCASE("bars") {
      SQLite::Statement q(db, "SELECT seq, time, symbol, open, high, low, close, volume FROM bars");
      REQUIRE(q.executeStep());
      CHECK(q.getColumn(0).getInt64() == 1);
      CHECK(q.getColumn(1).getString() == "2024-03-01T14:30:00Z");
      CHECK(q.getColumn(2).getString() == "GOOG");
      CHECK(q.getColumn(3).isFloat());
      CHECK(q.getColumn(3).getDouble() == 100.5);
      CHECK(q.getColumn(4).getDouble() == 104.06);
      CHECK(q.getColumn(5).getDouble() == 95.96);
      CHECK(q.getColumn(6).getDouble() == 100.34);
      CHECK(q.getColumn(7).isInteger());
      CHECK(q.getColumn(7).getInt64() == 22351900);
      CHECK_FALSE(q.executeStep());
    }
    SUBCASE("signals") {
      SQLite::Statement q(db, "SELECT seq, time, symbol, direction, price, reason FROM signals");
      REQUIRE(q.executeStep());
      CHECK(q.getColumn(0).getInt64() == 2);
      CHECK(q.getColumn(1).getString() == "2024-03-01T14:30:00.123456789Z");
      CHECK(q.getColumn(3).getString() == "long");
      CHECK(q.getColumn(4).isFloat());
      CHECK(q.getColumn(4).getDouble() == 100.34);
      CHECK(q.getColumn(5).getString() == "close 100.34 crossed \"above\" MA20 99.5");
      CHECK_FALSE(q.executeStep());
    }
    SUBCASE("orders") {
      SQLite::Statement q(
          db, "SELECT seq, time, symbol, side, quantity, price, signal_seq FROM orders");
      REQUIRE(q.executeStep());
      CHECK(q.getColumn(0).getInt64() == 3);
      CHECK(q.getColumn(1).getString() == "1969-12-31T23:59:58.500000000Z");
      CHECK(q.getColumn(3).getString() == "buy");
      CHECK(q.getColumn(4).isInteger());
      CHECK(q.getColumn(4).getInt64() == 3);
      CHECK(q.getColumn(5).getDouble() == 100.34);
      CHECK(q.getColumn(6).isInteger());
      CHECK(q.getColumn(6).getInt64() == 2);
    }
    SUBCASE("fills") {
      SQLite::Statement q(
          db, "SELECT seq, time, symbol, side, quantity, price, commission, order_seq FROM fills");
      REQUIRE(q.executeStep());
      CHECK(q.getColumn(0).getInt64() == 4);
      CHECK(q.getColumn(3).getString() == "sell");
      CHECK(q.getColumn(4).getInt64() == 3);
      CHECK(q.getColumn(5).getDouble() == 100.24);
      CHECK(q.getColumn(6).isFloat());
      CHECK(q.getColumn(6).getDouble() == 0.015);
      CHECK(q.getColumn(7).getInt64() == 3);
    }
    SUBCASE("rejections") {
      SQLite::Statement q(
          db, "SELECT seq, time, symbol, reason, direction, signal_seq FROM rejections");
      REQUIRE(q.executeStep());
      CHECK(q.getColumn(0).getInt64() == 5);
      CHECK(q.getColumn(1).getString() == "2024-03-01T14:31:00Z");
      CHECK(q.getColumn(2).getString() == "MSFT");
      CHECK(q.getColumn(3).getString() == "daily loss limit, ünïcode");
      CHECK(q.getColumn(4).getString() == "exit");
      CHECK(q.getColumn(5).getInt64() == 2);
    }
    SUBCASE("handler_errors") {
      SQLite::Statement q(
          db, "SELECT seq, time, symbol, handler, event_seq, error FROM handler_errors");
      REQUIRE(q.executeStep());
      CHECK(q.getColumn(0).getInt64() == 6);
      CHECK(q.getColumn(2).isNull());
      CHECK(q.getColumn(3).getString() == "Portfolio");
      CHECK(q.getColumn(4).getInt64() == 4);
      CHECK(q.getColumn(5).getString() == "line 1\nline 2");
    }
    SUBCASE("ticks") {
      SQLite::Statement q(db, "SELECT seq, symbol, price, volume FROM ticks");
      REQUIRE(q.executeStep());
      CHECK(q.getColumn(0).getInt64() == 7);
      CHECK(q.getColumn(1).getString() == "EURUSD");
      CHECK(q.getColumn(2).getDouble() == 1.08155);
      CHECK(q.getColumn(3).getDouble() == 0.00000001);
    }
  }

  TEST_CASE("a journal of schema version 2 migrates, and its runs read as before") {
    TempDir dir;
    const std::string path = dir.file("v2.db");
    {
      // The file blotter 0.1 wrote: migrations 1 and 2, a finished run whose
      // RUN_STARTED has the since-removed resumes/skipped_rows fields.
      SQLite::Database db(path, SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE);
      db.exec("PRAGMA journal_mode = WAL");
      for (const char* name : {"0001_events.sql", "0002_runs.sql"}) {
        std::ifstream in(std::string(BLOTTER_MIGRATIONS_DIR) + "/" + name);
        std::stringstream sql;
        sql << in.rdbuf();
        db.exec(sql.str());
      }
      db.exec(
          "INSERT INTO schema_migrations VALUES (1, '0001_events', 1), (2, '0002_runs', 2);"
          "PRAGMA user_version = 2;"
          "INSERT INTO events VALUES (1, 0, 'RUN_STARTED', NULL, '{\"input\":\"a.csv\","
          "\"input_sha256\":\"00\",\"input_kind\":\"bars\",\"symbol\":\"X\",\"window\":20,"
          "\"quantity\":\"1\",\"risk_per_trade\":\"\",\"capital\":\"100000\","
          "\"max_daily_loss\":\"0.02\",\"max_position\":\"\",\"fill\":\"signal\","
          "\"slippage_bps\":\"0\",\"commission\":\"0\",\"tz\":\"UTC\",\"version\":\"0.1.0\","
          "\"resumes\":0,\"skipped_rows\":0}', 5),"
          "(2, 0, 'BAR', 'X', '{\"open\":\"1\",\"high\":\"2\",\"low\":\"1\",\"close\":\"2\","
          "\"volume\":\"5\"}', 6),"
          "(3, 0, 'RUN_FINISHED', NULL, '{\"run_seq\":1,\"rows\":1,\"events\":3}', 7)");
    }
    auto journal = SqliteJournal::open(path, SqliteJournal::Mode::kWrite);
    CHECK(journal->schema_version() == journal_schema_version());
    std::vector<Event> events;
    journal->scan(ScanRange(), [&](const Event& e) {
      events.push_back(e);
      return true;
    });
    REQUIRE(events.size() == 3);
    CHECK(events[0].as<RunStarted>().version == "0.1.0");
    CHECK(events[2].as<RunFinished>().resumed_at.empty());
    journal.reset();
    SQLite::Database db(path, SQLite::OPEN_READONLY);
    CHECK(db.execAndGet("SELECT resumptions FROM runs").getInt() == 0);
    CHECK(db.execAndGet("SELECT finished_seq FROM runs").getInt() == 3);
    CHECK(db.execAndGet("SELECT count(*) FROM snapshots").getInt() == 0);
  }

  TEST_CASE("a second writer waits a bounded time, then fails clearly; readers are not stopped") {
    TempDir dir;
    const std::string path = dir.file("j.db");
    auto first = SqliteJournal::open(path, SqliteJournal::Mode::kWrite);
    Event e = make_event(1, "X", Bar{});
    first->append(e);
    first->commit();
    const auto started = std::chrono::steady_clock::now();
    std::string message;
    try {
      SqliteJournal::open(path, SqliteJournal::Mode::kWrite);
    } catch (const StoreError& err) {
      message = err.what();
    }
    const auto waited = std::chrono::steady_clock::now() - started;
    CHECK(message == path +
                         ": another blotter is writing to this journal (waited 3 s); a journal "
                         "has one writer at a time");
    CHECK(waited >= std::chrono::seconds(3));
    CHECK(waited < std::chrono::seconds(10));
    auto reader = SqliteJournal::open(path, SqliteJournal::Mode::kRead);
    CHECK(reader->last_seq() == 1);
    first->append(e);  // the writer goes on while the reader is open
    first->commit();
    first.reset();
    auto second = SqliteJournal::open(path, SqliteJournal::Mode::kWrite);
    CHECK(second->last_seq() == 2);
  }

  TEST_CASE("schema_migrations records the applied version") {
    TempDir dir;
    const std::string path = dir.file("j.db");
    FakeClock clock;
    *clock.next = 1'000'000'000'000;
    SqliteJournal::open(path, SqliteJournal::Mode::kWrite, clock.clock());
    SQLite::Database db(path, SQLite::OPEN_READONLY);
    CHECK(db.execAndGet("SELECT max(version) FROM schema_migrations").getInt() ==
          journal_schema_version());
    // Versions need not be consecutive: check the names recorded.
    CHECK(db.execAndGet("SELECT group_concat(name, ' ') FROM (SELECT name FROM schema_migrations "
                        "ORDER BY version)")
              .getString()
              .find("0001_events 0002_runs ") == 0);
    CHECK(db.execAndGet("SELECT name FROM schema_migrations WHERE version = 4").getString() ==
          "0004_hash_chain");
    CHECK(db.execAndGet("SELECT name FROM schema_migrations WHERE version = 5").getString() ==
          "0005_annotations");
    CHECK(db.execAndGet("SELECT name FROM schema_migrations WHERE version = 1").getString() ==
          "0001_events");
    const std::int64_t applied =
        db.execAndGet("SELECT applied_ns FROM schema_migrations WHERE version = 1").getInt64();
    CHECK(applied >= 1'000'000'000'000);
    CHECK(applied < *clock.next);
    CHECK(db.execAndGet("PRAGMA user_version").getInt() == journal_schema_version());
    CHECK(db.execAndGet("PRAGMA application_id").getInt() == 0x424C4F54);
  }

  TEST_CASE("the journal is in WAL mode, a new one with 16 KiB pages") {
    TempDir dir;
    const std::string path = dir.file("j.db");
    write_sample(path);
    SQLite::Database db(path, SQLite::OPEN_READONLY);
    CHECK(db.execAndGet("PRAGMA journal_mode").getString() == "wal");
    CHECK(db.execAndGet("PRAGMA page_size").getInt() == 16384);
  }

  TEST_CASE("a file that is not a SQLite database is refused and left alone") {
    TempDir dir;
    const std::string path = dir.file("goog_daily.csv");
    fs::copy_file(std::string(BLOTTER_TEST_DATA) + "/goog_daily.csv", path);
    const std::string before = read_bytes(path);
    for (auto mode : {SqliteJournal::Mode::kWrite, SqliteJournal::Mode::kRead}) {
      const std::string message = open_error(path, mode);
      CHECK(contains(message, path));
      CHECK(contains(message, "not a SQLite database"));
    }
    CHECK(read_bytes(path) == before);
    CHECK(dir.listing() == std::set<std::string>{"goog_daily.csv"});
  }

  TEST_CASE("a SQLite database that is not a blotter journal is refused and left alone") {
    TempDir dir;
    const std::string path = dir.file("other.db");
    {
      SQLite::Database db(path, SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE);
      db.exec("CREATE TABLE prices(day TEXT, close REAL)");
    }
    for (auto mode : {SqliteJournal::Mode::kWrite, SqliteJournal::Mode::kRead}) {
      const std::string message = open_error(path, mode);
      CHECK(contains(message, path));
      CHECK(contains(message, "not a blotter journal"));
    }
    SQLite::Database db(path, SQLite::OPEN_READONLY);
    CHECK(db.execAndGet("SELECT group_concat(name) FROM sqlite_schema").getString() == "prices");
    CHECK(db.execAndGet("PRAGMA journal_mode").getString() != "wal");
  }

  TEST_CASE("a journal written by a newer blotter is refused") {
    TempDir dir;
    const std::string path = dir.file("j.db");
    write_sample(path);
    {
      SQLite::Database db(path, SQLite::OPEN_READWRITE);
      db.exec("PRAGMA user_version = " + std::to_string(journal_schema_version() + 1));
    }
    for (auto mode : {SqliteJournal::Mode::kWrite, SqliteJournal::Mode::kRead}) {
      const std::string message = open_error(path, mode);
      CHECK(contains(message, path));
      CHECK(contains(message, "newer blotter"));
    }
    SQLite::Database db(path, SQLite::OPEN_READONLY);
    CHECK(db.execAndGet("PRAGMA user_version").getInt() == journal_schema_version() + 1);
    CHECK(db.execAndGet("SELECT count(*) FROM events").getInt() == 7);
  }

  TEST_CASE("reading a journal that needs migrating is refused") {
    TempDir dir;
    const std::string path = dir.file("j.db");
    write_sample(path);
    {
      SQLite::Database db(path, SQLite::OPEN_READWRITE);
      db.exec("PRAGMA user_version = 0");
    }
    const std::string message = open_error(path, SqliteJournal::Mode::kRead);
    CHECK(contains(message, path));
    CHECK(contains(message, "migrate"));
  }

  TEST_CASE("regression: reading an empty file says it is not a journal yet") {
    // It said "journal schema version 0 is older than this blotter's" and
    // asked for `blotter migrate`.
    TempDir dir;
    const std::string path = dir.file("empty.db");
    std::ofstream(path, std::ios::binary).close();
    const std::string why = open_error(path, SqliteJournal::Mode::kRead);
    CHECK(why.rfind(path + ": empty, not a journal yet", 0) == 0);
    CHECK(why.find("migrate") == std::string::npos);
    CHECK(read_bytes(path).empty());
    // To a writer it is a new journal.
    CHECK(SqliteJournal::open(path, SqliteJournal::Mode::kWrite)->last_seq() == 0);
  }

  TEST_CASE("reading a missing journal throws and creates nothing") {
    TempDir dir;
    const std::string path = dir.file("missing.db");
    CHECK_THROWS_AS(SqliteJournal::open(path, SqliteJournal::Mode::kRead), StoreError);
    CHECK(contains(open_error(path, SqliteJournal::Mode::kRead), path));
    CHECK(dir.listing().empty());
  }

  TEST_CASE("reading a journal never changes it and creates no journal") {
    TempDir dir;
    const std::string path = dir.file("j.db");
    write_sample(path);
    REQUIRE(dir.listing() == std::set<std::string>{"j.db"});
    const std::string bytes = read_bytes(path);
    {
      auto journal = SqliteJournal::open(path, SqliteJournal::Mode::kRead);
      CHECK(scan_all(*journal).size() == 7);
    }
    CHECK(read_bytes(path) == bytes);
    // SQLite's WAL reader may add its side files (-wal, -shm) next to the
    // journal when the directory is writable; nothing else appears.
    for (const std::string& name : dir.listing())
      CHECK((name == "j.db" || name == "j.db-wal" || name == "j.db-shm"));
    // A missing journal next to it stays missing.
    CHECK_THROWS_AS(SqliteJournal::open(dir.file("other.db"), SqliteJournal::Mode::kRead),
                    StoreError);
    CHECK_FALSE(fs::exists(dir.file("other.db")));
  }

  TEST_CASE("appending to a journal opened for reading throws") {
    TempDir dir;
    const std::string path = dir.file("j.db");
    write_sample(path);
    auto journal = SqliteJournal::open(path, SqliteJournal::Mode::kRead);
    Event e = make_event(1, "A", Tick{D("1"), D("1")});
    CHECK_THROWS_AS(journal->append(e), StoreError);
    CHECK(e.seq == 0);
    CHECK(journal->last_seq() == 7);
    CHECK_NOTHROW(journal->commit());
    CHECK(scan_all(*journal).size() == 7);
  }
}
