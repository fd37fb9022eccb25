// The ordering decision of a bridge's driver (bridges/read_order.hpp):
// strict offset order, and live_first's split of a backlog, its share of
// the window and its end. A simulated log: every offset from the cursor up
// to `end` is there, so a read returns min(max, until - from) records.
#include "bridges/read_order.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <vector>

namespace strata::bridges {
namespace {

struct Sent {
  std::uint64_t offset;
  bool backlog;
  bool operator==(const Sent&) const = default;
};

// Does the plan against a log whose next offset is `end`; returns what was read.
std::vector<Sent> run(ReadOrder& order, std::uint64_t end, std::size_t room) {
  std::vector<Sent> out;
  bool again = true;
  while (again && room > 0) {
    again = false;
    for (const ReadOrder::Read& r : order.plan(end, room)) {
      const std::size_t max = std::min(r.max, room);
      if (max == 0) continue;
      const std::uint64_t stop = std::min(r.until, end);
      std::uint64_t o = r.from;
      std::size_t got = 0;
      for (; got < max && o < stop; ++o, ++got) out.push_back({o, r.backlog});
      if (order.advanced(r, o, got)) again = true;
      room -= got;
      if (got != 0) again = true;
    }
  }
  return out;
}

TEST(ReadOrderTest, StrictReadsInOffsetOrderWhateverTheBacklog) {
  ReadOrder order(Order::strict, 10, 1);
  auto got = run(order, 1001, 5);
  EXPECT_EQ(got, (std::vector<Sent>{{1, false}, {2, false}, {3, false}, {4, false}, {5, false}}));
  EXPECT_FALSE(order.draining());
  EXPECT_EQ(order.live_cursor(), 6u);
}

TEST(ReadOrderTest, LiveFirstDoesNotSplitAtOrBelowTheThreshold) {
  ReadOrder order(Order::live_first, 10, 1);
  auto got = run(order, 11, 20);  // exactly 10 unread: not more than the threshold
  ASSERT_EQ(got.size(), 10u);
  EXPECT_TRUE(std::none_of(got.begin(), got.end(), [](const Sent& s) { return s.backlog; }));
  EXPECT_FALSE(order.draining());
}

TEST(ReadOrderTest, LiveFirstSplitsABacklogAndSendsNewRecordsFirst) {
  ReadOrder order(Order::live_first, 10, 1);
  // 100 unread at the first plan: offsets 1..100 become the backlog.
  auto first = run(order, 101, 8);
  EXPECT_TRUE(order.draining());
  EXPECT_EQ(order.backlog_end(), 101u);
  // Nothing live yet: the whole room goes to the backlog, in order.
  ASSERT_EQ(first.size(), 8u);
  for (std::size_t i = 0; i < first.size(); ++i) EXPECT_EQ(first[i], (Sent{i + 1, true}));
  // Five new records arrive (101..105): they go out ahead of the rest of
  // the backlog, unmarked; the backlog still gets its quarter.
  auto next = run(order, 106, 8);
  ASSERT_EQ(next.size(), 8u);
  std::vector<Sent> live(next.begin(), next.begin() + 5);
  EXPECT_EQ(live, (std::vector<Sent>{{101, false}, {102, false}, {103, false}, {104, false}, {105, false}}));
  EXPECT_EQ(next[5], (Sent{9, true}));
  EXPECT_EQ(next[7], (Sent{11, true}));
}

TEST(ReadOrderTest, TheBacklogGetsAQuarterUnderALiveStreamThatFillsTheWindow) {
  ReadOrder order(Order::live_first, 10, 1);
  std::uint64_t end = 1001;  // 1,000 backlog records
  run(order, end, 0);
  std::size_t live = 0, backlog = 0;
  // One record of room at a time (each a confirmation), with 10 new live
  // records per turn: more than the link takes.
  for (int turn = 0; turn < 400; ++turn) {
    end += 10;
    for (const Sent& s : run(order, end, 1)) (s.backlog ? backlog : live)++;
  }
  EXPECT_EQ(live + backlog, 400u);
  EXPECT_EQ(backlog, 100u);  // a quarter, rounded up at each step
  EXPECT_EQ(live, 300u);
  EXPECT_EQ(order.backlog_cursor(), 101u);
}

TEST(ReadOrderTest, TheBacklogEndsAtTheSplitAndOrderIsStrictAgain) {
  ReadOrder order(Order::live_first, 3, 1);
  auto a = run(order, 11, 4);  // offsets 1..10 are the backlog
  EXPECT_EQ(a.size(), 4u);
  auto b = run(order, 13, 100);  // 11, 12 live; then the rest of the backlog
  EXPECT_EQ(b, (std::vector<Sent>{{11, false}, {12, false}, {5, true}, {6, true}, {7, true}, {8, true}, {9, true},
                                  {10, true}}));
  EXPECT_FALSE(order.draining());
  EXPECT_EQ(order.live_cursor(), 13u);
  auto c = run(order, 15, 100);
  EXPECT_EQ(c, (std::vector<Sent>{{13, false}, {14, false}}));
  // A new backlog later splits again.
  auto d = run(order, 25, 2);
  EXPECT_TRUE(order.draining());
  EXPECT_EQ(order.backlog_end(), 25u);
  EXPECT_EQ(d, (std::vector<Sent>{{15, true}, {16, true}}));
}

TEST(ReadOrderTest, ABacklogWhoseRestLeftTheLogEndsWithoutRecords) {
  // Records of the backlog may leave the log unread (expired, dropped):
  // a read that finds none but reaches the split point ends the backlog.
  ReadOrder order(Order::live_first, 3, 1);
  ReadOrder::Plan p = order.plan(11, 4);
  ASSERT_TRUE(order.draining());
  EXPECT_EQ(p[0].max, 3u);  // live first, one left for the backlog's quarter
  EXPECT_FALSE(order.advanced(p[0], 11, 0));
  EXPECT_EQ(p[1].from, 1u);
  EXPECT_EQ(p[1].until, 11u);
  EXPECT_TRUE(p[1].backlog);
  EXPECT_TRUE(order.advanced(p[1], 11, 0));
  EXPECT_FALSE(order.draining());
  EXPECT_EQ(order.live_cursor(), 11u);
}

}  // namespace
}  // namespace strata::bridges
