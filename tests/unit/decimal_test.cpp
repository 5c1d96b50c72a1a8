#include "blotter/decimal.h"

#include <doctest/doctest.h>

#include <cstdint>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "blotter/error.h"
#include "core/plain_decimal.h"

using blotter::Decimal;

namespace {

Decimal d(const char* text) { return Decimal::from_string(text); }

// The text parse() gives back after a round trip, or "<refused: why>".
std::string reformat(const char* text) {
  std::string why;
  const auto value = Decimal::parse(text, &why);
  return value ? value->to_string() : "<refused: " + why + ">";
}

const Decimal kMax = Decimal::from_raw(std::numeric_limits<std::int64_t>::max());
const Decimal kTiny = Decimal::from_raw(1);  // 0.00000001

}  // namespace

// The digits of a plain decimal read one character at a time: what
// read_plain_digits must agree with.
const char* read_digits_one_by_one(const char* p, const char* end, std::uint64_t& units) {
  std::uint64_t whole = 0, frac = 0;
  int whole_digits = 0, frac_digits = 0;
  for (; p != end && *p >= '0' && *p <= '9'; ++p, ++whole_digits)
    whole = whole * 10 + static_cast<std::uint64_t>(*p - '0');
  if (p != end && *p == '.')
    for (++p; p != end && *p >= '0' && *p <= '9'; ++p, ++frac_digits)
      frac = frac * 10 + static_cast<std::uint64_t>(*p - '0');
  if (whole_digits + frac_digits == 0 || whole_digits > 10 || frac_digits > 8) return nullptr;
  for (int k = frac_digits; k < 8; ++k) frac *= 10;
  units = whole * 100'000'000 + frac;
  return p;
}

