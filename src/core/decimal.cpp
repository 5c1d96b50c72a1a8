#include "blotter/decimal.h"

#include <fmt/format.h>

#include <array>
#include <charconv>
#include <cstdlib>
#include <cstring>
#include <limits>

#include "blotter/error.h"
#include "core/plain_decimal.h"

namespace blotter {
namespace {

__extension__ typedef __int128 i128;
constexpr std::int64_t kMax = std::numeric_limits<std::int64_t>::max();
// The range is kept symmetric so that negation never overflows.
constexpr std::int64_t kMin = -kMax;

[[noreturn, gnu::noinline, gnu::cold]] void overflow_error(const char* op) {
  throw Error(fmt::format("decimal overflow in {}: result outside ±92233720368.54775807", op));
}

inline std::int64_t checked(i128 v, const char* op) {
  if (v > kMax || v < kMin) overflow_error(op);
  return static_cast<std::int64_t>(v);
}

// num / den rounded half to even; den > 0.
i128 div_round_half_even(i128 num, i128 den) {
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

}  // namespace

Decimal Decimal::from_int(std::int64_t value) {
  return Decimal(checked(static_cast<i128>(value) * kScale, "from_int"));
}

namespace {

// The common shape of market data, "[-+]ddd.dd" with at most 10 whole and 8
// fractional digits, without building a digit string; nullopt for anything
// else, which the general parser below then reads (and explains).
std::optional<std::int64_t> parse_plain(std::string_view text) {
  const char* p = text.data();
  const char* const end = p + text.size();
  bool negative = false;
  if (p != end && (*p == '+' || *p == '-')) negative = *p++ == '-';
  // 10 whole digits: at most 9999999999.99999999, well inside the range.
  std::uint64_t units = 0;
  if (detail::read_plain_digits(text.data(), p, end, units) != end) return std::nullopt;
  const auto value = static_cast<std::int64_t>(units);
  return negative ? -value : value;
}

}  // namespace

std::optional<Decimal> Decimal::parse(std::string_view text, std::string* why) {
  if (const auto units = parse_plain(text)) return Decimal(*units);
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
  if (digits.empty()) return Decimal(0);

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
  return Decimal(static_cast<std::int64_t>(negative ? -units : units));
}

Decimal Decimal::from_string(std::string_view text) {
  std::string why;
  if (auto d = parse(text, &why)) return *d;
  throw Error(fmt::format("'{}' is not a valid decimal: {}", text, why));
}

void Decimal::overflow(const char* op) { overflow_error(op); }

char* Decimal::format_to(char* out) const {
  // "00" "01" ... "99": the fraction is written two digits at a time.
  static constexpr auto kPairs = [] {
    std::array<char, 200> pairs{};
    for (std::size_t i = 0; i < 100; ++i) {
      pairs[2 * i] = static_cast<char>('0' + i / 10);
      pairs[2 * i + 1] = static_cast<char>('0' + i % 10);
    }
    return pairs;
  }();
  const bool negative = units_ < 0;
  const std::uint64_t magnitude =
      negative ? static_cast<std::uint64_t>(-(units_ + 1)) + 1 : static_cast<std::uint64_t>(units_);
  const std::uint64_t whole = magnitude / kScale;  // at most 92233720368: 11 digits
  const auto frac = static_cast<std::uint32_t>(magnitude % kScale);
  if (negative) *out++ = '-';
  out = std::to_chars(out, out + 11, whole).ptr;
  if (frac != 0) {
    *out++ = '.';
    const std::uint32_t high = frac / 10'000, low = frac % 10'000;
    for (const std::uint32_t pair : {high / 100, high % 100, low / 100, low % 100}) {
      std::memcpy(out, &kPairs[2 * pair], 2);
      out += 2;
    }
    while (out[-1] == '0') --out;  // frac != 0: stops at a digit after the '.'
  }
  return out;
}

std::string Decimal::to_string() const {
  char text[kMaxTextSize];
  return std::string(text, format_to(text));
}

Decimal Decimal::multiply_wide(Decimal o) const {
  const i128 wide = static_cast<i128>(units_) * o.units_;
  return Decimal(checked(div_round_half_even(wide, kScale), "multiplication"));
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

Decimal Decimal::operator/(std::int64_t n) const {
  if (n == 0) throw Error("decimal division by zero");
  // units_ / n is exact in 64 bits but for INT64_MIN / -1, and units_ is
  // never INT64_MIN; |quotient| <= |units_|, so it is always in range.
  std::int64_t q = units_ / n;
  std::int64_t r = units_ % n;
  // |r| < |n|: 2 * |r| compared with |n| without overflow as |r| <= |n| - 1.
  const std::uint64_t r_abs =
      r < 0 ? -static_cast<std::uint64_t>(r) : static_cast<std::uint64_t>(r);
  const std::uint64_t n_abs =
      n < 0 ? -static_cast<std::uint64_t>(n) : static_cast<std::uint64_t>(n);
  const std::uint64_t rest = n_abs - r_abs;  // 2r > n  <=>  r > n - r
  if (r_abs > rest || (r_abs == rest && (q & 1) != 0)) q += (units_ < 0) != (n < 0) ? -1 : 1;
  return Decimal(q);
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

}  // namespace blotter
