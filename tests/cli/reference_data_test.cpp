// The series kept outside the repository (../shared/data), against their
// reference figures. Without them the suite prints why and ctest reports it
// as skipped, never as passed.
#include <doctest/doctest.h>

#include <filesystem>
#include <iostream>
#include <string>

#include "reference_figures.h"

using namespace blotter::testing;

TEST_CASE("the MSFT series gives the reference figures") {
  const std::string csv = std::string(BLOTTER_SHARED_DATA) + "/msft_daily_2000.csv";
  if (!std::filesystem::exists(csv)) {
    std::cout << "reference_data: skipped: " << csv << " is not here" << std::endl;
    return;
  }
  check_reference({"MSFT", csv, 249, 11, 14, 22, "4.6531"});
}
