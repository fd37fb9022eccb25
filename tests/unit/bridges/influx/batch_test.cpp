#include "bridges/influx/batch.hpp"

#include <gtest/gtest.h>

namespace strata::bridges::influx {
namespace {

LineBatch three() {
  LineBatch b;
  b.add("a v=1 1", 10);
  b.add("b v=2 2\n", 11);
  b.add("c v=3 3", 13);
  return b;
}

TEST(LineBatch, LinesAndParts) {
  LineBatch b = three();
  ASSERT_EQ(b.size(), 3u);
  EXPECT_EQ(b.body, "a v=1 1\nb v=2 2\nc v=3 3\n");
  EXPECT_EQ(b.line(1), "b v=2 2");
  LineBatch tail = b.part(1, 3);
  EXPECT_EQ(tail.body, "b v=2 2\nc v=3 3\n");
  EXPECT_EQ(tail.line(0), "b v=2 2");
  EXPECT_EQ(tail.offsets, (std::vector<std::uint64_t>{11, 13}));
  std::size_t drop[] = {0, 2};
  LineBatch mid = b.without(drop);
  EXPECT_EQ(mid.body, "b v=2 2\n");
  EXPECT_EQ(mid.offsets, (std::vector<std::uint64_t>{11}));
}

TEST(Batcher, FullByLines) {
  Batcher b({.lines = 2, .bytes = 1000, .max_wait = std::chrono::milliseconds(50)});
  auto t0 = Batcher::Clock::time_point{} + std::chrono::seconds(1);
  EXPECT_FALSE(b.add("a v=1", 1, t0));
  EXPECT_TRUE(b.add("b v=1", 2, t0));
  LineBatch x = b.take();
  EXPECT_EQ(x.size(), 2u);
  EXPECT_TRUE(b.empty());
}

TEST(Batcher, FullByBytesAndOverflow) {
  Batcher b({.lines = 100, .bytes = 12, .max_wait = std::chrono::milliseconds(50)});
  auto t0 = Batcher::Clock::time_point{} + std::chrono::seconds(1);
  EXPECT_FALSE(b.would_overflow(100));  // an empty batch takes any line
  EXPECT_FALSE(b.add("a v=1", 1, t0));  // 6 bytes
  EXPECT_TRUE(b.would_overflow(7));
  EXPECT_FALSE(b.would_overflow(6));
  EXPECT_TRUE(b.add("b v=1", 2, t0));  // 12 bytes: full
}

TEST(Batcher, DueByTime) {
  Batcher b({.lines = 100, .bytes = 1000, .max_wait = std::chrono::milliseconds(50)});
  auto t0 = Batcher::Clock::time_point{} + std::chrono::seconds(1);
  EXPECT_FALSE(b.due(t0 + std::chrono::hours(1)));  // nothing in it
  b.add("a v=1", 1, t0);
  b.add("b v=1", 2, t0 + std::chrono::milliseconds(40));
  EXPECT_FALSE(b.due(t0 + std::chrono::milliseconds(49)));
  EXPECT_TRUE(b.due(t0 + std::chrono::milliseconds(50)));
  EXPECT_EQ(b.deadline(), t0 + std::chrono::milliseconds(50));
}

TEST(Batcher, RecycledMemoryStartsEmpty) {
  Batcher b({.lines = 2, .bytes = 1000, .max_wait = std::chrono::milliseconds(50)});
  auto t0 = Batcher::Clock::time_point{} + std::chrono::seconds(1);
  b.add("a v=1", 1, t0);
  b.add("b v=1", 2, t0);
  LineBatch first = b.take();
  b.recycle(std::move(first));
  b.add("c v=1", 3, t0);  // fills the recycled memory: nothing of a and b in it
  EXPECT_TRUE(b.add("d v=1", 4, t0));
  LineBatch second = b.take();
  EXPECT_EQ(second.body, "c v=1\nd v=1\n");
  EXPECT_EQ(second.offsets, (std::vector<std::uint64_t>{3, 4}));
  EXPECT_EQ(second.line(0), "c v=1");
  EXPECT_TRUE(b.empty());
}

}  // namespace
}  // namespace strata::bridges::influx
