#include "blotter/trading_system.h"

#include <fmt/format.h>

#include <atomic>
#include <exception>
#include <filesystem>
#include <limits>
#include <optional>
#include <set>
#include <thread>

#include "blotter/error.h"
#include "blotter/journal_location.h"
#include "blotter/snapshot.h"
#include "core/digest.h"

namespace blotter {
namespace {

std::string optional_text(const std::optional<Decimal>& d) { return d ? d->to_string() : ""; }

std::optional<Decimal> optional_decimal(const std::string& text) {
  if (text.empty()) return std::nullopt;
  return Decimal::from_string(text);
}

}  // namespace

std::unique_ptr<Strategy> make_strategy(const TradingConfig& config,
                                        const StrategyRegistry& strategies) {
  return strategies.make(config.strategy, config.params);
}

std::unique_ptr<Broker> make_broker(const TradingConfig& config) {
  if (config.broker == "paper") return std::make_unique<ExecutionEngine>(config.execution);
  throw ConfigError(fmt::format("unknown broker '{}' (blotter has: paper)", config.broker));
}

TradingSystem::Parts TradingSystem::make_parts(const TradingConfig& config,
                                               const StrategyRegistry& strategies) {
  // The broker first: its options are checked before the strategy's.
  Parts parts;
  parts.broker = make_broker(config);
  parts.strategy = make_strategy(config, strategies);
  return parts;
}

TradingSystem::TradingSystem(EventStore& store, const TradingConfig& config,
                             const StrategyRegistry& strategies)
    : TradingSystem(store, config, make_parts(config, strategies)) {}

TradingSystem::TradingSystem(EventStore& store, const TradingConfig& config,
                             std::unique_ptr<Strategy> strategy, std::unique_ptr<Broker> broker)
    : TradingSystem(store, config, Parts{std::move(broker), std::move(strategy)}) {}

TradingSystem::TradingSystem(EventStore& store, const TradingConfig& config, Parts parts)
    : bus_(store),
      feed_(bus_),
      broker_(std::move(parts.broker)),
      strategy_(std::move(parts.strategy)),
      strategy_context_(attach_parts(), &portfolio_),
      risk_(bus_, config.risk, Calendar(config.tz)),
      portfolio_(Calendar(config.tz)) {
  portfolio_.attach(bus_);
  // After the portfolio: the strategy sees a fill already booked.
  if (strategy_)
    bus_.subscribe(EventType::kFill, "SignalGenerator", [this](const Event& e) {
      strategy_context_.begin(e);
      strategy_->on_fill(e, strategy_context_);
    });
}

EventBus& TradingSystem::attach_parts() {
  if (!broker_) throw ConfigError("a trading system needs a broker");
  broker_->attach(bus_);
  if (!strategy_) return bus_;
  // The context is a member initialized right after this call: the handlers
  // use it only once events come.
  bus_.subscribe(EventType::kBar, "SignalGenerator", [this](const Event& e) {
    strategy_context_.begin(e);
    strategy_->on_bar(e, strategy_context_);
  });
  bus_.subscribe(EventType::kTick, "SignalGenerator", [this](const Event& e) {
    strategy_context_.begin(e);
    strategy_->on_tick(e, strategy_context_);
  });
  return bus_;
}

RunStarted manifest_of(const RunConfig& config, const std::string& input_sha256,
                       const StrategyRegistry& strategies) {
  const TradingConfig& t = config.trading;
  // The parameters as the strategy reads them: a default it reads is
  // recorded as if given, so equal configurations record equal text.
  const StrategyParams params = t.params;
  strategies.make(t.strategy, params);
  RunStarted m;
  m.input = config.input_path;
  m.input_sha256 = input_sha256;
  m.input_kind = config.input.kind == MarketDataKind::kBars ? "bars" : "ticks";
  m.symbol = config.input.symbol;
  m.quantity = t.risk.quantity.to_string();
  m.risk_per_trade = optional_text(t.risk.risk_per_trade);
  m.capital = t.risk.capital.to_string();
  m.max_daily_loss = t.risk.max_daily_loss.to_string();
  m.max_position = optional_text(t.risk.max_position);
  m.fill = t.execution.fill == FillModel::kSignal ? "signal" : "next-open";
  m.slippage_bps = t.execution.slippage_bps.to_string();
  m.commission = t.execution.commission.to_string();
  m.tz = t.tz;
  m.version = config.version;
  m.strategy = t.strategy;
  m.broker = t.broker;
  m.source = config.source;
  m.strategy_version = strategies.find(t.strategy)->version;
  m.params = params.canonical(true);
  // ma_crossover's window also where journals before `params` had it.
  if (t.strategy == MovingAverageCrossover::kName)
    m.window = StrategyParams::from_canonical(m.params).get_int("window", 0);
  m.strategy_sha256 = strategy_sha256(m);
  return m;
}

std::string strategy_params_of(const RunStarted& m) {
  if (m.params.empty() && m.strategy == MovingAverageCrossover::kName && m.window != 0)
    return fmt::format("window={}", m.window);
  return m.params;
}

std::string strategy_configuration(const RunStarted& m) {
  return fmt::format("strategy={}\nversion={}\nparams={}", m.strategy, m.strategy_version,
                     strategy_params_of(m));
}

std::string strategy_sha256(const RunStarted& m) {
  std::string hex;
  for (const std::uint8_t byte : detail::sha256(strategy_configuration(m)))
    hex += fmt::format("{:02x}", byte);
  return hex;
}

void require_strategy(const RunStarted& m, Seq run_seq, const StrategyRegistry& strategies) {
  if (strategies.find(m.strategy)) return;
  std::string names;
  for (const std::string& name : strategies.names()) names += (names.empty() ? "" : ", ") + name;
  throw ConfigError(fmt::format(
      "seq {}: the run used strategy '{}' version {}, which this program does not have (it "
      "has: {})",
      run_seq, m.strategy, m.strategy_version, names));
}

TradingConfig trading_config_of(const RunStarted& m) {
  TradingConfig t;
  try {
    if (m.window < 0 || m.window > std::numeric_limits<int>::max())
      throw Error(fmt::format("window {} is out of range", m.window));
    t.params = StrategyParams::from_canonical(strategy_params_of(m));
    if (!m.quantity.empty()) t.risk.quantity = Decimal::from_string(m.quantity);
    t.risk.risk_per_trade = optional_decimal(m.risk_per_trade);
    if (!m.capital.empty()) t.risk.capital = Decimal::from_string(m.capital);
    if (!m.max_daily_loss.empty()) t.risk.max_daily_loss = Decimal::from_string(m.max_daily_loss);
    t.risk.max_position = optional_decimal(m.max_position);
    t.execution.fill = m.fill == "next-open" ? FillModel::kNextOpen : FillModel::kSignal;
    if (!m.slippage_bps.empty()) t.execution.slippage_bps = Decimal::from_string(m.slippage_bps);
    if (!m.commission.empty()) t.execution.commission = Decimal::from_string(m.commission);
    if (!m.tz.empty()) t.tz = m.tz;
    t.strategy = m.strategy;
    t.broker = m.broker;
  } catch (const Error& e) {
    throw Error(fmt::format("invalid run manifest: {}", e.what()));
  }
  return t;
}

TradingSystem::State TradingSystem::state() const {
  return State{strategy_ && strategy_->saves_state() ? strategy_->save_state() : "null",
               risk_.state(), broker_->state(), portfolio_.state()};
}

void TradingSystem::restore(State state) {
  // The strategy first: it is the one that can refuse its part.
  if (strategy_ && strategy_->saves_state()) strategy_->restore_state(state.strategy);
  risk_.restore(std::move(state.risk));
  broker_->restore(std::move(state.broker));
  portfolio_.restore(std::move(state.portfolio));
}

bool same_run(const RunStarted& a, const RunStarted& b) {
  RunStarted x = a, y = b;
  x.input = y.input = "";
  x.version = y.version = "";
  // Equal digests are equal sizes; a journal before input_bytes has 0.
  x.input_bytes = y.input_bytes = 0;
  for (RunStarted* m : {&x, &y}) {
    m->params = strategy_params_of(*m);
    m->strategy_sha256 = "";
  }
  return encode_payload(make_event(0, "", x)) == encode_payload(make_event(0, "", y));
}

namespace {

// Starts the components afresh with `manifest`'s configuration.
void reset(RebuiltState& state, const RunStarted& manifest, Seq run_seq) {
  if (!state.scratch) state.scratch = std::make_unique<MemoryStore>();
  state.system.reset();
  const TradingConfig config = trading_config_of(manifest);
  // The books replay without the strategy where this program lacks it.
  if (state.strategies->find(config.strategy))
    state.system = std::make_unique<TradingSystem>(*state.scratch, config, *state.strategies);
  else
    state.system =
        std::make_unique<TradingSystem>(*state.scratch, config, nullptr, make_broker(config));
  state.run_seq = run_seq;
  state.manifest = manifest;
}

// The RUN_STARTED at `seq`. Throws blotter::Error if there is none.
RunStarted manifest_at(const EventStore& store, Seq seq) {
  std::optional<RunStarted> found;
  store.scan(ScanRange(seq, seq), [&](const Event& e) {
    if (const auto* run = e.get_if<RunStarted>()) found = *run;
    return false;
  });
  if (!found) throw Error(fmt::format("seq {} is not a RUN_STARTED", seq));
  return *found;
}

// Starts `state` from the latest usable snapshot at or before `at_seq`.
// Snapshots are never required: one that cannot be read is passed over.
void start_from_snapshot(RebuiltState& state, const EventStore& store, Seq at_seq) {
  const auto snapshot = store.snapshot_at_or_before(at_seq);
  if (!snapshot || snapshot->format != kSnapshotFormat) return;
  try {
    TradingSystem::State restored = decode_state(snapshot->state);
    reset(state, snapshot->run_seq ? manifest_at(store, snapshot->run_seq) : RunStarted{},
          snapshot->run_seq);
    const TradingSystem& system = *state.system;
    // A strategy that saves no state, or a snapshot without the state of one
    // that does: the run is replayed from its start.
    if (system.has_strategy() &&
        (!system.strategy().saves_state() || restored.strategy == "null")) {
      if (snapshot->run_seq == 0) throw Error("no strategy state in the snapshot");
      reset(state, RunStarted{}, 0);
      state.seq = snapshot->run_seq - 1;
      state.ts_ns = 0;
      return;
    }
    state.system->restore(std::move(restored));
    state.seq = snapshot->seq;
    state.ts_ns = snapshot->ts_ns;
    state.from_snapshot = snapshot->seq;
  } catch (const Error&) {
    reset(state, RunStarted{}, 0);
    state.seq = 0;
    state.ts_ns = 0;
  }
}

// The journal's latest run and its first and last RUN_FINISHED. A continued
// run has one for each time it finished: market events come after its
// first; it is finished if its last comes after its last market event.
struct LatestRun {
  Seq run_seq = 0;
  RunStarted manifest;
  Seq first_finished_seq = 0, finished_seq = 0;  // 0: none
};

LatestRun latest_run(const EventStore& store) {
  LatestRun latest;
  ScanRange range;
  range.types = {EventType::kRunStarted, EventType::kRunFinished};  // a journal indexes these
  if (const auto snapshot = store.snapshot_at_or_before(store.last_seq()))
    range.from_seq = std::max<Seq>(1, snapshot->run_seq);
  store.scan(range, [&](const Event& e) {
    if (const auto* run = e.get_if<RunStarted>()) {
      latest = LatestRun{e.seq, *run, 0, 0};
    } else if (const auto* fin = e.get_if<RunFinished>();
               fin && latest.run_seq != 0 && fin->run_seq == latest.run_seq) {
      if (!latest.first_finished_seq) latest.first_finished_seq = e.seq;
      latest.finished_seq = e.seq;
    }
    return true;
  });
  return latest;
}

// The HANDLER_ERROR events of seqs first..last.
std::int64_t handler_errors(const EventStore& store, Seq first, Seq last) {
  ScanRange errors(first, last);
  errors.types = {EventType::kHandlerError};
  return store.count(errors);
}

void fill_summary(RunSummary& summary, const TradingSystem& system) {
  const Portfolio& book = system.portfolio();
  summary.positions = book.positions();
  summary.realized_pnl = book.realized_pnl();
  summary.unrealized_pnl = book.unrealized_pnl();
  summary.days = book.days();
  summary.unfilled_orders = system.broker().pending_orders();
}

}  // namespace

std::vector<std::pair<Seq, RunStarted>> list_runs(const EventStore& store) {
  std::vector<std::pair<Seq, RunStarted>> runs;
  ScanRange range;
  range.types = {EventType::kRunStarted, EventType::kRunFinished};  // a journal indexes these
  store.scan(range, [&](const Event& e) {
    if (const auto* run = e.get_if<RunStarted>()) runs.emplace_back(e.seq, *run);
    return true;
  });
  return runs;
}

std::vector<RunSpan> run_spans(const EventStore& store) {
  const auto runs = list_runs(store);
  const Seq last = store.last_seq();
  std::vector<RunSpan> spans;
  const Seq first_run = runs.empty() ? last + 1 : runs.front().first;
  if (first_run > 1) spans.push_back(RunSpan{0, RunStarted{}, 1, first_run - 1});
  for (std::size_t i = 0; i < runs.size(); ++i)
    spans.push_back(RunSpan{runs[i].first, runs[i].second, runs[i].first,
                            i + 1 < runs.size() ? runs[i + 1].first - 1 : last});
  return spans;
}

void replay_event(RebuiltState& state, const Event& recorded) {
  // An annotation is a note on the journal, not something that happened:
  // nothing handles it, and it carries an earlier event's time.
  if (recorded.type() == EventType::kAnnotation) return;
  if (!state.system) reset(state, RunStarted{}, 0);
  if (const auto* run = recorded.get_if<RunStarted>()) {
    try {
      reset(state, *run, recorded.seq);
    } catch (const Error& err) {
      // The components refuse the recorded configuration (an edited journal).
      throw Error(fmt::format("seq {}: RUN_STARTED: {}", recorded.seq, err.what()));
    }
  }
  state.system->bus().replay(recorded);
  state.seq = recorded.seq;
  state.ts_ns = recorded.ts_ns;
}

void replay_into(RebuiltState& state, const EventStore& store, Seq to_seq) {
  if (!state.system) reset(state, RunStarted{}, 0);
  if (to_seq <= state.seq) return;
  store.scan(ScanRange(state.seq + 1, to_seq), [&](const Event& e) {
    replay_event(state, e);
    return true;
  });
}

RebuiltState rebuild_state(const EventStore& store, Seq at_seq, Snapshots snapshots,
                           const StrategyRegistry& strategies) {
  RebuiltState state;
  state.strategies = &strategies;
  reset(state, RunStarted{}, 0);
  if (snapshots == Snapshots::kUse) start_from_snapshot(state, store, at_seq);
  replay_into(state, store, at_seq);
  return state;
}

namespace {

// The run's market-data source, opened anew from its start.
std::unique_ptr<MarketDataSource> open_source(const RunConfig& config) {
  if (config.source == "csv")
    return std::make_unique<CsvMarketData>(config.input_path, config.input, config.input_bytes);
  if (config.source == "stdin") return CsvMarketData::from_stdin(config.input);
  if (config.source == "follow") return CsvMarketData::follow(config.input_path, config.input);
  throw ConfigError(fmt::format("unknown market-data source '{}' (blotter has: csv, stdin, follow)",
                                config.source));
}

bool is_live(const RunConfig& config) {
  return config.source == "stdin" || config.source == "follow";
}

// Whether two manifests are of the same run but for the input's bytes: the
// same options, strategy, seams and input kind.
bool same_options(const RunStarted& a, const RunStarted& b) {
  RunStarted x = a, y = b;
  x.input_sha256 = y.input_sha256 = "";
  return same_run(x, y);
}

// What a run does with the journal's latest run.
struct Decision {
  enum class Plan {
    kNew,       // appends a new run
    kResume,    // goes on with the unfinished latest run
    kContinue,  // goes on with the finished latest run: its input has grown
    kFinished,  // the finished latest run holds every row: appends nothing
  };
  Plan plan = Plan::kNew;
  std::int64_t rows = 0;  // kResume, kContinue: the run's market events
  Seq last_row_seq = 0;   // the last of them; 0 if none
};

// Reads the input from its start against the market events of the run
// `run_seq` (all the journal has of it), row for row: throws InputChanged
// at the first row that differs in time, symbol or any value, or if the input
// ends before them. Returns whether the input has a row after them.
bool input_has_more(const RunConfig& config, const EventStore& journal, Seq run_seq) {
  const auto source = open_source(config);
  ScanRange market(run_seq + 1, journal.last_seq());
  market.types = {EventType::kBar, EventType::kTick};
  journal.scan(market, [&](const Event& recorded) {
    const std::optional<Event> row = source->next();
    if (!row)
      throw InputChanged(source->name(), 0, recorded.seq,
                         fmt::format("ends after {} rows, before the row the journal's run "
                                     "consumed (seq {}); start a new journal or a new run",
                                     source->rows(), recorded.seq));
    if (row->ts_ns != recorded.ts_ns || row->symbol != recorded.symbol ||
        encode_payload(*row) != encode_payload(recorded))
      throw InputChanged(source->name(), source->line(), recorded.seq,
                         fmt::format("differs from the row the journal's run consumed (seq {}); "
                                     "start a new journal or a new run",
                                     recorded.seq));
    return true;
  });
  return source->next().has_value();
}

// Whether the run resumes, continues or finds the latest run finished: it
// must have the same options, and the input must hold first the rows the
// run consumed. The same input (digest) as the run's manifest holds them,
// unless the run was continued since. A manifest with input_bytes (the size
// of the input it digests) is that of a run that continues when its file
// (the same name) has grown: the file's first input_bytes bytes must be the
// bytes the run started with, and every row the run journaled (the first
// ones from the start, those of its continuations after) must read the same.
// A manifest without (an older journal) matches only exactly the same input,
// as before. Throws InputChanged (the journal is untouched) where the rows
// differ.
Decision decide(const RunConfig& config, const RunStarted& manifest, const LatestRun& latest,
                const Journal& journal) {
  Decision d;
  if (config.new_run || latest.run_seq == 0 || !same_options(latest.manifest, manifest)) return d;
  const RunStarted& run = latest.manifest;
  const bool same_bytes = run.input_sha256 == manifest.input_sha256;
  if (!same_bytes && (run.input_bytes <= 0 || run.input != manifest.input)) return d;
  ScanRange market(latest.run_seq + 1, journal.last_seq());
  market.types = {EventType::kBar, EventType::kTick};
  d.rows = journal.count(market);
  d.last_row_seq = d.rows ? journal.max_seq(market) : 0;
  const bool finished = latest.finished_seq > d.last_row_seq;
  const bool continued =
      latest.first_finished_seq != 0 && d.last_row_seq > latest.first_finished_seq;
  // The same input, and the journal holds no more rows than it: as before
  // input_bytes, the run is matched by its digest alone.
  if (run.input_bytes <= 0 || (same_bytes && !continued)) {
    d.plan = finished ? Decision::Plan::kFinished : Decision::Plan::kResume;
    return d;
  }
  const bool first_bytes_kept =
      same_bytes ||
      detail::sha256_file_prefix(config.input_path, static_cast<std::uint64_t>(run.input_bytes)) ==
          run.input_sha256;
  // Read even where the first bytes are kept: a continuation's rows are
  // after them, and a file cut back to them lacks those.
  const bool more = input_has_more(config, journal, latest.run_seq);
  if (!first_bytes_kept)
    throw InputChanged(
        config.input_path, 0, 0,
        fmt::format("its first {} bytes differ from those the journal's run (seq {}) consumed, "
                    "though every row the run journaled reads the same (a change of "
                    "formatting, or of rows it did not trade); start a new journal or a new run",
                    run.input_bytes, latest.run_seq));
  if (!finished)
    d.plan = Decision::Plan::kResume;
  else
    d.plan = more ? Decision::Plan::kContinue : Decision::Plan::kFinished;
  return d;
}

// Reads the whole input on a thread of its own, while the run goes on: a run
// commits nothing until the check has passed, so a bad row anywhere leaves
// the journal as it was. Also finds the last row's time, for RUN_FINISHED.
class InputCheck {
 public:
  explicit InputCheck(const RunConfig& config) : thread_([this, &config] { check(config); }) {}
  ~InputCheck() {
    stop_.store(true, std::memory_order_relaxed);
    if (thread_.joinable()) thread_.join();
  }
  InputCheck(const InputCheck&) = delete;
  InputCheck& operator=(const InputCheck&) = delete;

