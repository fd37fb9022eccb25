#include "rules/rule_stats.hpp"

#include <gtest/gtest.h>

namespace strata::rules {
namespace {

TEST(LatencyHistogram, BucketsAreMonotonicAndBoundsContainTheirValues) {
  std::size_t last = 0;
  for (std::uint64_t us = 0; us < 5000000; us = us < 100 ? us + 1 : us * 11 / 10) {
    std::size_t b = LatencyHistogram::bucket_of(us);
    EXPECT_GE(b, last);
    if (b < LatencyHistogram::kBuckets - 1) {
      EXPECT_LT(us, LatencyHistogram::upper_bound_us(b)) << us;
    }
    last = b;
  }
}

TEST(LatencyHistogram, Quantiles) {
  RuleCounters c(2);
  for (int i = 0; i < 98; ++i) c.core(i % 2).latency.record(3000);  // 3 us
  c.core(0).latency.record(1000000);                                  // 1 ms
  c.core(1).latency.record(1000000);
  RuleTotals t = c.totals();
  EXPECT_EQ(t.p50_us, 4u);  // bucket [3, 4)
  EXPECT_GE(t.p99_us, 1000u);
  EXPECT_LE(t.p99_us, 1250u);
}

TEST(RuleCounters, FaultsWithinTheWindowDisable) {
  RuleCounters c(1);
  EXPECT_FALSE(c.fault(1000, 3, 10000));
  EXPECT_FALSE(c.fault(2000, 3, 10000));
  EXPECT_FALSE(c.fault(12500, 3, 10000));  // the first two are out of the window
  EXPECT_FALSE(c.disabled());
  EXPECT_FALSE(c.fault(13000, 3, 10000));
  EXPECT_TRUE(c.fault(14000, 3, 10000));
  EXPECT_TRUE(c.disabled());
  EXPECT_FALSE(c.fault(14001, 3, 10000));  // reported once
  c.enable();
  EXPECT_FALSE(c.disabled());
  EXPECT_FALSE(c.fault(15000, 3, 10000));
}

}  // namespace
}  // namespace strata::rules

namespace strata::rules {
namespace {

TEST(RuleStatsRegistry, PausedNamesOutliveTheirCounters) {
  RuleStatsRegistry r(2);
  auto a = r.get("a");
  EXPECT_FALSE(a->paused());
  r.set_paused("a", true);
  EXPECT_TRUE(a->paused());
  EXPECT_TRUE(a->totals().paused);
  // Removed and loaded again (a delete and a new PUT): still off.
  r.remove("a");
  EXPECT_TRUE(r.get("a")->paused());
  // A name with no counters yet is remembered too.
  r.set_paused("b", true);
  EXPECT_TRUE(r.get("b")->paused());
  EXPECT_EQ(r.paused(), (std::set<std::string>{"a", "b"}));
  r.set_paused("a", false);
  EXPECT_FALSE(r.get("a")->paused());
  EXPECT_EQ(r.paused(), (std::set<std::string>{"b"}));
  // A fault re-enable (new file version) does not undo an operator's switch.
  r.get("b")->enable();
  EXPECT_TRUE(r.get("b")->paused());
}

}  // namespace
}  // namespace strata::rules
