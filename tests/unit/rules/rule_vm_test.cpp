// RuleVm: loading, the message API, drop/transform/publish/emit, the
// sandbox, budgets and faults — without a broker.
#include "rules/rule_vm.hpp"

#include <gtest/gtest.h>

#include "tests/unit/rules/rule_vm_fixture.hpp"

namespace strata::rules {
namespace {

using RuleVmTest = RuleVmFixture;

TEST_F(RuleVmTest, TransformsInPlace) {
  ASSERT_EQ(vm->load("t", "t.lua", R"(
topics = "a/+/b"
function on_message(msg)
  msg.topic = "x/" .. msg.levels[2]
  msg.payload = msg.client_id .. "," .. msg.username .. "," .. msg.qos .. "," .. tostring(msg.retain)
  msg.qos = 1
  msg.user_properties.k = "v"
end)"),
            "");
  auto m = message("a/7/b", "p");
  auto out = run(m);
  EXPECT_FALSE(out.drop);
  EXPECT_EQ(m->topic, "x/7");
  EXPECT_EQ(m->payload, "c1,u1,0,false");
  EXPECT_EQ(m->qos, protocol::QoS::at_least_once);
  ASSERT_EQ(m->properties.user_properties.size(), 1u);
  EXPECT_EQ(m->properties.user_properties[0], std::make_pair(std::string("k"), std::string("v")));
  auto other = message("a/7/c", "p");
  auto before = other;
  run(other);
  EXPECT_EQ(other, before);  // no match: the same message object
}

TEST_F(RuleVmTest, UnchangedMessageKeepsItsObject) {
  ASSERT_EQ(vm->load("t", "t.lua", "topics = '#'\nfunction on_message(msg) local _ = msg.json end"), "");
  auto m = message("a", "{}");
  auto before = m;
  run(m);
  EXPECT_EQ(m, before);
}

TEST_F(RuleVmTest, ReturnedTableReplacesAndFalseDrops) {
  ASSERT_EQ(vm->load("t", "t.lua", R"(
topics = {"r", "d"}
function on_message(msg)
  if msg.topic == "d" then return false end
  return { topic = "new", payload = { a = 1, b = { 1, 2 } } }
end)"),
            "");
  auto m = message("r", "x");
  run(m);
  EXPECT_EQ(m->topic, "new");
  EXPECT_EQ(m->payload, R"({"a":1,"b":[1,2]})");
  auto d = message("d", "x");
  EXPECT_TRUE(run(d).drop);
}

TEST_F(RuleVmTest, RulesRunInOrderAndDropStopsTheChain) {
  ASSERT_EQ(vm->load("b", "b.lua", "topics='#' order=2 function on_message(m) m.payload = m.payload .. 'b' end"), "");
  ASSERT_EQ(vm->load("a", "a.lua", "topics='#' order=1 function on_message(m) m.payload = m.payload .. 'a' end"), "");
  ASSERT_EQ(vm->load("c", "c.lua", "topics='#' order=2 function on_message(m) m.payload = m.payload .. 'c' end"), "");
  auto m = message("t", "");
  run(m);
  EXPECT_EQ(m->payload, "abc");
  ASSERT_EQ(vm->load("a", "a.lua", "topics='#' order=1 function on_message(m) return false end"), "");
  auto d = message("t", "");
  EXPECT_TRUE(run(d).drop);
  EXPECT_EQ(stats.get("b")->totals().matched, 1u);
}

TEST_F(RuleVmTest, JsonErrorValueForNonJson) {
  ASSERT_EQ(vm->load("t", "t.lua", R"(
topics = "#"
function on_message(msg)
  if msg.json == nil then msg.payload = "error: " .. msg.json_error else msg.payload = msg.json.v * 2 end
end)"),
            "");
  auto a = message("t", R"({"v": 21})");
  run(a);
  EXPECT_EQ(a->payload, "42");
  auto b = message("t", "{nope");
  run(b);
  EXPECT_EQ(b->payload, "error: invalid JSON at offset 1: Missing a name for object member.");
}

TEST_F(RuleVmTest, PublishAndEmitBecomeActions) {
  ASSERT_EQ(vm->load("t", "t.lua", R"(
topics = "in"
function on_message(msg)
  publish("out/1", "p", { qos = 2, retain = true, user_properties = { a = "b" } })
  emit("local", { topic = "out/2", payload = { x = 1 } })
end)"),
            "");
  auto m = message("in", "x", 2);
  auto out = run(m);
  ASSERT_EQ(out.actions.size(), 2u);
  EXPECT_EQ(out.actions[0].kind, Action::Kind::publish);
  EXPECT_EQ(out.actions[0].msg->topic, "out/1");
  EXPECT_EQ(out.actions[0].msg->qos, protocol::QoS::exactly_once);
  EXPECT_TRUE(out.actions[0].msg->retain);
  EXPECT_EQ(out.actions[0].msg->hops, 3);
  EXPECT_EQ(out.actions[0].msg->publisher, "$rule/t");
  EXPECT_EQ(out.actions[1].kind, Action::Kind::emit);
  EXPECT_EQ(out.actions[1].target, "local");
  EXPECT_EQ(out.actions[1].msg->payload, R"({"x":1})");
  auto t = stats.get("t")->totals();
  EXPECT_EQ(t.published, 1u);
  EXPECT_EQ(t.emitted, 1u);
}

TEST_F(RuleVmTest, HopLimitIsAFault) {
  ASSERT_EQ(vm->load("t", "t.lua", "topics='#'\nfunction on_message(m)\n publish('x', 'y')\nend"), "");
  auto ok = message("t", "", 3);
  EXPECT_EQ(run(ok).actions.size(), 1u);  // hops 4 == limit: allowed
  auto m = message("t", "", 4);
  auto out = run(m);
  EXPECT_TRUE(out.actions.empty());
  EXPECT_FALSE(out.drop);
  EXPECT_EQ(stats.get("t")->totals().errors, 1u);
}

TEST_F(RuleVmTest, LoadErrorsKeepThePreviousVersion) {
  ASSERT_EQ(vm->load("t", "t.lua", "topics='#' function on_message(m) m.payload='v1' end"), "");
  EXPECT_EQ(vm->load("t", "t.lua", "topics='#'\nfunction on_message(m)\n  m.payload = = 1\nend"),
            "t.lua:3: unexpected symbol near '='");
  EXPECT_EQ(vm->load("t", "t.lua", "topics='#'\nerror('no')"), "t.lua:2: no");
  EXPECT_EQ(vm->load("t", "t.lua", "topics='#'"), "t.lua: the rule defines no function on_message(msg)");
  EXPECT_EQ(vm->load("t", "t.lua", "function on_message() end"),
            "t.lua: the rule sets no topics (topics = \"filter\" or {\"filter\", ...})");
  EXPECT_EQ(vm->load("t", "t.lua", "topics={'a/#/b'} function on_message() end"),
            "t.lua: 'a/#/b' is not a valid topic filter (wildcards + and #, no $share)");
  EXPECT_EQ(vm->load("t", "t.lua", "topics={'$share/g/a'} function on_message() end"),
            "t.lua: '$share/g/a' is not a valid topic filter (wildcards + and #, no $share)");
  EXPECT_EQ(vm->load("t", "t.lua", "\x1bLJ\x02"),
            "t.lua: precompiled bytecode is not accepted; give the Lua source");
  auto m = message("t", "");
  run(m);
  EXPECT_EQ(m->payload, "v1");
}

TEST_F(RuleVmTest, StateSurvivesReloadAndRemoveForgetsIt) {
  const char* src = "topics='#' function on_message(m) state.n = (state.n or 0) + 1 m.payload = '%s' .. state.n end";
  char buf[256];
  std::snprintf(buf, sizeof buf, src, "a");
  ASSERT_EQ(vm->load("t", "t.lua", buf), "");
  auto m1 = message("t", "");
  run(m1);
  std::snprintf(buf, sizeof buf, src, "b");
  ASSERT_EQ(vm->load("t", "t.lua", buf), "");
  auto m2 = message("t", "");
  run(m2);
  EXPECT_EQ(m2->payload, "b2");
  EXPECT_TRUE(vm->remove("t"));
  EXPECT_TRUE(vm->empty());
  ASSERT_EQ(vm->load("t", "t.lua", buf), "");
  auto m3 = message("t", "");
  run(m3);
  EXPECT_EQ(m3->payload, "b1");
}

TEST_F(RuleVmTest, SandboxHidesUnsafeGlobalsAndIsolatesRules) {
  ASSERT_EQ(vm->load("a", "a.lua", R"(
topics = "t"
order = 1
mine = 1
function on_message(m)
  local names = {}
  for _, n in ipairs({"io", "require", "load", "loadstring", "dofile", "loadfile", "debug", "jit", "ffi",
                      "getfenv", "setfenv", "coroutine", "collectgarbage", "package", "newproxy"}) do
    if _G[n] ~= nil then names[#names + 1] = n end
  end
  if os.execute or os.exit or os.getenv or os.remove or string.dump then names[#names + 1] = "os/string" end
  string.upper = function() return "hacked" end
  math.pi = 3
  m.payload = table.concat(names, ",")
end)"),
            "");
  ASSERT_EQ(vm->load("b", "b.lua", R"(
topics = "t"
order = 2
function on_message(m)
  m.payload = m.payload .. "|" .. tostring(mine) .. "|" .. string.upper("x") .. "|" .. tostring(math.pi > 3.14)
end)"),
            "");
  auto m = message("t", "");
  run(m);
  EXPECT_EQ(m->payload, "|nil|X|true");
}

TEST_F(RuleVmTest, InstructionBudgetStopsLoopsEvenUnderPcall) {
  ASSERT_EQ(vm->load("t", "t.lua", R"(
topics = "#"
function on_message(m)
  if m.payload == "a" then while true do end end
  if m.payload == "b" then while true do pcall(function() while true do end end) end end
  if m.payload == "c" then for i = 1, 1e9 do local x = i * 2 end end
  m.payload = "ok"
end)"),
            "");
  for (const char* p : {"a", "b", "c"}) {
    auto m = message("t", p);
    run(m);
    EXPECT_EQ(m->payload, p);  // faulted: passes unchanged
  }
  auto t = stats.get("t")->totals();
  EXPECT_EQ(t.errors, 3u);
  EXPECT_TRUE(t.disabled);  // fault_limit 3
  auto m = message("t", "d");
  run(m);
  EXPECT_EQ(m->payload, "d");  // disabled: does not run
  ASSERT_EQ(vm->load("t", "t.lua", "topics='#' function on_message(m) m.payload = 'new' end"), "");
  run(m);
  EXPECT_EQ(m->payload, "new");  // a new version runs again
}

TEST_F(RuleVmTest, MemoryCapStopsBombsAndTheVmRecovers) {
  ASSERT_EQ(vm->load("t", "t.lua", R"(
topics = "#"
function on_message(m)
  if m.payload == "rep" then local s = string.rep("x", 1e8) end
  if m.payload == "grow" then local t = {} for i = 1, 1e5 do t[i] = string.rep("y", 1000) .. i end end
  m.payload = "ok"
end)"),
            "");
  for (const char* p : {"rep", "grow"}) {
    auto m = message("t", p);
    run(m);
    EXPECT_EQ(m->payload, p);
  }
  EXPECT_EQ(stats.get("t")->totals().errors, 2u);
  auto m = message("t", "fine");
  run(m);
  EXPECT_EQ(m->payload, "ok");
}

TEST_F(RuleVmTest, BadResultsAreFaults) {
  const char* src = R"(
topics = "#"
function on_message(m)
  if m.payload == "1" then return 42 end
  if m.payload == "2" then m.topic = "a/+" end
  if m.payload == "3" then m.qos = 7 end
  if m.payload == "4" then m.topic = "$SYS/x" end
  if m.payload == "5" then m.payload = function() end end
end)";
  for (const char* p : {"1", "2", "3", "4", "5"}) {
    ASSERT_EQ(vm->load("t", "t.lua", src), "");  // (re)enabled: fault_limit is 3
    auto m = message("t", p);
    auto before = m;
    run(m);
    EXPECT_EQ(m, before) << p;
  }
  EXPECT_EQ(stats.get("t")->totals().errors, 5u);
}

TEST(RuleVmPaths, ExpandPath) {
  EXPECT_EQ(RuleVm::expand_path("...c/d.lua:3: x", "/a/b/c/d.lua"), "/a/b/c/d.lua:3: x");
  EXPECT_EQ(RuleVm::expand_path("d.lua:3: x", "d.lua"), "d.lua:3: x");
  EXPECT_EQ(RuleVm::expand_path("...zz:3: x", "/a/b"), "...zz:3: x");
}

}  // namespace
}  // namespace strata::rules
