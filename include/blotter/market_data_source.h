// The market-data source seam: what produces the run's BAR and TICK events.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "blotter/event.h"

namespace blotter {

class InputError;

// A stream of market events, one input row at a time, each validated before
// it is returned. The run reads it on its own thread (the bus's), one row
// at a time, and publishes each event before it asks for the next; the
// source itself never publishes.
//
// Contract:
//  * next() returns the next row's event (a BAR or TICK, seq 0), in the
//    order the input holds them, or nullopt at the end of the input (a live
//    source: see below). Event times never decrease across the rows of one
//    symbol.
//  * A bad row throws blotter::InputError naming name() and its line(); a
//    re-readable source cannot go on after a throw (a live one can).
//  * line() and rows() say where it is, for error messages and for resuming:
//    a resumed run skips the rows() its journal already holds.
//  * Not thread-safe: one reader.
//
// Re-readable sources: a source for which sha256() has a value can be
// opened again and gives the same rows. The run reads such an input several
// times: its header and first row before the journal is opened, the whole
// of it on another thread (so that a bad row anywhere commits nothing),
// and once more to run it; the manifest records its SHA-256, by which a
// later run recognises the same input and resumes it.
//
// Live sources: a source for which live() is true (a pipe, a followed file)
// is read once, as its rows arrive, and has no sha256(). For such a source:
//  * next() never waits: nullopt means "no whole row yet" while ended() is
//    false, and the end of the input once ended() is true. wait_for_input()
//    waits, until more input may have arrived or a deadline, whichever comes
//    first (a signal may end the wait early). A partial last line waits for
//    its newline (or, on a pipe, for the end of the input).
//  * A bad data row throws blotter::InputError as for a file, and the source
//    can go on: rejected_row() then holds the row's raw text, and the next
//    next() reads the row after it; so does a data line too long, whose
//    rejected_row() is its first bytes. An error with no rejected_row() (the
//    header, a read error) ends the source: it cannot go on.
//  * A followed file never ends by itself: ended() stays false.
class MarketDataSource {
 public:
  virtual ~MarketDataSource() = default;

  // The implementation's name, recorded in the run's manifest ("csv").
  virtual std::string_view kind() const = 0;
  // What it reads, as error messages and the manifest's `input` name it.
  virtual const std::string& name() const = 0;

  // The next row's event, or nullopt at the end. Throws blotter::InputError.
  virtual std::optional<Event> next() = 0;

  virtual std::int64_t line() const = 0;  // the input line last read, 1-based; 0 before any
  virtual std::int64_t rows() const = 0;  // events returned so far

  // Progress: bytes consumed so far, and the input's size if known.
  virtual std::uint64_t bytes_read() const = 0;
  virtual std::optional<std::uint64_t> size() const = 0;

  // The lowercase hex SHA-256 of the whole input, read anew from its start
  // (not from where next() is), for a re-readable source; nullopt for one
  // that cannot be read twice. Throws blotter::InputError if it cannot be read.
  virtual std::optional<std::string> sha256() const = 0;

  // Whether rows come as they arrive (see "Live sources" above).
  virtual bool live() const { return false; }
  // Live: whether the input has ended; a re-readable source says false.
  virtual bool ended() const { return false; }
  // Live: waits until more input may have arrived or `deadline` has passed.
  // Returns at once for a re-readable source. Throws blotter::InputError if
  // the input cannot be read.
  virtual void wait_for_input(std::chrono::steady_clock::time_point deadline) {
    static_cast<void>(deadline);
  }
  // The raw text of the data row the last next() threw for, after which the
  // source can go on; nullopt if that next() did not throw for a data row.
  virtual std::optional<std::string> rejected_row() const { return std::nullopt; }

 protected:
  MarketDataSource() = default;
  MarketDataSource(const MarketDataSource&) = default;
  MarketDataSource& operator=(const MarketDataSource&) = default;
};

// How many bytes of input text an error message or an INPUT_REJECTED quotes;
// longer text is cut short, as terminal_text() cuts it.
inline constexpr std::size_t kQuotedInputBytes = 64;

// The INPUT_REJECTED payload of the row that `error` (thrown by a source's
// next()) refused, `raw_row` being that input line as read, without its line
// end: the error's line, field and one-line message (what()), and the row
// quoted as error messages quote input, with control characters and bytes
// that are not UTF-8 written as \xNN and at most kQuotedInputBytes of it
// shown. Thread-safe.
InputRejected input_rejected(const InputError& error, std::string_view raw_row);

}  // namespace blotter
