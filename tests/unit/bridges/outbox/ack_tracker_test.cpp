// The acknowledged offset is the end of the contiguous done prefix.
#include "bridges/outbox/ack_tracker.hpp"

#include <gtest/gtest.h>

namespace strata::bridges {
namespace {

TEST(AckTracker, InOrderAdvancesOneByOne) {
  AckTracker t;
  EXPECT_TRUE(t.done(1));
  EXPECT_TRUE(t.done(2));
  EXPECT_EQ(t.acknowledged(), 2u);
}

TEST(AckTracker, OutOfOrderWaitsForTheGap) {
  AckTracker t(10);
  EXPECT_FALSE(t.done(13));
  EXPECT_FALSE(t.done(12));
  EXPECT_EQ(t.acknowledged(), 10u);
  EXPECT_EQ(t.pending(), 2u);
  EXPECT_TRUE(t.is_done(12));
  EXPECT_FALSE(t.is_done(11));
  EXPECT_TRUE(t.done(11));
  EXPECT_EQ(t.acknowledged(), 13u);
  EXPECT_EQ(t.pending(), 0u);
}

TEST(AckTracker, RepeatsAndOldOffsetsChangeNothing) {
  AckTracker t(5);
  EXPECT_FALSE(t.done(5));
  EXPECT_FALSE(t.done(3));
  EXPECT_FALSE(t.done(8));
  EXPECT_FALSE(t.done(8));
  EXPECT_EQ(t.pending(), 1u);
  EXPECT_TRUE(t.done(6));
  EXPECT_EQ(t.acknowledged(), 6u);
}

}  // namespace
}  // namespace strata::bridges