  // Whether the whole input was read and is good; false while the check is
  // still reading. Throws what the check found wrong (blotter::InputError).
  bool passed() {
    if (!passed_ && finished_.load(std::memory_order_acquire)) wait();
    return passed_;
  }
  // Whether passed() or wait() found the input good.
  bool has_passed() const { return passed_; }
  // Waits for the check to finish and returns the last row's time; throws
  // what it found wrong.
  TimestampNs wait() {
    if (thread_.joinable()) thread_.join();
    if (error_) std::rethrow_exception(error_);
    passed_ = true;
    return last_ts_;
  }

 private:
  void check(const RunConfig& config) {
    try {
      const auto input = open_source(config);
      while (!stop_.load(std::memory_order_relaxed)) {
        const auto e = input->next();
        if (!e) break;
        last_ts_ = e->ts_ns;
      }
    } catch (...) {
      error_ = std::current_exception();
    }
    finished_.store(true, std::memory_order_release);
  }

  std::atomic<bool> stop_{false};
  std::atomic<bool> finished_{false};
  bool passed_ = false;
  std::exception_ptr error_;
  TimestampNs last_ts_ = 0;
  std::thread thread_;  // last: it starts once the members above exist
};

// Stores a snapshot of the system's state with the first commit after every
// `every` events (0: none) since the journal's last, and at the end.
class SnapshotSchedule {
 public:
  SnapshotSchedule(Journal& journal, const TradingSystem& system, std::int64_t every)
      : journal_(journal),
        system_(system),
        every_(every),
        last_(journal.snapshot_at_or_before(journal.last_seq()).value_or(Snapshot{}).seq) {}

