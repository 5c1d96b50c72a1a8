// blotter diff: two recorded runs side by side.
#include "blotter/diff.h"

#include <filesystem>
#include <iostream>
#include <optional>

#include "cli/cli.h"

namespace blotter::cli {
namespace {

struct DiffArgs {
  std::string journal1, journal2, format = "text";
  std::optional<blotter::Seq> run1, run2;
};

// Whether two locations name one journal: the same text, or the same file.
bool same_journal(const std::string& a, const std::string& b) {
  std::error_code ec;
  return a == b || std::filesystem::equivalent(a, b, ec);
}

int diff_command(const DiffArgs& o) {
  auto store1 = open_read(o.journal1);
  // One journal given twice is opened once: the library then knows it is one.
  const bool same = same_journal(o.journal1, o.journal2);
  auto store2 = same ? nullptr : open_read(o.journal2);
  blotter::DiffOptions options;
  options.run1 = o.run1;
  options.run2 = o.run2;
  options.journal1 = o.journal1;
  options.journal2 = o.journal2;
  const auto diff = blotter::diff_runs(*store1, same ? *store1 : *store2, options);
  std::cout << (o.format == "json" ? blotter::run_diff_json(diff) : blotter::run_diff_text(diff));
  return diff.identical() ? 0 : kExitFinding;
}

}  // namespace

Subcommand add_diff(CLI::App& app) {
  auto o = std::make_shared<DiffArgs>();
  auto* diff_cmd = app.add_subcommand(
      "diff", "compare two runs: configuration, first diverging trading event, summary");
  diff_cmd->add_option("journal1", o->journal1, "the journal of the first run")->required();
  diff_cmd->add_option("journal2", o->journal2, "the journal of the second run (may be the same)")
      ->required();
  diff_cmd->add_option(
      "--run1", o->run1,
      "the first run, by the seq of its RUN_STARTED (default: the latest run of "
      "journal1; of one journal given twice without --run2 either, its second latest)");
  diff_cmd->add_option("--run2", o->run2,
                       "the second run, by the seq of its RUN_STARTED (default: the latest run "
                       "of journal2)");
  diff_cmd->add_option("--format", o->format, "output format")
      ->check(CLI::IsMember({"text", "json"}))
      ->capture_default_str();
  return {diff_cmd, [o] {
            check_journal_path(o->journal1);
            check_journal_path(o->journal2);
            return diff_command(*o);
          }};
}

}  // namespace blotter::cli
