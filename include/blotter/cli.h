// The whole blotter command line, for programs that bring their own strategies.
#pragma once

#include "blotter/strategy.h"

namespace blotter {

// Runs the blotter command line on `argc`/`argv` (as main receives them):
// every subcommand of the `blotter` program, with the strategies of
// `strategies` (`--strategy NAME` on run and resim; the recorded strategy
// for resim, snapshot and a resumed run). The installed `blotter` is
// cli_main with StrategyRegistry::builtin(). Returns the exit status: 0 on
// success, 1 for a finding (resim diverged, verify failed, ...), 2 for an
// error, said in one line on stderr; never throws. Writes to stdout and
// stderr; `run` handles SIGINT and SIGTERM while it runs. Call it once per
// process, from its main thread.
int cli_main(int argc, char** argv, const StrategyRegistry& strategies);

}  // namespace blotter
