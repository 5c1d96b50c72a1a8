// The error family: a ConfigError names configuration fields as the library
// does, and lets a caller such as the command line name them its own way.
#include "blotter/error.h"

#include <doctest/doctest.h>

#include <functional>
#include <sstream>
#include <string>
#include <vector>

#include "blotter/annotation.h"
#include "blotter/audit.h"
#include "blotter/bus.h"
#include "blotter/execution_engine.h"
#include "blotter/ma_crossover.h"
#include "blotter/replay.h"
#include "blotter/risk_manager.h"
#include "blotter/store.h"

using namespace blotter;

namespace {

// What `f` throws as a ConfigError: its what(), its fields, and its message
// with each field named as a command line's flag ("--" and dashes).
struct Thrown {
  std::string what, flagged;
  std::vector<std::string> fields;
};

template <class F>
Thrown config_error_of(F&& f) {
  try {
    f();
  } catch (const ConfigError& e) {
    return {e.what(), e.message([](const std::string& field) {
              std::string flag = "--" + field;
              for (char& c : flag)
                if (c == '_') c = '-';
              return flag;
            }),
            e.fields()};
  }
  FAIL("no ConfigError");
  return {};
}

Decimal D(const char* text) { return *Decimal::parse(text); }

}  // namespace

TEST_SUITE("error") {
  TEST_CASE("a ConfigError about a field names it before the message") {
    const ConfigError e(Field{"window"}, "must be at least 2 (got 1)");
    CHECK(std::string(e.what()) == "window must be at least 2 (got 1)");
    CHECK(e.fields() == std::vector<std::string>{"window"});
    CHECK(e.message([](const std::string& f) { return "<" + f + ">"; }) ==
          "<window> must be at least 2 (got 1)");
  }

  TEST_CASE("a ConfigError of text and fields names each where it stands") {
    const ConfigError e(
        {Field{"from_day"}, " 2024-03-01 is after ", Field{"to_day"}, " 2024-02-01"});
    CHECK(std::string(e.what()) == "from_day 2024-03-01 is after to_day 2024-02-01");
    CHECK(e.fields() == std::vector<std::string>{"from_day", "to_day"});
    CHECK(e.message([](const std::string& f) { return f == "from_day" ? "--from" : "--to"; }) ==
          "--from 2024-03-01 is after --to 2024-02-01");
    const ConfigError copy = e;  // an exception is copied when thrown and caught by value
    CHECK(copy.message([](const std::string& f) { return f.substr(0, 2); }) ==
          "fr 2024-03-01 is after to 2024-02-01");
  }

  TEST_CASE("a ConfigError without fields says its message whatever the names") {
    const ConfigError e("give exactly one of --bars FILE and --ticks FILE");
    CHECK(e.fields().empty());
    CHECK(e.message([](const std::string&) { return std::string("x"); }) == e.what());
  }

  TEST_CASE("the library's configuration errors name fields, never a command line's flags") {
    MemoryStore store;
    EventBus bus(store);
    const auto risk = [&](auto change) {
      RiskConfig c;
      change(c);
      return [&bus, c] { RiskManager(bus, c); };
    };
    ExecutionConfig slippage, huge_slippage, commission;
    slippage.slippage_bps = D("-1");
    huge_slippage.slippage_bps = D("10000");
    commission.commission = D("-0.01");
    ResimOverrides two_sizings;
    two_sizings.quantity = D("1");
    two_sizings.risk_per_trade = D("0.1");
    Annotation note;
    note.refers_to_seq = 7;
    note.text = "x";
    Annotation neither;
    neither.text = "x";
    std::ostringstream out;
    const struct {
      std::function<void()> call;
      std::string what, flagged;
    } cases[] = {
        {[&] { MovingAverageCrossover(SignalConfig{1}); }, "window must be at least 2 (got 1)",
         "--window must be at least 2 (got 1)"},
        {[&] { ExecutionEngine(bus, slippage); }, "slippage_bps must not be negative",
         "--slippage-bps must not be negative"},
        {[&] { ExecutionEngine(bus, huge_slippage); },
         "slippage_bps 10000 must be below 10000 (100%): a sell would fill at a price of 0 or less",
         "--slippage-bps 10000 must be below 10000 (100%): a sell would fill at a price of 0 or "
         "less"},
        {[&] { ExecutionEngine(bus, commission); }, "commission must not be negative",
         "--commission must not be negative"},
        {risk([](RiskConfig& c) { c.capital = D("0"); }), "capital must be positive",
         "--capital must be positive"},
        {risk([](RiskConfig& c) { c.quantity = D("0"); }), "quantity must be positive",
         "--quantity must be positive"},
        {risk([](RiskConfig& c) { c.risk_per_trade = D("2"); }),
         "risk_per_trade must be a fraction in (0, 1]",
         "--risk-per-trade must be a fraction in (0, 1]"},
        {risk([](RiskConfig& c) { c.max_daily_loss = D("0"); }),
         "max_daily_loss must be a fraction in (0, 1]",
         "--max-daily-loss must be a fraction in (0, 1]"},
        {risk([](RiskConfig& c) { c.max_position = D("0"); }), "max_position must be positive",
         "--max-position must be positive"},
        {[&] { two_sizings.applied_to(TradingConfig{}); },
         "quantity and risk_per_trade are two sizing rules: give one",
         "--quantity and --risk-per-trade are two sizing rules: give one"},
        {[&] { replay_events(store, ScanRange{}, -1, ReplayFormat::kTable, out); },
         "speed must not be negative", "--speed must not be negative"},
        {[&] { state_at(store, "", 5); },
         "run_seq 5: no run starts at that seq (blotter runs lists the journal's runs)",
         "--run-seq 5: no run starts at that seq (blotter runs lists the journal's runs)"},
        {[&] { resimulate(store, ScanRange{}, 5); },
         "run_seq 5: no run starts at that seq (blotter runs lists the journal's runs)",
         "--run-seq 5: no run starts at that seq (blotter runs lists the journal's runs)"},
        {[&] { audit_range(store, 20000, 19000, AuditOptions{}); },
         "from_day 2024-10-04 is after to_day 2022-01-08",
         "--from-day 2024-10-04 is after --to-day 2022-01-08"},
        {[&] { annotate(store, note); },
         "refers_to_seq 7: no such event (the journal has seq 1..0)",
         "--refers-to-seq 7: no such event (the journal has seq 1..0)"},
        {[&] { annotate(store, neither); },
         "an annotation is about one event (refers_to_seq) or one day (day): give one",
         "an annotation is about one event (--refers-to-seq) or one day (--day): give one"},
    };
    for (const auto& c : cases) {
      CAPTURE(c.what);
      const Thrown thrown = config_error_of(c.call);
      CHECK(thrown.what == c.what);
      CHECK(thrown.what.find("--") == std::string::npos);
      CHECK(thrown.flagged == c.flagged);
      CHECK_FALSE(thrown.fields.empty());
    }
  }
}
