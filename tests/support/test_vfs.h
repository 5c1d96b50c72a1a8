// A SQLite VFS for tests, layered over the default one (the unix VFS) and
// registered as the default while a TestVfs object lives: every connection
// opened meanwhile goes through it. Only test code creates one; blotter
// itself never registers a VFS.
#pragma once

#include <sqlite3.h>

#include <filesystem>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace blotter::testing {

class TestVfs {
 public:
  enum class Mode {
    kPassThrough,  // every call goes to the default VFS unchanged
    // Also keeps each file's durable image: its bytes as the last successful
    // xSync left them. A file never synced has none; nor has the WAL's -shm
    // file (SQLite rebuilds it), nor a file deleted since. Directory entries
    // are not modelled: a synced file is taken to be in its directory.
    kPowerLoss,
  };

  // Registers this VFS as SQLite's default. Throws std::logic_error if
  // another TestVfs is registered.
  explicit TestVfs(Mode mode);
  // Restores the previous default. Every connection opened through this VFS
  // must be closed first.
  ~TestVfs();
  TestVfs(const TestVfs&) = delete;
  TestVfs& operator=(const TestVfs&) = delete;

  // kPowerLoss: the disk after a power loss now. Writes every file that has
  // a durable image into `dir`, under its own file name, as that image;
  // returns the names written. Thread-safe, while other threads use SQLite.
  std::vector<std::string> write_power_loss_image(const std::filesystem::path& dir) const;

  // kPowerLoss: how many xSync calls succeeded on the file at `path` (as
  // SQLite names it: absolute). Thread-safe.
  int syncs(const std::string& path) const;

  // The operations a file goes through, each passed through forward(): the
  // one place a fault (fail the Nth write, say) would be injected.
  enum class Op { kOpen, kDelete, kRead, kWrite, kTruncate, kSync, kOther };

 private:
  struct File;
  struct Image {
    std::optional<std::string> durable;  // nullopt: never synced
    int syncs = 0;
  };

  static TestVfs* instance_;
  static File& file_of(sqlite3_file* f);
  static int open(sqlite3_vfs* vfs, sqlite3_filename name, sqlite3_file* file, int flags,
                  int* out_flags);
  static int remove(sqlite3_vfs* vfs, const char* name, int sync_dir);
  static const sqlite3_io_methods kIoMethods;
  template <class Call>
  int forward(Op op, const std::string* path, Call&& call);
  // After a successful xSync of `file`: its durable image is its content now.
  int record_sync(File& file);

  Mode mode_;
  sqlite3_vfs* base_;
  sqlite3_vfs vfs_{};
  mutable std::mutex mutex_;
  std::map<std::string, Image> images_;  // by path; guarded by mutex_
};

}  // namespace blotter::testing
