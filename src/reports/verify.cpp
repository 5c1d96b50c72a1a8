#include "blotter/verify.h"

#include <fmt/format.h>

#include <optional>
#include <vector>

#include "blotter/error.h"
#include "blotter/journal_location.h"
#include "blotter/snapshot.h"

namespace blotter {
namespace {

// The decoder's message without its "TYPE payload: " prefix, which the
// finding already says.
std::string without_prefix(const std::string& message, std::string_view type) {
  const std::string prefix = fmt::format("{} payload: ", type);
  return message.rfind(prefix, 0) == 0 ? message.substr(prefix.size()) : message;
}

// Follows time_index along the events: each event must lie in the next
// span's seqs, and each span's event times must be exactly its events'.
class SpanCheck {
 public:
  explicit SpanCheck(std::vector<Journal::TimeSpan> spans) : spans_(std::move(spans)) {}

  // The finding for event `seq` at `ts`, if any.
  std::optional<std::string> visit(Seq seq, TimestampNs ts) {
    if (at_ < spans_.size() && seq > spans_[at_].last_seq) {
      if (auto finding = close()) return finding;
      ++at_;
    }
    if (at_ == spans_.size() || seq < spans_[at_].first_seq)
      return fmt::format("seq {}: not in time_index (no row covers it)", seq);
    const bool first = seq == spans_[at_].first_seq;
    min_ = first ? ts : std::min(min_, ts);
    max_ = first ? ts : std::max(max_, ts);
    last_ = seq;
    return std::nullopt;
  }

  // The finding for the spans after the last event, if any.
  std::optional<std::string> finish() {
    if (at_ < spans_.size()) {
      if (auto finding = close()) return finding;
      ++at_;
    }
    if (at_ < spans_.size())
      return fmt::format("time_index row {}..{}: no such events", spans_[at_].first_seq,
                         spans_[at_].last_seq);
    return std::nullopt;
  }

  Seq bad_seq() const { return at_ < spans_.size() ? spans_[at_].first_seq : last_ + 1; }

 private:
  std::optional<std::string> close() const {
    const Journal::TimeSpan& s = spans_[at_];
    if (last_ != s.last_seq)
      return fmt::format("time_index row {}..{}: the events end at seq {}", s.first_seq, s.last_seq,
                         last_);
    if (min_ != s.min_ts || max_ != s.max_ts)
      return fmt::format("time_index row {}..{}: times {}..{} are not its events' {}..{}",
                         s.first_seq, s.last_seq, s.min_ts, s.max_ts, min_, max_);
    return std::nullopt;
  }

  std::vector<Journal::TimeSpan> spans_;
  std::size_t at_ = 0;
  Seq last_ = 0;
  TimestampNs min_ = 0, max_ = 0;
};

}  // namespace

VerifyResult verify_events(const Journal& journal, const VerifyProgress& progress) {
  constexpr std::int64_t kProgressEvery = 65536;
  const std::int64_t total = progress ? journal.last_seq() : 0;
  VerifyResult result;
  auto fail = [&](Seq seq, std::string problem) {
    result.ok = false;
    result.bad_seq = seq;
    result.problem = std::move(problem);
    return false;
  };
  SpanCheck spans(journal.time_index());
  ScanRange all;
  all.from_seq = INT64_MIN;
  journal.scan_rows(all, [&](const JournalRow& row) {
    const Seq expected = result.head.seq + 1;
    if (row.seq < expected)
      return fail(row.seq, fmt::format("seq {}: sequence numbers start at 1", row.seq));
    if (row.seq > expected)
      return fail(expected,
                  expected == 1
                      ? fmt::format("seq 1 missing (the journal starts at {})", row.seq)
                      : fmt::format("seq {} missing (gap after {})", expected, expected - 1));
    if (!row.hash) return fail(row.seq, fmt::format("seq {}: no hash recorded", row.seq));
    const ChainHash hash = chain_hash(result.head.hash, row);
    if (hash != *row.hash)
      return fail(row.seq,
                  fmt::format("seq {}: hash mismatch (payload, ts or order changed)", row.seq));
    const auto type = parse_event_type(row.type);
    if (!type)
      return fail(row.seq, fmt::format("seq {}: unknown event type '{}'", row.seq, row.type));
    try {
      decode_payload(*type, row.payload);
    } catch (const Error& e) {
      return fail(row.seq, fmt::format("seq {}: payload is not a valid {}: {}", row.seq, row.type,
                                       without_prefix(e.what(), row.type)));
    }
    if (auto finding = spans.visit(row.seq, row.ts_ns)) return fail(row.seq, std::move(*finding));
    result.head = {row.seq, hash};
    ++result.events;
    if (progress && result.events % kProgressEvery == 0) progress(result.events, total);
    return true;
  });
  if (progress) progress(result.events, total);
  if (result.ok)
    if (auto finding = spans.finish()) fail(spans.bad_seq(), std::move(*finding));
  return result;
}

VerifyResult verify_journal(const std::string& location, const VerifyProgress& progress,
                            const StrategyRegistry& strategies) {
  const auto journal = open_journal(location, Journal::Mode::kRead);
  VerifyResult result = verify_events(*journal, progress);
  if (!result.ok) return result;
  if (const auto bad = check_snapshots(*journal, strategies)) {
    result.ok = false;
    result.bad_seq = bad->seq;
    result.problem = fmt::format("snapshot at seq {}: {}", bad->seq, bad->why);
  }
  return result;
}

}  // namespace blotter
