// StrategyRegistry: strategies by name, and blotter's own.
#include <fmt/format.h>
#include <fmt/ranges.h>

#include "blotter/breakout.h"
#include "blotter/error.h"
#include "blotter/ma_crossover.h"
#include "blotter/strategy.h"

namespace blotter {

StrategyRegistry& StrategyRegistry::add(std::string name, int version, Factory factory) {
  StrategyParams check;
  try {
    check.set(name, "");
  } catch (const ConfigError&) {
    throw ConfigError(
        fmt::format("strategy name '{}' is not valid (letters, digits, '_', '-', "
                    "'.'; first a letter or '_')",
                    name));
  }
  if (version < 1)
    throw ConfigError(fmt::format("strategy '{}': version {} is below 1", name, version));
  if (!factory) throw ConfigError(fmt::format("strategy '{}': no factory", name));
  if (entries_.contains(name))
    throw ConfigError(fmt::format("strategy '{}' is already registered", name));
  Entry entry{name, version, std::move(factory)};
  entries_.emplace(std::move(name), std::move(entry));
  return *this;
}

const StrategyRegistry& StrategyRegistry::builtin() {
  // One add() per built-in strategy.
  static const StrategyRegistry registry = [] {
    StrategyRegistry r;
    r.add(std::string(MovingAverageCrossover::kName), 1, [](const StrategyParams& params) {
      return std::make_unique<MovingAverageCrossover>(
          SignalConfig{params.get_int("window", SignalConfig{}.window)});
    });
    r.add(std::string(Breakout::kName), 1, [](const StrategyParams& params) {
      const BreakoutConfig defaults;
      return std::make_unique<Breakout>(BreakoutConfig{params.get_int("entry", defaults.entry),
                                                       params.get_int("exit", defaults.exit)});
    });
    return r;
  }();
  return registry;
}

const StrategyRegistry::Entry* StrategyRegistry::find(std::string_view name) const {
  const auto it = entries_.find(name);
  return it == entries_.end() ? nullptr : &it->second;
}

std::vector<std::string> StrategyRegistry::names() const {
  std::vector<std::string> names;
  for (const auto& [name, entry] : entries_) names.push_back(name);
  return names;
}

std::unique_ptr<Strategy> StrategyRegistry::make(std::string_view name,
                                                 const StrategyParams& params) const {
  const Entry* entry = find(name);
  if (!entry)
    throw ConfigError(fmt::format("unknown strategy '{}' (this program has: {})", name,
                                  fmt::join(names(), ", ")));
  auto strategy = entry->factory(params);
  if (!strategy) throw ConfigError(fmt::format("strategy '{}': its factory made nothing", name));
  if (const auto unread = params.unread(); !unread.empty()) {
    std::vector<std::string> reads(params.read().begin(), params.read().end());
    throw ConfigError(fmt::format(
        "strategy '{}' has no parameter '{}' (it reads: {})", name, fmt::join(unread, "', '"),
        reads.empty() ? "none" : fmt::format("{}", fmt::join(reads, ", "))));
  }
  return strategy;
}

}  // namespace blotter
