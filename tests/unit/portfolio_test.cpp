#include "blotter/portfolio.h"

#include <doctest/doctest.h>

#include <array>
#include <string>
#include <string_view>

#include "blotter/error.h"
#include "blotter/store.h"
#include "test_support.h"

namespace {

using namespace blotter;
using blotter::testing::D;
using blotter::testing::T;

Fill buy(const char* quantity, const char* price, const char* commission = "0") {
  return Fill{Side::kBuy, D(quantity), D(price), D(commission), 1};
}
Fill sell(const char* quantity, const char* price, const char* commission = "0") {
  return Fill{Side::kSell, D(quantity), D(price), D(commission), 1};
}

constexpr TimestampNs kNoon = 1'709'294'400'000'000'000;  // 2024-03-01T12:00:00Z

}  // namespace

TEST_SUITE("portfolio") {
  TEST_CASE("buys average their cost") {
    Portfolio book;
    book.on_fill(kNoon, "GOOG", buy("10", "100"));
    book.on_fill(kNoon, "GOOG", buy("30", "104"));
    const Position* p = book.position("GOOG");
    REQUIRE(p != nullptr);
    CHECK(p->quantity == D("40"));
    CHECK(p->cost == D("4120"));
    CHECK(p->avg_price() == D("103"));
    CHECK(p->realized_pnl == D("0"));
    CHECK(book.realized_pnl() == D("0"));
  }

  TEST_CASE("a partial sell realizes against the average cost") {
    Portfolio book;
    book.on_fill(kNoon, "GOOG", buy("10", "100"));
    book.on_fill(kNoon, "GOOG", buy("30", "104"));
    book.on_fill(kNoon, "GOOG", sell("10", "110"));  // (110 - 103) * 10
    const Position* p = book.position("GOOG");
    CHECK(p->quantity == D("30"));
    CHECK(p->cost == D("3090"));
    CHECK(p->avg_price() == D("103"));
    CHECK(p->realized_pnl == D("70"));
    CHECK(book.realized_pnl() == D("70"));
  }

  TEST_CASE("closing the whole position removes the whole cost basis") {
    Portfolio book;
    // Cost 4 over 3 units: the average 1.33333333 is not exact.
    book.on_fill(kNoon, "A", buy("1", "1"));
    book.on_fill(kNoon, "A", buy("1", "1"));
    book.on_fill(kNoon, "A", buy("1", "2"));
    CHECK(book.position("A")->avg_price() == D("1.33333333"));
    book.on_fill(kNoon, "A", sell("1", "2"));
    CHECK(book.position("A")->cost == D("2.66666667"));
    book.on_fill(kNoon, "A", sell("2", "2"));
    const Position* p = book.position("A");
    CHECK(p->quantity == D("0"));
    CHECK(p->cost == D("0"));
    CHECK(p->avg_price() == D("0"));
    CHECK(p->unrealized_pnl() == D("0"));
    // Proceeds 6 less cost 4, exactly.
    CHECK(book.realized_pnl() == D("2"));
    CHECK(book.unrealized_pnl() == D("0"));
  }

  TEST_CASE("a sell larger than the long position flips it short") {
    Portfolio book;
    book.on_fill(kNoon, "GOOG", buy("10", "100"));
    book.on_fill(kNoon, "GOOG", sell("15", "110"));
    const Position* p = book.position("GOOG");
    CHECK(p->quantity == D("-5"));
    CHECK(p->cost == D("-550"));
    CHECK(p->avg_price() == D("110"));
    CHECK(p->realized_pnl == D("100"));
    // Covering the short below its price is a gain.
    book.on_fill(kNoon, "GOOG", buy("5", "100"));
    CHECK(p->quantity == D("0"));
    CHECK(p->cost == D("0"));
    CHECK(p->realized_pnl == D("150"));
    // And the other way round: short to long.
    book.on_fill(kNoon, "GOOG", sell("2", "100"));
    book.on_fill(kNoon, "GOOG", buy("3", "90"));
    CHECK(p->quantity == D("1"));
    CHECK(p->cost == D("90"));
    CHECK(p->realized_pnl == D("170"));
  }

  TEST_CASE("commissions reduce realized PnL when paid") {
    Portfolio book;
    book.on_fill(kNoon, "GOOG", buy("10", "100", "1.25"));
    CHECK(book.realized_pnl() == D("-1.25"));
    CHECK(book.position("GOOG")->cost == D("1000"));  // not in the cost basis
    book.on_fill(kNoon, "GOOG", sell("10", "101", "1.25"));
    CHECK(book.realized_pnl() == D("7.5"));
    CHECK(book.position("GOOG")->realized_pnl == D("7.5"));
  }

  TEST_CASE("open positions are marked to the latest bar close or tick price") {
    Portfolio book;
    book.on_fill(kNoon, "GOOG", buy("10", "100"));
    CHECK(book.unrealized_pnl() == D("0"));

    book.on_event(make_event(kNoon + 1, "GOOG", Bar{D("90"), D("120"), D("80"), D("105"), D("1")}));
    CHECK(book.position("GOOG")->last_price == D("105"));
    CHECK(book.position("GOOG")->unrealized_pnl() == D("50"));
    CHECK(book.unrealized_pnl() == D("50"));

    book.on_event(make_event(kNoon + 2, "GOOG", Tick{D("98"), D("1")}));
    CHECK(book.unrealized_pnl() == D("-20"));

    // Another symbol's mark does not change this position.
    book.on_event(make_event(kNoon + 3, "MSFT", Bar{D("1"), D("1"), D("1"), D("400"), D("1")}));
    CHECK(book.unrealized_pnl() == D("-20"));
    CHECK(book.position("MSFT")->quantity == D("0"));
    CHECK(book.position("MSFT")->unrealized_pnl() == D("0"));
  }

  TEST_CASE("marks keep the unrealized total equal to the positions' own, whole or fractional") {
    // A whole quantity is marked by integer multiplication, any other with
    // rounding: after every mark the total must be the sum of each
    // position's last_price * quantity - cost, rounded as that computes it.
    Portfolio book;
    book.on_fill(kNoon, "W", buy("7", "10.12345678"));           // whole, long
    book.on_fill(kNoon, "S", sell("3", "20.5"));                 // whole, short
    book.on_fill(kNoon, "F", buy("0.33333333", "30.00000001"));  // fractional, long
    book.on_fill(kNoon, "G", sell("2.5", "40.87654321"));        // fractional, short
    std::uint64_t x = 88172645463325252u;
    for (int i = 0; i < 2000; ++i) {
      x ^= x << 13;
      x ^= x >> 7;
      x ^= x << 17;
      const char* symbol = std::array{"W", "S", "F", "G", "FLAT"}[x % 5];
      const Decimal price =
          Decimal::from_raw(static_cast<std::int64_t>(x >> 20) % 10'000'000'000 + 1);
      const bool open =
          book.on_market(make_event(kNoon + 1 + i, symbol, Tick{price, D("1")}), price);
      CHECK(open == (std::string_view(symbol) != "FLAT"));
      Decimal total;
      for (const auto& [name, p] : book.positions()) total += p.unrealized_pnl();
      REQUIRE(book.unrealized_pnl() == total);
    }
    CHECK(book.day_pnl() == book.realized_pnl() + book.unrealized_pnl());
  }

  TEST_CASE("a mark whose value leaves the range throws and changes nothing") {
    Portfolio book;
    book.on_fill(kNoon, "BIG", buy("1000000000", "50"));  // worth 5e10 of a 9.2e10 range
    book.on_fill(kNoon, "FRAC", buy("0.5", "10"));
    book.on_mark(kNoon + 1, "BIG", D("60"));
    const Decimal before = book.unrealized_pnl();
    CHECK(before == D("10000000000"));
    CHECK_THROWS_AS(book.on_mark(kNoon + 2, "BIG", D("100")), Error);  // 1e11
    CHECK(book.unrealized_pnl() == before);
    CHECK(book.position("BIG")->last_price == D("60"));
    CHECK(book.day_pnl() == before);
    book.on_mark(kNoon + 3, "FRAC", D("12.00000001"));  // 0.5 * 12.00000001 rounds to even
    CHECK(book.position("FRAC")->unrealized_pnl() == D("1"));
    CHECK(book.unrealized_pnl() == before + D("1"));
  }

  TEST_CASE("regression: a fill that overflows the books leaves them as they were") {
    // A commission of 1e10 per unit: the fourth fill's realized PnL no longer
    // fits the total. It used to leave the position flat with its cost, the
    // unrealized PnL and the day's figures out of step with the totals.
    Portfolio book;
    book.on_fill(kNoon, "GOOG", buy("1", "100", "30000000000"));
    book.on_fill(kNoon + 1, "GOOG", sell("1", "101", "30000000000"));
    book.on_fill(kNoon + 2, "GOOG", buy("1", "102", "30000000000"));
    book.on_mark(kNoon + 3, "GOOG", D("103"));
    const Position before = *book.position("GOOG");
    const Decimal realized = book.realized_pnl(), unrealized = book.unrealized_pnl();
    const DayPnl day = book.days().back();
    CHECK(before.quantity == D("1"));
    CHECK_THROWS_AS(book.on_fill(kNoon + 4, "GOOG", sell("1", "104", "30000000000")), Error);
    const Position& after = *book.position("GOOG");
    CHECK(after.quantity == before.quantity);
    CHECK(after.cost == before.cost);
    CHECK(after.realized_pnl == before.realized_pnl);
    CHECK(after.last_price == before.last_price);
    CHECK(book.realized_pnl() == realized);
    CHECK(book.unrealized_pnl() == unrealized);
    CHECK(book.unrealized_pnl() == after.unrealized_pnl());
    CHECK(book.days().back().realized_pnl == day.realized_pnl);
    CHECK(book.days().back().fills == day.fills);
    CHECK(book.day_pnl() == day.pnl());
    // A buy whose cost cannot be held changes nothing either.
    CHECK_THROWS_AS(book.on_fill(kNoon + 5, "GOOG", buy("1000000000", "100")), Error);
    CHECK(book.position("GOOG")->quantity == D("1"));
    CHECK(book.unrealized_pnl() == unrealized);
  }

  TEST_CASE("from flat to flat, realized PnL equals the fills' amounts exactly, fractional too") {
    // Each fill moves price * quantity rounded half to even at 8 places; the
    // cost basis is carried as a total, so no rounding of an average cost
    // creeps in over many fills, partial closes and a flip.
    Portfolio book;
    Decimal cash;  // sells minus buys, each price * quantity rounded, minus commissions
    std::uint64_t state = 12345;
    const auto next = [&state](std::uint64_t n) {
      state = state * 6364136223846793005ull + 1442695040888963407ull;
      return static_cast<std::int64_t>((state >> 33) % n);
    };
    Decimal position;
    TimestampNs t = kNoon;
    for (int i = 0; i < 14'000; ++i) {
      const Decimal price = Decimal::from_raw(100 * Decimal::kScale + next(5'000'000'000));
      Decimal quantity = Decimal::from_raw(1 + next(300'000'000));  // 0.00000001 .. 3
      const Decimal commission = Decimal::from_raw(next(1000));
      bool selling = next(3) == 0 && position.is_positive();
      if (i % 50 == 49) {  // close to flat, now and then
        selling = position.is_positive();
        quantity = position.abs();
        if (quantity.is_zero()) continue;
      }
      const Fill fill{selling ? Side::kSell : Side::kBuy, quantity, price, commission, 1};
      book.on_fill(++t, "X", fill);
      const Decimal amount = price * quantity;
      cash += (selling ? amount : -amount) - commission;
      position += selling ? -quantity : quantity;
      REQUIRE(book.position("X")->quantity == position);
      if (position.is_zero()) {
        REQUIRE(book.realized_pnl() == cash);
        REQUIRE(book.position("X")->cost.is_zero());
      }
    }
    if (position.is_positive()) {
      book.on_fill(++t, "X", Fill{Side::kSell, position, D("100"), Decimal(), 1});
      cash += D("100") * position;
    }
    REQUIRE(book.realized_pnl() == cash);
    // A flip: one fill that closes the long and opens a short splits its amount.
    book.on_fill(++t, "X", buy("0.33333333", "10.00000001"));
    cash -= D("0.33333333") * D("10.00000001");
    book.on_fill(++t, "X", sell("0.66666667", "9.99999999"));
    cash += D("0.66666667") * D("9.99999999");
    book.on_fill(++t, "X", buy("0.33333334", "10.00000003"));
    cash -= D("0.33333334") * D("10.00000003");
    REQUIRE(book.position("X")->quantity.is_zero());
    CHECK(book.realized_pnl() == cash);
  }

  TEST_CASE("before any market price a position is valued at its fill, which is not a mark") {
    Portfolio book;
    book.on_fill(kNoon, "GOOG", buy("10", "100"));
    const Position* p = book.position("GOOG");
    REQUIRE(p != nullptr);
    CHECK_FALSE(p->marked);
    CHECK(p->last_price == D("100"));
    CHECK(book.unrealized_pnl() == D("0"));
    book.on_fill(kNoon + 1, "GOOG", buy("10", "110"));
    CHECK_FALSE(p->marked);
    CHECK(p->last_price == D("110"));
    CHECK(book.unrealized_pnl() == D("100"));
    book.on_mark(kNoon + 2, "GOOG", D("104"));
    CHECK(p->marked);
    CHECK(book.unrealized_pnl() == D("-20"));
  }

  TEST_CASE("a fill after a mark keeps the market price") {
    Portfolio book;
    book.on_mark(kNoon, "GOOG", D("102"));
    book.on_fill(kNoon + 1, "GOOG", buy("10", "100"));
    CHECK(book.position("GOOG")->last_price == D("102"));
    CHECK(book.unrealized_pnl() == D("20"));
  }

  TEST_CASE("each day records its realized PnL and its change in unrealized PnL") {
    Portfolio book;
    // Day 1: buy 10 at 100, close at 102.
    book.on_fill(T("2024-03-01T14:30:00Z"), "GOOG", buy("10", "100", "1"));
    book.on_mark(T("2024-03-01T21:00:00Z"), "GOOG", D("102"));
    // Day 2: marked at 105, sell 5 at 105, close at 101.
    book.on_mark(T("2024-03-02T14:30:00Z"), "GOOG", D("105"));
    book.on_fill(T("2024-03-02T15:00:00Z"), "GOOG", sell("5", "105", "1"));
    book.on_mark(T("2024-03-02T21:00:00Z"), "GOOG", D("101"));

    const auto& days = book.days();
    REQUIRE(days.size() == 2);
    CHECK(days[0].day == 19783);  // 2024-03-01
    CHECK(days[0].realized_pnl == D("-1"));
    CHECK(days[0].unrealized_pnl == D("20"));
    CHECK(days[0].unrealized_at_close == D("20"));
    CHECK(days[0].fills == 1);
    CHECK(days[0].pnl() == D("19"));

    CHECK(days[1].day == 19784);
    CHECK(days[1].realized_pnl == D("24"));        // 5 * (105 - 100) - 1
    CHECK(days[1].unrealized_at_close == D("5"));  // 5 * (101 - 100)
    CHECK(days[1].unrealized_pnl == D("-15"));
    CHECK(days[1].fills == 1);
    CHECK(days[1].pnl() == D("9"));
    CHECK(book.day_pnl() == D("9"));

    // The days add up to the change in equity since the start.
    Decimal total;
    for (const DayPnl& d : days) total += d.pnl();
    CHECK(total == book.realized_pnl() + book.unrealized_pnl());
    CHECK(total == D("28"));
  }

  TEST_CASE("the first event opens its day, even at time 0, and events at the same time share it") {
    Portfolio book;
    book.on_mark(0, "A", D("10"));
    REQUIRE(book.days().size() == 1);
    CHECK(book.days()[0].day == 0);
    book.on_fill(0, "A", buy("2", "10"));
    book.on_mark(0, "A", D("11"));
    REQUIRE(book.days().size() == 1);
    CHECK(book.days()[0].fills == 1);
    CHECK(book.day_pnl() == D("2"));
    book.on_mark(86'400'000'000'000, "A", D("12"));
    REQUIRE(book.days().size() == 2);
    CHECK(book.days()[1].pnl() == D("2"));
    // Back to an earlier time (another symbol's older bar): still the later day.
    book.on_mark(1, "B", D("5"));
    CHECK(book.days().size() == 2);
    CHECK(book.last_ts() == 86'400'000'000'000);
  }

  TEST_CASE("a new day starts at UTC midnight") {
    Portfolio book;
    CHECK(book.day_pnl() == D("0"));
    book.advance_to(T("2024-03-01T00:00:00Z"));
    book.advance_to(T("2024-03-01T23:59:59.999999999Z"));
    REQUIRE(book.days().size() == 1);
    CHECK(Calendar::day_name(book.days()[0].day) == "2024-03-01");
    book.advance_to(T("2024-03-02T00:00:00Z"));
    REQUIRE(book.days().size() == 2);
    CHECK(Calendar::day_name(book.days()[1].day) == "2024-03-02");
    CHECK(book.last_ts() == T("2024-03-02T00:00:00Z"));
    // A day with no events is not recorded.
    book.advance_to(T("2024-03-04T09:00:00Z"));
    REQUIRE(book.days().size() == 3);
    CHECK(Calendar::day_name(book.days()[2].day) == "2024-03-04");
  }

  TEST_CASE("days before 1970 are counted too") {
    Portfolio book;
    book.advance_to(T("1969-12-31T23:59:59Z"));
    book.advance_to(T("1970-01-01T00:00:00Z"));
    REQUIRE(book.days().size() == 2);
    CHECK(book.days()[0].day == -1);
    CHECK(book.days()[1].day == 0);
  }

  TEST_CASE("with a New York calendar a day starts at New York midnight") {
    Portfolio book{Calendar("America/New_York")};
    book.advance_to(T("2024-03-05T01:00:00Z"));  // 2024-03-04 20:00 EST
    book.advance_to(T("2024-03-05T04:59:59Z"));
    REQUIRE(book.days().size() == 1);
    CHECK(Calendar::day_name(book.days()[0].day) == "2024-03-04");
    book.advance_to(T("2024-03-05T05:00:00Z"));
    REQUIRE(book.days().size() == 2);
    CHECK(Calendar::day_name(book.days()[1].day) == "2024-03-05");
  }

  TEST_CASE("attach books FILLs and marks BARs and TICKs from the bus") {
    MemoryStore store;
    EventBus bus(store);
    Portfolio book;
    book.attach(bus);
    bus.publish(make_event(kNoon, "GOOG", Fill{Side::kBuy, D("2"), D("100"), D("0"), 0}));
    bus.publish(make_event(kNoon + 1, "GOOG", Bar{D("1"), D("1"), D("1"), D("103"), D("1")}));
    CHECK(book.unrealized_pnl() == D("6"));
    bus.publish(make_event(kNoon + 2, "GOOG", Tick{D("104"), D("1")}));
    CHECK(book.unrealized_pnl() == D("8"));
    // A SIGNAL is not subscribed: it changes nothing.
    bus.publish(make_event(kNoon + 3, "GOOG", Signal{Direction::kExit, D("1"), "x"}));
    CHECK(book.unrealized_pnl() == D("8"));
    CHECK(book.last_ts() == kNoon + 2);
    CHECK(book.position("GOOG")->quantity == D("2"));
    CHECK(book.position("MSFT") == nullptr);
  }

  TEST_CASE("other events passed to on_event only advance the day") {
    Portfolio book;
    book.on_fill(T("2024-03-01T15:00:00Z"), "GOOG", buy("1", "100"));
    book.on_event(
        make_event(T("2024-03-02T15:00:00Z"), "GOOG", Order{Side::kSell, D("1"), D("1"), 0}));
    REQUIRE(book.days().size() == 2);
    CHECK(book.days()[1].fills == 0);
    CHECK(book.position("GOOG")->quantity == D("1"));
    CHECK(book.realized_pnl() == D("0"));
  }

  TEST_CASE("positions of many symbols are found by name, also in a copy and after restore") {
    Portfolio book;
    for (int s = 0; s < 50; ++s)
      book.on_fill(kNoon + s, "S" + std::to_string(s), buy(std::to_string(s + 1).c_str(), "10"));
    Portfolio copy = book;
    copy.on_fill(kNoon + 60, "S7", buy("100", "10"));
    Portfolio restored;
    restored.restore(book.state());
    for (int s = 0; s < 50; ++s) {
      const std::string symbol = "S" + std::to_string(s);
      REQUIRE(book.position(symbol) != nullptr);
      CHECK(book.position(symbol)->quantity == Decimal::from_int(s + 1));
      CHECK(restored.position(symbol)->quantity == Decimal::from_int(s + 1));
      CHECK(copy.position(symbol) != book.position(symbol));
    }
    // The copy's fill went to the copy only.
    CHECK(copy.position("S7")->quantity == D("108"));
    CHECK(book.position("S7")->quantity == D("8"));
    CHECK(book.position("S50") == nullptr);
    CHECK(restored.position("S50") == nullptr);
  }
}
