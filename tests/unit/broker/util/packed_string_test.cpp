#include "broker/util/packed_string.hpp"

#include <gtest/gtest.h>

#include <string>

namespace strata::util {
namespace {

TEST(PackedStringTest, IsSmallerThanAString) {
  static_assert(sizeof(PackedString) == 24);
  EXPECT_LT(sizeof(PackedString), sizeof(std::string));
}

TEST(PackedStringTest, EmptyByDefault) {
  PackedString s;
  EXPECT_TRUE(s.view().empty());
}

TEST(PackedStringTest, KeepsEveryLengthAroundTheInPlaceLimit) {
  // 23 characters fit in place; 24 and more go to the heap.
  for (std::size_t n : {0u, 1u, 15u, 21u, 22u, 23u, 24u, 25u, 47u, 300u}) {
    std::string text;
    for (std::size_t i = 0; i < n; ++i) text += static_cast<char>('a' + i % 26);
    PackedString s(text);
    EXPECT_EQ(s.view(), text) << n;
  }
}

TEST(PackedStringTest, AssigningReplacesAndFreesTheOld) {
  PackedString s(std::string(40, 'x'));  // on the heap
  s = "127.0.0.1:50514";                  // in place: the heap copy is freed (ASan: no leak)
  EXPECT_EQ(s.view(), "127.0.0.1:50514");
  s = "[2001:db8:85a3::8a2e:370:7334]:65535";
  EXPECT_EQ(s.view(), "[2001:db8:85a3::8a2e:370:7334]:65535");
  s = "";
  EXPECT_TRUE(s.view().empty());
}

}  // namespace
}  // namespace strata::util
