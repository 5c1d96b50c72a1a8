// The paper-trading pipeline wired on one bus, and the journaled run.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "blotter/broker.h"
#include "blotter/bus.h"
#include "blotter/calendar.h"
#include "blotter/error.h"
#include "blotter/execution_engine.h"
#include "blotter/journal.h"
#include "blotter/ma_crossover.h"
#include "blotter/market_data.h"
#include "blotter/portfolio.h"
#include "blotter/risk_manager.h"
#include "blotter/strategy.h"

namespace blotter {

struct TradingConfig {
  // The strategy, by its name in a StrategyRegistry, and its parameters.
  std::string strategy = "ma_crossover";
  StrategyParams params;
  // The broker, by name (make_broker), and the configuration of blotter's own.
  std::string broker = "paper";
  ExecutionConfig execution;  // paper's
  RiskConfig risk;
  std::string tz = "UTC";  // the trading-day boundary
};

// The strategy `config.strategy` names in `strategies`, made with
// config.params (StrategyRegistry::make). Throws blotter::ConfigError for a
// name it lacks (naming it), a parameter it does not read or an invalid one.
std::unique_ptr<Strategy> make_strategy(
    const TradingConfig& config, const StrategyRegistry& strategies = StrategyRegistry::builtin());
// The broker `config.broker` names: today only "paper" (ExecutionEngine with
// config.execution). Throws blotter::ConfigError for another name (naming
// it) or an invalid option.
std::unique_ptr<Broker> make_broker(const TradingConfig& config);

// The components, each subscribed to the bus in this order (which is the
// order handlers of one event type run in): the broker (handler name
// "ExecutionEngine"), the strategy ("SignalGenerator"), RiskManager,
// Portfolio, and last the strategy's on_fill (also "SignalGenerator"), so
// that it sees the fill booked. They talk only through the bus. Not thread-safe.
class TradingSystem {
 public:
  // The strategy and broker `config` names (make_strategy from `strategies`,
  // make_broker). Throws blotter::ConfigError for invalid options. `store`
  // must outlive this.
  TradingSystem(EventStore& store, const TradingConfig& config,
                const StrategyRegistry& strategies = StrategyRegistry::builtin());
  // With the given strategy and broker instead (config.strategy,
  // config.params and config.execution then unused). A null `strategy`
  // makes a system of the books alone (for replaying a run whose strategy
  // this program lacks): nothing handles market events for it. Throws
  // blotter::ConfigError for invalid risk options or time zone, or a null broker.
  TradingSystem(EventStore& store, const TradingConfig& config, std::unique_ptr<Strategy> strategy,
                std::unique_ptr<Broker> broker);

  EventBus& bus() { return bus_; }
  MarketDataFeed& feed() { return feed_; }
  const Portfolio& portfolio() const { return portfolio_; }
  const RiskManager& risk() const { return risk_; }
  // Whether the system has a strategy; strategy() requires one.
  bool has_strategy() const { return strategy_ != nullptr; }
  const Strategy& strategy() const { return *strategy_; }
  const Broker& broker() const { return *broker_; }

  // Everything the components hold, each component's one state, for
  // snapshots and resumed runs: a system with the same parts given
  // restore(other.state()) goes on exactly as `other` would. Only between
  // events (never from a handler).
  struct State {
    // Strategy::save_state(); "null" without a strategy or for one that
    // saves none (Strategy::saves_state()).
    std::string strategy;
    RiskManager::State risk;
    Broker::State broker;
    Portfolio::State portfolio;
  };
  State state() const;
  // Throws blotter::Error if the strategy refuses its part; the system may
  // then hold part of `state`. The strategy's part is ignored without a
  // strategy or for one that saves none.
  void restore(State state);

 private:
  struct Parts {
    std::unique_ptr<Broker> broker;
    std::unique_ptr<Strategy> strategy;
  };
  static Parts make_parts(const TradingConfig& config, const StrategyRegistry& strategies);
  TradingSystem(EventStore& store, const TradingConfig& config, Parts parts);
  // Subscribes the broker, then the strategy; returns the bus.
  EventBus& attach_parts();

