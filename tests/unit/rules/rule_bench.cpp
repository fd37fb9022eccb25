// Micro-benchmark of the rule path on one core: RuleVm::run on a message,
// as the publish hook calls it. Numbers are in docs/rules.md.
//   no_rules          the VM has no rule (the cost for users without rules)
//   no_match          one rule whose filter does not match
//   passthrough       a rule that only looks at the topic
//   json_transform    a typical rule: parse JSON, convert a unit, map fields,
//                     re-encode, retopic, add a user property
//   json_transform_jit  the same with LuaJIT's JIT on (not offered to users:
//                     the instruction budget cannot stop compiled loops)
//   load_rule         loading that rule: a Lua state of its own plus its
//                     chunk (once per rule and core, and on every reload);
//                     state_kib: what the loaded rule holds
#include <benchmark/benchmark.h>

#include "rules/rule_vm.hpp"

namespace {

using namespace strata;

constexpr const char* kTransform = R"(
topics = "plant/+/+/raw"
function on_message(msg)
  local v = msg.json
  if v == nil then return false end
  msg.topic = "uns/" .. msg.levels[2] .. "/" .. msg.levels[3] .. "/temperature"
  msg.payload = json.encode({ value = (v.tempF - 32) * 5 / 9, unit = "degC", ts = v.ts, quality = v.q or "good" })
  msg.user_properties.unit = "degC"
end
)";

void run_rule(benchmark::State& state, const char* source, const char* topic, bool jit) {
  rules::Budgets budgets;
  budgets.jit = jit;
  rules::RuleStatsRegistry stats(1);
  rules::RuleVm vm(budgets, ".", nullptr, stats, 0, [] { return std::uint64_t{1700000000000}; });
  if (source != nullptr && !vm.load("bench.lua", source).error.empty()) {
    state.SkipWithError("rule did not load");
    return;
  }
  auto original = router::Message::make(topic, R"({"tempF": 72.5, "ts": 1700000000123, "q": "good"})");
  original->publisher = "plc-7";
  router::MessagePtr base = original;
  for (auto _ : state) {
    router::MessagePtr m = base;
    auto out = vm.run(m);
    benchmark::DoNotOptimize(m);
    benchmark::DoNotOptimize(out);
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
}

void load_rule(benchmark::State& state) {
  std::uint64_t bytes = 0;
  for (auto _ : state) {
    rules::RuleStatsRegistry stats(1);
    rules::RuleVm vm(rules::Budgets{}, ".", nullptr, stats, 0, [] { return std::uint64_t{1700000000000}; });
    auto r = vm.load("bench.lua", kTransform);
    if (!r.error.empty()) {
      state.SkipWithError("rule did not load");
      return;
    }
    bytes = stats.get("bench")->totals().memory_bytes;
  }
  state.counters["state_kib"] = static_cast<double>(bytes) / 1024.0;
}

void no_rules(benchmark::State& s) { run_rule(s, nullptr, "plant/a/b/raw", false); }
void no_match(benchmark::State& s) { run_rule(s, kTransform, "other/a/b/raw", false); }
void passthrough(benchmark::State& s) {
  run_rule(s, "topics = '#'\nfunction on_message(msg) if msg.topic == 'x' then return false end end",
           "plant/a/b/raw", false);
}
void json_transform(benchmark::State& s) { run_rule(s, kTransform, "plant/a/b/raw", false); }
void json_transform_jit(benchmark::State& s) { run_rule(s, kTransform, "plant/a/b/raw", true); }

BENCHMARK(no_rules);
BENCHMARK(no_match);
BENCHMARK(passthrough);
BENCHMARK(json_transform);
BENCHMARK(json_transform_jit);
BENCHMARK(load_rule);

}  // namespace

BENCHMARK_MAIN();
