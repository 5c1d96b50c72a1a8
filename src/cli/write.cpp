// The subcommands that change a journal: snapshot, annotate and migrate.
#include <fmt/format.h>

#include "blotter/annotation.h"
#include "blotter/error.h"
#include "blotter/journal_location.h"
#include "blotter/snapshot.h"
#include "blotter/terminal_text.h"
#include "cli/cli.h"

namespace blotter::cli {

Subcommand add_snapshot(CLI::App& app, const StrategyRegistry& strategies) {
  struct Options {
    std::string journal;
    std::int64_t snapshot_every = blotter::kSnapshotEvery;
  };
  auto o = std::make_shared<Options>();
  auto* snapshot_cmd = app.add_subcommand(
      "snapshot", "rebuild the journal's snapshots (derived state that speeds up state --at)");
  snapshot_cmd->add_option("journal", o->journal, "the journal")->required();
  snapshot_cmd->add_option("--every", o->snapshot_every, "events between snapshots")
      ->capture_default_str();
  return {
      snapshot_cmd, [o, &strategies] {
        const auto& [journal, snapshot_every] = *o;
        check_journal_path(journal);
        if (snapshot_every <= 0)
          throw blotter::ConfigError(fmt::format("--every {}: must be 1 or more", snapshot_every));
        auto store = blotter::open_journal(journal, blotter::Journal::Mode::kUpdate);
        const auto n = blotter::write_snapshots(*store, snapshot_every, strategies);
        fmt::print("{}: {} snapshots of {} events (every {} events)\n",
                   blotter::terminal_text(journal), n, store->last_seq(), snapshot_every);
        return 0;
      }};
}

Subcommand add_annotate(CLI::App& app) {
  struct Options {
    std::string journal;
    blotter::Annotation note;
  };
  auto o = std::make_shared<Options>();
  auto* annotate_cmd = app.add_subcommand(
      "annotate", "append a note about one recorded event or one trading day (ANNOTATION)");
  annotate_cmd->add_option("journal", o->journal, "the journal")->required();
  annotate_cmd->add_option("text", o->note.text, "the note")->required();
  auto* annotate_seq =
      annotate_cmd->add_option("--seq", o->note.refers_to_seq, "the event the note is about");
  annotate_cmd->add_option("--day", o->note.day,
                           "the trading day (YYYY-MM-DD) the note is about, in the run's --tz");
  annotate_cmd->add_option("--tag", o->note.tag, "a tag to find the note by");
  return {
      annotate_cmd, [o, annotate_seq] {
        const auto& [journal, note] = *o;
        check_journal_path(journal);
        if (annotate_seq->count() && note.refers_to_seq <= 0)
          throw blotter::ConfigError(fmt::format("--seq {}: no such event", note.refers_to_seq));
        // kUpdate: a missing or empty file, or one that needs migrating, is
        // refused before anything is written.
        auto store = blotter::open_journal(journal, blotter::Journal::Mode::kUpdate);
        const blotter::Event e = blotter::annotate(*store, note);
        fmt::print("seq {}: annotation of {}\n", e.seq,
                   note.day.empty() ? fmt::format("seq {}", note.refers_to_seq)
                                    : blotter::terminal_text(note.day));
        return 0;
      }};
}

Subcommand add_migrate(CLI::App& app) {
  auto migrate_journal = std::make_shared<std::string>();
  auto* migrate_cmd = app.add_subcommand("migrate", "upgrade a journal to this blotter's schema");
  migrate_cmd->add_option("journal", *migrate_journal, "the journal")->required();
  return {migrate_cmd, [migrate_journal] {
            check_journal_path(*migrate_journal);
            auto j = SqliteJournal::open(*migrate_journal, SqliteJournal::Mode::kMigrate);
            fmt::print("{}: schema version {}\n", blotter::terminal_text(*migrate_journal),
                       j->schema_version());
            return 0;
          }};
}

}  // namespace blotter::cli
