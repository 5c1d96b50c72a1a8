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

  constexpr bool is_zero() const { return units_ == 0; }
  constexpr bool is_negative() const { return units_ < 0; }
  constexpr bool is_positive() const { return units_ > 0; }

  Decimal operator-() const;
  Decimal operator+(Decimal o) const;
  Decimal operator-(Decimal o) const;
  Decimal operator*(Decimal o) const;
  Decimal operator/(Decimal o) const;  // throws blotter::Error on division by zero
  Decimal operator*(std::int64_t n) const;
  Decimal& operator+=(Decimal o) { return *this = *this + o; }
  Decimal& operator-=(Decimal o) { return *this = *this - o; }

  // a * b / c with a single rounding (half to even); throws on c == 0 or overflow.
  static Decimal mul_div(Decimal a, Decimal b, Decimal c);

  // Rounds toward negative infinity to a whole number.
  Decimal floor() const;
  Decimal abs() const;

  constexpr auto operator<=>(const Decimal&) const = default;

 private:
  constexpr explicit Decimal(std::int64_t units) : units_(units) {}
  std::int64_t units_ = 0;
};

}  // namespace blotter
