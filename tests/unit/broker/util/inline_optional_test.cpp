#include "broker/util/inline_optional.hpp"

#include <gtest/gtest.h>

#include <string>
#include <utility>

namespace strata::util {
namespace {

// Counts the values alive, so every construction is matched by exactly one
// destruction.
struct Counted {
  static int alive;
  std::string s;
  explicit Counted(std::string v) : s(std::move(v)) { ++alive; }
  Counted(const Counted& o) : s(o.s) { ++alive; }
  Counted(Counted&& o) noexcept : s(std::move(o.s)) { ++alive; }
  Counted& operator=(const Counted&) = default;
  Counted& operator=(Counted&&) noexcept = default;
  ~Counted() { --alive; }
};
int Counted::alive = 0;

TEST(InlineOptionalTest, EmptyUntilEmplacedAndEmptyAfterReset) {
  {
    InlineOptional<Counted> o;
    EXPECT_FALSE(o);
    EXPECT_EQ(Counted::alive, 0);
    o.emplace("a");
    ASSERT_TRUE(o.has_value());
    EXPECT_EQ(o->s, "a");
    EXPECT_EQ(Counted::alive, 1);
    o.emplace("b");  // the old value goes first
    EXPECT_EQ((*o).s, "b");
    EXPECT_EQ(Counted::alive, 1);
    o.reset();
    EXPECT_FALSE(o);
    EXPECT_EQ(Counted::alive, 0);
    o.emplace("c");
  }
  EXPECT_EQ(Counted::alive, 0);  // the destructor destroys an engaged value
}

TEST(InlineOptionalTest, CopiesAndMovesAsStdOptional) {
  {
    InlineOptional<Counted> a;
    a.emplace("a");
    InlineOptional<Counted> b = a;
    b->s = "b";
    EXPECT_EQ(a->s, "a");
    InlineOptional<Counted> c = std::move(a);
    EXPECT_TRUE(a);  // NOLINT(bugprone-use-after-move): engaged, moved-from value, as std::optional
    EXPECT_EQ(c->s, "a");
    EXPECT_EQ(Counted::alive, 3);

    InlineOptional<Counted> empty;
    b = empty;  // engaged <- empty
    EXPECT_FALSE(b);
    b = c;  // empty <- engaged
    EXPECT_EQ(b->s, "a");
    c->s = "c";
    b = std::move(c);  // engaged <- engaged
    EXPECT_EQ(b->s, "c");
    const InlineOptional<Counted>& same = b;
    b = same;  // self-assignment keeps the value
    EXPECT_EQ(b->s, "c");
    InlineOptional<Counted> d = empty;
    EXPECT_FALSE(d);
    EXPECT_EQ(Counted::alive, 3);  // a, b, c
  }
  EXPECT_EQ(Counted::alive, 0);
}

TEST(InlineOptionalTest, AssignsAValue) {
  {
    InlineOptional<Counted> o;
    const Counted x("x");
    o = x;
    EXPECT_EQ(o->s, "x");
    o = Counted("y");
    EXPECT_EQ(o->s, "y");
    EXPECT_EQ(Counted::alive, 2);  // x and o's
  }
  EXPECT_EQ(Counted::alive, 0);
}

}  // namespace
}  // namespace strata::util
