// The blotter command line: a thin layer over the library, one function per
// subcommand (cli/cli.h).
#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cstdio>
#include <iostream>
#include <vector>

#include "blotter/cli.h"
#include "blotter/terminal_text.h"
#include "cli/cli.h"

namespace blotter::cli {
namespace {

// The names of `app`'s subcommands, comma-separated.
std::string command_names(CLI::App& app) {
  std::string names;
  for (const CLI::App* sub : app.get_subcommands([](CLI::App*) { return true; }))
    names += (names.empty() ? "" : ", ") + sub->get_name();
  return names;
}

// Parses the command line. Returns -1 to go on, or the exit status: 0 after
// --help or --version, 2 for a usage error, said in one line on stderr.
int parse_command_line(CLI::App& app, int argc, char** argv) {
  const auto usage_error = [&](const std::string& what) {
    std::string line = what;
    std::replace(line.begin(), line.end(), '\n', ' ');
    fmt::print(stderr, "blotter: {}\n", blotter::terminal_text(line));
    return kExitError;
  };
  if (argc < 2)
    return usage_error(fmt::format("give a command: {} (blotter --help)", command_names(app)));
  const std::string first = argv[1];
  if (!first.starts_with("-")) {
    bool known = false;
    for (const CLI::App* sub : app.get_subcommands([](CLI::App*) { return true; }))
      known = known || sub->get_name() == first;
    if (!known)
      return usage_error(
          fmt::format("no such command '{}' (commands: {})", first, command_names(app)));
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::string command = "blotter";
    for (const CLI::App* sub : app.get_subcommands()) command += " " + sub->get_name();
    if (e.get_exit_code() == 0) return app.exit(e);
    return usage_error(fmt::format("{} (see {} --help)", e.what(), command));
  }
  return -1;
}

}  // namespace
}  // namespace blotter::cli

int blotter::cli_main(int argc, char** argv, const StrategyRegistry& strategies) {
  using namespace blotter::cli;
  CLI::App app{"blotter: an event-sourced trading journal on SQLite"};
  app.require_subcommand(1);
  app.set_version_flag("--version", std::string("blotter ") + BLOTTER_VERSION_STRING);
  const std::vector<Subcommand> subcommands = {add_run(app, strategies),
                                               add_query(app),
                                               add_replay(app),
                                               add_state(app, strategies),
                                               add_runs(app),
                                               add_resim(app, strategies),
                                               add_snapshot(app, strategies),
                                               add_export(app),
                                               add_verify(app, strategies),
                                               add_head(app),
                                               add_annotate(app),
                                               add_audit(app),
                                               add_diff(app),
                                               add_migrate(app)};

  if (const int usage = parse_command_line(app, argc, argv); usage >= 0) return usage;

  for (const Subcommand& sub : subcommands) {
    if (!*sub.cmd) continue;
    try {
      return sub.run();
    } catch (const std::exception& e) {
      std::cout.flush();
      // Messages quote paths and text as given: escaped, they stay one line.
      fmt::print(stderr, "blotter: {}\n", blotter::terminal_text(error_message(e, *sub.cmd)));
      return kExitError;
    }
  }
  return 0;
}
