// Reading the digits of a plain decimal ("123", "99.5", ".25") eight bytes at
// a time: the one form blotter writes, read by Decimal::parse and the
// payload decoder before anything more general.
#pragma once

#include <bit>
#include <cstdint>
#include <cstring>

#include "blotter/decimal.h"

namespace blotter::detail {

static_assert(
    std::endian::native == std::endian::little,
    "plain_decimal.h reads text eight bytes at a time, lowest address in the lowest byte");

// Up to eight characters from `p` (fewer before `end`, the rest zero bytes),
// each minus '0', and how many of them lead as ASCII digits. The text from
// `begin` to `end` must be readable; p is in it.
struct DigitChunk {
  std::uint64_t values;  // the first `digits` bytes are digit values 0..9
  int digits;            // 0..8
};

inline DigitChunk digit_chunk(const char* begin, const char* p, const char* end) {
  std::uint64_t word = 0;
  const auto available = end - p;
  if (available >= 8) {
    std::memcpy(&word, p, 8);
  } else if (end - begin >= 8) {
    // The last eight bytes of the text, shifted down to start at p: no
    // byte-by-byte copy of a short tail.
    std::memcpy(&word, end - 8, 8);
    word = available > 0 ? word >> (8 * (8 - available)) : 0;
  } else {
    for (auto i = available; i > 0; --i) word = (word << 8) | static_cast<unsigned char>(p[i - 1]);
  }
  // A byte is a digit when it minus '0' is below 10: below '0' it borrows
  // (the high bit set), above '9' adding 0x76 sets the high bit. A borrow or
  // carry only reaches the bytes after the first non-digit, which are not
  // looked at.
  const std::uint64_t values = word - 0x3030303030303030;
  const std::uint64_t non_digits = (values | (values + 0x7676767676767676)) & 0x8080808080808080;
  return {values, non_digits == 0 ? 8 : std::countr_zero(non_digits) / 8};
}

// The number the first `digits` (1..8) digit values of `chunk` spell, the
// first the most significant.
inline std::uint64_t chunk_value(DigitChunk chunk) {
  // Right-aligned: the leading bytes become zeros, the value unchanged.
  std::uint64_t v = chunk.values << (8 * (8 - chunk.digits));
  v = v * 10 + (v >> 8);  // pairs of digits, in every other byte
  v = ((v & 0x000000FF000000FF) * (100 + (1000000ULL << 32)) +
       ((v >> 16) & 0x000000FF000000FF) * (1 + (10000ULL << 32))) >>
      32;
  return v;
}

// Reads digits[.digits] from `p` (no sign) up to `end`, in the readable
// text from `begin` to `end`. Returns the end of
// what it read, with `units` the value times Decimal::kScale; or nullptr,
// having set nothing, when there are no digits, more than 10 whole digits
// or more than Decimal::kPlaces fractional ones. What follows is the
// caller's to check.
inline const char* read_plain_digits(const char* begin, const char* p, const char* end,
                                     std::uint64_t& units) {
  static_assert(Decimal::kPlaces == 8);
  std::uint64_t whole = 0;
  const DigitChunk w = digit_chunk(begin, p, end);
  int whole_digits = w.digits;
  if (w.digits == 8) {
    // 9 or 10 whole digits: one by one past the first eight.
    whole = chunk_value(w);
    const char* q = p + 8;
    for (; q != end && *q >= '0' && *q <= '9' && whole_digits <= 10; ++q, ++whole_digits)
      whole = whole * 10 + static_cast<std::uint64_t>(*q - '0');
    if (whole_digits > 10) return nullptr;
  } else if (w.digits > 0) {
    whole = chunk_value(w);
  }
  p += whole_digits;
  std::uint64_t frac = 0;
  int frac_digits = 0;
  if (p != end && *p == '.') {
    ++p;
    const DigitChunk f = digit_chunk(begin, p, end);
    frac_digits = f.digits;
    if (f.digits == 8 && p + 8 != end && p[8] >= '0' && p[8] <= '9') return nullptr;
    if (f.digits > 0) {
      static constexpr std::uint64_t kPowers[9] = {
          100'000'000, 10'000'000, 1'000'000, 100'000, 10'000, 1'000, 100, 10, 1};
      frac = chunk_value(f) * kPowers[f.digits];
    }
    p += frac_digits;
  }
  if (whole_digits + frac_digits == 0) return nullptr;
  units = whole * static_cast<std::uint64_t>(Decimal::kScale) + frac;
  return p;
}

}  // namespace blotter::detail
