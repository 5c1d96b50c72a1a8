// Fuzzes opening a journal: the bytes are written to a file, which is opened
// read-only, scanned, and its state rebuilt as `blotter state` does. Every
// failure must be a blotter::Error; anything else (another exception, a
// crash, a sanitizer report) is a finding.
#include <stdlib.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include "blotter/error.h"
#include "blotter/sqlite_journal.h"
#include "blotter/trading_system.h"

namespace {

std::string scratch_dir() {
  std::string pattern =
      (std::filesystem::temp_directory_path() / "blotter-fuzz-journal-XXXXXX").string();
  if (mkdtemp(pattern.data()) == nullptr) std::abort();
  return pattern;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace blotter;
  static const std::string dir = scratch_dir();
  const std::string path = dir + "/journal.db";
  for (const char* suffix : {"-wal", "-shm", "-journal"}) ::unlink((path + suffix).c_str());
  {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
  }
  try {
    auto journal = SqliteJournal::open(path, SqliteJournal::Mode::kRead);
    journal->scan(ScanRange(), [](const Event&) { return true; });
    journal->count(ScanRange());
    journal->snapshot_seqs();
    list_runs(*journal);
    rebuild_state(*journal, journal->last_seq());
  } catch (const Error&) {
  }
  return 0;
}
