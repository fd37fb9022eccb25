#include "broker/core/deadline_wheel.hpp"

#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <random>
#include <vector>

namespace strata::core {
namespace {

using namespace std::chrono_literals;
using Clock = DeadlineWheel::Clock;
using Entry = DeadlineWheel::Entry;

const Clock::time_point t0 = Clock::time_point{} + 1000s;

// An entry that knows its name and its deadline.
struct Timed : Entry {
  int id = 0;
  Clock::time_point deadline{};
};

struct Fired {
  std::vector<int> ids;
  void operator()(Entry& e) { ids.push_back(static_cast<Timed&>(e).id); }
};

TEST(DeadlineWheel, FiresAtTheTickAtOrAfterTheDeadlineNeverBefore) {
  DeadlineWheel w(t0, 250ms, 16);
  Timed a;
  a.id = 1;
  w.schedule(a, t0 + 1100ms);  // tick 5 (1.25 s)
  EXPECT_TRUE(a.scheduled());
  EXPECT_EQ(w.size(), 1u);
  EXPECT_EQ(w.next_wake(), t0 + 1250ms);
  Fired f;
  w.expire(t0 + 1100ms, std::ref(f));  // the deadline itself: within tick 4
  w.expire(t0 + 1249ms, std::ref(f));
  EXPECT_TRUE(f.ids.empty());
  w.expire(t0 + 1250ms, std::ref(f));
  EXPECT_EQ(f.ids, std::vector<int>{1});
  EXPECT_FALSE(a.scheduled());
  EXPECT_TRUE(w.empty());
  EXPECT_EQ(w.next_wake(), std::nullopt);
}

TEST(DeadlineWheel, ADeadlineOnATickBoundaryFiresAtThatTick) {
  DeadlineWheel w(t0, 250ms, 16);
  Timed a;
  w.schedule(a, t0 + 500ms);
  Fired f;
  w.expire(t0 + 499ms, std::ref(f));
  EXPECT_TRUE(f.ids.empty());
  w.expire(t0 + 500ms, std::ref(f));
  EXPECT_EQ(f.ids.size(), 1u);
}

TEST(DeadlineWheel, APastDeadlineFiresAtTheNextTick) {
  DeadlineWheel w(t0, 250ms, 16);
  Fired f;
  w.expire(t0 + 1000ms, std::ref(f));  // tick 4 expired
  Timed a;
  w.schedule(a, t0 + 10ms);
  EXPECT_EQ(w.next_wake(), t0 + 1250ms);
  w.expire(t0 + 1249ms, std::ref(f));
  EXPECT_TRUE(f.ids.empty());
  w.expire(t0 + 1250ms, std::ref(f));
  EXPECT_EQ(f.ids.size(), 1u);
}

TEST(DeadlineWheel, FiresInTickOrderThenInTheOrderScheduled) {
  DeadlineWheel w(t0, 100ms, 8);
  std::vector<Timed> e(5);
  for (int i = 0; i < 5; ++i) e[i].id = i;
  w.schedule(e[0], t0 + 450ms);  // tick 5
  w.schedule(e[1], t0 + 150ms);  // tick 2
  w.schedule(e[2], t0 + 420ms);  // tick 5, after e[0]
  w.schedule(e[3], t0 + 110ms);  // tick 2, after e[1]
  w.schedule(e[4], t0 + 300ms);  // tick 3
  Fired f;
  w.expire(t0 + 10s, std::ref(f));  // late: all at once, still in order
  EXPECT_EQ(f.ids, (std::vector<int>{1, 3, 4, 0, 2}));
}

TEST(DeadlineWheel, MoveAndCancel) {
  DeadlineWheel w(t0, 100ms, 8);
  Timed a, b;
  a.id = 1;
  b.id = 2;
  w.schedule(a, t0 + 200ms);
  w.schedule(b, t0 + 300ms);
  w.schedule(a, t0 + 500ms);  // moved later: counted once
  EXPECT_EQ(w.size(), 2u);
  Fired f;
  w.expire(t0 + 400ms, std::ref(f));
  EXPECT_EQ(f.ids, std::vector<int>{2});
  w.schedule(a, t0 + 450ms);  // moved earlier
  w.cancel(b);                // not scheduled any more: nothing
  EXPECT_EQ(w.size(), 1u);
  w.expire(t0 + 450ms, std::ref(f));
  EXPECT_EQ(f.ids, (std::vector<int>{2}));
  w.expire(t0 + 500ms, std::ref(f));
  EXPECT_EQ(f.ids, (std::vector<int>{2, 1}));
  w.schedule(a, t0 + 700ms);
  w.cancel(a);
  EXPECT_FALSE(a.scheduled());
  EXPECT_TRUE(w.empty());
  w.expire(t0 + 10s, std::ref(f));
  EXPECT_EQ(f.ids.size(), 2u);
}

TEST(DeadlineWheel, DeadlinesBeyondTheSpanWaitForTheirRound) {
  DeadlineWheel w(t0, 100ms, 8);  // spans 800 ms
  Timed far, near;
  far.id = 1;
  near.id = 2;
  w.schedule(far, t0 + 2050ms);  // tick 21, slot 5, two rounds on
  w.schedule(near, t0 + 500ms);  // tick 5, same slot
  Fired f;
  for (int ms = 0; ms <= 3000; ms += 10) {
    w.expire(t0 + std::chrono::milliseconds(ms), std::ref(f));
    if (ms < 500) {
      EXPECT_TRUE(f.ids.empty()) << ms;
    } else if (ms < 2100) {
      EXPECT_EQ(f.ids, std::vector<int>{2}) << ms;
    }
  }
  EXPECT_EQ(f.ids, (std::vector<int>{2, 1}));
}

TEST(DeadlineWheel, AStallLongerThanTheWheelFiresEverythingDue) {
  DeadlineWheel w(t0, 100ms, 8);
  std::vector<Timed> e(20);
  for (int i = 0; i < 20; ++i) {
    e[i].id = i;
    w.schedule(e[i], t0 + std::chrono::milliseconds(100 * (i + 1)));  // ticks 1..20
  }
  Fired f;
  w.expire(t0 + 1500ms, std::ref(f));  // ticks 1..15 are due, in order
  std::vector<int> want(15);
  for (int i = 0; i < 15; ++i) want[i] = i;
  EXPECT_EQ(f.ids, want);
  EXPECT_EQ(w.size(), 5u);
  w.expire(t0 + 2000ms, std::ref(f));
  want.resize(20);
  for (int i = 15; i < 20; ++i) want[i] = i;
  EXPECT_EQ(f.ids, want);
}

TEST(DeadlineWheel, FireMayRescheduleItselfAndCancelOthers) {
  DeadlineWheel w(t0, 100ms, 8);
  Timed a, b, c;
  a.id = 1;
  b.id = 2;
  c.id = 3;
  w.schedule(a, t0 + 100ms);
  w.schedule(b, t0 + 100ms);  // same slot, after a
  w.schedule(c, t0 + 100ms);
  std::vector<int> ids;
  int rounds = 0;
  auto fire = [&](Entry& e) {
    auto& t = static_cast<Timed&>(e);
    ids.push_back(t.id);
    if (t.id == 1) {
      w.cancel(b);  // waiting in the same walk
      if (++rounds < 3) w.schedule(a, t0);  // in the past: the next tick
    }
  };
  w.expire(t0 + 100ms, fire);
  EXPECT_EQ(ids, (std::vector<int>{1, 3}));
  EXPECT_FALSE(b.scheduled());
  EXPECT_TRUE(a.scheduled());
  w.expire(t0 + 300ms, fire);  // ticks 2 and 3: a fires in each, once
  EXPECT_EQ(ids, (std::vector<int>{1, 3, 1, 1}));
  EXPECT_TRUE(w.empty());
}

TEST(DeadlineWheel, FireMayDestroyTheEntry) {
  DeadlineWheel w(t0, 100ms, 8);
  auto a = std::make_unique<Timed>();
  Timed b;
  w.schedule(*a, t0 + 100ms);
  w.schedule(b, t0 + 100ms);
  int fired = 0;
  w.expire(t0 + 100ms, [&](Entry& e) {
    ++fired;
    if (&e == a.get()) a.reset();
  });
  EXPECT_EQ(fired, 2);
  EXPECT_EQ(a, nullptr);
}

TEST(DeadlineWheel, DestroyingTheWheelLeavesEntriesUnscheduled) {
  Timed a;
  {
    DeadlineWheel w(t0, 100ms, 8);
    w.schedule(a, t0 + 1s);
  }
  EXPECT_FALSE(a.scheduled());
}

// Many entries at random deadlines, moved and cancelled at random, fired by
// expire calls at random steps: each fires once, never before its deadline,
// at most one resolution after it, and in deadline order between ticks.
TEST(DeadlineWheel, ManyEntries) {
  constexpr int n = 20000;
  const auto res = 250ms;
  DeadlineWheel w(t0, res, 64);  // spans 16 s, deadlines up to 60 s
  std::mt19937 rng(17);
  std::vector<Timed> e(n);
  std::vector<bool> cancelled(n, false);
  for (int i = 0; i < n; ++i) {
    e[i].id = i;
    e[i].deadline = t0 + std::chrono::milliseconds(rng() % 60000);
    w.schedule(e[i], e[i].deadline);
  }
  for (int i = 0; i < n; i += 7) {  // moved
    e[i].deadline = t0 + std::chrono::milliseconds(rng() % 60000);
    w.schedule(e[i], e[i].deadline);
  }
  for (int i = 3; i < n; i += 11) {
    w.cancel(e[i]);
    cancelled[i] = true;
  }
  const std::size_t expected = w.size();
  std::vector<int> fired_count(n, 0);
  std::size_t fired = 0;
  Clock::time_point now = t0;
  std::uint64_t last_tick = 0;
  while (now < t0 + 62s) {
    now += std::chrono::milliseconds(rng() % 700);
    w.expire(now, [&](Entry& x) {
      auto& t = static_cast<Timed&>(x);
      ++fired_count[t.id];
      ++fired;
      EXPECT_LE(t.deadline, now) << t.id;           // never early
      EXPECT_FALSE(cancelled[t.id]) << t.id;
      // Tick order: a deadline in a later tick never fires before one in
      // an earlier tick.
      const auto tick = static_cast<std::uint64_t>((t.deadline - t0 + res - 1ms) / res);
      EXPECT_GE(tick, last_tick) << t.id;
      last_tick = tick;
    });
    // Nothing due is left behind: whatever is still in has its tick after
    // `now` (so it fires at most one resolution after its deadline).
    if (auto wake = w.next_wake()) {
      EXPECT_GT(*wake, now);
    }
    const auto now_tick = static_cast<std::uint64_t>((now - t0) / res);
    for (int i = 0; i < n; ++i) {
      if (!e[i].scheduled()) continue;
      const auto tick = static_cast<std::uint64_t>((e[i].deadline - t0 + res - 1ms) / res);
      ASSERT_GT(tick, now_tick) << i;
    }
  }
  EXPECT_EQ(fired, expected);
  for (int i = 0; i < n; ++i) EXPECT_EQ(fired_count[i], cancelled[i] ? 0 : 1) << i;
  EXPECT_TRUE(w.empty());
}

}  // namespace
}  // namespace strata::core
