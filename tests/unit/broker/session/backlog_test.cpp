#include "broker/session/backlog.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

#include "broker/session/session.hpp"

namespace strata::session {
namespace {

TEST(BacklogTest, ChargesCountUntilReleasedOrDestroyed) {
  Backlog b;
  Backlog::Charge one;
  EXPECT_EQ(one.charge(b), 1u);
  {
    Backlog::Charge two;
    EXPECT_EQ(two.charge(b), 2u);
    EXPECT_EQ(two.charge(b), 2u);  // charging the same backlog again counts once
  }
  EXPECT_EQ(b.count(), 1u);  // destroyed: given back
  Backlog::Charge moved = std::move(one);
  EXPECT_FALSE(one.charged());
  EXPECT_EQ(b.count(), 1u);
  moved.release();
  moved.release();
  EXPECT_EQ(b.count(), 0u);
}

TEST(BacklogTest, RechargingMovesTheCountToTheOtherBacklog) {
  Backlog first, second;
  Backlog::Charge c;
  c.charge(first);
  EXPECT_EQ(c.charge(second), 1u);
  EXPECT_EQ(first.count(), 0u);
  EXPECT_EQ(second.count(), 1u);
  Backlog::Charge other;
  other.charge(first);
  other = std::move(c);  // gives back its own charge, takes over c's
  EXPECT_EQ(first.count(), 0u);
  EXPECT_EQ(second.count(), 1u);
}

TEST(BacklogTest, WaiterIsCalledOnceWhenTheCountFallsBelowItsLevel) {
  Backlog b;
  std::vector<Backlog::Charge> charges(5);
  for (auto& c : charges) c.charge(b);
  int called = 0;
  EXPECT_TRUE(b.wait(3, nullptr, [&] { ++called; }));
  charges[0].release();  // 4
  charges[1].release();  // 3: not below 3 yet
  EXPECT_EQ(called, 0);
  charges[2].release();  // 2
  EXPECT_EQ(called, 1);
  charges[3].release();
  charges[4].release();
  EXPECT_EQ(called, 1);
}

TEST(BacklogTest, WaitingOnABacklogAlreadyBelowTheLevelIsRefused) {
  Backlog b;
  Backlog::Charge c;
  c.charge(b);
  int called = 0;
  EXPECT_FALSE(b.wait(2, nullptr, [&] { ++called; }));
  c.release();
  EXPECT_EQ(called, 0);
}

TEST(BacklogTest, CancelledWaitersAreNotCalled) {
  Backlog b;
  Backlog::Charge c;
  c.charge(b);
  int mine = 0, theirs = 0;
  int me = 0, them = 0;
  ASSERT_TRUE(b.wait(1, &me, [&] { ++mine; }));
  ASSERT_TRUE(b.wait(1, &them, [&] { ++theirs; }));
  b.cancel(&me);
  c.release();
  EXPECT_EQ(mine, 0);
  EXPECT_EQ(theirs, 1);
}

TEST(BacklogTest, StalledReleasesWaitersUntilTheCountFalls) {
  Backlog b;
  std::vector<Backlog::Charge> charges(4);
  for (auto& c : charges) c.charge(b);
  int called = 0;
  ASSERT_TRUE(b.wait(2, nullptr, [&] { ++called; }));
  b.mark_stalled(2);
  EXPECT_EQ(called, 1);  // waiters go on at once
  EXPECT_TRUE(b.stalled());
  charges[0].release();
  charges[1].release();  // 2
  EXPECT_TRUE(b.stalled());
  charges[2].release();  // 1: draining again
  EXPECT_FALSE(b.stalled());
  EXPECT_EQ(called, 1);
}

TEST(BacklogTest, MarkingABacklogBelowTheLevelStalledDoesNothing) {
  Backlog b;
  b.mark_stalled(2);
  EXPECT_FALSE(b.stalled());
}

TEST(BacklogTest, NoWakeUpIsLostBetweenThreads) {
  // One thread waits whenever the count is at the level, another gives
  // charges back: every wait that was accepted must be answered.
  for (int round = 0; round < 200; ++round) {
    Backlog b;
    std::vector<Backlog::Charge> charges(64);
    for (auto& c : charges) c.charge(b);
    std::atomic<int> called{0};
    std::atomic<bool> accepted{false};
    std::thread waiter([&] { accepted = b.wait(32, nullptr, [&] { ++called; }); });
    std::thread releaser([&] {
      for (auto& c : charges) c.release();
    });
    waiter.join();
    releaser.join();
    EXPECT_EQ(called.load(), accepted ? 1 : 0) << "round " << round;
  }
}

TEST(BacklogTest, DeliveryGivesBackItsChargeWhenItGoesInFlight) {
  auto handle = std::make_shared<SessionHandle>("c1", 1, 0);
  Session s{handle, protocol::Version::v5};
  Delivery d;
  d.msg = router::Message::make({}, {});
  d.qos = protocol::QoS::at_least_once;
  d.backlog.charge(handle->backlog);
  ASSERT_EQ(handle->backlog.count(), 1u);
  s.enqueue(std::move(d), 10);
  EXPECT_EQ(handle->backlog.count(), 1u);  // queued: still waiting
  s.add_inflight(1, s.pop_queue());
  EXPECT_EQ(handle->backlog.count(), 0u);
}

}  // namespace
}  // namespace strata::session
