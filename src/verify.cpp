#include "blotter/verify.h"

#include <fmt/format.h>

#include "blotter/error.h"
#include "blotter/snapshot.h"

namespace blotter {
namespace {

// The decoder's message without its "TYPE payload: " prefix, which the
// finding already says.
std::string without_prefix(const std::string& message, std::string_view type) {
  const std::string prefix = fmt::format("{} payload: ", type);
  return message.rfind(prefix, 0) == 0 ? message.substr(prefix.size()) : message;
}

}  // namespace

VerifyResult verify_events(const SqliteJournal& journal) {
  VerifyResult result;
  auto fail = [&](Seq seq, std::string problem) {
    result.ok = false;
    result.bad_seq = seq;
    result.problem = std::move(problem);
    return false;
  };
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
    result.head = {row.seq, hash};
    ++result.events;
    return true;
  });
  return result;
}

VerifyResult verify_journal(const std::string& path) {
  const auto journal = SqliteJournal::open(path, SqliteJournal::Mode::kRead);
  VerifyResult result = verify_events(*journal);
  if (!result.ok) return result;
  if (const auto bad = check_snapshots(*journal)) {
    result.ok = false;
    result.bad_seq = bad->seq;
    result.problem = fmt::format("snapshot at seq {}: {}", bad->seq, bad->why);
  }
  return result;
}

}  // namespace blotter
