// Windows and deadbands (rules/prelude.cpp) driven by a settable clock.
#include <gtest/gtest.h>

#include "tests/unit/rules/rule_vm_fixture.hpp"

namespace strata::rules {
namespace {

using RuleWindowsTest = RuleVmFixture;

std::vector<std::string> published(const RuleVm::Outcome& out) {
  std::vector<std::string> v;
  for (const auto& a : out.actions) v.push_back(std::string(a.msg->topic) + " " + std::string(a.msg->payload));
  return v;
}

constexpr const char* kAggregates = R"(
  publish("w/" .. key, string.format("n=%d sum=%g min=%g max=%g avg=%g first=%g last=%g", r.count, r.sum, r.min,
                                     r.max, r.avg, r.first, r.last))
)";

std::string rule(const std::string& spec) {
  return "topics = 'in/+'\nlocal w = window{ name = 'w', " + spec + ", on_close = function(key, r)" + kAggregates +
         "end }\nfunction on_message(m) w:add(m.levels[2], tonumber(m.payload)) return false end\n";
}

TEST_F(RuleWindowsTest, TumblingTimeClosesOnTheTimerPerKey) {
  now = 1700000000000;  // a multiple of 10 s
  ASSERT_EQ(load("t.lua", rule("seconds = 10")), "");
  for (auto [key, v] : {std::pair{"a", "1"}, {"b", "10"}, {"a", "5"}, {"a", "3"}}) {
    auto m = message(std::string("in/") + key, v);
    EXPECT_TRUE(run(m).actions.empty());
    now += 1000;
  }
  now = 1700000009999;
  EXPECT_TRUE(vm->tick().actions.empty());
  now = 1700000010000;
  auto closed = published(vm->tick());
  std::sort(closed.begin(), closed.end());
  EXPECT_EQ(closed, (std::vector<std::string>{"w/a n=3 sum=9 min=1 max=5 avg=3 first=1 last=3",
                                              "w/b n=1 sum=10 min=10 max=10 avg=10 first=10 last=10"}));
  now += 60000;
  EXPECT_TRUE(vm->tick().actions.empty());  // empty windows emit nothing
}

// Each on_close is a call of its own: a window over many keys closes whole
// under an instruction budget far below what all its calls take together,
// and a fault in one key's on_close loses only that key's result.
TEST_F(RuleWindowsTest, EveryOnCloseHasItsOwnBudget) {
  now = 1700000000000;
  ASSERT_EQ(load("t.lua", R"(
topics = 'in/+'
local w = window{ seconds = 10, on_close = function(key, r)
  if key == "bad" then error("no result for " .. key) end
  local s = 0
  for i = 1, 100 do s = s + i end          -- some work per key: ~500 instructions
  publish("avg/" .. key, { avg = r.avg, s = s })
end }
function on_message(m) w:add(m.levels[2], tonumber(m.payload)) return false end)"),
            "");
  const int keys = 2000;  // ~1,000,000 instructions in all; the budget per call is 200,000
  for (int i = 0; i < keys; ++i) {
    auto m = message("in/k" + std::to_string(i), std::to_string(i));
    run(m);
  }
  auto bad = message("in/bad", "1");
  run(bad);
  now += 10000;
  RuleVm::Outcome out = vm->tick();
  EXPECT_EQ(out.actions.size(), static_cast<std::size_t>(keys));
  auto closed = published(out);
  std::sort(closed.begin(), closed.end());
  EXPECT_EQ(closed.front(), R"(avg/k0 {"avg":0,"s":5050})");
  EXPECT_EQ(stats.get("t")->totals().errors, 1u);
  EXPECT_EQ(stats.get("t")->totals().published, static_cast<std::uint64_t>(keys));
}

TEST_F(RuleWindowsTest, TumblingTimeClosesOnALateMessageToo) {
  now = 1700000000000;
  ASSERT_EQ(load("t.lua", rule("seconds = 10")), "");
  auto m1 = message("in/a", "2");
  run(m1);
  now += 15000;  // no tick in between
  auto m2 = message("in/a", "4");
  EXPECT_EQ(published(run(m2)), (std::vector<std::string>{"w/a n=1 sum=2 min=2 max=2 avg=2 first=2 last=2"}));
  now += 10000;
  EXPECT_EQ(published(vm->tick()), (std::vector<std::string>{"w/a n=1 sum=4 min=4 max=4 avg=4 first=4 last=4"}));
}

TEST_F(RuleWindowsTest, SlidingTimeReportsTheLastSecondsEveryStep) {
  now = 1700000000000;
  ASSERT_EQ(load("t.lua", rule("seconds = 10, every = 5")), "");
  for (int v : {1, 2, 3}) {
    auto m = message("in/a", std::to_string(v));
    run(m);
    now += 2000;
  }  // samples at +0, +2, +4 s
  now = 1700000005000;
  EXPECT_EQ(published(vm->tick()), (std::vector<std::string>{"w/a n=3 sum=6 min=1 max=3 avg=2 first=1 last=3"}));
  now = 1700000010000;
  EXPECT_EQ(published(vm->tick()), (std::vector<std::string>{"w/a n=3 sum=6 min=1 max=3 avg=2 first=1 last=3"}));
  now = 1700000012000;
  auto late = message("in/a", "7");
  run(late);
  now = 1700000013000;
  EXPECT_TRUE(vm->tick().actions.empty());  // next step at +15 s
  now = 1700000015000;                      // [+5 s, +15 s]: only the 7
  EXPECT_EQ(published(vm->tick()), (std::vector<std::string>{"w/a n=1 sum=7 min=7 max=7 avg=7 first=7 last=7"}));
  now = 1700000020000;  // [+10 s, +20 s]: still the 7
  EXPECT_EQ(published(vm->tick()), (std::vector<std::string>{"w/a n=1 sum=7 min=7 max=7 avg=7 first=7 last=7"}));
  now = 1700000025000;  // [+15 s, +25 s]: empty, nothing emitted
  EXPECT_TRUE(vm->tick().actions.empty());
}

TEST_F(RuleWindowsTest, CountWindows) {
  ASSERT_EQ(load("t.lua", rule("count = 3")), "");
  std::vector<std::string> all;
  for (int v = 1; v <= 7; ++v) {
    auto m = message("in/a", std::to_string(v));
    for (auto& s : published(run(m))) all.push_back(s);
  }
  EXPECT_EQ(all, (std::vector<std::string>{"w/a n=3 sum=6 min=1 max=3 avg=2 first=1 last=3",
                                           "w/a n=3 sum=15 min=4 max=6 avg=5 first=4 last=6"}));
  ASSERT_EQ(load("s.lua", rule("count = 3, every = 2")), "");
  ASSERT_TRUE(!vm->remove("t.lua").empty());
  all.clear();
  for (int v = 1; v <= 6; ++v) {
    auto m = message("in/a", std::to_string(v));
    for (auto& s : published(run(m))) all.push_back(s);
  }
  EXPECT_EQ(all, (std::vector<std::string>{"w/a n=3 sum=6 min=1 max=3 avg=2 first=1 last=3",
                                           "w/a n=3 sum=12 min=3 max=5 avg=4 first=3 last=5"}));
}

TEST_F(RuleWindowsTest, WindowSurvivesReloadWithTheNewCallback) {
  now = 1700000000000;
  ASSERT_EQ(load("t.lua", rule("seconds = 10")), "");
  auto m = message("in/a", "4");
  run(m);
  std::string v2 = rule("seconds = 10");
  v2.replace(v2.find("\"w/\""), 4, "\"v2/\"");
  ASSERT_EQ(load("t.lua", v2), "");
  auto m2 = message("in/a", "6");
  run(m2);
  now += 10000;
  EXPECT_EQ(published(vm->tick()), (std::vector<std::string>{"v2/a n=2 sum=10 min=4 max=6 avg=5 first=4 last=6"}));
  // A version that fails to load leaves the window and its callback alone.
  auto m3 = message("in/a", "1");
  run(m3);
  std::string broken = rule("seconds = 10");
  broken.replace(broken.find("\"w/\""), 4, "\"v3/\"");
  broken += "error('late')\n";
  EXPECT_NE(load("t.lua", broken), "");
  now += 10000;
  EXPECT_EQ(published(vm->tick()), (std::vector<std::string>{"v2/a n=1 sum=1 min=1 max=1 avg=1 first=1 last=1"}));
}

TEST_F(RuleWindowsTest, BadWindowSpecsAreLoadErrors) {
  EXPECT_EQ(load("t.lua", "topics='#'\nwindow{ on_close = print }\nfunction on_message() end"),
            "t.lua:2: window needs either seconds = N or count = N");
  EXPECT_EQ(load("t.lua", "topics='#'\nwindow{ seconds = 1 }\nfunction on_message() end"),
            "t.lua:2: window needs on_close = function(key, result)");
  EXPECT_EQ(load("t.lua", "topics='#'\nwindow{ count = 1.5, on_close = print }\nfunction on_message() end"),
            "t.lua:2: window count must be a positive integer");
}

TEST_F(RuleWindowsTest, Deadband) {
  ASSERT_EQ(load("t.lua", R"(
topics = "in/+"
local band = deadband{ delta = 0.5 }
function on_message(m)
  if not band:changed(m.topic, tonumber(m.payload)) then return false end
end)"),
            "");
  std::string passed;
  for (const char* v : {"10", "10.5", "10.6", "10.2", "11.2", "9"}) {
    auto m = message("in/a", v);
    if (!run(m).drop) passed += std::string(v) + " ";
  }
  EXPECT_EQ(passed, "10 10.6 11.2 9 ");
}

}  // namespace
}  // namespace strata::rules
