// The subcommands that read a journal: query, replay, state, runs, export,
// verify and head; replay and export also follow one as it is written.
#include <fmt/format.h>
#include <unistd.h>

#include <csignal>
#include <iostream>

#include "blotter/error.h"
#include "blotter/export.h"
#include "blotter/follow.h"
#include "blotter/query.h"
#include "blotter/replay.h"
#include "blotter/terminal_text.h"
#include "blotter/verify.h"
#include "cli/cli.h"

namespace blotter::cli {
namespace {

// verify_journal, with a progress line on a terminal as `run` shows.
blotter::VerifyResult verify_with_progress(const std::string& journal,
                                           const blotter::StrategyRegistry& strategies) {
  if (!::isatty(STDERR_FILENO)) return blotter::verify_journal(journal, {}, strategies);
  bool shown = false;
  struct EndLine {
    bool& shown;
    ~EndLine() {
      if (shown) fmt::print(stderr, "\n");
    }
  } end_line{shown};
  return blotter::verify_journal(
      journal,
      [&](std::int64_t checked, std::int64_t total) {
        const double pct =
            total > 0 ? 100.0 * static_cast<double>(checked) / static_cast<double>(total) : 100.0;
        fmt::print(stderr, "\r{}: {:5.1f}% {} events checked", blotter::terminal_text(journal), pct,
                   checked);
        shown = true;
      },
      strategies);
}

// --follow ends on SIGINT or SIGTERM: the handler only sets this flag, which
// the follow loop reads before each poll, so the batch being printed is
// printed whole.
volatile std::sig_atomic_t follow_signalled = 0;

extern "C" void on_follow_signal(int) { follow_signalled = 1; }

// SIGINT and SIGTERM set follow_signalled while it lives; the previous
// handlers come back after.
class FollowSignals {
 public:
  FollowSignals() {
    follow_signalled = 0;
    struct sigaction action {};
    action.sa_handler = on_follow_signal;
    sigemptyset(&action.sa_mask);
    // Restarted: a write to a slow reader is not cut short by the signal.
    action.sa_flags = SA_RESTART;
    ::sigaction(SIGINT, &action, &old_int_);
    ::sigaction(SIGTERM, &action, &old_term_);
  }
  ~FollowSignals() {
    ::sigaction(SIGINT, &old_int_, nullptr);
    ::sigaction(SIGTERM, &old_term_, nullptr);
  }
  FollowSignals(const FollowSignals&) = delete;
  FollowSignals& operator=(const FollowSignals&) = delete;

