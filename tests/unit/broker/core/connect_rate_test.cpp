#include "broker/core/connect_rate.hpp"

#include <gtest/gtest.h>

namespace strata::core {
namespace {

using namespace std::chrono_literals;
using Clock = ConnectRate::Clock;

TEST(ConnectRate, ZeroIsUnlimited) {
  ConnectRate r(0);
  for (int i = 0; i < 100000; ++i) ASSERT_TRUE(r.admit());
}

TEST(ConnectRate, BurstOfOneSecondThenTheRate) {
  ConnectRate r(10);
  const Clock::time_point t0 = Clock::time_point{} + 1000s;
  int admitted = 0;
  for (int i = 0; i < 50; ++i) admitted += r.admit(t0) ? 1 : 0;
  EXPECT_EQ(admitted, 10);  // the burst
  EXPECT_FALSE(r.admit(t0 + 50ms));
  EXPECT_TRUE(r.admit(t0 + 100ms));  // one interval later, one more
  EXPECT_FALSE(r.admit(t0 + 150ms));
  // Over ten seconds at the rate: ten per second.
  admitted = 0;
  for (int ms = 200; ms < 10200; ms += 10) admitted += r.admit(t0 + std::chrono::milliseconds(ms)) ? 1 : 0;
  EXPECT_EQ(admitted, 100);
  // After a quiet spell the burst is back, but no more than one second's worth.
  admitted = 0;
  for (int i = 0; i < 50; ++i) admitted += r.admit(t0 + 60s) ? 1 : 0;
  EXPECT_EQ(admitted, 10);
}

TEST(ConnectRate, ReportsRefusalsAtMostOnceASecond) {
  ConnectRate r(1);
  const Clock::time_point t0 = Clock::time_point{} + 1000s;
  EXPECT_TRUE(r.admit(t0));
  EXPECT_FALSE(r.admit(t0));
  EXPECT_EQ(r.report(t0), 1u);  // the first refusal is reported at once
  EXPECT_FALSE(r.admit(t0 + 1ms));
  EXPECT_FALSE(r.admit(t0 + 2ms));
  EXPECT_EQ(r.report(t0 + 2ms), 0u);  // within the second: not yet
  EXPECT_FALSE(r.admit(t0 + 999ms));
  EXPECT_EQ(r.report(t0 + 1001ms), 3u);  // everything since the last report
  EXPECT_EQ(r.report(t0 + 2500ms), 0u);  // nothing new
}

}  // namespace
}  // namespace strata::core
