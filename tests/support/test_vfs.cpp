#include "test_vfs.h"

#include <algorithm>
#include <cassert>
#include <fstream>
#include <new>
#include <stdexcept>

namespace blotter::testing {

// A file opened through TestVfs: this header, then the default VFS's own
// file object (`real`), in the one allocation of szOsFile bytes SQLite makes.
struct TestVfs::File {
  sqlite3_file base;  // first: SQLite sees a File as a sqlite3_file
  TestVfs* vfs;
  std::optional<std::string> path;  // nullopt: a temporary file without a name
  sqlite3_file* real;
};

TestVfs* TestVfs::instance_ = nullptr;

template <class Call>
int TestVfs::forward(Op, const std::string*, Call&& call) {
  // Every operation of every file passes here, with what it is and the file
  // it is on: counting operations, or failing one, would go here.
  return call();
}

int TestVfs::record_sync(File& file) {
  if (mode_ != Mode::kPowerLoss || !file.path) return SQLITE_OK;
  sqlite3_file* real = file.real;
  sqlite3_int64 size = 0;
  if (const int rc = real->pMethods->xFileSize(real, &size); rc != SQLITE_OK) return rc;
  std::string bytes(static_cast<std::size_t>(size), '\0');
  constexpr sqlite3_int64 kChunk = 1 << 20;
  for (sqlite3_int64 at = 0; at < size; at += kChunk) {
    const int n = static_cast<int>(std::min(kChunk, size - at));
    if (const int rc = real->pMethods->xRead(real, bytes.data() + at, n, at); rc != SQLITE_OK)
      return rc;
  }
  std::lock_guard lock(mutex_);
  Image& image = images_[*file.path];
  image.durable = std::move(bytes);
  ++image.syncs;
  return SQLITE_OK;
}

TestVfs::File& TestVfs::file_of(sqlite3_file* f) { return *reinterpret_cast<File*>(f); }

// Each method passes the call on to the real file, through forward().
const sqlite3_io_methods TestVfs::kIoMethods = {
    3,
    [](sqlite3_file* f) {
      File& file = file_of(f);
      const int rc = file.vfs->forward(Op::kOther, file.path ? &*file.path : nullptr, [&] {
        return file.real->pMethods ? file.real->pMethods->xClose(file.real) : SQLITE_OK;
      });
      file.~File();
      return rc;
    },
    [](sqlite3_file* f, void* buffer, int amount, sqlite3_int64 offset) {
      File& file = file_of(f);
      return file.vfs->forward(Op::kRead, file.path ? &*file.path : nullptr, [&] {
        return file.real->pMethods->xRead(file.real, buffer, amount, offset);
      });
    },
    [](sqlite3_file* f, const void* buffer, int amount, sqlite3_int64 offset) {
      File& file = file_of(f);
      return file.vfs->forward(Op::kWrite, file.path ? &*file.path : nullptr, [&] {
        return file.real->pMethods->xWrite(file.real, buffer, amount, offset);
      });
    },
    [](sqlite3_file* f, sqlite3_int64 size) {
      File& file = file_of(f);
      return file.vfs->forward(Op::kTruncate, file.path ? &*file.path : nullptr,
                               [&] { return file.real->pMethods->xTruncate(file.real, size); });
    },
    [](sqlite3_file* f, int flags) {
      File& file = file_of(f);
      return file.vfs->forward(Op::kSync, file.path ? &*file.path : nullptr, [&] {
        const int rc = file.real->pMethods->xSync(file.real, flags);
        return rc == SQLITE_OK ? file.vfs->record_sync(file) : rc;
      });
    },
    [](sqlite3_file* f, sqlite3_int64* size) {
      File& file = file_of(f);
      return file.vfs->forward(Op::kOther, file.path ? &*file.path : nullptr,
                               [&] { return file.real->pMethods->xFileSize(file.real, size); });
    },
    [](sqlite3_file* f, int level) {
      File& file = file_of(f);
      return file.vfs->forward(Op::kOther, file.path ? &*file.path : nullptr,
                               [&] { return file.real->pMethods->xLock(file.real, level); });
    },
    [](sqlite3_file* f, int level) {
      File& file = file_of(f);
      return file.vfs->forward(Op::kOther, file.path ? &*file.path : nullptr,
                               [&] { return file.real->pMethods->xUnlock(file.real, level); });
    },
    [](sqlite3_file* f, int* reserved) {
      File& file = file_of(f);
      return file.vfs->forward(Op::kOther, file.path ? &*file.path : nullptr, [&] {
        return file.real->pMethods->xCheckReservedLock(file.real, reserved);
      });
    },
    [](sqlite3_file* f, int op, void* arg) {
      File& file = file_of(f);
      return file.vfs->forward(Op::kOther, file.path ? &*file.path : nullptr, [&] {
        return file.real->pMethods->xFileControl(file.real, op, arg);
      });
    },
    [](sqlite3_file* f) {
      File& file = file_of(f);
      return file.real->pMethods->xSectorSize(file.real);
    },
    [](sqlite3_file* f) {
      File& file = file_of(f);
      return file.real->pMethods->xDeviceCharacteristics(file.real);
    },
    // The WAL's shared memory (-shm) is the real file's own, never durable.
    [](sqlite3_file* f, int page, int page_size, int extend, void volatile** memory) {
      File& file = file_of(f);
      return file.real->pMethods->xShmMap(file.real, page, page_size, extend, memory);
    },
    [](sqlite3_file* f, int offset, int n, int flags) {
      File& file = file_of(f);
      return file.real->pMethods->xShmLock(file.real, offset, n, flags);
    },
    [](sqlite3_file* f) {
      File& file = file_of(f);
      file.real->pMethods->xShmBarrier(file.real);
    },
    [](sqlite3_file* f, int delete_flag) {
      File& file = file_of(f);
      return file.real->pMethods->xShmUnmap(file.real, delete_flag);
    },
    [](sqlite3_file* f, sqlite3_int64 offset, int amount, void** page) {
      File& file = file_of(f);
      return file.vfs->forward(Op::kRead, file.path ? &*file.path : nullptr, [&] {
        return file.real->pMethods->xFetch(file.real, offset, amount, page);
      });
    },
    [](sqlite3_file* f, sqlite3_int64 offset, void* page) {
      File& file = file_of(f);
      return file.real->pMethods->xUnfetch(file.real, offset, page);
    },
};

int TestVfs::open(sqlite3_vfs* vfs, sqlite3_filename name, sqlite3_file* f, int flags,
                  int* out_flags) {
  auto* self = static_cast<TestVfs*>(vfs->pAppData);
  auto* real = reinterpret_cast<sqlite3_file*>(reinterpret_cast<char*>(f) + sizeof(File));
  File* file = new (f) File{{nullptr}, self, std::nullopt, real};
  if (name) file->path = name;
  const int rc = self->forward(Op::kOpen, file->path ? &*file->path : nullptr, [&] {
    return self->base_->xOpen(self->base_, name, real, flags, out_flags);
  });
  if (rc != SQLITE_OK) {
    // SQLite does not close a file whose open failed; the real one is closed
    // by its own VFS already.
    file->~File();
    f->pMethods = nullptr;
    return rc;
  }
  assert(real->pMethods && real->pMethods->iVersion >= 3);
  f->pMethods = &kIoMethods;
  if (file->path && self->mode_ == Mode::kPowerLoss) {
    std::lock_guard lock(self->mutex_);
    self->images_.try_emplace(*file->path);
  }
  return SQLITE_OK;
}

int TestVfs::remove(sqlite3_vfs* vfs, const char* name, int sync_dir) {
  auto* self = static_cast<TestVfs*>(vfs->pAppData);
  const std::string path = name;
  const int rc = self->forward(Op::kDelete, &path,
                               [&] { return self->base_->xDelete(self->base_, name, sync_dir); });
  if (rc == SQLITE_OK) {
    std::lock_guard lock(self->mutex_);
    self->images_.erase(path);
  }
  return rc;
}

TestVfs::TestVfs(Mode mode) : mode_(mode), base_(sqlite3_vfs_find(nullptr)) {
  if (instance_) throw std::logic_error("a TestVfs is registered already");
  if (!base_) throw std::logic_error("SQLite has no default VFS");
  vfs_ = *base_;  // the rest of the VFS (names, randomness, time) is the base's
  vfs_.szOsFile = static_cast<int>(sizeof(File)) + base_->szOsFile;
  vfs_.pNext = nullptr;
  vfs_.zName = "blotter_test";
  vfs_.pAppData = this;
  vfs_.xOpen = &TestVfs::open;
  vfs_.xDelete = &TestVfs::remove;
  // The base's methods that take the VFS itself are given the base.
  vfs_.xAccess = [](sqlite3_vfs* v, const char* name, int flags, int* out) {
    sqlite3_vfs* base = static_cast<TestVfs*>(v->pAppData)->base_;
    return base->xAccess(base, name, flags, out);
  };
  vfs_.xFullPathname = [](sqlite3_vfs* v, const char* name, int n, char* out) {
    sqlite3_vfs* base = static_cast<TestVfs*>(v->pAppData)->base_;
    return base->xFullPathname(base, name, n, out);
  };
  vfs_.xRandomness = [](sqlite3_vfs* v, int n, char* out) {
    sqlite3_vfs* base = static_cast<TestVfs*>(v->pAppData)->base_;
    return base->xRandomness(base, n, out);
  };
  vfs_.xSleep = [](sqlite3_vfs* v, int us) {
    sqlite3_vfs* base = static_cast<TestVfs*>(v->pAppData)->base_;
    return base->xSleep(base, us);
  };
  vfs_.xCurrentTime = [](sqlite3_vfs* v, double* out) {
    sqlite3_vfs* base = static_cast<TestVfs*>(v->pAppData)->base_;
    return base->xCurrentTime(base, out);
  };
  vfs_.xGetLastError = [](sqlite3_vfs* v, int n, char* out) {
    sqlite3_vfs* base = static_cast<TestVfs*>(v->pAppData)->base_;
    return base->xGetLastError(base, n, out);
  };
  vfs_.xCurrentTimeInt64 = [](sqlite3_vfs* v, sqlite3_int64* out) {
    sqlite3_vfs* base = static_cast<TestVfs*>(v->pAppData)->base_;
    return base->xCurrentTimeInt64(base, out);
  };
  // System calls are the base's alone: a test does not replace them here.
  vfs_.iVersion = 2;
  vfs_.xSetSystemCall = nullptr;
  vfs_.xGetSystemCall = nullptr;
  vfs_.xNextSystemCall = nullptr;
  if (sqlite3_vfs_register(&vfs_, 1) != SQLITE_OK)
    throw std::logic_error("cannot register the test VFS");
  instance_ = this;
}

TestVfs::~TestVfs() {
  sqlite3_vfs_unregister(&vfs_);
  sqlite3_vfs_register(base_, 1);
  instance_ = nullptr;
}

std::vector<std::string> TestVfs::write_power_loss_image(const std::filesystem::path& dir) const {
  std::lock_guard lock(mutex_);
  std::vector<std::string> names;
  for (const auto& [path, image] : images_) {
    if (!image.durable) continue;
    const std::string name = std::filesystem::path(path).filename().string();
    std::ofstream out(dir / name, std::ios::binary | std::ios::trunc);
    out.write(image.durable->data(), static_cast<std::streamsize>(image.durable->size()));
    if (!out) throw std::runtime_error("cannot write " + (dir / name).string());
    names.push_back(name);
  }
  return names;
}

int TestVfs::syncs(const std::string& path) const {
  std::lock_guard lock(mutex_);
  const auto it = images_.find(path);
  return it == images_.end() ? 0 : it->second.syncs;
}

}  // namespace blotter::testing
