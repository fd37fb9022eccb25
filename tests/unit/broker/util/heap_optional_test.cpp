#include "broker/util/heap_optional.hpp"

#include <gtest/gtest.h>

#include <string>

namespace strata::util {
namespace {

TEST(HeapOptionalTest, EmptyUntilSetAndEmptyAfterReset) {
  HeapOptional<std::string> o;
  EXPECT_FALSE(o);
  o = std::string("will");
  ASSERT_TRUE(o);
  EXPECT_EQ(*o, "will");
  EXPECT_EQ(o->size(), 4u);
  o.reset();
  EXPECT_FALSE(o.has_value());
}

TEST(HeapOptionalTest, TakesAStdOptionalEmptyOrNot) {
  HeapOptional<std::string> o;
  o = std::optional<std::string>("x");
  ASSERT_TRUE(o);
  EXPECT_EQ(*o, "x");
  o = std::optional<std::string>();
  EXPECT_FALSE(o);
  o = std::string("y");
  o = std::nullopt;
  EXPECT_FALSE(o);
}

TEST(HeapOptionalTest, CopiesAreDeepAndMovesLeaveTheSourceEmpty) {
  HeapOptional<std::string> a;
  a = std::string("a");
  HeapOptional<std::string> b = a;
  *b = "b";
  EXPECT_EQ(*a, "a");
  HeapOptional<std::string> c = std::move(a);
  EXPECT_FALSE(a);  // NOLINT(bugprone-use-after-move): moved-from is empty by design
  EXPECT_EQ(*c, "a");
  HeapOptional<std::string> empty;
  c = empty;
  EXPECT_FALSE(c);
}

}  // namespace
}  // namespace strata::util
