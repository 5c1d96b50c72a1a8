// The HTML report in a library built with BLOTTER_HTML_REPORT=OFF: there is
// none, and asking for one says so.
#include "blotter/audit.h"
#include "blotter/error.h"

namespace blotter {
namespace {

[[noreturn]] void no_html_report() {
  throw ConfigError("this blotter was built without the HTML report (BLOTTER_HTML_REPORT=OFF)");
}

}  // namespace

std::string day_report_html(const DayReport&) { no_html_report(); }
std::string range_report_html(const RangeReport&) { no_html_report(); }

}  // namespace blotter