  // Stores one at the journal's last event if due, or `force`d (unless
  // there is one there already).
  void operator()(Seq run_seq, bool force) {
    const Seq seq = journal_.last_seq();
    if (every_ <= 0 || seq == last_) return;
    if (!force && seq - last_ < every_) return;
    TimestampNs ts = 0;
    journal_.scan(ScanRange(seq, seq), [&](const Event& e) {
      ts = e.ts_ns;
      return false;
    });
    journal_.put_snapshot(
        Snapshot{seq, run_seq, ts, kSnapshotFormat, encode_state(system_.state())});
    last_ = seq;
  }

 private:
  Journal& journal_;
  const TradingSystem& system_;
  std::int64_t every_;
  Seq last_;
};

// The run proper, in `journal`, once it is open: appends a new run, resumes
// the latest or finds it finished. Commits nothing before `input_check` has passed.
RunSummary run_journaled(const RunConfig& config, const RunStarted& manifest, TimestampNs first_ts,
                         InputCheck& input_check, Journal& journal,
                         const StrategyRegistry& strategies) {
  RunSummary summary;
  const LatestRun latest = latest_run(journal);
  const Decision decision = decide(config, manifest, latest, journal);
  const bool resume = decision.plan == Decision::Plan::kResume;
  // The latest run goes on: resumed, or continued with its grown input.
  const bool goes_on = resume || decision.plan == Decision::Plan::kContinue;

  if (decision.plan == Decision::Plan::kFinished) {
    summary.outcome = RunSummary::Outcome::kAlreadyFinished;
    summary.run_seq = latest.run_seq;
    const RebuiltState state =
        rebuild_state(journal, journal.last_seq(), Snapshots::kUse, strategies);
    fill_summary(summary, *state.system);
    summary.first_seq = latest.run_seq;
    summary.last_seq = journal.last_seq();
    summary.handler_errors = handler_errors(journal, summary.run_seq, summary.last_seq);
    return summary;
  }

  TradingSystem system(journal, config.trading, strategies);
  const auto opened = open_source(config);
  MarketDataSource& source = *opened;
  std::int64_t rows_before = 0;
  Seq last_row_seq = 0;  // resuming: the market event of the last journaled row
  if (goes_on) {
    // Go on from the last committed event: the components get the state the
    // events before the last journaled row give, the rows before it are read
    // past, and that row is run again against the journal, which appends
    // only the events of it that a commit mid-row (at an ORDER, kFull) left out.
    // A continued run finished after its last row: its state is that after
    // its last event (RUN_FINISHED changes none), every row it journaled is
    // read past, and the first new row comes next, as in one run over the
    // whole input (an order pending at the end of the old rows fills on it).
    summary.outcome = resume ? RunSummary::Outcome::kResumed : RunSummary::Outcome::kContinued;
    summary.run_seq = latest.run_seq;
    rows_before = decision.rows;
    last_row_seq = resume ? decision.last_row_seq : 0;
    const Seq rebuilt_to = last_row_seq ? last_row_seq - 1 : journal.last_seq();
    if (system.strategy().saves_state()) {
      system.restore(
          rebuild_state(journal, rebuilt_to, Snapshots::kUse, strategies).system->state());
    } else {
      // A strategy that saves no state gets its state only by replay: the
      // run's events are replayed into these components themselves.
      journal.scan(ScanRange(latest.run_seq + 1, rebuilt_to), [&](const Event& e) {
        if (e.type() != EventType::kAnnotation) system.bus().replay(e);
        return true;
      });
    }
    for (std::int64_t i = 0; i < rows_before - (last_row_seq ? 1 : 0); ++i) {
      if (!source.next())
        throw StoreError(fmt::format(
            "{}: run {} holds more market events than {} has rows; the journal does not "
            "match the input",
            config.journal_location, latest.run_seq, config.input_path));
    }
    summary.skipped_rows = rows_before;
  }
  // The events of the last journaled row that it is run again for: the bus
  // publishes them again, but the journal already holds them.
  std::array<std::uint64_t, kEventTypeCount> journaled_before{};
  if (last_row_seq) {
    journal.scan(ScanRange(last_row_seq, journal.last_seq()), [&](const Event& e) {
      ++journaled_before[static_cast<std::size_t>(e.type())];
      return true;
    });
  }

  summary.first_seq = journal.last_seq() + 1;
  SnapshotSchedule snapshot_if_due(journal, system, config.snapshot_every);
  using Clock = std::chrono::steady_clock;
  std::int64_t in_batch = 0;
  Clock::time_point batch_opened = Clock::now();
  try {
    Seq run_seq = latest.run_seq;
    if (goes_on) {
      journal.record_resumption(run_seq, rows_before, config.version);
      if (last_row_seq) journal.catch_up_from(last_row_seq);
    } else {
      run_seq = system.bus().publish(make_event(first_ts, "", manifest));
    }
    summary.run_seq = run_seq;
    summary.rows = system.feed().publish_all(source, [&](const MarketDataSource& src) {
      if (config.stop && config.stop->load(std::memory_order_relaxed)) throw RunInterrupted();
      if (++in_batch < config.batch_rows && Clock::now() - batch_opened < config.batch_latency)
        return;
      // Until the input has passed, the batch stays open: the first commit
      // is the first batch that closes after it.
      if (!input_check.passed()) return;
      snapshot_if_due(run_seq, false);
      journal.close_batch();
      in_batch = 0;
      batch_opened = Clock::now();
      if (config.on_progress) config.on_progress(src);
    });
    if (last_row_seq) --summary.rows;  // that row's market event was journaled before
    const std::int64_t events = journal.last_seq() - run_seq + 2;
    system.bus().publish(make_event(
        input_check.wait(), "",
        RunFinished{run_seq, rows_before + summary.rows, events, journal.resumptions(run_seq)}));
    snapshot_if_due(run_seq, true);
    journal.commit();
  } catch (RunInterrupted& stopped) {
    journal.rollback();
    const Seq first_seq = summary.first_seq;
    stopped.last_seq = journal.last_seq();
    stopped.first_seq = stopped.last_seq >= first_seq ? first_seq : 0;
    const Seq run_seq = goes_on ? latest.run_seq : first_seq;
    if (stopped.last_seq >= run_seq) {
      stopped.run_seq = run_seq;
      ScanRange market(run_seq + 1, stopped.last_seq);
      market.types = {EventType::kBar, EventType::kTick};
      stopped.rows = journal.count(market);
    }
    throw;
  } catch (...) {
    journal.rollback();
    throw;
  }
  if (config.on_progress) config.on_progress(source);

  summary.last_seq = journal.last_seq();
  for (std::size_t t = 0; t < kEventTypeCount; ++t)
    summary.events_by_type[t] =
        system.bus().published(static_cast<EventType>(t)) - journaled_before[t];
  // A new run's are all this process's; a resumed run's also those before.
  summary.handler_errors =
      goes_on ? handler_errors(journal, summary.run_seq, summary.last_seq)
              : static_cast<std::int64_t>(system.bus().published(EventType::kHandlerError));
  fill_summary(summary, system);
  return summary;
}

}  // namespace

namespace {

// How long a live session waits for input at most before it looks at
// RunConfig::stop again (a signal usually ends the wait at once).
constexpr std::chrono::milliseconds kStopCheck{100};

// A bad row of a live session, before it is journaled.
struct Rejection {
  InputError error;
  std::string row;
};

// What a resumed live session skips of the rows fed to it again: the rows
// the run holds, recognised per symbol by time (MarketDataSource gives each
// symbol's rows in time order), and its rejected rows by their raw text.
class KnownRows {
 public:
  KnownRows(const Journal& journal, Seq run_seq) {
    ScanRange range(run_seq + 1, journal.last_seq());
    range.types = {EventType::kBar, EventType::kTick};
    journal.scan(range, [&](const Event& e) {
      auto [it, added] = last_.try_emplace(e.symbol, Last{e.ts_ns, 0, 0});
      if (it->second.ts != e.ts_ns) it->second = Last{e.ts_ns, 0, 0};
      ++it->second.count_at_ts;
      return true;
    });
  }

