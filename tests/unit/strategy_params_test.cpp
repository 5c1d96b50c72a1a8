// StrategyParams and StrategyRegistry: typed parameters with defaults, the
// canonical text the manifest records, and strategies made by name.
#include <doctest/doctest.h>

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include "blotter/error.h"
#include "blotter/ma_crossover.h"
#include "blotter/strategy.h"

using namespace blotter;

namespace {

StrategyParams params_of(std::initializer_list<const char*> pairs) {
  StrategyParams p;
  for (const char* kv : pairs) p.set(std::string_view(kv));
  return p;
}

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "(no ConfigError)";
}

// Counts bars; the parameter `n` is read, `label` too.
class Counter final : public Strategy {
 public:
  explicit Counter(int n) : n_(n) {}
  std::string_view name() const override { return "counter"; }
  int version() const override { return 2; }
  int n() const { return n_; }

 private:
  int n_;
};

StrategyRegistry with_counter() {
  StrategyRegistry r = StrategyRegistry::builtin();
  r.add("counter", 2, [](const StrategyParams& p) {
    p.get_string("label", "x");
    return std::make_unique<Counter>(p.get_int("n", 5));
  });
  return r;
}

}  // namespace

TEST_SUITE("strategy_params") {
  TEST_CASE("getters return the given value, or the default when the key is absent") {
    const StrategyParams p = params_of({"n=7", "k=2.50", "mode=fast"});
    CHECK(p.get_int("n", 5) == 7);
    CHECK(p.get_int("missing", 5) == 5);
    CHECK(p.get_int("neg", -3) == -3);
    CHECK(p.get_decimal("k", "1").to_string() == "2.5");
    CHECK(p.get_decimal("other", "0.1").to_string() == "0.1");
    CHECK(p.get_string("mode", "slow") == "fast");
    CHECK(p.get_string("style", "plain") == "plain");
    CHECK(params_of({"n=-4"}).get_int("n", 0) == -4);
  }

  TEST_CASE("a value of the wrong type is a ConfigError naming the key") {
    const StrategyParams p = params_of({"n=2.5", "k=abc", "big=99999999999", "plus=+3"});
    CHECK(error_of([&] { p.get_int("n", 5); }) == "parameter 'n': '2.5' is not an integer");
    CHECK(error_of([&] { p.get_int("big", 5); }) ==
          "parameter 'big': '99999999999' is not an integer in range");
    CHECK(error_of([&] { p.get_int("plus", 5); }) == "parameter 'plus': '+3' is not an integer");
    CHECK(error_of([&] {
            p.get_decimal("k", "2");
          }).starts_with("parameter 'k': 'abc' is not a decimal"));
  }

  TEST_CASE("a repeated key, a malformed pair or an unsafe value is refused") {
    StrategyParams p;
    p.set("n", "1");
    CHECK(error_of([&] { p.set("n", "2"); }) == "parameter 'n' is given twice");
    CHECK(error_of([&] { p.set(std::string_view("novalue")); }) ==
          "parameter 'novalue': expected key=value");
    CHECK(error_of([&] { p.set("1abc", "1"); }).starts_with("parameter '1abc': not a valid name"));
    CHECK(error_of([&] { p.set("a b", "1"); }).starts_with("parameter 'a b': not a valid name"));
    CHECK(error_of([&] { p.set("list", "1,2"); }) ==
          "parameter 'list': the value must not hold ',' or control characters");
    CHECK(p.get_int("n", 0) == 1);
  }

  TEST_CASE("the canonical text sorts the keys and keeps each value's exact text") {
    const StrategyParams p = params_of({"window=020", "alpha=1.50", "b=x=y"});
    CHECK(p.canonical() == "alpha=1.50,b=x=y,window=020");
    const StrategyParams back = StrategyParams::from_canonical(p.canonical());
    CHECK(back.values() == p.values());
    CHECK(StrategyParams::from_canonical("").empty());
  }

  TEST_CASE("the canonical text with defaults adds what the getters read but were not given") {
    const StrategyParams p = params_of({"n=3"});
    p.get_int("n", 5);
    p.get_decimal("k", "2.0");
    p.get_string("mode", "fast");
    CHECK(p.canonical() == "n=3");
    CHECK(p.canonical(true) == "k=2.0,mode=fast,n=3");
  }

  TEST_CASE("unread() lists the given keys no getter asked for") {
    const StrategyParams p = params_of({"n=3", "typo=1", "a=2"});
    p.get_int("n", 5);
    CHECK(p.unread() == std::vector<std::string>{"a", "typo"});
  }
}