TEST_SUITE("decimal") {
  TEST_CASE("plain digits read eight at a time agree with reading them one by one") {
    // Digits, points and the characters around a JSON decimal, at every
    // offset in a buffer and with every length up to 24: both readers must
    // stop at the same character with the same value, or both refuse.
    std::mt19937_64 random(20261203);
    const std::string alphabet = "0123456789.\"-}x";
    int refused = 0, read = 0;
    for (int i = 0; i < 200'000; ++i) {
      std::string text = "{\"k\":\"";
      const auto prefix = text.size();
      const auto length = random() % 25;
      for (std::uint64_t k = 0; k < length; ++k)
        text += random() % 4 != 0 ? alphabet[random() % 10] : alphabet[random() % alphabet.size()];
      const char* begin = text.data();
      const char* end = begin + text.size();
      std::uint64_t expected = 0, actual = 0;
      const char* want = read_digits_one_by_one(begin + prefix, end, expected);
      const char* got = blotter::detail::read_plain_digits(begin, begin + prefix, end, actual);
      REQUIRE_MESSAGE(got == want, text);
      if (want == nullptr) {
        ++refused;
        continue;
      }
      ++read;
      REQUIRE_MESSAGE(actual == expected, text);
    }
    // Both outcomes were exercised.
    CHECK(refused > 10'000);
    CHECK(read > 10'000);
  }

  TEST_CASE("decimal text round trips exactly") {
    CHECK(reformat("100.34") == "100.34");
    CHECK(reformat("-0.5") == "-0.5");
    CHECK(reformat("7") == "7");
    CHECK(reformat("0.00000001") == "0.00000001");
    CHECK(reformat("-0.00000001") == "-0.00000001");
    CHECK(reformat("12345678901.12345678") == "12345678901.12345678");
  }

  TEST_CASE("parse stores the exact number of 1e-8 units") {
    CHECK(d("100.34").raw() == 10'034'000'000);
    CHECK(d("-0.5").raw() == -50'000'000);
    CHECK(d("0.00000001").raw() == 1);
    CHECK(d("1e3").raw() == 1000 * Decimal::kScale);
    CHECK(d("1.5e-3").raw() == 150'000);
  }

  TEST_CASE("an exponent is applied exactly and formatted without one") {
    CHECK(reformat("1e3") == "1000");
    CHECK(reformat("1E3") == "1000");
    CHECK(reformat("1.5e-3") == "0.0015");
    CHECK(reformat("12.5e+1") == "125");
    CHECK(reformat("1.5e-7") == "0.00000015");
    CHECK(reformat("0.001e3") == "1");
  }

  TEST_CASE("a plus sign, leading zeros and trailing zeros are dropped in the text") {
    CHECK(reformat("+7") == "7");
    CHECK(reformat("100.340") == "100.34");
    CHECK(reformat("7.00000000") == "7");
    CHECK(reformat("000123.4500") == "123.45");
    CHECK(reformat("-0.50") == "-0.5");
  }

  TEST_CASE("zero has one text whatever its sign or form") {
    CHECK(reformat("0") == "0");
    CHECK(reformat("-0") == "0");
    CHECK(reformat("0.000") == "0");
    CHECK(reformat("0e5") == "0");
    CHECK(d("-0").raw() == 0);
    CHECK(Decimal().to_string() == "0");
  }

  TEST_CASE("zeros beyond the eighth place are accepted") {
    CHECK(reformat("1.000000000") == "1");
    CHECK(reformat("0.100000000000") == "0.1");
    CHECK(reformat("0.000000010") == "0.00000001");
  }

  TEST_CASE("a non-zero digit beyond the eighth place is refused") {
    for (const std::string text : {"0.000000001", "1.123456789", "1.5e-8", "1e-9", "1e-400"}) {
      CAPTURE(text);
      std::string why;
      CHECK_FALSE(Decimal::parse(text, &why));
      CHECK(why.find("8 decimal places") != std::string::npos);
    }
  }

  TEST_CASE("NaN and infinities are refused") {
    for (const std::string text :
         {"nan", "NaN", "-nan", "inf", "-inf", "+Inf", "Infinity", "-infinity"}) {
      CAPTURE(text);
      std::string why;
      CHECK_FALSE(Decimal::parse(text, &why));
      CHECK(why.find("finite") != std::string::npos);
    }
  }

  TEST_CASE("text that is not a decimal is refused with a reason") {
    for (const std::string text : {"", "abc", "1.2.3", "1e", "1e+", "1ex", "--1", "+-1", "1 ", " 1",
                                   "1,5", ".", "-", "+", "0x10", "1e3.5", "1..2"}) {
      CAPTURE(text);
      std::string why;
      CHECK_FALSE(Decimal::parse(text, &why));
      CHECK_FALSE(why.empty());
    }
  }

  TEST_CASE("a value outside the range is refused") {
    for (const std::string text :
         {"1e400", "-1e400", "92233720368.54775808", "-92233720368.54775808", "92233720369", "1e11",
          "99999999999999999999999"}) {
      CAPTURE(text);
      std::string why;
      CHECK_FALSE(Decimal::parse(text, &why));
      CHECK(why.find("range") != std::string::npos);
    }
  }

  TEST_CASE("the ends of the range parse and format exactly") {
    CHECK(d("92233720368.54775807") == kMax);
    CHECK(d("-92233720368.54775807") == -kMax);
    CHECK(kMax.to_string() == "92233720368.54775807");
    CHECK((-kMax).to_string() == "-92233720368.54775807");
    CHECK(d("9.223372036854775807e10") == kMax);
  }

  TEST_CASE("parse without a why pointer still refuses") {
    CHECK_FALSE(Decimal::parse("abc"));
    CHECK(Decimal::parse("1.5") == d("1.5"));
  }

  TEST_CASE("from_string throws blotter::Error naming the text") {
    try {
      Decimal::from_string("12x4");
      FAIL("from_string accepted 12x4");
    } catch (const blotter::Error& e) {
      CHECK(std::string(e.what()).find("12x4") != std::string::npos);
    }
  }

  TEST_CASE("from_int scales whole numbers and throws outside the range") {
    CHECK(Decimal::from_int(7) == d("7"));
    CHECK(Decimal::from_int(-3).raw() == -3 * Decimal::kScale);
    CHECK(Decimal::from_int(92'233'720'368).to_string() == "92233720368");
    CHECK(Decimal::from_int(-92'233'720'368).to_string() == "-92233720368");
    CHECK_THROWS_AS(Decimal::from_int(92'233'720'369), blotter::Error);
    CHECK_THROWS_AS(Decimal::from_int(-92'233'720'369), blotter::Error);
    CHECK_THROWS_AS(Decimal::from_int(std::numeric_limits<std::int64_t>::max()), blotter::Error);
    CHECK_THROWS_AS(Decimal::from_int(std::numeric_limits<std::int64_t>::min()), blotter::Error);
  }

  TEST_CASE("addition and subtraction are exact") {
    CHECK(d("0.1") + d("0.2") == d("0.3"));
    CHECK(d("100.34") - d("0.00000001") == d("100.33999999"));
    CHECK(d("-0.5") + d("0.5") == Decimal());
    Decimal sum;
    for (int i = 0; i < 10; ++i) sum += d("0.1");
    CHECK(sum == d("1"));
    sum -= d("0.00000001");
    CHECK(sum.to_string() == "0.99999999");
  }

  TEST_CASE("addition and subtraction that leave the range throw") {
    CHECK(kMax + Decimal() == kMax);
    CHECK_THROWS_AS(kMax + kTiny, blotter::Error);
    CHECK_THROWS_AS(-kMax - kTiny, blotter::Error);
    CHECK_THROWS_AS(kMax - (-kTiny), blotter::Error);
    CHECK_THROWS_AS((-kMax) + (-kTiny), blotter::Error);
    Decimal acc = kMax;
    CHECK_THROWS_AS(acc += kTiny, blotter::Error);
  }

  TEST_CASE("multiplication is exact when the product has at most eight places") {
    CHECK(d("100.34") * d("3") == d("301.02"));
    CHECK(d("0.0001") * d("0.0001") == d("0.00000001"));
    CHECK(d("-1.5") * d("2.5") == d("-3.75"));
    CHECK(d("-1.5") * d("-2") == d("3"));
    CHECK(d("1.25") * std::int64_t{4} == d("5"));
    CHECK(d("1.25") * std::int64_t{-3} == d("-3.75"));
  }

  TEST_CASE("multiplication rounds half to even at the eighth place") {
    const Decimal half = d("0.5");
    CHECK(kTiny * half == Decimal());                    // 0.000000005 -> 0 (even)
    CHECK(d("0.00000003") * half == d("0.00000002"));    // 0.000000015 -> ...02
    CHECK(d("0.00000005") * half == d("0.00000002"));    // 0.000000025 -> ...02
    CHECK(d("0.00000007") * half == d("0.00000004"));    // 0.000000035 -> ...04
    CHECK(kTiny * d("0.6") == kTiny);                    // above half rounds up
    CHECK(d("0.00000003") * d("0.4") == kTiny);          // 0.000000012 -> ...01
    CHECK(-d("0.00000003") * half == -d("0.00000002"));  // symmetric for negatives
    CHECK(-kTiny * half == Decimal());
    CHECK(-d("0.00000001") * d("0.6") == -kTiny);
  }

  TEST_CASE("multiplication that leaves the range throws") {
    CHECK_THROWS_AS(d("1e10") * d("10"), blotter::Error);
    CHECK_THROWS_AS(kMax * d("1.00000001"), blotter::Error);
    CHECK_THROWS_AS(kMax * std::int64_t{2}, blotter::Error);
    CHECK_THROWS_AS(kMax * std::int64_t{-2}, blotter::Error);
    CHECK(kMax * d("1") == kMax);
    CHECK(kMax * std::int64_t{-1} == -kMax);
  }

  TEST_CASE("division rounds half to even at the eighth place") {
    CHECK(d("1") / d("3") == d("0.33333333"));
    CHECK(d("2") / d("3") == d("0.66666667"));
    CHECK(d("-1") / d("3") == d("-0.33333333"));
    CHECK(d("-2") / d("3") == d("-0.66666667"));
    CHECK(d("2") / d("-3") == d("-0.66666667"));
    CHECK(kTiny / d("2") == Decimal());                  // 0.000000005 -> 0
    CHECK(d("0.00000003") / d("2") == d("0.00000002"));  // 0.000000015 -> ...02
    CHECK(d("0.00000005") / d("2") == d("0.00000002"));  // 0.000000025 -> ...02
    CHECK(d("0.00000007") / d("2") == d("0.00000004"));  // 0.000000035 -> ...04
    CHECK(d("0.00000003") / d("-2") == -d("0.00000002"));
    CHECK(d("10") / d("4") == d("2.5"));
  }

  TEST_CASE("division by zero and a quotient outside the range throw") {
    CHECK_THROWS_AS(d("1") / Decimal(), blotter::Error);
    CHECK_THROWS_AS(Decimal() / Decimal(), blotter::Error);
    CHECK_THROWS_AS(kMax / d("0.5"), blotter::Error);
    CHECK_THROWS_AS(d("1") / kTiny / kTiny, blotter::Error);
    CHECK(kMax / d("1") == kMax);
  }

  TEST_CASE("division by a whole number is division by the same Decimal") {
    const std::vector<std::int64_t> units = {
        0,          1,          -1, 2, -2, 3, 5, 7, 25, -25, 35, 149, 150, 151, -150, 1'999'999'999,
        kMax.raw(), -kMax.raw()};
    const std::vector<std::int64_t> divisors = {1, -1, 2, -2, 3, 4, 7, 10, 20, -20, 100, 1000, 92};
    for (std::int64_t u : units)
      for (std::int64_t n : divisors) {
        CAPTURE(u);
        CAPTURE(n);
        const Decimal x = Decimal::from_raw(u);
        CHECK(x / n == x / Decimal::from_int(n));
      }
    CHECK(d("0.00000005") / std::int64_t{2} == d("0.00000002"));  // half to even: down
    CHECK(d("0.00000007") / std::int64_t{2} == d("0.00000004"));  // half to even: up
    CHECK(d("-0.00000007") / std::int64_t{-2} == d("0.00000004"));
    CHECK(d("-0.00000007") / std::int64_t{2} == d("-0.00000004"));
    CHECK(d("2001.5") / std::int64_t{20} == d("100.075"));
    CHECK_THROWS_AS(d("1") / std::int64_t{0}, blotter::Error);
  }

  TEST_CASE("mul_div rounds once, not after the product") {
    const Decimal half = d("0.5");
    // a * b alone rounds 0.000000005 to 0; a * b / c in one step is exact.
    CHECK(kTiny * half / half == Decimal());
    CHECK(Decimal::mul_div(kTiny, half, half) == kTiny);
    CHECK(Decimal::mul_div(d("1"), d("1"), d("3")) == d("0.33333333"));
    CHECK(Decimal::mul_div(d("2"), d("1"), d("3")) == d("0.66666667"));
    CHECK(Decimal::mul_div(d("100.34"), d("3"), d("-2")) == d("-150.51"));
  }

  TEST_CASE("mul_div rounds half to even") {
    CHECK(Decimal::mul_div(kTiny, d("1"), d("2")) == Decimal());
    CHECK(Decimal::mul_div(d("0.00000003"), d("1"), d("2")) == d("0.00000002"));
    CHECK(Decimal::mul_div(d("0.00000005"), d("1"), d("2")) == d("0.00000002"));
    CHECK(Decimal::mul_div(-d("0.00000003"), d("1"), d("2")) == -d("0.00000002"));
  }

  TEST_CASE("mul_div accepts a product beyond the range when the result is in range") {
    const Decimal big = d("90000000000");
    CHECK_THROWS_AS(big * big, blotter::Error);
    CHECK(Decimal::mul_div(big, big, big) == big);
    CHECK(Decimal::mul_div(kMax, kMax, kMax) == kMax);
  }

  TEST_CASE("mul_div throws on a zero divisor and on a result outside the range") {
    CHECK_THROWS_AS(Decimal::mul_div(d("1"), d("1"), Decimal()), blotter::Error);
    CHECK_THROWS_AS(Decimal::mul_div(d("90000000000"), d("2"), d("1")), blotter::Error);
  }

  TEST_CASE("floor rounds toward negative infinity") {
    CHECK(d("2.5").floor() == d("2"));
    CHECK(d("2").floor() == d("2"));
    CHECK(d("0.99999999").floor() == Decimal());
    CHECK(d("-2.5").floor() == d("-3"));
    CHECK(d("-2").floor() == d("-2"));
    CHECK(d("-0.00000001").floor() == d("-1"));
    CHECK(Decimal().floor() == Decimal());
  }

  TEST_CASE("abs and negation flip only the sign") {
    CHECK(d("-3.25").abs() == d("3.25"));
    CHECK(d("3.25").abs() == d("3.25"));
    CHECK(-d("3.25") == d("-3.25"));
    CHECK(-(-d("3.25")) == d("3.25"));
    CHECK((-kMax).abs() == kMax);
  }

  TEST_CASE("sign predicates") {
    CHECK(d("0.00000001").is_positive());
    CHECK_FALSE(d("0.00000001").is_negative());
    CHECK(d("-0.00000001").is_negative());
    CHECK_FALSE(d("-0.00000001").is_positive());
    CHECK(Decimal().is_zero());
    CHECK_FALSE(Decimal().is_positive());
    CHECK_FALSE(Decimal().is_negative());
    CHECK_FALSE(kTiny.is_zero());
  }

  TEST_CASE("comparisons are exact to the last unit") {
    CHECK(d("100.34") > d("100.33999999"));
    CHECK(d("100.33999999") < d("100.34"));
    CHECK(d("1.5") == d("1.50"));
    CHECK(d("1e3") == Decimal::from_int(1000));
    CHECK(d("-1") < d("-0.99999999"));
    CHECK(d("-0.5") <= d("-0.5"));
    CHECK(d("-0.5") >= d("-0.5"));
    CHECK(d("0.1") != d("0.10000001"));
    // The style of comparison the signal generator relies on: 20 * close > sum.
    CHECK(d("5.00000001") * std::int64_t{20} > d("100"));
    CHECK_FALSE(d("5") * std::int64_t{20} > d("100"));
    // Each operator agrees with the three-way comparison, over every pair.
    const Decimal values[] = {-kMax, d("-1"), -kTiny, Decimal(), kTiny, d("0.5"), d("1"), kMax};
    for (const Decimal a : values)
      for (const Decimal b : values) {
        CAPTURE(a.raw());
        CAPTURE(b.raw());
        const auto order = a <=> b;
        CHECK((a < b) == (order < 0));
        CHECK((a > b) == (order > 0));
        CHECK((a <= b) == (order <= 0));
        CHECK((a >= b) == (order >= 0));
        CHECK((a == b) == (order == 0));
        CHECK((a < b) == (a.raw() < b.raw()));
      }
  }

  TEST_CASE("format_to writes to_string's text, up to kMaxTextSize chars, without a NUL") {
    for (const Decimal v : {Decimal(), kTiny, -kTiny, d("100.34"), d("-0.5"), d("7"), d("1e10"),
                            d("0.1"), d("123.45678901"), kMax, -kMax}) {
      char text[Decimal::kMaxTextSize + 1];
      text[Decimal::kMaxTextSize] = 'X';
      char* end = v.format_to(text);
      CHECK(std::string(text, end) == v.to_string());
      CHECK(end - text <= static_cast<std::ptrdiff_t>(Decimal::kMaxTextSize));
      CHECK(text[Decimal::kMaxTextSize] == 'X');
    }
    char text[Decimal::kMaxTextSize];
    CHECK(std::string(text, (-kMax).format_to(text)).size() == Decimal::kMaxTextSize);
  }

  TEST_CASE("plain decimals parse exactly on both sides of the common shape") {
    // Up to 10 whole and 8 fractional digits take a shorter path than the rest.
    CHECK(Decimal::parse("9999999999.99999999")->raw() == 999'999'999'999'999'999);
    CHECK(Decimal::parse("12345678901.5")->raw() == 1'234'567'890'150'000'000);
    CHECK(Decimal::parse("-0.00000001")->raw() == -1);
    CHECK(Decimal::parse("+.5")->raw() == 50'000'000);
    CHECK(Decimal::parse("5.")->raw() == 500'000'000);
    CHECK(Decimal::parse("0000000000012.5")->raw() == 1'250'000'000);
    CHECK(Decimal::parse("1.500000000")->raw() == 150'000'000);
    CHECK_FALSE(Decimal::parse("1.000000001"));
    CHECK_FALSE(Decimal::parse("-"));
    CHECK_FALSE(Decimal::parse("."));
    CHECK_FALSE(Decimal::parse("1.2.3"));
    CHECK_FALSE(Decimal::parse("1 "));
  }

  TEST_CASE("plain text parses to the same units by the short path as by the general one") {
    // The short path takes [-]digits[.digits] up to 10 whole and 8 fractional
    // digits; the rest goes the general way. Both sides of that border:
    CHECK(d("1.").raw() == 100'000'000);
    CHECK(d(".5").raw() == 50'000'000);
    CHECK(d("-.5").raw() == -50'000'000);
    CHECK(d("-0").raw() == 0);
    CHECK(d("00").raw() == 0);
    CHECK(d("1.12345678").raw() == 112'345'678);
    CHECK(d("1.123456780").raw() == 112'345'678);
    CHECK(d("9999999999.99999999").raw() == 999'999'999'999'999'999);
    CHECK(d("-9999999999.99999999").raw() == -999'999'999'999'999'999);
    CHECK(d("10000000000").raw() == 1'000'000'000'000'000'000);
    CHECK(d("0000000012.5").raw() == 1'250'000'000);
    CHECK(d("+12.5").raw() == 1'250'000'000);
    for (const char* refused : {"", "-", ".", "-.", "1.2.3", "1-", "--1", "1.123456789", "1 "}) {
      CAPTURE(refused);
      CHECK_FALSE(Decimal::parse(refused).has_value());
    }
  }

  TEST_CASE("to_string writes the shortest exact text for any number of units") {
    // The text by a different route: whole part, then the eight places with
    // their trailing zeros removed.
    const auto reference = [](std::int64_t raw) {
      const bool negative = raw < 0;
      const auto magnitude =
          negative ? static_cast<std::uint64_t>(-(raw + 1)) + 1 : static_cast<std::uint64_t>(raw);
      std::string text = (negative ? "-" : "") + std::to_string(magnitude / 100'000'000);
      std::string places = std::to_string(magnitude % 100'000'000 + 100'000'000).substr(1);
      while (!places.empty() && places.back() == '0') places.pop_back();
      return places.empty() ? text : text + "." + places;
    };
    std::vector<std::int64_t> raws = {
        0, 1, -1, 10, 100'000'000, -100'000'000, 150'000'000, 1'010'000'000, INT64_MAX, -INT64_MAX};
    std::uint64_t x = 88172645463325252u;  // xorshift64: many values of every length
    for (int i = 0; i < 10'000; ++i) {
      x ^= x << 13;
      x ^= x >> 7;
      x ^= x << 17;
      const int shift = static_cast<int>(x % 63) + 1;  // 1..63: a non-negative int64_t
      raws.push_back(static_cast<std::int64_t>(x >> shift) * (i % 2 ? 1 : -1));
    }
    for (const std::int64_t raw : raws) {
      CAPTURE(raw);
      const std::string text = Decimal::from_raw(raw).to_string();
      CHECK(text == reference(raw));
      CHECK(d(text.c_str()).raw() == raw);
    }
  }
}
