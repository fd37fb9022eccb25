#include "broker/util/inline_function.hpp"

#include <gtest/gtest.h>

#include <memory>
#include <string>

namespace strata::util {
namespace {

using Fn = InlineFunction<int(int, const std::string&)>;

TEST(InlineFunction, CallsWhatItHolds) {
  int base = 10;
  Fn f = [&base](int a, const std::string& s) { return base + a + static_cast<int>(s.size()); };
  ASSERT_TRUE(f);
  EXPECT_EQ(f(1, "abc"), 14);
  base = 20;
  EXPECT_EQ(f(0, ""), 20);
  EXPECT_FALSE(Fn{});
}

// A handler holding a shared_ptr (what a connection's completion holds):
// the reference travels with moves and is released exactly once.
TEST(InlineFunction, MovesAndDestroysItsCallableOnce) {
  auto owner = std::make_shared<int>(7);
  std::weak_ptr<int> watch = owner;
  {
    Fn a = [p = std::move(owner)](int x, const std::string&) { return *p + x; };
    EXPECT_EQ(watch.use_count(), 1);
    Fn b = std::move(a);
    EXPECT_FALSE(a);  // NOLINT(bugprone-use-after-move): moved-from is empty
    EXPECT_EQ(b(1, ""), 8);
    Fn c;
    c = std::move(b);
    EXPECT_FALSE(b);  // NOLINT(bugprone-use-after-move)
    EXPECT_EQ(c(2, ""), 9);
    EXPECT_EQ(watch.use_count(), 1);
    c = Fn{[](int x, const std::string&) { return x; }};  // the old callable is destroyed
    EXPECT_TRUE(watch.expired());
    EXPECT_EQ(c(3, ""), 3);
  }
  EXPECT_TRUE(watch.expired());
}

TEST(InlineFunction, MoveOnlyCallable) {
  auto p = std::make_unique<int>(5);
  Fn f = [p = std::move(p)](int x, const std::string&) { return *p * x; };
  Fn g = std::move(f);
  EXPECT_EQ(g(3, ""), 15);
}

}  // namespace
}  // namespace strata::util
