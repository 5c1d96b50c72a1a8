// The source tree against docs/ARCHITECTURE.md's layer table
// (tools/check_layers.py): folders, CMake targets' links, includes, and the
// README's layout section.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "cli_helpers.h"

using namespace blotter::testing;
namespace fs = std::filesystem;

namespace {

CliResult check_layers(const std::string& source_dir) {
  return run_python(std::string(BLOTTER_SOURCE_DIR) + "/tools/check_layers.py", quote(source_dir));
}

// The parts of the tree the check reads, copied so a case can break them.
std::string copy_tree(const TempDir& dir) {
  const fs::path src(BLOTTER_SOURCE_DIR), to(dir.file("tree"));
  for (const char* part : {"src", "include", "docs", "tests"}) {
    fs::create_directories(to / part);
    fs::copy(src / part, to / part, fs::copy_options::recursive);
  }
  fs::copy_file(src / "README.md", to / "README.md");
  return to.string();
}

void append(const fs::path& file, const std::string& text) {
  std::ofstream(file, std::ios::app) << text;
}

}  // namespace

TEST_CASE("the source tree follows docs/ARCHITECTURE.md's layers") {
  const CliResult r = check_layers(BLOTTER_SOURCE_DIR);
  INFO(r.out << r.err);
  CHECK(r.exit_code == 0);
  CHECK(r.out == "layers: ok\n");
}

TEST_CASE("the layer check finds each kind of fault") {
  TempDir dir;
  const std::string tree = copy_tree(dir);
  append(fs::path(tree) / "src/trading/bus.cpp", "#include \"blotter/trading_system.h\"\n");
  append(fs::path(tree) / "src/trading/portfolio.cpp", "#include <SQLiteCpp/Database.h>\n");
  append(fs::path(tree) / "src/core/error.cpp", "#include \"events/payload_json.h\"\n");
  append(fs::path(tree) / "src/trading/CMakeLists.txt",
         "target_link_libraries(blotter_trading PRIVATE blotter_sqlite)\n");
  fs::create_directories(fs::path(tree) / "src/extra");
  std::ofstream(fs::path(tree) / "src/extra/CMakeLists.txt") << "blotter_layer(extra x.cpp)\n";
  std::ofstream(fs::path(tree) / "include/blotter/orphan.h") << "#pragma once\n";
  const CliResult r = check_layers(tree);
  INFO(r.out << r.err);
  CHECK(r.exit_code == 1);
  for (const char* fault :
       {"src/trading/bus.cpp: includes blotter/trading_system.h of layer engine, which trading "
        "may not use",
        "src/trading/portfolio.cpp: includes <SQLiteCpp/Database.h> (sqlite), not among "
        "trading's libraries",
        "src/core/error.cpp: includes events/payload_json.h of layer events, which core may not "
        "use",
        "src/trading/CMakeLists.txt: links blotter_sqlite, but trading may not use sqlite",
        "src/extra/: a folder with a CMakeLists.txt but no row in docs/ARCHITECTURE.md",
        "include/blotter/orphan.h: in no row of docs/ARCHITECTURE.md",
        "README.md: the layout section does not name `src/extra/`"}) {
    CAPTURE(fault);
    CHECK(r.out.find(std::string(fault) + "\n") != std::string::npos);
  }
}
