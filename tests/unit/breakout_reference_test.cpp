// Breakout on the MSFT series kept outside the repository (../shared/data),
// against the reference signals of tests/data/breakout. Without the series
// the suite prints why and ctest reports it as skipped, never as passed.
#include "breakout_reference.h"

#include <doctest/doctest.h>

#include <filesystem>
#include <iostream>
#include <string>

using namespace blotter::testing;

TEST_CASE("the MSFT series gives the reference signals") {
  const std::string csv = std::string(BLOTTER_SHARED_DATA) + "/msft_daily_2000.csv";
  if (!std::filesystem::exists(csv)) {
    std::cout << "breakout_reference: skipped: " << csv << " is not here" << std::endl;
    return;
  }
  SUBCASE("entry 20, exit 10") { check_breakout_reference(csv, "MSFT", "msft", {20, 10}); }
  SUBCASE("entry 55, exit 20") { check_breakout_reference(csv, "MSFT", "msft", {55, 20}); }
}
