// Breakout on the MSFT series kept outside the repository (../shared/data),
// against the reference signals the script of tests/data/breakout computes
// from it now (the series' licence keeps them out of the repository). Without
// the series the suite prints why and ctest reports it as skipped, never as
// passed.
#include "breakout_reference.h"

#include <doctest/doctest.h>

#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <string>

#include "cli_helpers.h"

using namespace blotter::testing;

namespace {

// Writes the script's signals of `csv` for (entry, exit) to DIRECTORY/msft_ENTRY_EXIT.csv.
void write_reference(const std::string& csv, const std::string& directory, int entry, int exit) {
  const std::string command =
      quote(BLOTTER_PYTHON) + " " +
      quote(std::string(BLOTTER_TEST_DATA) + "/breakout/breakout_signals.py") + " " + quote(csv) +
      " " + std::to_string(entry) + " " + std::to_string(exit) + " > " +
      quote(directory + "/msft_" + std::to_string(entry) + "_" + std::to_string(exit) + ".csv");
  REQUIRE_MESSAGE(std::system(command.c_str()) == 0, command);
}

}  // namespace

TEST_CASE("the MSFT series gives the reference signals") {
  const std::string csv = std::string(BLOTTER_SHARED_DATA) + "/msft_daily_2000.csv";
  if (!std::filesystem::exists(csv)) {
    std::cout << "breakout_reference: skipped: " << csv << " is not here" << std::endl;
    return;
  }
  const TempDir dir;
  SUBCASE("entry 20, exit 10") {
    write_reference(csv, dir.file(""), 20, 10);
    check_breakout_reference(csv, "MSFT", "msft", {20, 10}, dir.file(""));
  }
  SUBCASE("entry 55, exit 20") {
    write_reference(csv, dir.file(""), 55, 20);
    check_breakout_reference(csv, "MSFT", "msft", {55, 20}, dir.file(""));
  }
}