  EventBus bus_;
  MarketDataFeed feed_;
  std::unique_ptr<Broker> broker_;
  std::unique_ptr<Strategy> strategy_;
  StrategyContext strategy_context_;
  RiskManager risk_;
  Portfolio portfolio_;
};

struct RunConfig {
  std::string input_path;
  CsvOptions input;
  // Where the journal is (journal_location.h): a SQLite file's path today.
  std::string journal_location;
  TradingConfig trading;
  // A journal batch holds whole input rows with every event they caused, and
  // is committed as a whole; it closes after this many rows or once it has
  // been open this long, whichever comes first (group commit). A writer
  // thread commits it while the next batch is being made.
  int batch_rows = 4096;
  std::chrono::milliseconds batch_latency{10};
  // kFull: synchronous=FULL, and every ORDER is committed before the
  // execution engine acts on it. The journal's events are the same either way.
  Durability durability = Durability::kNormal;
  // kNormal: the journal is synced at most this long after each commit
  // (JournalOptions::sync_interval).
  std::chrono::milliseconds sync_interval = kDefaultSyncInterval;
  // The whole input is checked before anything of the run is committed. By
  // default the check runs alongside the run, and a batch due before it has
  // passed stays open until it has, so the first commit can hold more rows
  // than batch_rows. True: the check comes first (as kFull always does), and
  // batches close exactly on their count from the first row on.
  bool check_input_first = false;
  std::string version = "unknown";  // recorded in the manifest
  // The market-data source, by name: "csv" (CsvMarketData of input_path
  // with `input`), or for a live session "stdin" (CsvMarketData::from_stdin;
  // input_path "-") or "follow" (CsvMarketData::follow of input_path).
  // Another name is a blotter::ConfigError.
  std::string source = "csv";
  // "csv": read at most this many bytes of the input (unset: the file as
  // it is when opened). run_paper_trading sets it to the size it first saw.
  std::optional<std::uint64_t> input_bytes;
  // Live sessions only. The session ends before the first row whose event
  // time is after `until` (that row is not run); none: no such end.
  std::optional<TimestampNs> until;
  // Live sessions only: what a bad row does. kSkip: it is journaled as
  // INPUT_REJECTED and the session goes on; kStop: it is journaled, the
  // session ends (RUN_FINISHED) and its InputError is thrown. Before the
  // first good row there is no session yet: kStop throws the InputError and
  // nothing is journaled; kSkip journals the bad rows with the first good one.
  enum class OnBadRow { kSkip, kStop };
  OnBadRow on_bad_row = OnBadRow::kSkip;
  // Live sessions only: once `stop` reads true, the session ends as at the
  // end of its input, and RUN_FINISHED's `ended` is what this returns
  // (unset: "sigint").
  std::function<std::string()> stop_reason;
  // Called after each closed batch with the input read so far.
  std::function<void(const MarketDataSource&)> on_progress;
  // A snapshot is stored with the first commit after every this many events
  // (and one at the end of the run); 0: none.
  std::int64_t snapshot_every = 100'000;
  // If not null: once it reads true (say, set by a signal handler), the run
  // stops before its next input row and throws RunInterrupted (a live
  // session: only while it awaits its first row; later it ends, stop_reason). The open
  // batch is rolled back, as if the process had been killed there, so the
  // same run resumes later exactly as after a kill.
  const std::atomic<bool>* stop = nullptr;
  // True: the run is a new one, even where the journal's latest run would
  // be resumed, continued or found finished, or its input refused as changed.
  bool new_run = false;
};

// The input holds other rows where the journal's latest run (same name and
// options) read it: what() is one line, "FILE:LINE: differs from the row the
// journal's run consumed (seq S); start a new journal or a new run" (line()
// and `seq` 0 where no one row differs: the bytes changed but not the rows,
// or the file ends before the rows the run consumed).
class InputChanged : public InputError {
 public:
  InputChanged(std::string file, std::int64_t line, Seq row_seq, const std::string& message)
      : InputError(std::move(file), line, "", message), seq(row_seq) {}
  Seq seq = 0;  // the market event of the row that differs; 0 if none
};

// A run stopped through RunConfig::stop, after the journal was left with its
// committed batches only. What the journal holds of the run:
class RunInterrupted : public Error {
 public:
  RunInterrupted() : Error("the run was interrupted") {}
  Seq run_seq = 0;        // the run's RUN_STARTED; 0 if not committed
  Seq first_seq = 0;      // the first seq this process committed; 0 if none
  Seq last_seq = 0;       // the journal's last committed seq
  std::int64_t rows = 0;  // the run's input rows committed, this and earlier processes
};

struct RunSummary {
  // What the run did with the journal: appended a new run, resumed an
  // unfinished run of the same input and options, continued a finished run
  // whose input has grown, or found that run already finished with every
  // row of the input and appended nothing.
  enum class Outcome { kNew, kResumed, kContinued, kAlreadyFinished };
  Outcome outcome = Outcome::kNew;
  Seq run_seq = 0;  // the run's RUN_STARTED
  // kResumed, kContinued: input rows already journaled, not run again
  std::int64_t skipped_rows = 0;
  // Events this process appended, by type (a resumed run's events that
  // earlier processes had journaled are not counted).
  std::array<std::uint64_t, kEventTypeCount> events_by_type{};
  std::int64_t rows = 0;
  Seq first_seq = 0, last_seq = 0;
  std::map<std::string, Position> positions;
  Decimal realized_pnl, unrealized_pnl;
  std::vector<DayPnl> days;
  std::size_t unfilled_orders = 0;
  // HANDLER_ERROR events of the run (all its processes, resumed or not): a
  // component failed on an event, so the books may lack what it did.
  std::int64_t handler_errors = 0;
  // A live session: how it ended, as its RUN_FINISHED records it.
  std::string ended;
};

// Paper-trades one CSV file into the journal at RunConfig::journal_location
// (a location of an unknown scheme is a blotter::ConfigError before
// anything is read). The input is validated in full
// before anything of the run is committed: its header and first row before
// the journal is opened, the rest on another thread while the run goes on,
// with the run's first batch held open until that check has passed (with
// Durability::kFull, before the run starts). Bad input throws
// blotter::InputError and leaves nothing behind: the journal as it was, or
// none if the run would have created it. The input must be a regular
// file, as it is read more than once (not a pipe or a device). During the run, each batch
// of rows is committed with all its consequences; if the process dies, the
// journal holds every committed batch and never part of one (with
// Durability::kFull, also each ORDER and the events before it). Throws
// blotter::StoreError if the journal cannot be written, and RunInterrupted
// once RunConfig::stop reads true before an input row. A journal the run
// created is removed if the run fails before its input has passed its check.
// The run writes RUN_STARTED (its manifest: configuration, input name, size
// and SHA-256, blotter version; event time of the first row) before the first
// row and RUN_FINISHED (counts; event time of the last row) after the last.
// Unless RunConfig::new_run, the journal's latest run goes on where it has
// the same options and the input holds first the rows it consumed: the same
// input (the same digest, whatever its name), or the same name with the
// same first input_bytes bytes and, row for row from the start, every row
// the run journaled (a file grown since). If that run did not finish, the
// run resumes it: state is rebuilt by replay up to the last journaled row,
// the rows before it are skipped, that row is run again against the journal
// (its events compared with those journaled, any it lacks appended), and the
// rest is appended, so the journal ends up with exactly the events of an
// uninterrupted run. If it did finish and the input has rows after those it
// journaled, the run continues it: state is rebuilt up to its last event,
// its rows are skipped, and the new rows and another RUN_FINISHED are
// appended, so its trading events are those of one run over the whole
// input; otherwise nothing is appended. A resumption and a continuation are
// each recorded (Journal::record_resumption, RUN_FINISHED's resumed_at).
// Where the name is the same but those rows are not, throws InputChanged,
// the journal untouched. A manifest without input_bytes (journals before
// it) goes on only with the same digest. Anything else starts a new run.
// The strategy is made from `strategies`.
//
// A live session (RunConfig::source "stdin" or "follow") is run differently,
// as a stream can be neither checked ahead nor read twice. Its first good row
// is awaited before the journal is opened (RUN_STARTED takes its time); then
// each row is run as it arrives, and its batch closed (committed by the
// writer) as soon as no further row is waiting, and at the latest
// RunConfig::batch_latency after its first row's arrival while rows keep
// coming (or after RunConfig::batch_rows rows). A bad row is journaled as INPUT_REJECTED (event
// time: the last good row's, or the first's for one before it) and skipped, or with OnBadRow::kStop
// ends the session and is thrown. The session ends at the end of the input, at RunConfig::until or
// once RunConfig::stop reads true: what was read is committed, with RUN_FINISHED (event time of the
// last good row; `ended` saying how). The manifest records the source and the input name ("-" for
// standard input) and no digest. If the journal's latest run has the same manifest and did not
// finish (the process was killed), the session resumes it, fed again from its start or from any
// point up to the first row at the last journaled event time: state is rebuilt, an incoming row is
// skipped if its event time is before the last journaled market event of its symbol, and so are as
// many rows at exactly that time as the run holds; so is a bad row whose raw text the run has
// journaled, until the first row that is run. The last journaled row is completed from the journal
// (the part of it a commit at an ORDER left out, Durability::kFull). A finished latest run, or
// RunConfig::new_run, starts a new one.
RunSummary run_paper_trading(const RunConfig& config,
                             const StrategyRegistry& strategies = StrategyRegistry::builtin());

// The manifest a run with `config` records; `input_sha256` is the input's
// digest (input_bytes, its size, is left 0 for the caller to set). Its strategy fields are the
// strategy's name, its version in `strategies`, its parameters as the strategy reads them (given or
// default, StrategyParams::canonical(true)) and the SHA-256 of strategy_configuration(). Throws
// blotter::ConfigError as make_strategy does.
RunStarted manifest_of(const RunConfig& config, const std::string& input_sha256,
                       const StrategyRegistry& strategies = StrategyRegistry::builtin());
// The trading configuration recorded in `manifest`. Throws blotter::Error if
// the manifest holds an invalid value.
TradingConfig trading_config_of(const RunStarted& manifest);

// The strategy parameters `manifest` records, as canonical text: its
// `params`, or for a journal written before that field (an ma_crossover run
// without it), "window=N" from its `window`.
std::string strategy_params_of(const RunStarted& manifest);
// The canonical configuration of a run's strategy, which the manifest's
// strategy_sha256 digests: "strategy=NAME\nversion=V\nparams=PARAMS".
std::string strategy_configuration(const RunStarted& manifest);
// The lowercase hex SHA-256 of strategy_configuration(manifest).
std::string strategy_sha256(const RunStarted& manifest);

// Throws blotter::ConfigError unless `strategies` has the strategy of the
// run whose RUN_STARTED is `manifest` at `run_seq`: "seq N: the run used
// strategy 'NAME' version V, which this program does not have (it has: ...)".
// A different version of that name is accepted.
void require_strategy(const RunStarted& manifest, Seq run_seq, const StrategyRegistry& strategies);

// The state of the books after one event of the journal, rebuilt by replaying
// the recorded events through the same components the run used (EventBus::replay),
// configured from the run's manifest.
// The books rebuild for any run; the strategy's part only for a run whose
// strategy `strategies` has (otherwise the system has none).
struct RebuiltState {
  Seq seq = 0;                            // the last event replayed; 0 for an empty journal
  TimestampNs ts_ns = 0;                  // its event time
  Seq run_seq = 0;                        // the RUN_STARTED of the run it belongs to; 0 if none
  Seq from_snapshot = 0;                  // the snapshot the rebuild started from; 0 if none
  RunStarted manifest;                    // that run's configuration (defaults if none)
  std::unique_ptr<MemoryStore> scratch;   // the (unused) store of `system`
  std::unique_ptr<TradingSystem> system;  // components holding the state
  // Where each run's strategy is made from; never null.
  const StrategyRegistry* strategies = &StrategyRegistry::builtin();
};

// Whether a rebuild may start from a snapshot.
enum class Snapshots { kUse, kIgnore };

// The state after events 1..`at_seq` of `store`: starts from the latest
// readable snapshot at or before `at_seq` (with Snapshots::kUse) and replays
// the events after it. A RUN_STARTED resets the components with
// that run's configuration, so the state is that of the run containing
// `at_seq`. ANNOTATION events are skipped (`seq` is the last other event).
// Writes nothing to `store`.
// A run whose strategy saves no state (Strategy::saves_state) is replayed
// from its start instead of a snapshot.
RebuiltState rebuild_state(const EventStore& store, Seq at_seq,
                           Snapshots snapshots = Snapshots::kUse,
                           const StrategyRegistry& strategies = StrategyRegistry::builtin());

// Replays events state.seq+1..`to_seq` of `store` into `state`.
void replay_into(RebuiltState& state, const EventStore& store, Seq to_seq);

// Replays one recorded event, the next after state.seq, into `state`: the
// step replay_into takes for each event (a RUN_STARTED resets the components
// with its configuration; an ANNOTATION or INPUT_REJECTED changes nothing,
// as no component handles it). For readers that
// scan the journal themselves and look at the state between events.
void replay_event(RebuiltState& state, const Event& recorded);

// The runs of `store`: each RUN_STARTED's seq and manifest, in seq order.
std::vector<std::pair<Seq, RunStarted>> list_runs(const EventStore& store);

// The events of one run: its RUN_STARTED up to the event before the next one.
struct RunSpan {
  Seq run_seq = 0;  // 0 for events before the first RUN_STARTED, a run of their own
  RunStarted manifest;
  Seq first = 0, last = 0;
};
// The runs of `store` as spans of seqs, in seq order, covering every event.
std::vector<RunSpan> run_spans(const EventStore& store);

// Whether two manifests describe the same run: same input bytes and kind,
// the same strategy (name, version, parameters), broker and source, and
// every option equal (the input's file name and blotter's version aside).
// A journal's manifest from before the strategy's version and parameters
// were recorded compares as ma_crossover version 1 with its window.
bool same_run(const RunStarted& a, const RunStarted& b);

}  // namespace blotter
