// Snapshots: the trading components' state at one seq, encoded for the
// journal's snapshots table, so rebuilding state replays only the tail.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "blotter/store.h"
#include "blotter/trading_system.h"

namespace blotter {

// The encoding of Snapshot::state this blotter writes and reads. Snapshots of
// another format are ignored (and can be rebuilt with write_snapshots).
inline constexpr int kSnapshotFormat = 1;

// How many events apart write_snapshots and `blotter run` place snapshots.
inline constexpr std::int64_t kSnapshotEvery = 100'000;

// `state` as canonical JSON: fixed key order, decimals as exact strings, so
// equal states encode to equal text.
std::string encode_state(const TradingSystem::State& state);
// Throws blotter::Error if `json` is not a state of kSnapshotFormat.
TradingSystem::State decode_state(std::string_view json);

// The snapshot of a rebuilt state (its seq, run and components).
Snapshot snapshot_of(const RebuiltState& state);

// Replaces every snapshot of `store` with fresh ones rebuilt from its events
// alone (never from the old snapshots): one every `every` events and one at
// the last event. Commits. Returns how many it wrote. Throws
// blotter::StoreError, leaving the old snapshots in place.
// Each run's strategy is made from `strategies`, which must have it
// (require_strategy: blotter::ConfigError before anything is changed).
std::int64_t write_snapshots(EventStore& store, std::int64_t every = kSnapshotEvery,
                             const StrategyRegistry& strategies = StrategyRegistry::builtin());

// What is wrong with one stored snapshot.
struct SnapshotMismatch {
  Seq seq = 0;
  std::string why;
};
// Compares every stored snapshot with the state a full replay of the events
// gives at its seq, each run's strategy made from `strategies`. Returns the
// first that differs, or nullopt if all equal. A strategy's saved state is
// checked only where `strategies` has the strategy in the version the run
// recorded; otherwise the books alone are.
std::optional<SnapshotMismatch> check_snapshots(
    const EventStore& store, const StrategyRegistry& strategies = StrategyRegistry::builtin());

}  // namespace blotter
