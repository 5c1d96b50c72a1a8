// Micro-benchmarks (Google Benchmark): the trading pipeline in memory, and
// the pieces a journaled event goes through. Built, never run by ctest;
// tools/bench.sh runs them.
#include <benchmark/benchmark.h>

#include <array>
#include <filesystem>
#include <fstream>
#include <string>
#include <utility>
#include <vector>

#include "blotter/event.h"
#include "blotter/market_data.h"
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

// One-minute bars over 10 symbols, a deterministic random walk, made one at
// a time as the market data feed makes them: a run streams its input, so the
// bars it publishes are always in cache. (A pre-built vector of 100,000
// events would be 46 MB, and the benchmark would measure reading it from
// memory instead of the pipeline.)
class BarWalk {
 public:
  Event next() {
    state_ = state_ * 6364136223846793005ull + 1442695040888963407ull;
    const std::size_t s = i_ % kSymbols;
    std::int64_t& c = cents_[s];
    const std::int64_t open = c * 1'000'000;
    c = std::max<std::int64_t>(100, c + static_cast<std::int64_t>((state_ >> 33) % 61) - 30);
    const std::int64_t close = c * 1'000'000;
    const auto ts = kStart + static_cast<TimestampNs>(i_ / kSymbols) * 60'000'000'000;
    ++i_;
    // High and low selected by a mask, not a branch: a branch on the walk's
    // random direction would be mispredicted every other bar, a cost of the
    // benchmark's input rather than of the pipeline it measures.
    const std::int64_t up = -static_cast<std::int64_t>(close > open);  // all ones if up
    const std::int64_t high = (close & up) | (open & ~up);
    const std::int64_t low = (open & up) | (close & ~up);
    return make_event(ts, symbols_[s],
                      Bar{Decimal::from_raw(open), Decimal::from_raw(high), Decimal::from_raw(low),
                          Decimal::from_raw(close), kVolume});
  }

 private:
  static constexpr std::size_t kSymbols = 10;
  static constexpr TimestampNs kStart = 1'704'205'800'000'000'000;
  static constexpr Decimal kVolume = Decimal::from_raw(1000 * Decimal::kScale);
  std::array<std::string, kSymbols> symbols_ = {"SYM0", "SYM1", "SYM2", "SYM3", "SYM4",
                                                "SYM5", "SYM6", "SYM7", "SYM8", "SYM9"};
  std::array<std::int64_t, kSymbols> cents_ = [] {
    std::array<std::int64_t, kSymbols> c{};
    c.fill(10'000);
    return c;
  }();
  std::uint64_t state_ = 42;
  std::size_t i_ = 0;
};

std::vector<Event> make_bars(std::size_t n) {
  BarWalk walk;
  std::vector<Event> bars;
  bars.reserve(n);
  for (std::size_t i = 0; i < n; ++i) bars.push_back(walk.next());
  return bars;
}

void BM_PipelineInMemory(benchmark::State& state) {
  std::int64_t events = 0;
  for (auto _ : state) {
    NullStore store;
    TradingSystem system(store, TradingConfig{});
    BarWalk walk;
    for (int i = 0; i < 100'000; ++i) system.bus().publish(walk.next());
    events += store.last_seq();
  }
  state.counters["events_per_s"] =
      benchmark::Counter(static_cast<double>(events), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_PipelineInMemory)->Unit(benchmark::kMillisecond);

void BM_EncodePayload(benchmark::State& state) {
  const auto bars = make_bars(1000);
  std::size_t bytes = 0;
  std::string payload;  // reused, as the journal reuses its rows' strings
  for (auto _ : state)
    for (const Event& bar : bars) {
      encode_payload(bar, payload);
      bytes += payload.size();
    }
  benchmark::DoNotOptimize(bytes);
  state.SetItemsProcessed(state.iterations() * 1000);
}
BENCHMARK(BM_EncodePayload);

// Reading back: the payloads of 1000 bars and of an order and a fill each,
// decoded as a scan of the journal decodes them.
void BM_DecodePayload(benchmark::State& state) {
  std::vector<std::pair<EventType, std::string>> payloads;
  for (const Event& bar : make_bars(1000)) payloads.emplace_back(bar.type(), encode_payload(bar));
  payloads.emplace_back(
      EventType::kOrder,
      encode_payload(make_event(
          0, "SYM0", Order{Side::kBuy, Decimal::from_raw(1), Decimal::from_raw(10'000), 7})));
  payloads.emplace_back(
      EventType::kFill,
      encode_payload(make_event(0, "SYM0",
                                Fill{Side::kSell, Decimal::from_raw(1), Decimal::from_raw(10'000),
                                     Decimal::from_raw(5), 8})));
  std::size_t n = 0;
  for (auto _ : state)
    for (const auto& [type, json] : payloads) {
      const Payload p = decode_payload(type, json);
      n += p.index();
    }
  benchmark::DoNotOptimize(n);
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(payloads.size()));
}
BENCHMARK(BM_DecodePayload);

// Reading and validating bars from CSV, as `blotter run` does twice: once to
// check the whole input, once to run it.
void BM_CsvBars(benchmark::State& state) {
  const auto path = std::filesystem::temp_directory_path() / "blotter_bench_bars.csv";
  {
    std::ofstream csv(path);
    csv << "timestamp,open,high,low,close,volume,symbol\n";
    for (const Event& bar : make_bars(100'000)) {
      const Bar& b = bar.as<Bar>();
      csv << bar.ts_ns / 1'000'000'000 << ',' << b.open.to_string() << ',' << b.high.to_string()
          << ',' << b.low.to_string() << ',' << b.close.to_string() << ',' << b.volume.to_string()
          << ',' << bar.symbol << '\n';
    }
  }
  std::int64_t rows = 0;
  for (auto _ : state) {
    CsvMarketData input(path.string(), CsvOptions{});
    while (input.next()) ++rows;
  }
  std::filesystem::remove(path);
  state.counters["rows_per_s"] =
      benchmark::Counter(static_cast<double>(rows), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_CsvBars)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
