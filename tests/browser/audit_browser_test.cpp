// The audit's HTML pages in a real browser. Headless Chromium loads each page
// and dumps its DOM; the page's render check (#render-check, written by
// src/audit_page.js from the Chart.js chart objects themselves) says what was
// drawn and which errors occurred, and Chromium's log shows any console
// output. Skipped, saying so, when /usr/bin/chromium is absent (another
// browser binary: BLOTTER_CHROMIUM); .ci/run installs it and sets
// BLOTTER_REQUIRE_BROWSER so that CI never skips.
#include <doctest/doctest.h>
#include <fmt/format.h>

#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>

#include "audit_fixtures.h"

using namespace blotter::testing;
using Json = nlohmann::json;

namespace {

// The browser: /usr/bin/chromium (Debian's chromium), or BLOTTER_CHROMIUM.
std::string browser() {
  const char* path = std::getenv("BLOTTER_CHROMIUM");
  return path && *path ? path : "/usr/bin/chromium";
}

// Whether the browser is here; says once why the suite is skipped if not.
bool browser_available() {
  if (std::filesystem::exists(browser())) return true;
  if (std::getenv("BLOTTER_REQUIRE_BROWSER"))
    FAIL(browser() << " is absent but BLOTTER_REQUIRE_BROWSER is set");
  static bool said = false;
  if (!said)
    std::cout << "audit_browser: skipped: " << browser() << " is absent (apt-get install chromium)"
              << std::endl;
  said = true;
  return false;
}

std::string html_unescape(std::string text) {
  for (const auto& [from, to] : {std::pair<std::string, std::string>{"&lt;", "<"},
                                 {"&gt;", ">"},
                                 {"&quot;", "\""},
                                 {"&nbsp;", " "},
                                 {"&amp;", "&"}})
    for (auto at = text.find(from); at != std::string::npos; at = text.find(from, at + 1))
      text.replace(at, from.size(), to);
  return text;
}

struct Rendered {
  std::string dom;
  Json check;                        // the page's render check
  std::vector<std::string> console;  // Chromium's CONSOLE log lines
};

std::string chromium(const TempDir& profile, const std::string& args, const std::string& html,
                     std::string* log) {
  const std::string out = profile.file("stdout"), err = profile.file("stderr");
  const std::string command = fmt::format(
      "timeout 120 {} --headless --no-sandbox --disable-gpu --disable-dev-shm-usage "
      "--no-first-run --hide-scrollbars --user-data-dir={} {} {} >{} 2>{} </dev/null",
      quote(browser()), quote(profile.file("profile")), args, quote("file://" + html), quote(out),
      quote(err));
  const int status = std::system(command.c_str());
  if (log) *log = read_file(err);
  INFO(command, "\n", read_file(err));
  REQUIRE(status == 0);
  return read_file(out);
}

// `window`: Chromium's --window-size, e.g. "800,1000"; empty: its default.
Rendered render(const std::string& html, const std::string& window = "") {
  TempDir profile;
  Rendered r;
  std::string log;
  r.dom = chromium(profile,
                   "--enable-logging=stderr --v=0 --virtual-time-budget=5000 --dump-dom" +
                       (window.empty() ? std::string() : " --window-size=" + window),
                   html, &log);
  std::istringstream lines(log);
  for (std::string line; std::getline(lines, line);)
    if (line.find(":CONSOLE") != std::string::npos) r.console.push_back(line);
  const auto at = r.dom.find("id=\"render-check\"");
  INFO(r.dom.substr(0, 2000));
  REQUIRE(at != std::string::npos);
  const auto begin = r.dom.find('>', at) + 1;
  const auto end = r.dom.find("</pre>", begin);
  REQUIRE(end != std::string::npos);
  const std::string text = html_unescape(r.dom.substr(begin, end - begin));
  REQUIRE_MESSAGE(!text.empty(), "the page wrote no render check");
  r.check = Json::parse(text);
  return r;
}

std::string audit_html(const TempDir& dir, const std::string& db, const std::string& args,
                       const std::string& name) {
  const std::string html = dir.file(name);
  const CliResult r = run_cli("audit " + quote(db) + " " + args + " --html " + quote(html));
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  return html;
}

void check_clean(const Rendered& r) {
  CHECK_MESSAGE(r.check["errors"].empty(), r.check["errors"].dump());
  for (const std::string& line : r.console) FAIL_CHECK("console: " << line);
}

}  // namespace

