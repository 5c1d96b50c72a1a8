// Writes a CSV of one-minute bars for benchmarks: N rows over S symbols
// (SYM0, SYM1, ...), a deterministic random walk in cents from a fixed seed.
// Usage: blotter_gen_bars ROWS SYMBOLS > bars.csv
#include <fmt/format.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>

int main(int argc, char** argv) {
  if (argc != 3) {
    fmt::print(stderr, "usage: blotter_gen_bars ROWS SYMBOLS > bars.csv\n");
    return 2;
  }
  const long rows = std::atol(argv[1]);
  const int symbols = std::atoi(argv[2]);
  if (rows <= 0 || symbols <= 0) {
    fmt::print(stderr, "blotter_gen_bars: ROWS and SYMBOLS must be positive\n");
    return 2;
  }
  std::mt19937_64 rng(42);
  std::normal_distribution<double> step(0.0, 30.0);  // cents per minute
  std::vector<std::int64_t> cents(static_cast<std::size_t>(symbols), 10'000);
  const std::int64_t start = 1704205800;  // 2024-01-02T14:30:00Z
  std::string out = "timestamp,open,high,low,close,volume,symbol\n";
  for (long i = 0; i < rows; ++i) {
    const auto s = static_cast<std::size_t>(i % symbols);
    const std::int64_t open = cents[s];
    const std::int64_t close = std::max<std::int64_t>(100, open + std::llround(step(rng)));
    cents[s] = close;
    const std::int64_t high = std::max(open, close) + static_cast<std::int64_t>(rng() % 20);
    const std::int64_t low =
        std::max<std::int64_t>(1, std::min(open, close) - static_cast<std::int64_t>(rng() % 20));
    fmt::format_to(std::back_inserter(out), "{},{}.{:02},{}.{:02},{}.{:02},{}.{:02},{},SYM{}\n",
                   start + 60 * (i / symbols), open / 100, open % 100, high / 100, high % 100,
                   low / 100, low % 100, close / 100, close % 100, 100 + rng() % 900, s);
    if (out.size() > (1 << 20)) {
      std::fwrite(out.data(), 1, out.size(), stdout);
      out.clear();
    }
  }
  std::fwrite(out.data(), 1, out.size(), stdout);
  return 0;
}