  // Whether the run holds `row` (counted as seen if it does).
  bool holds(const Event& row) {
    const auto it = last_.find(row.symbol);
    if (it != last_.end()) {
      Last& last = it->second;
      if (row.ts_ns < last.ts) return true;
      if (row.ts_ns == last.ts && last.seen_at_ts < last.count_at_ts) {
        ++last.seen_at_ts;
        return true;
      }
    }
    ran_one_ = true;
    return false;
  }

  // Whether the run holds a rejected row of `text` (as INPUT_REJECTED quotes
  // it) that was not fed again yet, before the first row that is run.
  bool holds_rejected(const std::string& text) {
    if (ran_one_) return false;
    const auto it = rejected_.find(text);
    if (it == rejected_.end()) return false;
    rejected_.erase(it);
    return true;
  }

  void add_rejected(std::string text) { rejected_.insert(std::move(text)); }

 private:
  // A symbol's last journaled market event: its time, how many of the
  // symbol's rows the run holds at that time, and how many were fed again.
  struct Last {
    TimestampNs ts;
    std::int64_t count_at_ts, seen_at_ts;
  };
  std::map<std::string, Last> last_;
  std::multiset<std::string> rejected_;
  bool ran_one_ = false;
};

// Gives `system` the state of run `run_seq` after the events up to
// `rebuilt_to` of `journal`.
void restore_run(TradingSystem& system, const Journal& journal, Seq run_seq, Seq rebuilt_to,
                 const StrategyRegistry& strategies) {
  if (system.strategy().saves_state()) {
    system.restore(rebuild_state(journal, rebuilt_to, Snapshots::kUse, strategies).system->state());
    return;
  }
  // A strategy that saves no state gets its state only by replay.
  journal.scan(ScanRange(run_seq + 1, rebuilt_to), [&](const Event& e) {
    if (e.type() != EventType::kAnnotation) system.bus().replay(e);
    return true;
  });
}

RunSummary run_live_session(const RunConfig& config, const StrategyRegistry& strategies) {
  using Clock = std::chrono::steady_clock;
  check_journal_location(config.journal_location);
  {
    MemoryStore scratch;
    TradingSystem check(scratch, config.trading, strategies);
  }
  const auto source = open_source(config);
  const auto stopped = [&] { return config.stop && config.stop->load(std::memory_order_relaxed); };

  // The first good row is awaited before the journal is opened: RUN_STARTED
  // takes its time, and a session fed nothing leaves no journal behind.
  std::vector<Rejection> early;
  std::optional<Event> first;
  while (!first) {
    if (stopped()) throw RunInterrupted();
    try {
      first = source->next();
    } catch (const InputError& error) {
      const auto row = source->rejected_row();
      if (!row || config.on_bad_row == RunConfig::OnBadRow::kStop) throw;
      early.push_back(Rejection{error, *row});
      continue;
    }
    if (first) break;
    if (source->ended()) throw InputError(source->name(), source->line(), "", "no data rows");
    source->wait_for_input(Clock::now() + kStopCheck);
  }
  const Clock::time_point first_arrival = Clock::now();

  const RunStarted manifest = manifest_of(config, "", strategies);
  JournalOptions options;
  options.durability = config.durability;
  options.sync_interval = config.sync_interval;
  const auto opened = open_journal(config.journal_location, Journal::Mode::kWrite, options);
  Journal& journal = *opened;

  RunSummary summary;
  const LatestRun latest = latest_run(journal);
  // A live input has no digest to tell feeds apart: the input's name does
  // ("-" for standard input), so following another file starts a new run.
  const bool resume = !config.new_run && latest.run_seq != 0 && latest.finished_seq == 0 &&
                      same_run(latest.manifest, manifest) &&
                      latest.manifest.input == manifest.input;
  TradingSystem system(journal, config.trading, strategies);
  std::int64_t rows_before = 0;
  Seq last_row_seq = 0;  // resuming: the market event of the last journaled row
  std::optional<Event> last_row;
  std::vector<Event> rejected_after;  // resuming: rejections after the last journaled row
  std::optional<KnownRows> known;
  TimestampNs last_good_ts = first->ts_ns;
  std::array<std::uint64_t, kEventTypeCount> journaled_before{};
  if (resume) {
    summary.outcome = RunSummary::Outcome::kResumed;
    ScanRange market(latest.run_seq + 1, journal.last_seq());
    market.types = {EventType::kBar, EventType::kTick};
    rows_before = journal.count(market);
    last_row_seq = rows_before ? journal.max_seq(market) : 0;
    restore_run(system, journal, latest.run_seq,
                last_row_seq ? last_row_seq - 1 : journal.last_seq(), strategies);
    known.emplace(journal, latest.run_seq);
    journal.scan(ScanRange(latest.run_seq + 1, journal.last_seq()), [&](const Event& e) {
      // What is published again below, found journaled: from the last row on.
      if (last_row_seq && e.seq >= last_row_seq)
        ++journaled_before[static_cast<std::size_t>(e.type())];
      if (e.seq == last_row_seq) last_row = e;
      if (const auto* r = e.get_if<InputRejected>()) {
        known->add_rejected(r->row);
        if (e.seq > last_row_seq) rejected_after.push_back(e);
      }
      return true;
    });
    if (last_row) last_good_ts = last_row->ts_ns;
    summary.skipped_rows = rows_before;
  }

  summary.first_seq = journal.last_seq() + 1;
  SnapshotSchedule snapshot_if_due(journal, system, config.snapshot_every);

  std::int64_t rows = 0, in_batch = 0;
  std::optional<Clock::time_point> due;  // when the open batch must be closed
  std::string ended;
  std::optional<InputError> stop_error;
  try {
    Seq run_seq = latest.run_seq;
    if (resume) {
      journal.record_resumption(run_seq, rows_before, config.version);
      if (last_row) {
        // The last journaled row is run again from the journal, which
        // appends only what a commit mid-row left out; the rejections after
        // it are appended again too, and found journaled.
        journal.catch_up_from(last_row_seq);
        Event again = *last_row;
        again.seq = 0;
        again.recorded_ns = 0;
        system.bus().publish(std::move(again));
        for (Event& e : rejected_after) {
          e.seq = 0;
          e.recorded_ns = 0;
          system.bus().publish(std::move(e));
        }
      }
    } else {
      run_seq = system.bus().publish(make_event(first->ts_ns, "", manifest));
    }
    summary.run_seq = run_seq;

    const auto close_batch = [&] {
      snapshot_if_due(run_seq, false);
      journal.close_batch();
      in_batch = 0;
      due.reset();
      if (config.on_progress) config.on_progress(*source);
    };
    const auto added = [&](Clock::time_point arrival) {
      if (!due) due = arrival + config.batch_latency;
      if (++in_batch >= config.batch_rows) close_batch();
    };
    // Each returns false once the session is to end.
    const auto reject = [&](const InputError& error, const std::string& row,
                            Clock::time_point arrival) {
      InputRejected rejected = input_rejected(error, row);
      if (known && known->holds_rejected(rejected.row)) return true;
      system.bus().publish(make_event(last_good_ts, "", std::move(rejected)));
      added(arrival);
      if (config.on_bad_row == RunConfig::OnBadRow::kSkip) return true;
      ended = "bad_row";
      stop_error = error;
      return false;
    };
    const auto run_row = [&](Event row, Clock::time_point arrival) {
      if (config.until && row.ts_ns > *config.until) {
        ended = "until";
        return false;
      }
      last_good_ts = row.ts_ns;
      if (known && known->holds(row)) return true;
      system.bus().publish(std::move(row));
      ++rows;
      added(arrival);
      return true;
    };

    bool going = true;
    for (const Rejection& r : early) going = going && reject(r.error, r.row, first_arrival);
    going = going && run_row(std::move(*first), first_arrival);
    while (going) {
      if (due && Clock::now() >= *due) close_batch();
      if (stopped()) {
        ended = config.stop_reason ? config.stop_reason() : "sigint";
        break;
      }
      std::optional<Event> row;
      try {
        row = source->next();
      } catch (const InputError& error) {
        const auto text = source->rejected_row();
        if (!text) {
          // The source cannot go on: what came before is committed, and the
          // run is left unfinished, to be resumed.
          journal.commit();
          throw;
        }
        going = reject(error, *text, Clock::now());
        continue;
      }
      if (row) {
        going = run_row(std::move(*row), Clock::now());
      } else if (source->ended()) {
        ended = "end_of_input";
        break;
      } else {
        // The input is idle: nothing could join the open batch now, so it
        // is committed at once rather than at its deadline. Batches grow
        // only while rows arrive faster than they are run (group commit);
        // batch_latency bounds the wait of a row while they do.
        if (due) close_batch();
        source->wait_for_input(Clock::now() + kStopCheck);
      }
    }
    const std::int64_t events = journal.last_seq() - run_seq + 2;
    RunFinished finished{run_seq, rows_before + rows, events, journal.resumptions(run_seq)};
    finished.ended = ended;
    system.bus().publish(make_event(last_good_ts, "", std::move(finished)));
    snapshot_if_due(run_seq, true);
    journal.commit();
  } catch (...) {
    journal.rollback();
    throw;
  }
  if (config.on_progress) config.on_progress(*source);
  if (stop_error) throw *stop_error;

  summary.ended = ended;
  summary.rows = rows;
  summary.last_seq = journal.last_seq();
  for (std::size_t t = 0; t < kEventTypeCount; ++t)
    summary.events_by_type[t] =
        system.bus().published(static_cast<EventType>(t)) - journaled_before[t];
  summary.handler_errors = handler_errors(journal, summary.run_seq, summary.last_seq);
  fill_summary(summary, system);
  return summary;
}

}  // namespace

RunSummary run_paper_trading(const RunConfig& config, const StrategyRegistry& strategies) {
  if (is_live(config)) return run_live_session(config, strategies);
  check_journal_location(config.journal_location);
  // The input is read to check it, for its digest and to run it: a pipe or
  // a device would give the later readings nothing, after the journal was opened.
  std::error_code ec;
  const auto status = std::filesystem::status(config.input_path, ec);
  if (!ec && std::filesystem::exists(status) && !std::filesystem::is_regular_file(status) &&
      !std::filesystem::is_directory(status))
    throw InputError(config.input_path, 0, "",
                     "not a regular file (a pipe or a device): blotter run reads its input more "
                     "than once");
  // Options the components refuse are refused before anything is read or
  // opened: components built on a scratch store check them.
  {
    MemoryStore scratch;
    TradingSystem check(scratch, config.trading, strategies);
  }
  // The header and the first row (its time is RUN_STARTED's) are read before
  // the journal is opened; the rest is checked on another thread during the run.
  const auto head = open_source(config);
  const TimestampNs first_ts = head->next()->ts_ns;  // next() throws if there is no row
  // Every reader of the input reads it as the first one found it: rows
  // appended during the run are the next run's (it continues this one).
  RunConfig pinned = config;
  pinned.input_bytes = head->size();
  InputCheck input_check(pinned);
  // Every ORDER is committed at once: the whole input is checked before any.
  if (config.durability == Durability::kFull || config.check_input_first) input_check.wait();
  // The input is checked ahead and resumed by its digest: a source without
  // one cannot be run (MarketDataSource).
  const std::optional<std::string> input_sha256 = head->sha256();
  if (!input_sha256)
    throw InputError(head->name(), 0, "",
                     "cannot be read twice: blotter run reads its input more than once");
  RunStarted manifest = manifest_of(config, *input_sha256, strategies);
  manifest.input_bytes = static_cast<std::int64_t>(head->size().value_or(0));
  JournalOptions options;
  options.durability = config.durability;
  options.sync_interval = config.sync_interval;
  auto journal = open_journal(config.journal_location, Journal::Mode::kWrite, options);
  const bool journal_is_new = journal->created();
  try {
    return run_journaled(pinned, manifest, first_ts, input_check, *journal, strategies);
  } catch (...) {
    // Nothing of the run was committed before its input passed: a journal
    // this run created holds nothing but the schema, and goes with it.
    if (journal_is_new && !input_check.has_passed()) {
      journal.reset();
      remove_journal(config.journal_location);
    }
    throw;
  }
}

}  // namespace blotter
