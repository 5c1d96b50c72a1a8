// Fuzzes the CSV reader (CsvMarketData) with BLOTTER_FUZZ_KIND bars or ticks:
// any bytes are read to the end or refused with one InputError; what is
// accepted obeys the reader's contract and survives the journal's encoding.
//
// The bytes go to a memfd read through /proc/self/fd, so the reader opens a
// path as it does for a user's file and the library needs no in-memory API.
#include <sys/mman.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <string>

#include "blotter/error.h"
#include "blotter/event.h"
#include "blotter/market_data.h"

namespace {

using namespace blotter;

#define FUZZ_CHECK(condition)                                                            \
  do {                                                                                   \
    if (!(condition)) {                                                                  \
      std::fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #condition); \
      std::abort();                                                                      \
    }                                                                                    \
  } while (0)

constexpr std::size_t kMaxErrorBytes = 1024;

std::string input_path() {
  static const int fd = memfd_create("fuzz-input.csv", 0);
  FUZZ_CHECK(fd >= 0);
  return "/proc/self/fd/" + std::to_string(fd);
}

void check_event(const Event& e, std::map<std::string, TimestampNs>& last_by_symbol,
                 TimestampNs& last) {
  FUZZ_CHECK(!e.symbol.empty() && e.symbol.size() <= 32);
  for (const char ch : e.symbol) FUZZ_CHECK(static_cast<unsigned char>(ch) > 0x20 && ch != 0x7f);
  if (const Bar* bar = e.get_if<Bar>()) {
    FUZZ_CHECK(BLOTTER_FUZZ_KIND == MarketDataKind::kBars);
    FUZZ_CHECK(bar->open.is_positive() && bar->high.is_positive() && bar->low.is_positive() &&
               bar->close.is_positive());
    FUZZ_CHECK(!(bar->high < bar->low));
    FUZZ_CHECK(!bar->volume.is_negative());
  } else {
    const Tick& tick = e.as<Tick>();
    FUZZ_CHECK(BLOTTER_FUZZ_KIND == MarketDataKind::kTicks);
    FUZZ_CHECK(tick.price.is_positive() && !tick.volume.is_negative());
  }
  auto [it, first] = last_by_symbol.emplace(e.symbol, e.ts_ns);
  FUZZ_CHECK(first || e.ts_ns > it->second);
  it->second = e.ts_ns;
  FUZZ_CHECK(e.ts_ns >= last);
  last = e.ts_ns;
  // The journal stores the payload as JSON: it must read back the same.
  const std::string json = encode_payload(e);
  Event back = e;
  back.payload = decode_payload(e.type(), json);
  FUZZ_CHECK(encode_payload(back) == json);
}

void read_all(const std::string& path, const std::string& symbol) {
  CsvOptions options{BLOTTER_FUZZ_KIND, symbol};
  std::map<std::string, TimestampNs> last_by_symbol;
  TimestampNs last = INT64_MIN;
  try {
    CsvMarketData source(path, options);
    while (auto e = source.next()) {
      if (!symbol.empty()) FUZZ_CHECK(e->symbol == symbol);
      check_event(*e, last_by_symbol, last);
    }
    FUZZ_CHECK(source.rows() > 0);
  } catch (const InputError& e) {
    // One line of bounded length, free of control characters.
    const std::string what = e.what();
    FUZZ_CHECK(what.size() <= kMaxErrorBytes);
    for (const char ch : what) FUZZ_CHECK(static_cast<unsigned char>(ch) >= 0x20 && ch != 0x7f);
    FUZZ_CHECK(what.rfind(path, 0) == 0);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const std::string path = input_path();
  const int fd = std::stoi(path.substr(path.rfind('/') + 1));
  FUZZ_CHECK(ftruncate(fd, 0) == 0);
  FUZZ_CHECK(pwrite(fd, data, size, 0) == static_cast<ssize_t>(size));
  // Without a symbol column the rows need --symbol; with one it picks rows.
  read_all(path, "X");
  read_all(path, "");
  return 0;
}
