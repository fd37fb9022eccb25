#include "bridges/topic_template.hpp"

#include <gtest/gtest.h>

namespace strata::bridges {
namespace {

TEST(TopicTemplate, WholeTopicLevelsAndHash) {
  EXPECT_EQ(apply_template("{topic}", "a/b/c", "#"), "a/b/c");
  EXPECT_EQ(apply_template("edge1/{topic}", "a/b", "a/#"), "edge1/a/b");
  EXPECT_EQ(apply_template("site/{2}/{1}", "plant/line1/temp", "plant/+/temp"), "site/line1/plant");
  EXPECT_EQ(apply_template("x/{#}", "plant/line1/temp/raw", "plant/+/#"), "x/temp/raw");
  EXPECT_EQ(apply_template("x/{#}", "plant", "plant/#"), "x/");
  EXPECT_EQ(apply_template("x/{9}", "a/b", "#"), "x/");
  EXPECT_EQ(apply_template("fixed/topic", "a/b", "#"), "fixed/topic");
}

}  // namespace
}  // namespace strata::bridges
