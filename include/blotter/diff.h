// Two recorded runs side by side: how their configurations differ, where
// their trading events first differ, and what each did.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "blotter/decimal.h"
#include "blotter/event.h"
#include "blotter/store.h"

namespace blotter {

// Which runs diff_runs compares, each by the seq of its RUN_STARTED.
// nullopt: the latest run of its journal, except that when both journals are
// the same store and neither run is given, run1 is the journal's second
// latest run and run2 its latest.
struct DiffOptions {
  std::optional<Seq> run1, run2;
  // The journals as the reader knows them (their paths), for titles.
  std::string journal1, journal2;
};

// A manifest field whose values differ. Fields are the RUN_STARTED
// payload's keys, an object's members flattened as "params.window"; values
// are JSON text ("20", "\"next-open\""), nullopt where a run lacks the field.
struct ConfigDifference {
  std::string field;
  std::optional<std::string> run1, run2;
};

// What one run did: its trading events counted by kind, and its books
// rebuilt (rebuild_state) after its last event.
struct RunTally {
  std::int64_t events = 0;  // trading events
  std::int64_t signals = 0, orders = 0, fills = 0, rejections = 0, handler_errors = 0;
  Decimal realized_pnl, unrealized_pnl;
};

// One of the two runs compared.
struct DiffRun {
  std::string journal;
  Seq run_seq = 0;                  // its RUN_STARTED
  Seq first_seq = 0, last_seq = 0;  // its events, RUN_STARTED to the event before the next run
  RunStarted manifest;
  RunTally tally;
};

// The first trading event, by position, at which the runs differ.
struct Divergence {
  std::int64_t position = 0;  // 1-based, among each run's trading events
  // Each run's event at that position; nullopt where that run has no more.
  std::optional<Event> run1, run2;
  // The (equal) trading events before it, up to 5, oldest first: run1's, run2's.
  std::vector<std::pair<Event, Event>> context;
};

struct RunDiff {
  DiffRun run1, run2;
  std::vector<ConfigDifference> configuration;  // in the order of run1's manifest, then run2's
  std::int64_t matched = 0;  // equal trading events before the divergence (all, if none)
  std::optional<Divergence> divergence;
  bool identical() const { return !divergence; }
};

// Compares a run of `journal1` with a run of `journal2` (the same store may
// be given twice), as `options` chooses them. A run's events are its span
// (run_spans): its RUN_STARTED up to the event before the next RUN_STARTED,
// resumptions included. Its trading events are those events but RUN_STARTED,
// RUN_FINISHED, ANNOTATION and INPUT_REJECTED: market data, SIGNAL, ORDER,
// FILL, RISK_REJECTED and HANDLER_ERROR. Two trading events are equal when
// their type, event time, symbol and payload are; a seq the payload refers
// to (an ORDER's signal_seq, a FILL's order_seq, a RISK_REJECTED's
// signal_seq, a HANDLER_ERROR's event_seq) compares by its position among
// its run's trading events, so runs at different seqs compare equal. Reads
// the runs in bounded chunks: memory grows only with the annotations and
// rejected input rows among their events, not with their length. Writes nothing. Thread-compatible: reads
// each store from the calling thread only.
// Throws blotter::ConfigError naming field run1 or run2 if a run given is
// not a RUN_STARTED of its journal, and a ConfigError if a journal has no run
// (or, the same journal twice with neither given, only one); blotter::Error if a journal
// cannot be read or a run's books cannot be rebuilt.
RunDiff diff_runs(const EventStore& journal1, const EventStore& journal2,
                  const DiffOptions& options = {});

// The diff as terminal text (configuration side by side, the divergence
// with the five events before it, the summary with run 2 - run 1), and as
// one JSON document (decimals as exact strings, events as event_json writes
// them).
std::string run_diff_text(const RunDiff& diff);
std::string run_diff_json(const RunDiff& diff);

}  // namespace blotter
