// Checking a journal's integrity: the hash chain, the sequence, the payloads.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "blotter/hash_chain.h"
#include "blotter/journal.h"
#include "blotter/strategy.h"

namespace blotter {

struct VerifyResult {
  bool ok = true;
  std::int64_t events = 0;  // events found sound, in seq order, before any problem
  ChainHead head;           // the last sound event's seq and hash
  Seq bad_seq = 0;          // the first bad seq (for a gap, the missing one); 0 if ok
  // One line naming bad_seq and what is wrong, e.g.
  // "seq 42: hash mismatch (payload, ts or order changed)"; empty if ok.
  std::string problem;
};

// Reads every event of `journal` in seq order through a cursor (constant
// memory) and stops at the first that is not sound: a seq that does not
// follow the previous one by 1 (starting at 1), a stored hash that differs
// from the recomputed chain, an unknown type, a payload that does not
// decode as its type's shape, or an event that time_index does not cover
// with exactly its batch's seqs and event times (a time_index row that is
// wrong would hide events from time ranges). Removing the last events cannot be detected
// from the journal alone: compare the head with one recorded elsewhere
// (`blotter head`). Throws blotter::StoreError if the journal cannot be read.
// `progress`, if given, is called on the scanning thread after every 65536
// events and once at the end of the scan, with the number of events checked
// so far and the journal's last seq.
using VerifyProgress = std::function<void(std::int64_t checked, std::int64_t total)>;
VerifyResult verify_events(const Journal& journal, const VerifyProgress& progress = {});

// Opens the journal at `location` (journal_location.h) read-only and checks it: first its events
// (verify_events); derived data, such as stored snapshots, is checked only
// when the events are sound, since it is only as good as they are: every
// stored snapshot must equal a fresh replay at its seq. Throws
// blotter::ConfigError for a location of an unknown scheme,
// blotter::StoreError if it cannot be opened as a journal (missing, not a
// journal, needs migrating). Strategies are made from `strategies`
// (check_snapshots).
VerifyResult verify_journal(const std::string& location, const VerifyProgress& progress = {},
                            const StrategyRegistry& strategies = StrategyRegistry::builtin());

}  // namespace blotter
