// Following a journal (follow_journal) while a writer in the same process
// commits: the stop callback, asked before each poll, lets the writer take
// its next step, so every interleaving is the same on every run.
#include <doctest/doctest.h>

#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "blotter/error.h"
#include "blotter/follow.h"
#include "blotter/journal_location.h"
#include "cli_helpers.h"
#include "test_support.h"

using namespace blotter;
using namespace blotter::testing;

namespace {

// A writer that commits batches of BARs, and the runs they belong to.
class Writer {
 public:
  explicit Writer(const std::string& path) : journal_(open_journal(path, Journal::Mode::kWrite)) {}

  // Commits RUN_STARTED and `bars` BARs in one batch.
  void start_run(int bars) {
    Event started = make_event(ts_, "", RunStarted{});
    run_seq_ = journal_->append(started);
    append_bars(bars);
    journal_->commit();
  }
  // Commits `bars` BARs in one batch.
  void batch(int bars) {
    append_bars(bars);
    journal_->commit();
  }
  // Commits the run's RUN_FINISHED; returns its seq.
  Seq finish_run() {
    RunFinished finished;
    finished.run_seq = run_seq_;
    Event e = make_event(ts_, "", finished);
    const Seq seq = journal_->append(e);
    journal_->commit();
    return seq;
  }
  const Journal& journal() const { return *journal_; }

 private:
  void append_bars(int bars) {
    for (int i = 0; i < bars; ++i) {
      ts_ += 60'000'000'000;
      const Decimal one = D("1");
      Event e = make_event(ts_, "S", Bar{one, one, one, one, one});
      journal_->append(e);
    }
  }

  std::unique_ptr<Journal> journal_;
  Seq run_seq_ = 0;
  TimestampNs ts_ = T("2024-01-02T14:30:00Z");
};

// The seqs of a delivered range.
using Span = std::pair<Seq, Seq>;

// Follows `path` over `range`; before each poll, the next of `steps` runs
// (once they are done, the follow is stopped). Returns the ranges delivered.
std::vector<Span> follow_with(const std::string& path, const ScanRange& range, bool until_finished,
                              std::vector<std::function<void()>> steps, FollowEnd& end) {
  const auto reader = open_journal(path, Journal::Mode::kRead);
  std::vector<Span> delivered;
  std::size_t next = 0;
  FollowOptions options;
  options.poll_interval = std::chrono::milliseconds(1);
  options.until_finished = until_finished;
  options.stop = [&] {
    if (next == steps.size()) return true;
    steps[next++]();
    return false;
  };
  end = follow_journal(*reader, range, options, [&](const ScanRange& committed) {
    CHECK(committed.types == range.types);
    delivered.emplace_back(committed.from_seq, committed.to_seq);
  });
  return delivered;
}

}  // namespace

TEST_SUITE("journal_follow") {
  TEST_CASE("each call delivers whole commits, every seq once, in order") {
    TempDir dir;
    const std::string db = dir.file("j.db");
    Writer w(db);
    w.start_run(3);  // seqs 1-4
    w.batch(5);      // 5-9
    FollowEnd end{};
    const auto delivered = follow_with(db, ScanRange(), false,
                                       {[] {}, [&] { w.batch(2); }, [] {}, [&] { w.batch(1); },
                                        [&] { w.batch(4); }, [&] { w.finish_run(); }, [] {}},
                                       end);
    CHECK(end == FollowEnd::kStopped);
    // The first call holds what was committed when following began.
    const std::vector<Span> expected = {{1, 9}, {10, 11}, {12, 12}, {13, 16}, {17, 17}};
    CHECK(delivered == expected);
    // Every later call is exactly one committed batch of the time index.
    const auto spans = w.journal().time_index();
    REQUIRE(spans.size() == 6);
    for (std::size_t i = 1; i < delivered.size(); ++i) {
      CHECK(delivered[i].first == spans[i + 1].first_seq);
      CHECK(delivered[i].second == spans[i + 1].last_seq);
    }
  }

  TEST_CASE("until_finished ends at the RUN_FINISHED of the unfinished latest run") {
    TempDir dir;
    const std::string db = dir.file("j.db");
    Writer w(db);
    w.start_run(3);
    Seq finished = 0;
    bool after_finish = false;
    ScanRange bars;
    bars.types = {EventType::kBar};  // RUN_FINISHED filtered out: the follow still ends
    FollowEnd end{};
    const auto delivered = follow_with(
        db, bars, true,
        {[&] { w.batch(2); }, [&] { finished = w.finish_run(); }, [&] { after_finish = true; }},
        end);
    CHECK(end == FollowEnd::kRunFinished);
    CHECK_FALSE(after_finish);
    REQUIRE_FALSE(delivered.empty());
    CHECK(delivered.back().second == finished);
  }

  TEST_CASE("until_finished waits past a RUN_FINISHED committed before following began") {
    TempDir dir;
    const std::string db = dir.file("j.db");
    Writer w(db);
    w.start_run(2);
    const Seq first_finish = w.finish_run();
    Seq second_finish = 0;
    FollowEnd end{};
    const auto delivered =
        follow_with(db, ScanRange(), true,
                    {[] {}, [&] { w.start_run(2); }, [&] { second_finish = w.finish_run(); },
                     [&] { w.batch(1); }},
                    end);
    CHECK(end == FollowEnd::kRunFinished);
    REQUIRE(delivered.size() == 3);
    CHECK(delivered[0] == Span{1, first_finish});
    CHECK(delivered.back().second == second_finish);
  }

  TEST_CASE("a range that starts past the head delivers from its start once reached") {
    TempDir dir;
    const std::string db = dir.file("j.db");
    Writer w(db);
    w.start_run(3);  // seqs 1-4
    ScanRange later;
    later.from_seq = 6;
    FollowEnd end{};
    const auto delivered =
        follow_with(db, later, false, {[&] { w.batch(1); }, [&] { w.batch(4); }}, end);
    // Seq 5 alone selects nothing: no call for it.
    CHECK(delivered == std::vector<Span>{{6, 9}});
  }

  TEST_CASE("a range with an upper bound is refused") {
    TempDir dir;
    const std::string db = dir.file("j.db");
    Writer(db).start_run(1);
    const auto reader = open_journal(db, Journal::Mode::kRead);
    ScanRange bounded;
    bounded.to_seq = 3;
    CHECK_THROWS_AS(follow_journal(*reader, bounded, {}, [](const ScanRange&) {}), ConfigError);
    ScanRange until;
    until.to_ts = T("2024-01-03T00:00:00Z");
    CHECK_THROWS_AS(follow_journal(*reader, until, {}, [](const ScanRange&) {}), ConfigError);
  }
}
