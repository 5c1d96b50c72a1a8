// blotter audit: the report of a trading day or a range of days.
#include "blotter/audit.h"

#include <fmt/format.h>

#include <iostream>
#include <optional>

#include "blotter/calendar.h"
#include "blotter/error.h"
#include "blotter/terminal_text.h"
#include "cli/cli.h"

namespace blotter::cli {
namespace {

struct AuditArgs {
  std::string day, from, to, html, format = "table";
  blotter::Seq run = 0;
};

int audit_command(const std::string& journal, const AuditArgs& o) {
  if (!o.html.empty()) refuse_journal_as_output(o.html, "--html", journal);
  auto store = open_read(journal);
  blotter::AuditOptions options;
  options.journal = journal;
  options.run_seq = o.run;
  std::string html, report;
  if (!o.day.empty()) {
    const auto day = blotter::audit_day(*store, blotter::Calendar::parse_day(o.day), options);
    if (!o.html.empty()) html = blotter::day_report_html(day);
    report = o.format == "json" ? blotter::day_report_json(day) : blotter::day_report_text(day);
  } else {
    if (o.from.empty() && o.to.empty())
      throw blotter::ConfigError("give --day DAY, or a range with --from DAY and/or --to DAY");
    std::optional<std::int32_t> from, to;
    if (!o.from.empty()) from = blotter::Calendar::parse_day(o.from);
    if (!o.to.empty()) to = blotter::Calendar::parse_day(o.to);
    const auto range = blotter::audit_range(*store, from, to, options);
    if (!o.html.empty()) html = blotter::range_report_html(range);
    report =
        o.format == "json" ? blotter::range_report_json(range) : blotter::range_report_text(range);
  }
  // The file first: a reader that stops reading stdout early must not cost it.
  if (!o.html.empty()) {
    write_file(o.html, html);
    fmt::print(stderr, "blotter audit: wrote {}\n", blotter::terminal_text(o.html));
  }
  std::cout << report;
  return 0;
}

}  // namespace

Subcommand add_audit(CLI::App& app) {
  struct Options {
    std::string journal;
    AuditArgs args;
  };
  auto o = std::make_shared<Options>();
  auto* audit_cmd = app.add_subcommand(
      "audit", "the report of one trading day, or one row per trading day of a range");
  audit_cmd->add_option("journal", o->journal, "the journal")->required();
  auto* audit_day = audit_cmd->add_option(
      "--day", o->args.day, "the trading day YYYY-MM-DD, in the time zone of its run (--tz)");
  auto* audit_from = audit_cmd->add_option("--from", o->args.from, "first trading day YYYY-MM-DD");
  auto* audit_to =
      audit_cmd->add_option("--to", o->args.to, "last trading day YYYY-MM-DD (inclusive)");
  audit_day->excludes(audit_from)->excludes(audit_to);
  audit_cmd->add_option("--run", o->args.run,
                        "the run, by the seq of its RUN_STARTED (default: the latest run with "
                        "events on those days)");
  audit_cmd->add_option("--html", o->args.html,
                        "also write the report as one self-contained HTML page to this file");
  audit_cmd->add_option("--format", o->args.format, "output format")
      ->check(CLI::IsMember({"table", "json"}))
      ->capture_default_str();
  return {audit_cmd, [audit_cmd, o] {
            refuse_empty_path(*audit_cmd, "--html", o->args.html);
            check_journal_path(o->journal);
            return audit_command(o->journal, o->args);
          }};
}

}  // namespace blotter::cli