TEST_SUITE("audit_browser") {
  TEST_CASE("every fill of a GOOG day is marked on the price chart, without errors") {
    if (!browser_available()) return;
    const std::string& db = goog_journal();
    TempDir dir;
    SQLite::Database d(db, SQLite::OPEN_READONLY);
    SQLite::Statement days(d,
                           "SELECT date(time), count(*) FROM fills GROUP BY 1 ORDER BY 1 "
                           "LIMIT 3 OFFSET 20");
    int pages = 0;
    while (days.executeStep()) {
      const std::string day = days.getColumn(0).getString();
      CAPTURE(day);
      const Rendered r = render(audit_html(dir, db, "--day " + day, day + ".html"));
      check_clean(r);
      CHECK(r.check["fills_expected"] == days.getColumn(1).getInt64());
      CHECK(r.check["fills_marked"] == days.getColumn(1).getInt64());
      REQUIRE(r.check["charts"].size() == 2);  // the price, the equity
      // The price line shows the day and its neighbours: 61 daily bars.
      CHECK(r.check["charts"][0]["datasets"][0]["visible"] == 61);
      ++pages;
    }
    CHECK(pages == 3);
  }

  TEST_CASE("a day of many buys and sells marks each one") {
    if (!browser_available()) return;
    TempDir dir;
    const std::string db = price_path_journal(dir);
    const Rendered r = render(audit_html(dir, db, "--day 2024-01-02", "path.html"));
    check_clean(r);
    CHECK(r.check["fills_expected"] == 5);
    CHECK(r.check["fills_marked"] == 5);
    const Json& price = r.check["charts"][0]["datasets"];
    CHECK(price[1]["label"] == "buy");
    CHECK(price[1]["visible"] == 3);
    CHECK(price[2]["label"] == "sell");
    CHECK(price[2]["visible"] == 2);
    // The equity chart shows the drawdown's peak and trough.
    CHECK(r.check["charts"][1]["datasets"].size() == 4);
  }

  TEST_CASE("fills of several symbols in another time zone are each marked") {
    if (!browser_available()) return;
    TempDir dir;
    const std::string db = dir.file("ny.db");
    REQUIRE(run_cli("run --bars " + quote(synthetic_bars(dir, "bars.csv", 1440, 2)) +
                    " --journal " + quote(db) + " --tz America/New_York --window 5")
                .exit_code == 0);
    // 2024-01-02 in New York: from 05:00Z to 05:00Z the next day.
    const auto fills = count(db,
                             "SELECT count(*) FROM events WHERE type = 'FILL' AND ts_ns >= "
                             "1704171600000000000 AND ts_ns < 1704258000000000000");
    REQUIRE(fills > 2);
    const Rendered r = render(audit_html(dir, db, "--day 2024-01-02", "ny.html"));
    check_clean(r);
    CHECK(r.check["fills_expected"] == fills);
    CHECK(r.check["fills_marked"] == fills);
    CHECK(r.check["charts"].size() == 3);  // S0, S1, the equity
  }

  TEST_CASE("the range page draws one bar per trading day") {
    if (!browser_available()) return;
    const std::string& db = goog_journal();
    TempDir dir;
    const Rendered r =
        render(audit_html(dir, db, "--from 2006-01-01 --to 2006-12-31", "range.html"));
    check_clean(r);
    const auto days = count(db,
                            "SELECT count(DISTINCT date(time)) FROM timeline WHERE time >= "
                            "'2006-01-01' AND time < '2007-01-01'");
    CHECK(r.check["bars"] == days);
    CHECK(r.check["charts"][1]["datasets"][0]["visible"] == days);
  }

  TEST_CASE("hostile text from the journal stays text in the browser") {
    if (!browser_available()) return;
    TempDir dir;
    const std::string db = hostile_journal(dir);
    const Rendered r = render(audit_html(dir, db, "--day 2024-01-02", "hostile.html"));
    check_clean(r);
    CHECK(r.dom.find("pwned</title>") == std::string::npos);
    CHECK(r.dom.find("<img") == std::string::npos);
    // The texts are in the tables, as text.
    CHECK(r.dom.find("&lt;/script&gt;&lt;script&gt;document.title='pwned'&lt;/script&gt;") !=
          std::string::npos);
    CHECK(r.dom.find("&lt;img src=x onerror=\"document.title='pwned'\"&gt;") != std::string::npos);
    CHECK(r.dom.find("&lt;!-- &amp; \"quoted\" 'single' --&gt;") != std::string::npos);
  }

  TEST_CASE("regression: the cards' headline figures are never cut, at 800 and 1400 px") {
    if (!browser_available()) return;
    TempDir dir;
    // Fractional quantities and commissions: figures of 15 and more characters.
    const std::string db = goog_journal_in(
        dir, "long.db", "--quantity 1234.56789012 --commission 0.00012345 --max-position 1000000");
    const std::string day = audit_html(dir, db, "--day 2007-05-03", "day.html");
    const std::string range =
        audit_html(dir, db, "--from 2006-01-01 --to 2007-12-31", "range.html");
    for (const char* width : {"800,1000", "1400,1000"}) {
      for (const std::string& html : {day, range}) {
        CAPTURE(width);
        CAPTURE(html);
        const Rendered r = render(html, width);
        check_clean(r);
        REQUIRE(r.check["cards"].size() >= 6);
        std::size_t longest = 0;
        for (const Json& card : r.check["cards"]) {
          CAPTURE(card.dump());
          longest = std::max(longest, card["text"].get<std::string>().size());
          CHECK(card["client_width"].get<double>() > 0);
          CHECK(card["scroll_width"].get<double>() <= card["client_width"].get<double>());
        }
        CHECK(longest >= 15);
      }
    }
    // The figures are the report's, whole.
    const Json j = audit_json(quote(db) + " --day 2007-05-03");
    const Rendered r = render(day, "800,1000");
    bool equity_shown = false;
    for (const Json& card : r.check["cards"])
      equity_shown = equity_shown || card["text"] == j["close"]["equity"];
    CHECK(equity_shown);
  }

  TEST_CASE("the day chart skips hours without market data and shows the run's local times") {
    if (!browser_available()) return;
    TempDir dir;
    // An hour of minute bars on Friday, Monday and Tuesday: 14:30Z, 09:30 in New York.
    std::string csv = "timestamp,open,high,low,close,volume\n";
    int step = 0;
    for (const char* date : {"2024-01-05", "2024-01-08", "2024-01-09"})
      for (int m = 0; m < 60; ++m, ++step) {
        const std::string price = std::to_string(100 + (step * 7) % 13) + ".25";
        csv += fmt::format("{}T{:02}:{:02}:00Z,{},{},{},{},10\n", date, 14 + (30 + m) / 60,
                           (30 + m) % 60, price, price, price, price);
      }
    const std::string db = dir.file("gaps.db");
    const CliResult run =
        run_cli("run --bars " + quote(dir.write("gaps.csv", csv)) +
                " --symbol GAP --window 3 --tz America/New_York --journal " + quote(db));
    INFO(run.err);
    REQUIRE(run.exit_code == 0);
    const Rendered r = render(audit_html(dir, db, "--day 2024-01-08", "gaps.html"), "1400,1000");
    check_clean(r);
    REQUIRE(r.check["charts"].size() == 2);
    // 30 bars of Friday, Monday's 60, 30 of Tuesday, evenly spaced: the
    // weekend and the nights take no more width than a minute.
    const Json& price = r.check["charts"][0]["datasets"][0];
    CHECK(price["points"] == 120);
    CHECK(price["visible"] == 120);
    CHECK(price["min_gap"].get<double>() > 0);
    CHECK(price["max_gap"].get<double>() <= 1.01 * price["min_gap"].get<double>());
    // The equity line, marked at bars and fills (a fill shares its bar's
    // time), has no wider step either.
    const Json& equity = r.check["charts"][1]["datasets"][0];
    CHECK(equity["visible"] == equity["points"]);
    CHECK(equity["max_gap"].get<double>() <= 1.2 * price["max_gap"].get<double>());
    for (const Json& chart : r.check["charts"]) {
      CAPTURE(chart.dump());
      // Labelled in New York time: every bar is between 09:30 and 10:29 there.
      REQUIRE(!chart["x_labels"].empty());
      for (const Json& label : chart["x_labels"]) {
        const std::string text = label.get<std::string>();
        CAPTURE(text);
        REQUIRE(text.size() >= 5);
        const std::string clock = text.substr(text.size() - 5);
        CHECK(clock >= "09:30");
        CHECK(clock <= "10:29");
      }
    }
    // The tables give the same local times, with their offset.
    const auto fills = count(db,
                             "SELECT count(*) FROM events WHERE type = 'FILL' AND ts_ns >= "
                             "1704722400000000000 AND ts_ns < 1704808800000000000");
    REQUIRE(fills > 0);
    CHECK(r.dom.find("2024-01-08T09:3") != std::string::npos);
    CHECK(r.dom.find("-05:00</td>") != std::string::npos);
    CHECK(r.dom.find("2024-01-08T14:3") == std::string::npos);
  }

  TEST_CASE("a screenshot of a day's page is left in the build directory") {
    if (!browser_available()) return;
    const std::string& db = goog_journal();
    TempDir dir;
    const std::string html = audit_html(dir, db, "--day 2007-05-03", "screenshot.html");
    const std::string png = std::string(BLOTTER_BUILD_DIR) + "/audit_screenshot.png";
    std::filesystem::remove(png);
    TempDir profile;
    chromium(profile,
             "--virtual-time-budget=5000 --window-size=1400,1000 --screenshot=" + quote(png), html,
             nullptr);
    const std::string bytes = read_file(png);
    CHECK(bytes.rfind("\x89PNG", 0) == 0);
    CHECK(bytes.size() > 20'000);
    MESSAGE("screenshot: " << png);
  }
}
