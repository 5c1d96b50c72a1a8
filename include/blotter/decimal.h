// Exact fixed-point decimal for prices, quantities and money.
#pragma once

#include <compare>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace blotter {

// A signed decimal with exactly eight places, stored as an integer count of
// 1e-8 units: the range is ±92,233,720,368.54775807. Addition, subtraction
// and comparison are exact; multiplication and division round half to even
// at the eighth place. Every operation that would leave the range throws
// blotter::Error instead of wrapping. A value type; thread-safe.
class Decimal {
 public:
  static constexpr int kPlaces = 8;
  static constexpr std::int64_t kScale = 100'000'000;

  constexpr Decimal() = default;
  static constexpr Decimal from_raw(std::int64_t units) { return Decimal(units); }
  // Throws blotter::Error if `value` is outside the range.
  static Decimal from_int(std::int64_t value);

  // Parses decimal text exactly: an optional sign, digits with an optional
  // '.', and an optional exponent ("1.5e3"). Returns nullopt and sets `why`
  // for anything else, for NaN and infinities, for a value outside the range
  // and for digits beyond the eighth place that are not zero.
  static std::optional<Decimal> parse(std::string_view text, std::string* why = nullptr);
  // As parse(), but throws blotter::Error naming the text.
  static Decimal from_string(std::string_view text);

  constexpr std::int64_t raw() const { return units_; }
  // The shortest exact text: "100.34", "-0.5", "7" (no exponent, no trailing zeros).
  std::string to_string() const;
  // The longest text to_string() returns: "-92233720368.54775807".
  static constexpr std::size_t kMaxTextSize = 21;
  // Writes to_string()'s text to `out`, which has room for kMaxTextSize
  // chars, and returns the end of what it wrote (no terminating NUL).
  char* format_to(char* out) const;

  constexpr bool is_zero() const { return units_ == 0; }
  constexpr bool is_negative() const { return units_ < 0; }
  constexpr bool is_positive() const { return units_ > 0; }

  // Inline below: the trading path runs on these.
  Decimal operator-() const { return Decimal(-units_); }
  Decimal operator+(Decimal o) const;
  Decimal operator-(Decimal o) const;
  Decimal operator*(Decimal o) const;
  Decimal operator/(Decimal o) const;  // throws blotter::Error on division by zero
  Decimal operator*(std::int64_t n) const;
  // The same as dividing by Decimal::from_int(n) (half to even), without
  // 128-bit arithmetic: a mean of n prices, say. Throws on n == 0.
  Decimal operator/(std::int64_t n) const;
  Decimal& operator+=(Decimal o) { return *this = *this + o; }
  Decimal& operator-=(Decimal o) { return *this = *this - o; }

  // a * b / c with a single rounding (half to even); throws on c == 0 or overflow.
  static Decimal mul_div(Decimal a, Decimal b, Decimal c);

  // Rounds toward negative infinity to a whole number.
  Decimal floor() const;
  Decimal abs() const { return units_ < 0 ? -*this : *this; }

  constexpr auto operator<=>(const Decimal&) const = default;
  // The same order, each a single comparison of the units: the three-way
  // result of <=> compiles to branches where these compile to flags.
  friend constexpr bool operator<(Decimal a, Decimal b) { return a.units_ < b.units_; }
  friend constexpr bool operator>(Decimal a, Decimal b) { return a.units_ > b.units_; }
  friend constexpr bool operator<=(Decimal a, Decimal b) { return a.units_ <= b.units_; }
  friend constexpr bool operator>=(Decimal a, Decimal b) { return a.units_ >= b.units_; }

 private:
  constexpr explicit Decimal(std::int64_t units) : units_(units) {}
  // The product when units_ * o.units_ does not fit in 64 bits.
  Decimal multiply_wide(Decimal o) const;
  // Throws blotter::Error: the result of `op` is outside the range.
  [[noreturn, gnu::cold]] static void overflow(const char* op);

  std::int64_t units_ = 0;
};

// The range is symmetric (INT64_MIN is outside it), so negation never overflows.
inline Decimal Decimal::operator+(Decimal o) const {
  std::int64_t sum = 0;
  if (__builtin_add_overflow(units_, o.units_, &sum) || sum == INT64_MIN) overflow("addition");
  return Decimal(sum);
}

inline Decimal Decimal::operator-(Decimal o) const {
  std::int64_t difference = 0;
  if (__builtin_sub_overflow(units_, o.units_, &difference) || difference == INT64_MIN)
    overflow("subtraction");
  return Decimal(difference);
}

inline Decimal Decimal::operator*(Decimal o) const {
  std::int64_t product = 0;
  // Most products (a price times a quantity) fit in 64 bits before scaling;
  // dividing by the constant scale then compiles to a multiplication.
  if (__builtin_mul_overflow(units_, o.units_, &product)) return multiply_wide(o);
  std::int64_t q = product / kScale;
  std::int64_t r = product % kScale;
  if (r < 0) r = -r;
  // Half to even: q's parity is its lowest bit, for negative q too.
  if (2 * r > kScale || (2 * r == kScale && (q & 1) != 0)) q += product < 0 ? -1 : 1;
  return Decimal(q);
}

inline Decimal Decimal::operator*(std::int64_t n) const {
  std::int64_t product = 0;
  if (__builtin_mul_overflow(units_, n, &product) || product == INT64_MIN)
    overflow("multiplication");
  return Decimal(product);
}

}  // namespace blotter
