// Micro-benchmarks (Google Benchmark): the trading pipeline in memory, and
// the pieces a journaled event goes through. Built, never run by ctest;
// tools/bench.sh runs them.
#include <benchmark/benchmark.h>

#include <vector>

#include "blotter/event.h"
#include "blotter/store.h"
#include "blotter/trading_system.h"

namespace {

using namespace blotter;

// A store that keeps nothing: the pipeline's own cost, without a journal.
class NullStore final : public EventStore {
 public:
  Seq append(Event& event) override { return event.seq = ++last_; }
  void commit() override {}
  void rollback() override {}
  Seq last_seq() const override { return last_; }
  Seq last_seq_at_or_before(TimestampNs) const override { return 0; }
  void scan(const ScanRange&, const std::function<bool(const Event&)>&) const override {}

 private:
  Seq last_ = 0;
};

// One-minute bars over 10 symbols, a deterministic random walk.
std::vector<Event> make_bars(std::size_t n) {
  std::vector<Event> bars;
  bars.reserve(n);
  std::vector<std::int64_t> cents(10, 10'000);
  std::uint64_t state = 42;
  for (std::size_t i = 0; i < n; ++i) {
    state = state * 6364136223846793005ull + 1442695040888963407ull;
    std::int64_t& c = cents[i % 10];
    const Decimal open = Decimal::from_raw(c * 1'000'000);
    c = std::max<std::int64_t>(100, c + static_cast<std::int64_t>((state >> 33) % 61) - 30);
    const Decimal close = Decimal::from_raw(c * 1'000'000);
    bars.push_back(make_event(
        1'704'205'800'000'000'000 + static_cast<TimestampNs>(i / 10) * 60'000'000'000,
        "SYM" + std::to_string(i % 10),
        Bar{open, std::max(open, close), std::min(open, close), close, Decimal::from_int(1000)}));
  }
  return bars;
}

void BM_PipelineInMemory(benchmark::State& state) {
  const auto bars = make_bars(100'000);
  std::int64_t events = 0;
  for (auto _ : state) {
    NullStore store;
    TradingSystem system(store, TradingConfig{});
    for (const Event& bar : bars) system.bus().publish(bar);
    events += store.last_seq();
  }
  state.counters["events_per_s"] =
      benchmark::Counter(static_cast<double>(events), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_PipelineInMemory)->Unit(benchmark::kMillisecond);

void BM_EncodePayload(benchmark::State& state) {
  const auto bars = make_bars(1000);
  std::size_t bytes = 0;
  for (auto _ : state)
    for (const Event& bar : bars) bytes += encode_payload(bar).size();
  benchmark::DoNotOptimize(bytes);
  state.SetItemsProcessed(state.iterations() * 1000);
}
BENCHMARK(BM_EncodePayload);

}  // namespace

BENCHMARK_MAIN();
