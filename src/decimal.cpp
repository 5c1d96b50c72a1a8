#include "blotter/decimal.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <cstdlib>
#include <iterator>
#include <limits>

#include "blotter/error.h"

namespace blotter {
namespace {

__extension__ typedef __int128 i128;
constexpr std::int64_t kMax = std::numeric_limits<std::int64_t>::max();
// The range is kept symmetric so that negation never overflows.
constexpr std::int64_t kMin = -kMax;

[[noreturn, gnu::noinline, gnu::cold]] void overflow(const char* op) {
  throw Error(fmt::format("decimal overflow in {}: result outside ±92233720368.54775807", op));
}

inline std::int64_t checked(i128 v, const char* op) {
  if (v > kMax || v < kMin) overflow(op);
  return static_cast<std::int64_t>(v);
}

// The same for a result computed in 64 bits: `wrapped` says it overflowed.
inline std::int64_t checked(bool wrapped, std::int64_t v, const char* op) {
  if (wrapped || v < kMin) overflow(op);
  return v;
}

// num / den rounded half to even; den > 0. The 64-bit form is the fast path
// (division by a constant compiles to a multiplication).
template <class Int>
Int div_round_half_even(Int num, Int den) {
  i128 q = num / den;
  i128 r = num % den;
  if (r < 0) r = -r;
  const i128 twice = 2 * r;
  if (twice > den || (twice == den && (q % 2 != 0))) q += (num < 0) ? -1 : 1;
  return q;
}

bool fail(std::string* why, const char* message) {
  if (why) *why = message;
  return false;
}

// Every form parse() accepts: kept out of its short path, whose frame it
// would otherwise share.
[[gnu::noinline]] std::optional<Decimal> parse_any(std::string_view text, std::string* why) {
  constexpr int kPlaces = Decimal::kPlaces;
  std::size_t i = 0;
  const std::size_t n = text.size();
  if (n == 0) return fail(why, "empty"), std::nullopt;
  bool negative = false;
  if (text[i] == '+' || text[i] == '-') negative = text[i++] == '-';
  std::string digits;  // significant digits, leading zeros dropped
  int frac_digits = 0;
  bool seen_digit = false, seen_point = false;
  for (; i < n; ++i) {
    const char c = text[i];
    if (c >= '0' && c <= '9') {
      seen_digit = true;
      if (seen_point) ++frac_digits;
      if (!(digits.empty() && c == '0')) digits.push_back(c);
      // Enough digits to overflow whatever the exponent: stop growing.
      if (digits.size() > 400) return fail(why, "too many digits"), std::nullopt;
    } else if (c == '.' && !seen_point) {
      seen_point = true;
    } else {
      break;
    }
  }
  if (!seen_digit) {
    const std::string_view rest = text.substr(negative || text[0] == '+' ? 1 : 0);
    auto lower_eq = [&](std::string_view word) {
      if (rest.size() != word.size()) return false;
      for (std::size_t k = 0; k < word.size(); ++k)
        if ((rest[k] | 0x20) != word[k]) return false;
      return true;
    };
    if (lower_eq("nan") || lower_eq("inf") || lower_eq("infinity"))
      return fail(why, "not a finite number"), std::nullopt;
    return fail(why, "not a number"), std::nullopt;
  }
  long exponent = 0;
  if (i < n && (text[i] == 'e' || text[i] == 'E')) {
    ++i;
    bool exp_negative = false;
    if (i < n && (text[i] == '+' || text[i] == '-')) exp_negative = text[i++] == '-';
    if (i >= n) return fail(why, "not a number"), std::nullopt;
    for (; i < n && text[i] >= '0' && text[i] <= '9'; ++i) {
      if (exponent < 100000) exponent = exponent * 10 + (text[i] - '0');
    }
    if (exp_negative) exponent = -exponent;
  }
  if (i != n) return fail(why, "not a number"), std::nullopt;
  if (digits.empty()) return Decimal::from_raw(0);

  long shift = exponent - frac_digits + kPlaces;
  if (shift < 0) {
    // Digits below the eighth place are allowed only if they are zeros.
    const auto drop = static_cast<std::size_t>(-shift);
    if (drop >= digits.size()) return fail(why, "more than 8 decimal places"), std::nullopt;
    for (std::size_t k = digits.size() - drop; k < digits.size(); ++k)
      if (digits[k] != '0') return fail(why, "more than 8 decimal places"), std::nullopt;
    digits.resize(digits.size() - drop);
    shift = 0;
  }
  if (static_cast<long>(digits.size()) + shift > 19)
    return fail(why, "out of range (at most ±92233720368.54775807)"), std::nullopt;
  i128 units = 0;
  for (char c : digits) units = units * 10 + (c - '0');
  for (long k = 0; k < shift; ++k) units *= 10;
  if (units > kMax) return fail(why, "out of range (at most ±92233720368.54775807)"), std::nullopt;
  return Decimal::from_raw(static_cast<std::int64_t>(negative ? -units : units));
}

}  // namespace

Decimal Decimal::from_int(std::int64_t value) {
  return Decimal(checked(static_cast<i128>(value) * kScale, "from_int"));
}

std::optional<Decimal> Decimal::parse(std::string_view text, std::string* why) {
  // The common shape first, as to_string writes it: [-]digits[.digits], at
  // most 10 whole and 8 fractional digits, so the units fit without a check.
  const char* p = text.data();
  const char* const end = p + text.size();
  const bool negative = p != end && *p == '-';
  if (negative) ++p;
  const char* const whole_start = p;
  std::int64_t units = 0;
  while (p != end && *p >= '0' && *p <= '9' && p - whole_start < 10)
    units = units * 10 + (*p++ - '0');
  const bool has_whole = p != whole_start;
  int places = 0;
  if (p != end && *p == '.') {
    ++p;
    while (p != end && *p >= '0' && *p <= '9' && places < kPlaces) {
      units = units * 10 + (*p++ - '0');
      ++places;
    }
  }
  if (p != end || (!has_whole && places == 0)) return parse_any(text, why);
  static constexpr std::int64_t kPow10[] = {100'000'000, 10'000'000, 1'000'000, 100'000, 10'000,
                                            1'000,       100,        10,        1};
  units *= kPow10[places];
  return Decimal(negative ? -units : units);
}

Decimal Decimal::from_string(std::string_view text) {
  std::string why;
  if (auto d = parse(text, &why)) return *d;
  throw Error(fmt::format("'{}' is not a valid decimal: {}", text, why));
}

std::string Decimal::to_string() const {
  const bool negative = units_ < 0;
  const std::uint64_t magnitude =
      negative ? static_cast<std::uint64_t>(-(units_ + 1)) + 1 : static_cast<std::uint64_t>(units_);
  const std::uint64_t frac = magnitude % kScale;
  // Into a buffer that fits the longest text, "-92233720368.54775807", with
  // std::to_chars: journaling and replay format every decimal.
  char buffer[32];
  char* p = buffer;
  if (negative) *p++ = '-';
  p = std::to_chars(p, std::end(buffer), magnitude / kScale).ptr;
  if (frac != 0) {
    // frac + kScale: a '1' and the eight places with their leading zeros.
    char places[kPlaces + 1];
    std::to_chars(std::begin(places), std::end(places), frac + kScale);
    int n = kPlaces;
    while (places[n] == '0') --n;
    *p++ = '.';
    p = std::copy(places + 1, places + 1 + n, p);
  }
  return std::string(buffer, p);
}

Decimal Decimal::operator-() const { return Decimal(-units_); }

Decimal Decimal::operator+(Decimal o) const {
  std::int64_t sum = 0;
  const bool wrapped = __builtin_add_overflow(units_, o.units_, &sum);
  return Decimal(checked(wrapped, sum, "addition"));
}

Decimal Decimal::operator-(Decimal o) const {
  std::int64_t difference = 0;
  const bool wrapped = __builtin_sub_overflow(units_, o.units_, &difference);
  return Decimal(checked(wrapped, difference, "subtraction"));
}

Decimal Decimal::operator*(Decimal o) const {
  std::int64_t product = 0;
  // Most products (a price times a quantity) fit in 64 bits before scaling.
  if (!__builtin_mul_overflow(units_, o.units_, &product))
    return Decimal(div_round_half_even<std::int64_t>(product, kScale));
  const i128 wide = static_cast<i128>(units_) * o.units_;
  return Decimal(checked(div_round_half_even<i128>(wide, kScale), "multiplication"));
}

Decimal Decimal::operator/(Decimal o) const {
  if (o.units_ == 0) throw Error("decimal division by zero");
  i128 num = static_cast<i128>(units_) * kScale;
  i128 den = o.units_;
  if (den < 0) {
    num = -num;
    den = -den;
  }
  return Decimal(checked(div_round_half_even(num, den), "division"));
}

Decimal Decimal::operator*(std::int64_t n) const {
  return Decimal(checked(static_cast<i128>(units_) * n, "multiplication"));
}

Decimal Decimal::mul_div(Decimal a, Decimal b, Decimal c) {
  if (c.units_ == 0) throw Error("decimal division by zero");
  // a*b fits in 127 bits: |a|,|b| < 2^63. The result is a*b/c in units.
  i128 num = static_cast<i128>(a.units_) * b.units_;
  i128 den = c.units_;
  if (den < 0) {
    num = -num;
    den = -den;
  }
  return Decimal(checked(div_round_half_even(num, den), "mul_div"));
}

Decimal Decimal::floor() const {
  std::int64_t q = units_ / kScale;
  if (units_ % kScale != 0 && units_ < 0) --q;
  return Decimal(checked(static_cast<i128>(q) * kScale, "floor"));
}

Decimal Decimal::abs() const { return units_ < 0 ? -*this : *this; }

}  // namespace blotter
