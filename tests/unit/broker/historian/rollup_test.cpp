// Rollups: merging in any order gives what adding in time order gives, and
// the stored record round-trips.
#include "broker/historian/rollup.hpp"

#include <algorithm>
#include <random>

#include <gtest/gtest.h>

namespace strata::historian {
namespace {

void expect_same(const Rollup& a, const Rollup& b) {
  EXPECT_EQ(a.count, b.count);
  EXPECT_NEAR(a.sum, b.sum, 1e-9);  // the order of additions differs
  EXPECT_EQ(a.min, b.min);
  EXPECT_EQ(a.max, b.max);
  EXPECT_EQ(a.first, b.first);
  EXPECT_EQ(a.last, b.last);
  EXPECT_EQ(a.min_t, b.min_t);
  EXPECT_EQ(a.max_t, b.max_t);
  EXPECT_EQ(a.first_t, b.first_t);
  EXPECT_EQ(a.last_t, b.last_t);
}

TEST(Rollup, AddKeepsExtremesAndEnds) {
  Rollup r;
  r.add(5000, 3);
  r.add(1000, 7);  // late: becomes first
  r.add(9000, -2);
  r.add(7000, 10);
  EXPECT_EQ(r.count, 4u);
  EXPECT_EQ(r.sum, 18);
  EXPECT_EQ(r.min, -2);
  EXPECT_EQ(r.min_t, 9000);
  EXPECT_EQ(r.max, 10);
  EXPECT_EQ(r.max_t, 7000);
  EXPECT_EQ(r.first, 7);
  EXPECT_EQ(r.first_t, 1000);
  EXPECT_EQ(r.last, -2);
  EXPECT_EQ(r.last_t, 9000);
}

TEST(Rollup, MergeInAnyOrderEqualsInOrder) {
  std::mt19937 rng(7);
  std::vector<std::pair<std::int64_t, double>> pts;
  for (int i = 0; i < 200; ++i) pts.emplace_back(i * 250, std::round(std::sin(i) * 1000) / 10);
  Rollup ordered;
  for (auto& [t, v] : pts) ordered.add(t, v);
  std::shuffle(pts.begin(), pts.end(), rng);
  // In chunks, merged out of order (what late data does).
  Rollup merged;
  for (std::size_t i = 0; i < pts.size(); i += 17) {
    Rollup part;
    for (std::size_t j = i; j < std::min(pts.size(), i + 17); ++j) part.add(pts[j].first, pts[j].second);
    merged.merge(part);
  }
  expect_same(merged, ordered);
}

TEST(Rollup, RecordRoundTrips) {
  Rollup r;
  r.add(3'600'000 + 1, 1.5);
  r.add(3'600'000 + 3'599'999, -7.25);
  std::string b = encode_rollup(r, 3'600'000);
  ASSERT_EQ(b.size(), rollup_size);
  Rollup back;
  ASSERT_TRUE(decode_rollup(b, 3'600'000, back));
  expect_same(back, r);
  EXPECT_FALSE(decode_rollup(b.substr(1), 3'600'000, back));
  EXPECT_FALSE(decode_rollup(std::string(rollup_size, '\0'), 0, back)) << "count 0";
}

}  // namespace
}  // namespace strata::historian
