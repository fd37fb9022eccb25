// RuleVm: loading, the message API, drop/transform/publish/emit, the
// sandbox, budgets and faults — without a broker.
#include "rules/rule_vm.hpp"

#include <gtest/gtest.h>

#include "tests/unit/rules/rule_vm_fixture.hpp"

namespace strata::rules {
namespace {

using RuleVmTest = RuleVmFixture;

TEST_F(RuleVmTest, TransformsInPlace) {
  ASSERT_EQ(load("t.lua", R"(
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
  ASSERT_EQ(m->properties->user_properties.size(), 1u);
  EXPECT_EQ(m->properties->user_properties[0], std::make_pair(std::string("k"), std::string("v")));
  auto other = message("a/7/c", "p");
  auto before = other;
  run(other);
  EXPECT_EQ(other, before);  // no match: the same message object
}

TEST_F(RuleVmTest, UnchangedMessageKeepsItsObject) {
  ASSERT_EQ(load("t.lua", "topics = '#'\nfunction on_message(msg) local _ = msg.json end"), "");
  auto m = message("a", "{}");
  auto before = m;
  run(m);
  EXPECT_EQ(m, before);
}

TEST_F(RuleVmTest, RepeatedUserPropertiesStayUnlessTheRuleChangesThem) {
  ASSERT_EQ(load("t.lua", R"(
topics = "#"
function on_message(msg)
  msg.payload = msg.user_properties.a
  if msg.topic == "change" then msg.user_properties.c = "3" end
end)"),
            "");
  auto original = router::Message::make("keep", "x");
  original->properties.edit().user_properties = {{"a", "1"}, {"b", "x"}, {"a", "2"}};
  router::MessagePtr m = original;
  run(m);
  EXPECT_EQ(m->payload, "1");  // the first value of a repeated name
  EXPECT_EQ(m->properties->user_properties, original->properties->user_properties);
  auto changed = router::Message::copy(*original, "change", original->payload);
  m = changed;
  run(m);
  EXPECT_EQ(m->properties->user_properties,
            (protocol::UserProperties{{"a", "1"}, {"b", "x"}, {"c", "3"}}));  // changed: one value per name
}

TEST_F(RuleVmTest, ReturnedTableReplacesAndFalseDrops) {
  ASSERT_EQ(load("t.lua", R"(
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
  ASSERT_EQ(load("b.lua", "topics='#' order=2 function on_message(m) m.payload = m.payload .. 'b' end"), "");
  ASSERT_EQ(load("a.lua", "topics='#' order=1 function on_message(m) m.payload = m.payload .. 'a' end"), "");
  ASSERT_EQ(load("c.lua", "topics='#' order=2 function on_message(m) m.payload = m.payload .. 'c' end"), "");
  auto m = message("t", "");
  run(m);
  EXPECT_EQ(m->payload, "abc");
  ASSERT_EQ(load("a.lua", "topics='#' order=1 function on_message(m) return false end"), "");
  auto d = message("t", "");
  EXPECT_TRUE(run(d).drop);
  EXPECT_EQ(stats.get("b")->totals().matched, 1u);
}

TEST_F(RuleVmTest, JsonErrorValueForNonJson) {
  ASSERT_EQ(load("t.lua", R"(
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
  ASSERT_EQ(load("t.lua", R"(
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
  ASSERT_EQ(load("t.lua", "topics='#'\nfunction on_message(m)\n publish('x', 'y')\nend"), "");
  auto ok = message("t", "", 3);
  EXPECT_EQ(run(ok).actions.size(), 1u);  // hops 4 == limit: allowed
  auto m = message("t", "", 4);
  auto out = run(m);
  EXPECT_TRUE(out.actions.empty());
  EXPECT_FALSE(out.drop);
  EXPECT_EQ(stats.get("t")->totals().errors, 1u);
}

TEST_F(RuleVmTest, LoadErrorsKeepThePreviousVersion) {
  ASSERT_EQ(load("t.lua", "topics='#' function on_message(m) m.payload='v1' end"), "");
  EXPECT_EQ(load("t.lua", "topics='#'\nfunction on_message(m)\n  m.payload = = 1\nend"),
            "t.lua:3: unexpected symbol near '='");
  EXPECT_EQ(load("t.lua", "topics='#'\nerror('no')"), "t.lua:2: no");
  EXPECT_EQ(load("t.lua", "topics='#'"), "t.lua: the rule defines no function on_message(msg)");
  EXPECT_EQ(load("t.lua", "function on_message() end"),
            "t.lua: the rule sets no topics (topics = \"filter\" or {\"filter\", ...})");
  EXPECT_EQ(load("t.lua", "topics={'a/#/b'} function on_message() end"),
            "t.lua:1: 'a/#/b' is not a valid topic filter (wildcards + and #, no $share)");
  EXPECT_EQ(load("t.lua", "function on_message() end\n\ntopics={'$share/g/a'}"),
            "t.lua:3: '$share/g/a' is not a valid topic filter (wildcards + and #, no $share)");
  EXPECT_EQ(load("t.lua", "topics='#'\norder = 'first'\nfunction on_message() end"), "t.lua:2: order must be a number");
  EXPECT_EQ(load("t.lua", "\x1bLJ\x02"),
            "t.lua: precompiled bytecode is not accepted; give the Lua source");
  auto m = message("t", "");
  run(m);
  EXPECT_EQ(m->payload, "v1");
}

TEST_F(RuleVmTest, StateSurvivesReloadAndRemoveForgetsIt) {
  const char* src = "topics='#' function on_message(m) state.n = (state.n or 0) + 1 m.payload = '%s' .. state.n end";
  char buf[256];
  std::snprintf(buf, sizeof buf, src, "a");
  ASSERT_EQ(load("t.lua", buf), "");
  auto m1 = message("t", "");
  run(m1);
  std::snprintf(buf, sizeof buf, src, "b");
  ASSERT_EQ(load("t.lua", buf), "");
  auto m2 = message("t", "");
  run(m2);
  EXPECT_EQ(m2->payload, "b2");
  EXPECT_EQ(vm->remove("t.lua"), "t");
  EXPECT_TRUE(vm->empty());
  vm->collect();  // the end of a reload: no file took the name over
  ASSERT_EQ(load("t.lua", buf), "");
  auto m3 = message("t", "");
  run(m3);
  EXPECT_EQ(m3->payload, "b1");
}

TEST_F(RuleVmTest, DeclaredNameIsTheRulesNameEverywhere) {
  ASSERT_EQ(load("dir/x.lua", R"(
name = "furnace_hot"
topics = "t"
function on_message(m) publish("out", m.payload) end)"),
            "");
  EXPECT_EQ(vm->names(), std::vector<std::string>{"furnace_hot"});
  EXPECT_EQ(vm->name_of("dir/x.lua"), "furnace_hot");
  auto m = message("t", "p");
  auto out = run(m);
  ASSERT_EQ(out.actions.size(), 1u);
  EXPECT_EQ(out.actions[0].msg->publisher, "$rule/furnace_hot");
  EXPECT_EQ(stats.get("furnace_hot")->totals().matched, 1u);
  EXPECT_EQ(stats.get("x")->totals().matched, 0u);

  // Without a declared name the file name is the name; it must then be one.
  EXPECT_EQ(vm->load("y.lua", "topics='t' function on_message() end").name, "y");
  EXPECT_EQ(load("bad name.lua", "topics='t' function on_message() end"),
            "bad name.lua: the file name 'bad name' is not a rule name (letters, digits, '_' and '-'); "
            "declare one: name = \"...\"");
  EXPECT_EQ(load("bad name.lua", "topics='t'\nname = 'good_name'\nfunction on_message() end"), "");
  EXPECT_EQ(load("z.lua", "topics='t'\n\nname = 'a/b'\nfunction on_message() end"),
            "z.lua:3: name must be a string of letters, digits, '_' and '-' (at most 128)");
  EXPECT_EQ(load("z.lua", "topics='t'\nname = 7\nfunction on_message() end"),
            "z.lua:2: name must be a string of letters, digits, '_' and '-' (at most 128)");
  EXPECT_TRUE(RuleVm::valid_name("downsample_1m-b"));
  EXPECT_FALSE(RuleVm::valid_name(""));
  EXPECT_FALSE(RuleVm::valid_name("a+"));
  EXPECT_FALSE(RuleVm::valid_name(std::string(129, 'a')));
}

TEST_F(RuleVmTest, ASecondFileWithATakenNameIsRefusedAndTheFirstKeepsRunning) {
  ASSERT_EQ(load("a.lua", "name = 'hot'\ntopics = 't'\nfunction on_message(m) m.payload = 'a' end"), "");
  RuleVm::LoadResult r = vm->load("b.lua", "topics = 't'\n-- the same name\nname = 'hot'\nfunction on_message(m) m.payload = 'b' end");
  EXPECT_TRUE(r.name_taken);
  EXPECT_EQ(r.error, "b.lua:3: the rule name 'hot' is already used by a.lua");
  auto m = message("t", "");
  run(m);
  EXPECT_EQ(m->payload, "a");
  // a.lua takes another name: the name is free, b.lua can have it.
  ASSERT_EQ(load("a.lua", "name = 'warm'\ntopics = 't'\norder = 1\nfunction on_message(m) m.payload = m.payload .. 'a' end"), "");
  ASSERT_EQ(load("b.lua", "name = 'hot'\ntopics = 't'\nfunction on_message(m) m.payload = m.payload .. 'b' end"), "");
  auto m2 = message("t", "");
  run(m2);
  EXPECT_EQ(m2->payload, "ba");  // `order`: hot (0) before warm (1), though "hot" < "warm" anyway
  ASSERT_EQ(load("b.lua", "name = 'hot'\ntopics = 't'\norder = 2\nfunction on_message(m) m.payload = m.payload .. 'b' end"), "");
  auto m3 = message("t", "");
  run(m3);
  EXPECT_EQ(m3->payload, "ab");  // a new order takes effect on reload
}

TEST_F(RuleVmTest, StateBelongsToTheName) {
  const char* src = "name = '%s'\ntopics='#' function on_message(m) state.n = (state.n or 0) + 1 m.payload = state.n end";
  char buf[256];
  std::snprintf(buf, sizeof buf, src, "counter");
  ASSERT_EQ(load("a.lua", buf), "");
  auto m = message("t", "");
  run(m);
  run(m);
  EXPECT_EQ(m->payload, "2");
  // The file renamed within one scan (removed, then added): the name and its state carry over.
  EXPECT_EQ(vm->remove("a.lua"), "counter");
  ASSERT_EQ(load("b.lua", buf), "");
  vm->collect();
  run(m);
  EXPECT_EQ(m->payload, "3");
  // The rule renamed in its file: a new rule, with a new state.
  std::snprintf(buf, sizeof buf, src, "tally");
  RuleVm::LoadResult r = vm->load("b.lua", buf);
  EXPECT_EQ(r.error, "");
  EXPECT_EQ(r.replaced, "counter");
  EXPECT_EQ(r.name, "tally");
  vm->collect();
  auto m2 = message("t", "");
  run(m2);
  EXPECT_EQ(m2->payload, "1");
  EXPECT_EQ(vm->names(), std::vector<std::string>{"tally"});
}

TEST_F(RuleVmTest, SandboxHidesUnsafeGlobalsAndIsolatesRules) {
  ASSERT_EQ(load("a.lua", R"(
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
  ASSERT_EQ(load("b.lua", R"(
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
  ASSERT_EQ(load("t.lua", R"(
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
  ASSERT_EQ(load("t.lua", "topics='#' function on_message(m) m.payload = 'new' end"), "");
  run(m);
  EXPECT_EQ(m->payload, "new");  // a new version runs again
}

TEST_F(RuleVmTest, MemoryCapStopsBombsAndTheVmRecovers) {
  ASSERT_EQ(load("t.lua", R"(
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

// The cap is on what a rule holds, not on one call: a rule that keeps a
// little more on every message reaches it; garbage does not.
TEST_F(RuleVmTest, MemoryCapCoversStateKeptBetweenCalls) {
  ASSERT_EQ(load("leak.lua", R"(
topics = "t"
local kept = {}
function on_message(m)
  state[#state + 1] = string.rep("s", 10000) .. #state   -- 10 KB more every call
  kept[#kept + 1] = m.payload
end)"),
            "");
  ASSERT_EQ(load("busy.lua", R"(
topics = "t"
function on_message(m)
  local garbage = {}
  for i = 1, 100 do garbage[i] = string.rep("g", 1000) .. i end   -- 100 KB of garbage every call
  m.user_properties.busy = tostring(#garbage)
end)"),
            "");
  auto leak = stats.get("leak");
  auto busy = stats.get("busy");
  int calls = 0;
  for (; calls < 1000 && !leak->disabled(); ++calls) {
    auto m = message("t", "x");
    run(m);
    ASSERT_EQ(m->properties->user_properties.size(), 1u) << calls;  // busy ran on every message
  }
  // 2 MiB / 10 KB: about 200 calls, then a fault on each until fault_limit (3).
  EXPECT_GT(calls, 150);
  EXPECT_LT(calls, 220);
  EXPECT_TRUE(leak->disabled());
  EXPECT_EQ(leak->totals().errors, 3u);
  EXPECT_EQ(leak->totals().memory_bytes, 0u);  // its state was closed
  // 100 MB of garbage in total from `busy`, never a fault.
  for (int i = 0; i < 800; ++i) {
    auto m = message("t", "x");
    run(m);
  }
  EXPECT_EQ(busy->totals().errors, 0u);
  EXPECT_EQ(busy->totals().matched, static_cast<std::uint64_t>(calls) + 800);
  EXPECT_GT(busy->totals().memory_bytes, 0u);
  EXPECT_LT(busy->totals().memory_bytes, budgets().memory_bytes);
  // A new version of the leaking rule runs again, with an empty state.
  ASSERT_EQ(load("leak.lua", "topics = 't' function on_message(m) m.payload = #state end"), "");
  auto m = message("t", "x");
  run(m);
  EXPECT_EQ(m->payload, "0");
}

TEST_F(RuleVmTest, PublishLimitEndsACallThatPublishesInALoop) {
  ASSERT_EQ(load("t.lua", R"(
topics = "#"
function on_message(m)
  local n = tonumber(m.payload)
  for i = 1, n do pcall(publish, "out/" .. i, "x") end   -- pcall cannot catch the limit
  m.payload = "done"
end)"),
            "");
  Budgets b = budgets();
  auto m = message("t", std::to_string(b.publish_limit));
  auto out = run(m);
  EXPECT_EQ(out.actions.size(), b.publish_limit);
  EXPECT_EQ(m->payload, "done");
  auto over = message("t", std::to_string(b.publish_limit + 1));
  out = run(over);
  EXPECT_TRUE(out.actions.empty());  // a fault: nothing of the call is published
  EXPECT_EQ(over->payload, std::to_string(b.publish_limit + 1));
  EXPECT_EQ(stats.get("t")->totals().errors, 1u);
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
    ASSERT_EQ(load("t.lua", src), "");  // (re)enabled: fault_limit is 3
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

TEST_F(RuleVmTest, PausedRuleDoesNotRunAndListsItsInfo) {
  ASSERT_EQ(load("dir/up.lua", R"(
topics = {"a/#", "b"}
order = 2
function on_message(msg) msg.payload = "X" end)"),
            "");
  auto info = vm->rules();
  ASSERT_EQ(info.size(), 1u);
  EXPECT_EQ(info[0].name, "up");
  EXPECT_EQ(info[0].path, "dir/up.lua");
  EXPECT_EQ(info[0].topics, (std::vector<std::string>{"a/#", "b"}));
  EXPECT_EQ(info[0].order, 2);
  stats.set_paused("up", true);
  auto m = message("a/1", "p");
  run(m);
  EXPECT_EQ(m->payload, "p");
  EXPECT_EQ(stats.get("up")->totals().matched, 0u);
  // A reload of the file keeps it off; turning it on makes it run again.
  ASSERT_EQ(load("dir/up.lua", "topics = 'a/#'\nfunction on_message(msg) msg.payload = 'Y' end"), "");
  run(m);
  EXPECT_EQ(m->payload, "p");
  stats.set_paused("up", false);
  run(m);
  EXPECT_EQ(m->payload, "Y");
}

TEST_F(RuleVmTest, FirstByteIndexFollowsLoadsReloadsAndRemovals) {
  EXPECT_FALSE(vm->may_match("a/1"));
  EXPECT_FALSE(vm->may_match(""));
  ASSERT_EQ(load("a.lua", "topics = {'a/+', '$x/y'}\nfunction on_message(msg) msg.payload = 'A' end"), "");
  EXPECT_TRUE(vm->may_match("a/1"));
  EXPECT_TRUE(vm->may_match("ab"));  // a candidate: the rule's filters decide
  EXPECT_TRUE(vm->may_match("$x/y"));
  EXPECT_FALSE(vm->may_match("b/1"));
  EXPECT_FALSE(vm->may_match("\xff"));
  auto m = message("ab", "p");
  run(m);
  EXPECT_EQ(m->payload, "p");
  EXPECT_EQ(stats.get("a")->totals().matched, 0u);
  // A reload with other filters replaces the rule's entries.
  ASSERT_EQ(load("a.lua", "topics = 'b/#'\nfunction on_message(msg) msg.payload = 'B' end"), "");
  EXPECT_FALSE(vm->may_match("a/1"));
  EXPECT_TRUE(vm->may_match("b"));
  // A failed reload keeps the previous version and its entries.
  EXPECT_NE(load("a.lua", "topics = 'c/#'"), "");
  EXPECT_TRUE(vm->may_match("b"));
  EXPECT_FALSE(vm->may_match("c"));
  // A filter starting with a wildcard makes every topic a candidate.
  ASSERT_EQ(load("w.lua", "topics = '+/z'\nfunction on_message(msg) msg.payload = 'W' end"), "");
  EXPECT_TRUE(vm->may_match("q/z"));
  EXPECT_TRUE(vm->may_match("$SYS/z"));
  auto d = message("$SYS/z", "p");
  run(d);
  EXPECT_EQ(d->payload, "p");  // '+' does not match a '$' level
  auto q = message("q/z", "p");
  run(q);
  EXPECT_EQ(q->payload, "W");
  EXPECT_EQ(vm->remove("w.lua"), "w");
  EXPECT_FALSE(vm->may_match("q/z"));
  EXPECT_EQ(vm->remove("a.lua"), "a");
  EXPECT_FALSE(vm->may_match("b"));
}

}  // namespace
}  // namespace strata::rules
