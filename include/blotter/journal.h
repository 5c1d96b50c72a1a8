// A durable journal: the EventStore a run writes to and the commands read,
// whatever keeps it (a SQLite file today). journal_location.h opens one from
// a location.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "blotter/hash_chain.h"
#include "blotter/store.h"

namespace blotter {

// How durable an append is.
enum class Durability {
  // A committed batch survives the process being killed; a power loss loses
  // at most the batches committed in the last sync interval before it (see
  // kDefaultSyncInterval): the journal is synced within that interval of
  // each commit, off the appending thread.
  kNormal,
  // A committed batch survives a power loss, and write-ahead: an ORDER is
  // committed before append() returns, so before any handler (the execution
  // engine) acts on it.
  kFull,
};

// With Durability::kNormal, how long after a commit the journal is synced
// at the latest, whether or not more commits follow; 0: each commit is
// synced as soon as it is committed (still off the appending thread).
inline constexpr std::chrono::milliseconds kDefaultSyncInterval{1000};

// What a journal adds to EventStore: one writer at a time, a hash chain
// over its events, the index of its committed batches, and the record of
// resumed runs. Every event appended is chained: its hash is
// chain_hash(previous event's hash, row) (blotter/hash_chain.h); rollback()
// goes back to the last committed hash. scan_rows() gives each row's hash.
// Thread-compatible: one thread uses a Journal object; an implementation
// may commit on a thread of its own (close_batch()). Every method throws
// blotter::StoreError, naming the journal's location, if the journal cannot
// be read or written.
class Journal : public EventStore {
 public:
  // How a journal is opened (journal_location.h: open_journal).
  enum class Mode {
    kWrite,    // create if missing or empty, bring its schema up to date; the only writer
    kUpdate,   // an existing journal of this blotter's schema; the only writer
    kMigrate,  // an existing journal: bring its schema up to date; the only writer
    kRead,     // read-only: never writes
  };

  // The location the journal was opened from, as given.
  virtual const std::string& location() const = 0;
  // Whether opening it created the journal (kWrite where there was none).
  virtual bool created() const = 0;

  // The seq and stored hash of the last appended event (committed or not),
  // as recorded, not re-verified. Throws blotter::StoreError if it has no hash.
  virtual ChainHead head() const = 0;
  // The highest seq in `range`; 0 if it holds none.
  virtual Seq max_seq(const ScanRange& range) const = 0;

  // A committed batch's seqs and event times (the time_index table); a
  // journal indexes each batch it commits, so that scans by time read only
  // the batches whose times overlap.
  struct TimeSpan {
    Seq first_seq = 0, last_seq = 0;
    TimestampNs min_ts = 0, max_ts = 0;
  };
  // Every committed batch's span, by first_seq.
  virtual std::vector<TimeSpan> time_index() const = 0;

  // Resuming a run: the events from `first` to the last must be appended
  // again, in order, and are then compared with those journaled instead of
  // appended (taking their seq and recorded_ns). append() throws
  // blotter::StoreError naming the first that differs; after the last, it
  // appends as usual.
  virtual void catch_up_from(Seq first) = 0;
  // Records, in the open batch, that the run `run_seq` is resumed (it did
  // not finish) or continued (it finished, and its input has grown) from the
  // next seq on, after `skipped_rows` input rows already journaled (the
  // run_resumptions table).
  virtual void record_resumption(Seq run_seq, std::int64_t skipped_rows,
                                 const std::string& version) = 0;
  // The first seqs of each resumption of run `run_seq`, ascending.
  virtual std::vector<Seq> resumptions(Seq run_seq) const = 0;
};

}  // namespace blotter
