// Text files compiled into the library by cmake/embed_text.cmake, for the
// self-contained HTML reports (which must open without network access).
#pragma once

#include <string>

namespace blotter::detail {

// Chart.js (MIT licence; its notice heads the text), found at configure time
// (Debian's libjs-chart.js).
const std::string& chartjs_text();
// The audit page's script and style sheet: src/audit_page.js, src/audit_page.css.
const std::string& audit_page_js();
const std::string& audit_page_css();

}  // namespace blotter::detail
