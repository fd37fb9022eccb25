#include "rules/rule_metrics.hpp"

#include <array>
#include <string>
#include <utility>
#include <vector>

namespace strata::rules {

namespace {

// Histogram bounds in µs. A LatencyHistogram bucket counts under a bound
// when its whole range is below it, so each cumulative count is exact for
// the calls it includes and never counts a slower call as faster.
constexpr std::array<std::uint64_t, 12> kBoundsUs = {5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 100000};

}  // namespace

void write_rule_metrics(admin::MetricsWriter& m, const RuleStatsRegistry& stats) {
  auto rules = stats.snapshot();
  struct Row {
    std::string name;
    RuleTotals t;
    std::array<std::uint64_t, LatencyHistogram::kBuckets> hist{};
    std::uint64_t sum_ns = 0;
  };
  std::vector<Row> rows;
  rows.reserve(rules.size());
  for (auto& [name, counters] : rules) {
    Row r;
    r.name = name;
    r.t = counters->totals();
    counters->latency(r.hist, r.sum_ns);
    rows.push_back(std::move(r));
  }
  m.family("strata_rule_messages_total", "counter", "Messages a rule's topics matched, and what it did with them");
  for (const Row& r : rows) {
    m.sample("strata_rule_messages_total", r.t.matched, {{"rule", r.name}, {"result", "matched"}});
    m.sample("strata_rule_messages_total", r.t.passed, {{"rule", r.name}, {"result", "passed"}});
    m.sample("strata_rule_messages_total", r.t.dropped, {{"rule", r.name}, {"result", "dropped"}});
  }
  auto per_rule = [&](std::string_view name, std::string_view type, std::string_view help, auto value) {
    m.family(name, type, help);
    for (const Row& r : rows) m.sample(name, value(r), {{"rule", r.name}});
  };
  per_rule("strata_rule_published_total", "counter", "Messages a rule published",
           [](const Row& r) { return r.t.published; });
  per_rule("strata_rule_emitted_total", "counter", "Records a rule emitted to bridges and targets",
           [](const Row& r) { return r.t.emitted; });
  per_rule("strata_rule_errors_total", "counter", "Errors raised by a rule", [](const Row& r) { return r.t.errors; });
  per_rule("strata_rule_disabled", "gauge", "1 when a rule was disabled by faults",
           [](const Row& r) { return std::uint64_t{r.t.disabled ? 1u : 0u}; });
  per_rule("strata_rule_memory_bytes", "gauge", "Memory held by a rule's Lua states, all cores",
           [](const Row& r) { return r.t.memory_bytes; });
  m.family("strata_rule_call_duration_seconds", "histogram", "Time of a rule's on_message calls");
  std::array<double, kBoundsUs.size()> bounds{};
  for (std::size_t i = 0; i < kBoundsUs.size(); ++i) bounds[i] = static_cast<double>(kBoundsUs[i]) / 1e6;
  for (const Row& r : rows) {
    std::array<std::uint64_t, kBoundsUs.size()> cumulative{};
    std::uint64_t count = 0;
    for (std::size_t b = 0; b < LatencyHistogram::kBuckets; ++b) {
      count += r.hist[b];
      const std::uint64_t upper = LatencyHistogram::upper_bound_us(b);
      for (std::size_t i = 0; i < kBoundsUs.size(); ++i) {
        if (upper <= kBoundsUs[i]) cumulative[i] += r.hist[b];
      }
    }
    m.histogram_samples("strata_rule_call_duration_seconds", bounds, cumulative, count,
                        static_cast<double>(r.sum_ns) / 1e9, {{"rule", r.name}});
  }
}

}  // namespace strata::rules
