#include "blotter/terminal_text.h"

#include <doctest/doctest.h>

using namespace blotter;

TEST_SUITE("terminal_text") {
  TEST_CASE("control characters and bytes that are not UTF-8 are escaped as \\xNN") {
    CHECK(terminal_text("plain text, \xe2\x82\xac 5") == "plain text, \xe2\x82\xac 5");
    CHECK(terminal_text("\x1b[2Jcleared\a") == "\\x1B[2Jcleared\\x07");
    CHECK(terminal_text("line\nbreak\ttab\r\x7f") == "line\\x0Abreak\\x09tab\\x0D\\x7F");
    CHECK(terminal_text(std::string_view("nul\0byte", 8)) == "nul\\x00byte");
    CHECK(terminal_text("bad \xff\xc3 utf8 \xed\xa0\x80") == "bad \\xFF\\xC3 utf8 \\xED\\xA0\\x80");
  }

  TEST_CASE("regression: C1 controls, valid UTF-8 that a terminal obeys, are escaped") {
    CHECK(terminal_text("csi \xc2\x9b"
                        "2J osc \xc2\x9d"
                        "0;t") == "csi \\xC2\\x9B2J osc \\xC2\\x9D0;t");
    CHECK(terminal_text("\xc2\x80\xc2\x9f") == "\\xC2\\x80\\xC2\\x9F");
    // U+00A0 and above are text.
    CHECK(terminal_text("\xc2\xa0\xc2\xa9") == "\xc2\xa0\xc2\xa9");
  }

  TEST_CASE("a text cut short says how long it was") {
    CHECK(terminal_text("abcdefgh", 3) == "abc... (8 bytes)");
    CHECK(terminal_text("abc", 3) == "abc");
  }

  TEST_CASE("is_utf8 refuses overlong forms, surrogates and truncated sequences") {
    CHECK(is_utf8("\xe2\x82\xac \xf0\x9f\x93\x88 ascii"));
    CHECK_FALSE(is_utf8("\xc0\xaf"));
    CHECK_FALSE(is_utf8("\xed\xa0\x80"));
    CHECK_FALSE(is_utf8("\xe2\x82"));
    CHECK_FALSE(is_utf8("\xf4\x90\x80\x80"));
  }

  TEST_CASE("display width counts code points, wide characters as two, combining marks as none") {
    CHECK(display_width("GOOG") == 4);
    CHECK(display_width("\xe2\x82\xac") == 1);      // EURO SIGN
    CHECK(display_width("\xe6\xa0\xaa") == 2);      // CJK ideograph
    CHECK(display_width("\xef\xbc\xa1") == 2);      // FULLWIDTH LATIN A
    CHECK(display_width("e\xcc\x81") == 1);         // e + COMBINING ACUTE
    CHECK(display_width("\xf0\x9f\x93\x88") == 2);  // CHART emoji
    CHECK(display_width("\\x1B") == 4);
  }

  TEST_CASE("padding is by display width, on either side") {
    CHECK(padded("\xe2\x82\xac", 3) == "\xe2\x82\xac  ");
    CHECK(padded("\xe6\xa0\xaa", 3, Align::kRight) == " \xe6\xa0\xaa");
    CHECK(padded("toolong", 3) == "toolong");
  }
}
