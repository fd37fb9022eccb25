#include "broker/admin/stats_history.hpp"

#include <gtest/gtest.h>

namespace strata::admin {
namespace {

StatsReading reading(std::uint64_t t, std::uint64_t received, std::uint64_t sent) {
  StatsReading r;
  r.time_ms = t;
  r.received = received;
  r.sent = sent;
  r.connections = 3;
  r.dropped = 7;
  r.retained = 2;
  r.sessions = 4;
  return r;
}

TEST(StatsHistory, OneHourOfTenSecondSamples) {
  EXPECT_EQ(StatsHistory::kInterval, std::chrono::seconds(10));
  EXPECT_EQ(StatsHistory::kCapacity, 360u);
  StatsHistory h;
  EXPECT_EQ(h.capacity(), 360u);
  EXPECT_TRUE(h.since(0).empty());
}

TEST(StatsHistory, RatesFromTwoReadingsGaugesAsRead) {
  StatsHistory h;
  h.record(reading(1'000'000, 100, 50));
  h.record(reading(1'010'000, 1100, 2050));  // 10 s later: +1000 in, +2000 out
  auto s = h.since(0);
  ASSERT_EQ(s.size(), 2u);
  // The first sample has nothing to compare with.
  EXPECT_EQ(s[0].messages_in_per_second, 0.0);
  EXPECT_EQ(s[0].messages_out_per_second, 0.0);
  EXPECT_DOUBLE_EQ(s[1].messages_in_per_second, 100.0);
  EXPECT_DOUBLE_EQ(s[1].messages_out_per_second, 200.0);
  EXPECT_EQ(s[1].time_ms, 1'010'000u);
  EXPECT_EQ(s[1].connections, 3);
  EXPECT_EQ(s[1].dropped, 7u);
  EXPECT_EQ(s[1].retained, 2u);
  EXPECT_EQ(s[1].sessions, 4u);
}

TEST(StatsHistory, CounterGoingBackOrTimeStandingStillGivesZero) {
  StatsHistory h;
  h.record(reading(1000, 500, 500));
  h.record(reading(1000, 900, 900));   // same time: no rate
  h.record(reading(11000, 100, 100));  // counters went back
  auto s = h.since(0);
  ASSERT_EQ(s.size(), 3u);
  EXPECT_EQ(s[1].messages_in_per_second, 0.0);
  EXPECT_EQ(s[2].messages_in_per_second, 0.0);
  EXPECT_EQ(s[2].messages_out_per_second, 0.0);
}

TEST(StatsHistory, BoundedOldestGoesFirst) {
  StatsHistory h(5);
  for (std::uint64_t i = 1; i <= 12; ++i) h.record(reading(i * 10'000, i * 10, 0));
  EXPECT_EQ(h.size(), 5u);
  auto s = h.since(0);
  ASSERT_EQ(s.size(), 5u);
  EXPECT_EQ(s.front().time_ms, 80'000u);
  EXPECT_EQ(s.back().time_ms, 120'000u);
  EXPECT_DOUBLE_EQ(s.front().messages_in_per_second, 1.0);  // 10 messages in 10 s

  StatsHistory full;
  for (std::uint64_t i = 1; i <= 1000; ++i) full.record(reading(i * 10'000, i, i));
  EXPECT_EQ(full.size(), StatsHistory::kCapacity);
  EXPECT_EQ(full.since(0).front().time_ms, (1000 - 360 + 1) * 10'000u);
}

TEST(StatsHistory, SinceAnswersOnlyNewerSamples) {
  StatsHistory h;
  for (std::uint64_t i = 1; i <= 4; ++i) h.record(reading(i * 10'000, 0, 0));
  EXPECT_EQ(h.since(0).size(), 4u);
  auto s = h.since(20'000);  // strictly after
  ASSERT_EQ(s.size(), 2u);
  EXPECT_EQ(s[0].time_ms, 30'000u);
  EXPECT_TRUE(h.since(40'000).empty());
  EXPECT_EQ(h.since(25'000).size(), 2u);
}

TEST(StatsHistory, BridgesKeptPerSample) {
  StatsHistory h;
  StatsReading r = reading(10'000, 0, 0);
  r.bridges.push_back({"factory", 1500, 42, 4200});
  r.bridges.push_back({"cloud", 0, 0, 0});
  h.record(r);
  h.record(reading(20'000, 0, 0));  // a bridge gone: nothing for it
  auto s = h.since(0);
  ASSERT_EQ(s[0].bridges.size(), 2u);
  EXPECT_EQ(s[0].bridges[0].name, "factory");
  EXPECT_EQ(s[0].bridges[0].lag_ms, 1500u);
  EXPECT_EQ(s[0].bridges[0].queued_messages, 42u);
  EXPECT_EQ(s[0].bridges[0].queued_bytes, 4200u);
  EXPECT_TRUE(s[1].bridges.empty());
}

}  // namespace
}  // namespace strata::admin