 private:
  struct sigaction old_int_ {};
  struct sigaction old_term_ {};
};

// The options replay and export share for following a journal.
struct FollowFlags {
  bool follow = false, until_finished = false;
};

void add_follow_options(CLI::App* cmd, FollowFlags& f) {
  auto* follow = cmd->add_flag(
      "--follow", f.follow,
      fmt::format("then print each batch as it is committed (the journal is polled every {} ms), "
                  "until SIGINT or SIGTERM (exit 0); the journal must exist",
                  blotter::FollowOptions{}.poll_interval.count()));
  cmd->add_flag("--until-finished", f.until_finished,
                "with --follow: end after the RUN_FINISHED of the latest run (if unfinished when "
                "following begins; else of the next run to finish)")
      ->needs(follow);
  cmd->get_option("--to")->excludes(follow);
}

// Follows `journal`, printing each committed part of `range` with `print`
// (told whether it is the first part) and flushing stdout after each.
int print_followed(const blotter::Journal& journal, const blotter::ScanRange& range,
                   bool until_finished,
                   const std::function<void(const blotter::ScanRange&, bool first)>& print) {
  const FollowSignals signals;
  blotter::FollowOptions options;
  options.until_finished = until_finished;
  options.stop = [] { return follow_signalled != 0; };
  bool first = true;
  blotter::follow_journal(journal, range, options, [&](const blotter::ScanRange& committed) {
    print(committed, first);
    first = false;
    std::cout.flush();
    if (!std::cout) throw blotter::Error("cannot write to standard output");
  });
  return 0;
}

}  // namespace

Subcommand add_query(CLI::App& app) {
  struct Options {
    std::string journal, sql, format = "table";
    double timeout = 0;
  };
  auto o = std::make_shared<Options>();
  auto* query_cmd = app.add_subcommand("query", "run read-only SQL against a journal");
  query_cmd->add_option("journal", o->journal, "the journal")->required();
  query_cmd->add_option("sql", o->sql, "SQL; see docs/JOURNAL_FORMAT.md for the tables and views")
      ->required();
  query_cmd->add_option("--format", o->format, "output format")
      ->check(CLI::IsMember({"table", "csv", "json"}))
      ->capture_default_str();
  query_cmd->add_option("--timeout", o->timeout, "interrupt the query after this many seconds");
  return {query_cmd, [o] {
            const auto& [journal, sql, format, timeout] = *o;
            check_journal_path(journal);
            non_negative_finite("--timeout", timeout);
            blotter::QueryOptions options;
            options.format = format == "csv"    ? blotter::QueryFormat::kCsv
                             : format == "json" ? blotter::QueryFormat::kJson
                                                : blotter::QueryFormat::kTable;
            options.timeout_seconds = timeout;
            blotter::run_query(journal, sql, options, std::cout);
            return 0;
          }};
}

Subcommand add_replay(CLI::App& app) {
  struct Options {
    std::string journal;
    RangeOptions range_options;
    double speed = 0;
    std::string replay_format = "table";
    FollowFlags follow;
  };
  auto o = std::make_shared<Options>();
  auto* replay_cmd = app.add_subcommand("replay", "stream recorded events in seq order");
  replay_cmd->add_option("journal", o->journal, "the journal")->required();
  add_range_options(replay_cmd, o->range_options);
  auto* speed_option =
      replay_cmd
          ->add_option("--speed", o->speed, "0: as fast as possible; X: X times the recorded pace")
          ->capture_default_str();
  replay_cmd->add_option("--format", o->replay_format, "output format")
      ->check(CLI::IsMember({"table", "jsonl"}))
      ->capture_default_str();
  add_follow_options(replay_cmd, o->follow);
  speed_option->excludes("--follow");
  return {
      replay_cmd, [o] {
        const auto& [journal, range_options, speed, replay_format, follow] = *o;
        check_journal_path(journal);
        non_negative_finite("--speed", speed);
        auto store = open_read(journal);
        // The journal's time zone matters only for bare dates.
        const bool dated = !range_options.from.empty() || !range_options.to.empty();
        const auto range = scan_range_of(
            range_options, dated ? blotter::journal_calendar(*store) : blotter::Calendar("UTC"));
        const auto format = replay_format == "jsonl" ? blotter::ReplayFormat::kJsonl
                                                     : blotter::ReplayFormat::kTable;
        if (follow.follow)
          return print_followed(*store, range, follow.until_finished,
                                [&](const blotter::ScanRange& committed, bool first) {
                                  blotter::replay_events(*store, committed, 0, format, std::cout,
                                                         blotter::real_clock(), first);
                                });
        blotter::replay_events(*store, range, speed, format, std::cout);
        return 0;
      }};
}

Subcommand add_state(CLI::App& app, const StrategyRegistry& strategies) {
  struct Options {
    std::string journal, at;
    blotter::Seq state_run = 0;
    std::string state_format = "table";
  };
  auto o = std::make_shared<Options>();
  auto* state_cmd = app.add_subcommand("state", "positions, PnL and risk state rebuilt by replay");
  state_cmd->add_option("journal", o->journal, "the journal")->required();
  state_cmd->add_option("--at", o->at, "#SEQ, YYYY-MM-DD (end of that trading day) or a date-time");
  state_cmd->add_option("--run", o->state_run,
                        "the books of this run, by the seq of its RUN_STARTED (default: of the "
                        "run holding the last event, or the event at --at)");
  state_cmd->add_option("--format", o->state_format, "output format")
      ->check(CLI::IsMember({"table", "json"}))
      ->capture_default_str();
  return {state_cmd, [o, &strategies] {
            const auto& [journal, at, state_run, state_format] = *o;
            check_journal_path(journal);
            auto store = open_read(journal);
            const auto [state, before] = blotter::state_at(*store, at, state_run, strategies);
            if (before && state_format != "json")
              fmt::print("{} is before the first event of {} (seq {} at {})\n", at,
                         state_run ? fmt::format("run {}", state_run) : std::string("the journal"),
                         before->seq, blotter::format_timestamp(before->ts_ns));
            std::cout << (state_format == "json" ? blotter::state_json(state)
                                                 : blotter::state_table(state));
            return 0;
          }};
}

// Each run's strategy, version and parameters as the runs view gives them
// (a journal lacking migration 0007 gets that view for the query's
// connection), and strategy_state: whether the run's snapshots hold the
// strategy's state, or the run is rebuilt by replay from its start: its
// strategy has no state to save (Strategy::saves_state), or it has no
// snapshots.
constexpr const char* kRunStrategyColumns =
    "strategy, strategy_version, params, "
    "CASE WHEN NOT EXISTS (SELECT 1 FROM snapshots n WHERE n.run_seq = runs.seq) "
    "THEN 'replay from run start' "
    "WHEN EXISTS (SELECT 1 FROM snapshots n WHERE n.run_seq = runs.seq "
    "AND json_type(n.state, '$.signals') = 'null') THEN 'replay from run start' "
    "ELSE 'in snapshots' END AS strategy_state";

Subcommand add_runs(CLI::App& app) {
  auto journal = std::make_shared<std::string>();
  auto* runs_cmd = app.add_subcommand("runs", "list the runs recorded in a journal");
  runs_cmd->add_option("journal", *journal, "the journal")->required();
  return {runs_cmd, [journal] {
            check_journal_path(*journal);
            open_read(*journal);
            blotter::QueryOptions options;
            blotter::run_query(
                *journal,
                "SELECT seq, time, input, substr(input_sha256, 1, 12) AS sha256, version, tz, "
                "resumptions, finished_seq, rows, events, " +
                    std::string(kRunStrategyColumns) + " FROM runs ORDER BY seq",
                options, std::cout);
            return 0;
          }};
}

Subcommand add_export(CLI::App& app) {
  struct Options {
    std::string journal;
    RangeOptions range_options;
    std::string export_format;
    FollowFlags follow;
  };
  auto o = std::make_shared<Options>();
  auto* export_cmd = app.add_subcommand(
      "export", "write recorded events as CSV or JSON lines, for pandas, jq or a spreadsheet");
  export_cmd->add_option("journal", o->journal, "the journal")->required();
  add_range_options(export_cmd, o->range_options);
  export_cmd->add_option("--format", o->export_format, "output format")
      ->check(CLI::IsMember({"csv", "jsonl"}))
      ->required();
  add_follow_options(export_cmd, o->follow);
  return {export_cmd, [o] {
            const auto& [journal, range_options, export_format, follow] = *o;
            check_journal_path(journal);
            auto store = open_read(journal);
            const auto range = scan_range_of(range_options, blotter::journal_calendar(*store));
            const auto format = export_format == "csv" ? blotter::ExportFormat::kCsv
                                                       : blotter::ExportFormat::kJsonl;
            if (follow.follow)
              return print_followed(*store, range, follow.until_finished,
                                    [&](const blotter::ScanRange& committed, bool first) {
                                      blotter::export_events(*store, committed, format, std::cout,
                                                             first);
                                    });
            blotter::export_events(*store, range, format, std::cout);
            return 0;
          }};
}

Subcommand add_verify(CLI::App& app, const StrategyRegistry& strategies) {
  auto journal = std::make_shared<std::string>();
  auto* verify_cmd = app.add_subcommand(
      "verify", "check the hash chain, the sequence and every payload; exit 1 at the first fault");
  verify_cmd->add_option("journal", *journal, "the journal")->required();
  return {verify_cmd, [journal, &strategies] {
            check_journal_path(*journal);
            const auto result = verify_with_progress(*journal, strategies);
            if (!result.ok) {
              fmt::print("{}\n", blotter::terminal_text(result.problem));
              return kExitFinding;
            }
            fmt::print("ok: {} events, head {}\n", result.events,
                       blotter::to_hex(result.head.hash));
            return 0;
          }};
}

Subcommand add_head(CLI::App& app) {
  struct Options {
    std::string journal, head_format = "text";
  };
  auto o = std::make_shared<Options>();
  auto* head_cmd =
      app.add_subcommand("head", "the last event's seq and hash, to record and compare later");
  head_cmd->add_option("journal", o->journal, "the journal")->required();
  head_cmd->add_option("--format", o->head_format, "output format")
      ->check(CLI::IsMember({"text", "json"}))
      ->capture_default_str();
  return {head_cmd, [o] {
            const auto& [journal, head_format] = *o;
            check_journal_path(journal);
            const auto head = open_read(journal)->head();
            if (head_format == "json")
              fmt::print("{{\"seq\": {}, \"hash\": \"{}\"}}\n", head.seq,
                         blotter::to_hex(head.hash));
            else
              fmt::print("seq {} hash {}\n", head.seq, blotter::to_hex(head.hash));
            return 0;
          }};
}

}  // namespace blotter::cli
