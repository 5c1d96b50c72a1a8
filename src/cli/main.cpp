// The `blotter` program: the command line with blotter's own strategies.
#include "blotter/cli.h"

int main(int argc, char** argv) {
  return blotter::cli_main(argc, argv, blotter::StrategyRegistry::builtin());
}
