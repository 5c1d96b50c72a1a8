// Text from data or users as blotter shows it on a terminal: escaped so that
// it cannot drive the terminal, and padded by the columns it takes.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace blotter {

// Whether `text` is well-formed UTF-8 (RFC 3629: no overlong forms, no
// surrogates, at most U+10FFFF).
bool is_utf8(std::string_view text);

// `text` with every control character (U+0000..U+001F, U+007F) and every
// byte that is not part of well-formed UTF-8 written as \xNN (two upper-case
// hex digits); the rest as is. The result is one line that no terminal takes
// as a command. At most `max_bytes` of `text` are shown; a longer text ends
// in "... (N bytes)". Thread-safe.
std::string terminal_text(std::string_view text, std::size_t max_bytes = std::string_view::npos);

// The columns `text` takes on a terminal: one per code point, two for East
// Asian wide and fullwidth characters, none for combining marks. `text` is
// expected to be terminal_text's output; a byte that is not UTF-8 counts one.
std::size_t display_width(std::string_view text);

// `text` padded with spaces to `width` display columns, on the right
// (left-aligned) or on the left (right-aligned). A wider text is unchanged.
enum class Align { kLeft, kRight };
std::string padded(std::string_view text, std::size_t width, Align align = Align::kLeft);

}  // namespace blotter
