// blotter resim: re-simulate recorded market events and compare.
#include <fmt/format.h>

#include <optional>

#include "blotter/error.h"
#include "blotter/replay.h"
#include "blotter/terminal_text.h"
#include "cli/cli.h"

namespace blotter::cli {
namespace {

// The options of `resim`: what to re-simulate, and changes to the recorded configuration.
struct ResimArgs {
  RangeOptions range;
  blotter::Seq run = 0;
  std::string strategy;
  std::vector<std::string> params;
  std::optional<int> window;
  std::string quantity, risk_per_trade, capital, max_daily_loss, max_position;
  std::string fill, slippage_bps, commission, tz;
};

void print_resim(const blotter::ResimResult& r, const std::string& prefix) {
  if (r.identical) {
    fmt::print("{}identical: {} derived events matched\n", prefix, r.matched);
    return;
  }
  fmt::print("{}diverged at seq {} after {} matching derived events\n", prefix, r.diverging_seq,
             r.matched);
  fmt::print("\nbefore it (recorded):\n");
  for (const auto& e : r.context) fmt::print("  {}\n", blotter::event_json(e));
  fmt::print("\nrecorded:     {}\n",
             r.recorded ? blotter::event_json(*r.recorded) : std::string("(no such event)"));
  fmt::print("re-simulated: {}\n",
             r.resimulated ? blotter::event_json(*r.resimulated) : std::string("(no such event)"));
}

int resim_command(const std::string& journal, const ResimArgs& o,
                  const blotter::StrategyRegistry& strategies) {
  auto store = open_read(journal);
  const auto range = scan_range_of(o.range, blotter::journal_calendar(*store));
  blotter::ResimOverrides overrides;
  if (!o.strategy.empty()) overrides.strategy = o.strategy;
  // --window is a parameter of the strategy like any --param.
  overrides.params = strategy_params_of(o.params, o.window);
  const auto decimal = [](const char* option, const std::string& text) {
    return text.empty() ? std::optional<Decimal>() : to_decimal(option, text);
  };
  overrides.quantity = decimal("--quantity", o.quantity);
  overrides.risk_per_trade = decimal("--risk-per-trade", o.risk_per_trade);
  overrides.capital = decimal("--capital", o.capital);
  overrides.max_daily_loss = decimal("--max-daily-loss", o.max_daily_loss);
  overrides.max_position = decimal("--max-position", o.max_position);
  overrides.slippage_bps = decimal("--slippage-bps", o.slippage_bps);
  overrides.commission = decimal("--commission", o.commission);
  if (!o.fill.empty())
    overrides.fill =
        o.fill == "next-open" ? blotter::FillModel::kNextOpen : blotter::FillModel::kSignal;
  if (!o.tz.empty()) overrides.tz = o.tz;
  const auto runs = blotter::resimulate(*store, range, o.run, overrides, strategies);
  // The recorded strategy in another version here: said, not refused.
  if (!overrides.strategy)
    for (const auto& [run_seq, manifest] : blotter::list_runs(*store)) {
      if (o.run && run_seq != o.run) continue;
      const auto* here = strategies.find(manifest.strategy);
      if (here && here->version != manifest.strategy_version)
        fmt::print(stderr,
                   "blotter resim: note: run {} used strategy '{}' version {}; this program has "
                   "version {}\n",
                   run_seq, blotter::terminal_text(manifest.strategy), manifest.strategy_version,
                   here->version);
    }
  if (runs.empty()) {
    fmt::print("identical: 0 derived events matched (no market events in the range)\n");
    return 0;
  }
  // A journal of one run: one line, as before; of several: a block per run.
  const bool one_run = runs.size() == 1 && blotter::list_runs(*store).size() <= 1;
  bool identical = true;
  for (std::size_t i = 0; i < runs.size(); ++i) {
    if (i) fmt::print("\n");
    print_resim(runs[i].result,
                one_run ? std::string()
                        : fmt::format("run {} (from seq {}): ", runs[i].run_seq, runs[i].from_seq));
    identical = identical && runs[i].result.identical;
  }
  return identical ? 0 : kExitFinding;
}

}  // namespace

Subcommand add_resim(CLI::App& app, const StrategyRegistry& strategies) {
  struct Options {
    std::string journal;
    ResimArgs args;
  };
  auto o = std::make_shared<Options>();
  auto* resim_cmd = app.add_subcommand(
      "resim", "re-simulate the recorded market events and compare with the recorded decisions");
  resim_cmd->add_option("journal", o->journal, "the journal")->required();
  resim_cmd->add_option("--from", o->args.range.from,
                        "first market event: #SEQ, YYYY-MM-DD or a date-time (each run starts "
                        "from its state rebuilt there)");
  resim_cmd->add_option("--to", o->args.range.to,
                        "last market event: #SEQ, YYYY-MM-DD or a date-time");
  resim_cmd->add_option("--run", o->args.run,
                        "only this run, by the seq of its RUN_STARTED (default: every run, in "
                        "order)");
  resim_cmd->add_option("--strategy", o->args.strategy,
                        "re-simulate with this strategy instead of the recorded one (its "
                        "parameters: only those given)");
  resim_cmd->add_option("--param", o->args.params,
                        "override a recorded parameter of the strategy, KEY=VALUE (repeatable)");
  resim_cmd->add_option("--window", o->args.window,
                        "override the recorded window: --param window=N");
  resim_cmd->add_option("--quantity", o->args.quantity,
                        "override the recorded sizing with this fixed quantity");
  resim_cmd->add_option("--risk-per-trade", o->args.risk_per_trade,
                        "override the recorded sizing with fixed-fractional sizing");
  resim_cmd->add_option("--capital", o->args.capital, "override the recorded capital");
  resim_cmd->add_option("--max-daily-loss", o->args.max_daily_loss,
                        "override the recorded loss limit");
  resim_cmd->add_option("--max-position", o->args.max_position,
                        "override the recorded position limit");
  resim_cmd->add_option("--fill", o->args.fill, "override the recorded fill model")
      ->check(CLI::IsMember({"signal", "next-open"}));
  resim_cmd->add_option("--slippage-bps", o->args.slippage_bps, "override the recorded slippage");
  resim_cmd->add_option("--commission", o->args.commission, "override the recorded commission");
  resim_cmd->add_option("--tz", o->args.tz, "override the recorded time zone of the trading day");
  return {resim_cmd, [o, &strategies] {
            check_journal_path(o->journal);
            return resim_command(o->journal, o->args, strategies);
          }};
}

}  // namespace blotter::cli
