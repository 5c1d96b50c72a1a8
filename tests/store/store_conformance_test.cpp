// The EventStore contract (blotter/store.h), checked against every store:
// each case runs once per fixture in kStores, as leveldb's env_test runs
// against each Env. A new store adds a fixture to the list and must pass
// every case; where a store legitimately differs, the case says so through
// the fixture's traits, never by skipping it.
#include <doctest/doctest.h>
#include <stdlib.h>

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "blotter/event.h"
#include "blotter/hash_chain.h"
#include "blotter/sqlite_journal.h"
#include "blotter/store.h"
#include "test_support.h"

namespace fs = std::filesystem;
using namespace blotter;

namespace {

Decimal D(const char* text) { return Decimal::from_string(text); }

constexpr TimestampNs kDay = 86'400'000'000'000;
constexpr TimestampNs kT0 = 1'709'251'200'000'000'000;  // 2024-03-01T00:00:00Z
constexpr std::int64_t kClockStart = 1'800'000'000'000'000'000;
constexpr std::int64_t kClockStep = 1'000;

// A wall clock that returns kClockStart, then advances by kClockStep each call.
WallClock counting_clock() {
  auto next = std::make_shared<std::int64_t>(kClockStart);
  return [next] {
    const std::int64_t now = *next;
    *next += kClockStep;
    return now;
  };
}

// A fresh directory, removed with everything in it.
struct TempDir {
  TempDir() {
    std::string pattern = (fs::temp_directory_path() / "blotter-conformance-XXXXXX").string();
    REQUIRE(mkdtemp(pattern.data()) != nullptr);
    path = pattern;
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  fs::path path;
};

// The stores under test. Each fixture makes a fresh, empty store whose
// clock is counting_clock(), and states how it may differ from the others:
//   kChainsHashes: scan_rows() gives each row's chain_hash (Journal stores);
//   a store without a hash chain gives rows without one.
struct MemoryStoreFixture {
  static constexpr bool kChainsHashes = false;  // MemoryStore keeps no hash chain
  std::unique_ptr<EventStore> store = std::make_unique<MemoryStore>(counting_clock());
};

struct SqliteJournalFixture {
  static constexpr bool kChainsHashes = true;
  TempDir dir;
  std::unique_ptr<EventStore> store = SqliteJournal::open(
      (dir.path / "journal.db").string(), SqliteJournal::Mode::kWrite, counting_clock());
};

#define BLOTTER_STORES MemoryStoreFixture, SqliteJournalFixture

// Appends a tick at `ts` for `symbol`; returns its seq.
Seq append_tick(EventStore& store, TimestampNs ts, const std::string& symbol = "GOOG") {
  Event e = make_event(ts, symbol, Tick{D("1"), D("1")});
  return store.append(e);
}

Event annotation_at(TimestampNs ts, Seq refers_to) {
  return make_event(ts, "", Annotation{refers_to, "", "", "a note"});
}

std::vector<Event> scan_all(const EventStore& store, const ScanRange& range = {}) {
  std::vector<Event> out;
  store.scan(range, [&](const Event& e) {
    out.push_back(e);
    return true;
  });
  return out;
}

std::vector<Seq> seqs_of(const EventStore& store, const ScanRange& range) {
  std::vector<Seq> seqs;
  store.scan(range, [&](const Event& e) {
    seqs.push_back(e.seq);
    return true;
  });
  return seqs;
}

std::vector<JournalRow> rows_of(const EventStore& store, const ScanRange& range = {}) {
  std::vector<JournalRow> rows;
  store.scan_rows(range, [&](const JournalRow& r) {
    rows.push_back(r);
    return true;
  });
  return rows;
}

// One event of every payload type, every field set, symbols and times varied
// (one before 1970, text with quotes, newlines and non-ASCII).
std::vector<Event> every_payload_type() {
  const RunStarted m = testing::sample_manifest();
  return {
      make_event(kT0, "", m),
      make_event(kT0 + 1, "EURUSD", Tick{D("1.08155"), D("0.00000001")}),
      make_event(kT0 + 2, "GOOG",
                 Bar{D("100.5"), D("104.06"), D("95.96"), D("100.34"), D("22351900")}),
      make_event(kT0 + 3, "GOOG",
                 Signal{Direction::kLong, D("100.34"), "close crossed \"above\" the mean"}),
      make_event(-1'500'000'000, "GOOG", Order{Side::kBuy, D("3"), D("100.34"), 4}),
      make_event(kT0 + 5, "GOOG", Fill{Side::kSell, D("3"), D("100.24"), D("0.015"), 5}),
      make_event(kT0 + 6, "MSFT", RiskRejected{Direction::kExit, "daily loss limit, ünïcode", 4}),
      make_event(kT0 + 7, "", HandlerError{"Portfolio", 6, "line 1\nline 2"}),
      make_event(kT0 + 8, "", RunFinished{1, 2, 9, {3, 7}, "sigterm"}),
      make_event(kT0 + 9, "", Annotation{3, "", "check", "why this signal"}),
      make_event(kT0 + 10, "", Annotation{0, "2024-03-01", "", "exchange closed early"}),
      make_event(kT0 + 11, "",
                 InputRejected{7, "close", "feed:7: field 'close': 'x' is not a number",
                               "2024-03-01,1,2,0.5,x,9\\x1B"}),
  };
}

// A store holding 12 events in two committed batches and an open one:
// seq s has ts kT0 + (s % 4) days (times out of seq order), symbol GOOG for
// odd seqs and MSFT for even ones, a BAR for seqs divisible by 3, else a TICK.
void fill_mixed(EventStore& store) {
  for (Seq s = 1; s <= 12; ++s) {
    const TimestampNs ts = kT0 + (s % 4) * kDay;
    const std::string symbol = s % 2 ? "GOOG" : "MSFT";
    Event e = s % 3 == 0 ? make_event(ts, symbol, Bar{D("1"), D("2"), D("0.5"), D("1.5"), D("9")})
                         : make_event(ts, symbol, Tick{D("1"), D("1")});
    REQUIRE(store.append(e) == s);
    if (s == 4 || s == 8) store.commit();
  }
}

// The seqs of fill_mixed()'s events that `keep` selects.
template <class Keep>
std::vector<Seq> mixed_seqs(Keep keep) {
  std::vector<Seq> seqs;
  for (Seq s = 1; s <= 12; ++s)
    if (keep(s, kT0 + (s % 4) * kDay, s % 2 ? "GOOG" : "MSFT",
             s % 3 == 0 ? EventType::kBar : EventType::kTick))
      seqs.push_back(s);
  return seqs;
}

Snapshot snapshot_at(Seq seq, const char* state = "{\"n\":1}") {
  return Snapshot{seq, 1, kT0 + seq, 1, state};
}

}  // namespace

TYPE_TO_STRING(MemoryStoreFixture);
TYPE_TO_STRING(SqliteJournalFixture);

TEST_SUITE("store_conformance") {
  TEST_CASE_TEMPLATE("an empty store has no events, no snapshots and last seq 0", F,
                     BLOTTER_STORES) {
    F f;
    const EventStore& s = *f.store;
    CHECK(s.last_seq() == 0);
    CHECK(s.last_seq_at_or_before(INT64_MAX) == 0);
    CHECK(scan_all(s).empty());
    CHECK(rows_of(s).empty());
    CHECK(s.count({}) == 0);
    CHECK_FALSE(s.snapshot_at_or_before(INT64_MAX).has_value());
    CHECK(s.snapshot_seqs().empty());
  }

  TEST_CASE_TEMPLATE("append numbers events 1, 2, 3... and stores the number in the event", F,
                     BLOTTER_STORES) {
    F f;
    EventStore& s = *f.store;
    for (Seq want = 1; want <= 5; ++want) {
      Event e = make_event(kT0, "GOOG", Tick{D("1"), D("1")});
      CHECK(s.append(e) == want);
      CHECK(e.seq == want);
      CHECK(s.last_seq() == want);
      if (want == 3) s.commit();
    }
    s.commit();
    CHECK(seqs_of(s, {}) == std::vector<Seq>{1, 2, 3, 4, 5});
  }

  TEST_CASE_TEMPLATE("append stamps recorded_ns from the store's clock and stores it", F,
                     BLOTTER_STORES) {
    F f;
    EventStore& s = *f.store;
    std::vector<std::int64_t> stamped;
    for (int i = 0; i < 3; ++i) {
      Event e = make_event(kT0, "GOOG", Tick{D("1"), D("1")});
      s.append(e);
      stamped.push_back(e.recorded_ns);
    }
    s.commit();
    // Each append reads the clock: the stamps are its values, in order.
    REQUIRE(stamped.size() == 3);
    CHECK(stamped[0] >= kClockStart);
    CHECK(stamped[1] > stamped[0]);
    CHECK(stamped[2] > stamped[1]);
    const auto events = scan_all(s);
    REQUIRE(events.size() == 3);
    for (std::size_t i = 0; i < 3; ++i) CHECK(events[i].recorded_ns == stamped[i]);
  }

  TEST_CASE_TEMPLATE("events read back equal what was appended, for every payload type", F,
                     BLOTTER_STORES) {
    F f;
    EventStore& s = *f.store;
    std::vector<Event> appended = every_payload_type();
    REQUIRE(appended.size() == kEventTypeCount + 1);
    for (Event& e : appended) s.append(e);
    s.commit();
    const auto read = scan_all(s);
    REQUIRE(read.size() == appended.size());
    std::vector<bool> type_seen(kEventTypeCount);
    for (std::size_t i = 0; i < read.size(); ++i) {
      INFO("event ", i + 1, ": ", to_string(appended[i].type()));
      CHECK(read[i].seq == appended[i].seq);
      CHECK(read[i].ts_ns == appended[i].ts_ns);
      CHECK(read[i].recorded_ns == appended[i].recorded_ns);
      CHECK(read[i].symbol == appended[i].symbol);
      CHECK(read[i].type() == appended[i].type());
      // The encoding holds every field, so equal text is an equal payload.
      CHECK(encode_payload(read[i]) == encode_payload(appended[i]));
      type_seen[static_cast<std::size_t>(read[i].type())] = true;
    }
    CHECK(std::count(type_seen.begin(), type_seen.end(), true) ==
          static_cast<std::ptrdiff_t>(kEventTypeCount));
  }

  TEST_CASE_TEMPLATE("appended events are read before they are committed", F, BLOTTER_STORES) {
    F f;
    EventStore& s = *f.store;
    append_tick(s, kT0);
    append_tick(s, kT0 + 1);
    CHECK(seqs_of(s, {}) == std::vector<Seq>{1, 2});
    CHECK(s.count({}) == 2);
    CHECK(s.last_seq_at_or_before(kT0) == 1);
  }

  TEST_CASE_TEMPLATE("a committed batch stays when a later batch is rolled back", F,
                     BLOTTER_STORES) {
    F f;
    EventStore& s = *f.store;
    append_tick(s, kT0, "A");
    append_tick(s, kT0, "B");
    s.commit();
    s.rollback();  // no open batch: nothing to discard
    CHECK(s.last_seq() == 2);
    s.commit();  // no open batch: a no-op
    CHECK(s.last_seq() == 2);
    append_tick(s, kT0, "C");
    s.close_batch();  // ended as a whole, as commit() does
    s.rollback();
    CHECK(s.last_seq() == 3);
    s.commit();
    const auto events = scan_all(s);
    REQUIRE(events.size() == 3);
    CHECK(events[2].symbol == "C");
  }

  TEST_CASE_TEMPLATE(
      "rollback discards the open batch and the sequence goes on from the last "
      "committed event",
      F, BLOTTER_STORES) {
    F f;
    EventStore& s = *f.store;
    append_tick(s, kT0, "A");
    append_tick(s, kT0 + 1, "B");
    append_tick(s, kT0 + 2, "C");
    s.commit();
    append_tick(s, kT0 + 3, "X");
    append_tick(s, kT0 + 4, "Y");
    s.rollback();
    CHECK(s.last_seq() == 3);
    CHECK(s.count({}) == 3);
    CHECK(s.last_seq_at_or_before(INT64_MAX) == 3);
    CHECK(append_tick(s, kT0 + 5, "D") == 4);
    s.commit();
    const auto events = scan_all(s);
    REQUIRE(events.size() == 4);
    CHECK(events[3].symbol == "D");
    CHECK(events[3].ts_ns == kT0 + 5);
  }

  TEST_CASE_TEMPLATE("rolling back the first batch leaves an empty store that starts at seq 1", F,
                     BLOTTER_STORES) {
    F f;
    EventStore& s = *f.store;
    append_tick(s, kT0);
    append_tick(s, kT0);
    s.rollback();
    CHECK(s.last_seq() == 0);
    CHECK(scan_all(s).empty());
    CHECK(append_tick(s, kT0) == 1);
  }

  TEST_CASE_TEMPLATE(
      "last_seq_at_or_before finds the highest seq at or before a time, "
      "annotations left out",
      F, BLOTTER_STORES) {
    F f;
    EventStore& s = *f.store;
    // Times out of seq order, across committed batches and an open one.
    append_tick(s, kT0 + 10);  // 1
    append_tick(s, kT0 + 30);  // 2
    s.commit();
    append_tick(s, kT0 + 20);  // 3
    Event note = annotation_at(kT0 + 5, 1);
    s.append(note);  // 4: an ANNOTATION, left out
    s.commit();
    append_tick(s, kT0 + 15);  // 5, not committed
    Event late_note = annotation_at(kT0 + 40, 2);
    s.append(late_note);  // 6: an ANNOTATION, left out
    CHECK(s.last_seq_at_or_before(kT0) == 0);
    CHECK(s.last_seq_at_or_before(kT0 + 5) == 0);
    CHECK(s.last_seq_at_or_before(kT0 + 10) == 1);
    CHECK(s.last_seq_at_or_before(kT0 + 14) == 1);
    CHECK(s.last_seq_at_or_before(kT0 + 15) == 5);
    CHECK(s.last_seq_at_or_before(kT0 + 25) == 5);
    CHECK(s.last_seq_at_or_before(kT0 + 40) == 5);
    CHECK(s.last_seq_at_or_before(INT64_MAX) == 5);
    s.rollback();
    CHECK(s.last_seq_at_or_before(kT0 + 15) == 1);
    CHECK(s.last_seq_at_or_before(kT0 + 20) == 3);
    CHECK(s.last_seq_at_or_before(INT64_MAX) == 3);
  }

  TEST_CASE_TEMPLATE("scan visits in seq order exactly the events each range selects", F,
                     BLOTTER_STORES) {
    F f;
    EventStore& s = *f.store;
    fill_mixed(s);
    const auto all = [](Seq, TimestampNs, const char*, EventType) { return true; };
    CHECK(seqs_of(s, {}) == mixed_seqs(all));
    CHECK(seqs_of(s, ScanRange(INT64_MIN, INT64_MAX)) == mixed_seqs(all));

    SUBCASE("by seq") {
      CHECK(seqs_of(s, ScanRange(3, 7)) == std::vector<Seq>{3, 4, 5, 6, 7});
      CHECK(seqs_of(s, ScanRange(11, 40)) == std::vector<Seq>{11, 12});
      CHECK(seqs_of(s, ScanRange(5, 5)) == std::vector<Seq>{5});
      CHECK(seqs_of(s, ScanRange(7, 6)).empty());
      CHECK(seqs_of(s, ScanRange(13, 20)).empty());
    }
    SUBCASE("by time") {
      ScanRange r;
      r.from_ts = kT0 + kDay;
      r.to_ts = kT0 + 2 * kDay;
      CHECK(seqs_of(s, r) == mixed_seqs([&](Seq, TimestampNs ts, const char*, EventType) {
              return ts >= r.from_ts && ts <= r.to_ts;
            }));
      r.from_ts = kT0 + 3 * kDay + 1;
      r.to_ts = INT64_MAX;
      CHECK(seqs_of(s, r).empty());
    }
    SUBCASE("by type, in any order and with repeats") {
      ScanRange r;
      r.types = {EventType::kBar};
      const auto bars = mixed_seqs(
          [](Seq, TimestampNs, const char*, EventType t) { return t == EventType::kBar; });
      CHECK(seqs_of(s, r) == bars);
      r.types = {EventType::kTick, EventType::kBar, EventType::kTick};
      CHECK(seqs_of(s, r) == mixed_seqs(all));
      r.types = {EventType::kFill};
      CHECK(seqs_of(s, r).empty());
    }
    SUBCASE("by symbol") {
      ScanRange r;
      r.symbol = "MSFT";
      CHECK(seqs_of(s, r) == std::vector<Seq>{2, 4, 6, 8, 10, 12});
      r.symbol = "AAPL";
      CHECK(seqs_of(s, r).empty());
    }
    SUBCASE("every bound at once") {
      ScanRange r(2, 11);
      r.from_ts = kT0 + kDay;
      r.to_ts = kT0 + 3 * kDay;
      r.types = {EventType::kTick};
      r.symbol = "GOOG";
      const auto want = mixed_seqs([&](Seq seq, TimestampNs ts, const char* sym, EventType t) {
        return seq >= 2 && seq <= 11 && ts >= r.from_ts && ts <= r.to_ts && t == EventType::kTick &&
               std::string(sym) == "GOOG";
      });
      REQUIRE_FALSE(want.empty());
      CHECK(seqs_of(s, r) == want);
    }
  }

  TEST_CASE_TEMPLATE("scan and scan_rows stop when the visitor returns false", F, BLOTTER_STORES) {
    F f;
    EventStore& s = *f.store;
    fill_mixed(s);
    std::vector<Seq> visited;
    s.scan({}, [&](const Event& e) {
      visited.push_back(e.seq);
      return visited.size() < 3;
    });
    CHECK(visited == std::vector<Seq>{1, 2, 3});
    ScanRange msft;
    msft.symbol = "MSFT";
    visited.clear();
    s.scan_rows(msft, [&](const JournalRow& r) {
      visited.push_back(r.seq);
      return visited.size() < 2;
    });
    CHECK(visited == std::vector<Seq>{2, 4});
  }

  TEST_CASE_TEMPLATE("scan_rows gives each event's row as encoded, over the same ranges as scan", F,
                     BLOTTER_STORES) {
    F f;
    EventStore& s = *f.store;
    std::vector<Event> appended = every_payload_type();
    for (Event& e : appended) s.append(e);
    s.commit();
    const auto rows = rows_of(s);
    REQUIRE(rows.size() == appended.size());
    ChainHash previous = kGenesisHash;
    for (std::size_t i = 0; i < rows.size(); ++i) {
      const JournalRow want = row_of(appended[i]);
      INFO("seq ", want.seq);
      CHECK(rows[i].seq == want.seq);
      CHECK(rows[i].ts_ns == want.ts_ns);
      CHECK(rows[i].type == want.type);
      CHECK(rows[i].symbol == want.symbol);
      CHECK(rows[i].payload == want.payload);
      CHECK(rows[i].recorded_ns == want.recorded_ns);
      if constexpr (F::kChainsHashes) {
        // A journal chains every row to the one before it.
        const ChainHash hash = chain_hash(previous, rows[i]);
        REQUIRE(rows[i].hash.has_value());
        CHECK(*rows[i].hash == hash);
        previous = hash;
      } else {
        // A store without a hash chain gives its rows none.
        CHECK_FALSE(rows[i].hash.has_value());
      }
    }
    ScanRange r(3, 10);
    r.types = {EventType::kOrder, EventType::kBar, EventType::kFill};
    r.symbol = "GOOG";
    std::vector<Seq> row_seqs;
    for (const JournalRow& row : rows_of(s, r)) row_seqs.push_back(row.seq);
    CHECK(row_seqs == std::vector<Seq>{3, 5, 6});
    CHECK(row_seqs == seqs_of(s, r));
  }

  TEST_CASE_TEMPLATE("count is the number of events a scan of the range visits", F,
                     BLOTTER_STORES) {
    F f;
    EventStore& s = *f.store;
    fill_mixed(s);
    std::vector<ScanRange> ranges(6);
    ranges[1] = ScanRange(3, 9);
    ranges[2].types = {EventType::kBar};
    ranges[3].symbol = "GOOG";
    ranges[4].from_ts = kT0 + 2 * kDay;
    ranges[5] = ScanRange(20, 30);
    const std::vector<std::int64_t> want = {12, 7, 4, 6, 6, 0};
    for (std::size_t i = 0; i < ranges.size(); ++i) {
      INFO("range ", i);
      CHECK(s.count(ranges[i]) == want[i]);
      CHECK(s.count(ranges[i]) == static_cast<std::int64_t>(seqs_of(s, ranges[i]).size()));
    }
  }

  TEST_CASE_TEMPLATE(
      "snapshots: stored, replaced at the same seq, found at or before a seq, "
      "listed ascending, cleared",
      F, BLOTTER_STORES) {
    F f;
    EventStore& s = *f.store;
    for (int i = 0; i < 10; ++i) append_tick(s, kT0 + i);
    s.commit();
    s.put_snapshot(snapshot_at(8, "{\"at\":8}"));
    s.put_snapshot(snapshot_at(3, "{\"at\":3}"));
    s.put_snapshot(snapshot_at(5, "{\"at\":5}"));
    s.commit();
    CHECK(s.snapshot_seqs() == std::vector<Seq>{3, 5, 8});
    CHECK_FALSE(s.snapshot_at_or_before(2).has_value());
    const auto at4 = s.snapshot_at_or_before(4);
    REQUIRE(at4.has_value());
    CHECK(at4->seq == 3);
    CHECK(at4->run_seq == 1);
    CHECK(at4->ts_ns == kT0 + 3);
    CHECK(at4->format == 1);
    CHECK(at4->state == "{\"at\":3}");
    CHECK(s.snapshot_at_or_before(5)->seq == 5);
    CHECK(s.snapshot_at_or_before(INT64_MAX)->seq == 8);

    s.put_snapshot(Snapshot{5, 2, kT0 + 50, 7, "{\"at\":\"five\"}"});
    s.commit();
    CHECK(s.snapshot_seqs() == std::vector<Seq>{3, 5, 8});
    const auto replaced = s.snapshot_at_or_before(6);
    REQUIRE(replaced.has_value());
    CHECK(replaced->run_seq == 2);
    CHECK(replaced->ts_ns == kT0 + 50);
    CHECK(replaced->format == 7);
    CHECK(replaced->state == "{\"at\":\"five\"}");

    s.clear_snapshots();
    s.commit();
    CHECK(s.snapshot_seqs().empty());
    CHECK_FALSE(s.snapshot_at_or_before(INT64_MAX).has_value());
  }

  TEST_CASE_TEMPLATE("rollback discards the open batch's snapshot changes", F, BLOTTER_STORES) {
    F f;
    EventStore& s = *f.store;
    for (int i = 0; i < 6; ++i) append_tick(s, kT0 + i);
    s.put_snapshot(snapshot_at(2, "{\"v\":\"kept\"}"));
    s.commit();

    SUBCASE("a put at a new seq, with the events it follows") {
      append_tick(s, kT0 + 6);
      s.put_snapshot(snapshot_at(7));
      s.rollback();
      CHECK(s.snapshot_seqs() == std::vector<Seq>{2});
    }
    SUBCASE("a put at the seq of a committed event") {
      s.put_snapshot(snapshot_at(4));
      s.rollback();
      CHECK(s.snapshot_seqs() == std::vector<Seq>{2});
    }
    SUBCASE("a replacement") {
      s.put_snapshot(snapshot_at(2, "{\"v\":\"replaced\"}"));
      s.rollback();
      const auto kept = s.snapshot_at_or_before(2);
      REQUIRE(kept.has_value());
      CHECK(kept->state == "{\"v\":\"kept\"}");
    }
    SUBCASE("a clear") {
      s.clear_snapshots();
      s.rollback();
      CHECK(s.snapshot_seqs() == std::vector<Seq>{2});
    }
    // The store goes on as usual after the rollback.
    s.put_snapshot(snapshot_at(6));
    s.commit();
    CHECK(s.snapshot_seqs() == std::vector<Seq>{2, 6});
  }
}
