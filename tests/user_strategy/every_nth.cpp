// A user's own strategy with the whole blotter command line: long on every
// n-th bar of a symbol (parameter n, default 5), exit on the bar after.
#include <blotter/cli.h>
#include <blotter/error.h>
#include <blotter/strategy.h>

#include <map>
#include <memory>
#include <string>

class EveryNth final : public blotter::Strategy {
 public:
  explicit EveryNth(int n) : n_(n) {}
  std::string_view name() const override { return "every_nth"; }
  int version() const override { return 1; }
  void on_bar(const blotter::Event& bar, blotter::StrategyContext& ctx) override {
    const int count = ++bars_[bar.symbol];
    if (count % n_ == 0 && ctx.position().is_zero())
      ctx.signal(blotter::Direction::kLong, "every n-th bar");
    else if (count % n_ == 1 && !ctx.position().is_zero())
      ctx.signal(blotter::Direction::kExit, "the bar after");
  }

 private:
  int n_;
  std::map<std::string, int> bars_;  // bars seen, by symbol
};

int main(int argc, char** argv) {
  blotter::StrategyRegistry strategies = blotter::StrategyRegistry::builtin();
  strategies.add("every_nth", 1, [](const blotter::StrategyParams& params) {
    const int n = params.get_int("n", 5);
    if (n < 2) throw blotter::ConfigError("every_nth: n must be at least 2");
    return std::make_unique<EveryNth>(n);
  });
  return blotter::cli_main(argc, argv, strategies);
}