TEST_SUITE("strategy_registry") {
  TEST_CASE("builtin() has ma_crossover, version 1, with window defaulting to 20") {
    const StrategyRegistry& builtin = StrategyRegistry::builtin();
    REQUIRE(builtin.find("ma_crossover") != nullptr);
    CHECK(builtin.find("ma_crossover")->version == 1);
    StrategyParams none;
    const auto s = builtin.make("ma_crossover", none);
    CHECK(dynamic_cast<const MovingAverageCrossover&>(*s).config().window == 20);
    CHECK(none.canonical(true) == "window=20");
    const auto five = builtin.make("ma_crossover", params_of({"window=5"}));
    CHECK(dynamic_cast<const MovingAverageCrossover&>(*five).config().window == 5);
  }

  TEST_CASE("a copy of builtin() with a strategy added makes both, and names them sorted") {
    const StrategyRegistry r = with_counter();
    std::vector<std::string> expected = StrategyRegistry::builtin().names();
    expected.push_back("counter");
    std::sort(expected.begin(), expected.end());
    CHECK(r.names() == expected);
    CHECK(r.find("ma_crossover") != nullptr);
    CHECK(StrategyRegistry::builtin().find("counter") == nullptr);
    const auto s = r.make("counter", params_of({"n=9"}));
    CHECK(s->name() == "counter");
    CHECK(dynamic_cast<const Counter&>(*s).n() == 9);
  }

  TEST_CASE("an unknown name is a ConfigError naming it and the names there are") {
    StrategyRegistry two;
    const auto factory = [](const StrategyParams&) { return std::make_unique<Counter>(1); };
    two.add("counter", 2, factory).add("alpha", 1, factory);
    CHECK(error_of([&] { two.make("nope", StrategyParams()); }) ==
          "unknown strategy 'nope' (this program has: alpha, counter)");
  }

  TEST_CASE("a parameter the factory never read is a ConfigError naming it") {
    CHECK(error_of([] { with_counter().make("counter", params_of({"m=1"})); }) ==
          "strategy 'counter' has no parameter 'm' (it reads: label, n)");
    CHECK(error_of([] {
            StrategyRegistry::builtin().make("ma_crossover", params_of({"windw=5"}));
          }) == "strategy 'ma_crossover' has no parameter 'windw' (it reads: window)");
  }

  TEST_CASE("a wrong type reaches the caller from the factory") {
    CHECK(error_of([] {
            StrategyRegistry::builtin().make("ma_crossover", params_of({"window=x"}));
          }) == "parameter 'window': 'x' is not an integer");
  }

  TEST_CASE("add() refuses a taken name, a bad name, a version below 1 and no factory") {
    StrategyRegistry r = with_counter();
    const auto factory = [](const StrategyParams&) { return std::make_unique<Counter>(1); };
    CHECK(error_of([&] { r.add("counter", 3, factory); }) ==
          "strategy 'counter' is already registered");
    CHECK(error_of([&] { r.add("bad name", 1, factory); }).starts_with("strategy name 'bad name'"));
    CHECK(error_of([&] { r.add("zero", 0, factory); }) == "strategy 'zero': version 0 is below 1");
    CHECK(error_of([&] { r.add("none", 1, nullptr); }) == "strategy 'none': no factory");
    CHECK(r.names().size() == StrategyRegistry::builtin().names().size() + 1);
  }
}
