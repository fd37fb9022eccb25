// dry_run() and format_dry_run(): the one dry run behind `--rules-test`
// and POST /api/v1/rules/test.
#include "rules/rules_test.hpp"

#include <gtest/gtest.h>

#include <sstream>

#include "rules/rules_api.hpp"

namespace strata::rules {
namespace {

const char* kRule = R"(topics = "t/#"
local w = window{ seconds = 60, on_close = function(key, r) publish("avg/" .. key, r.avg) end }
function on_message(msg)
  local v = tonumber(msg.payload)
  if v == nil then log.warn("not a number:", msg.payload) return false end
  if v < 0 then error("negative") end
  w:add(msg.levels[2], v)
  if v > 80 then emit("local", { topic = "alarm/" .. msg.levels[2], payload = msg.payload, qos = 1 }) end
  msg.payload = v * 10
end
)";

TEST(DryRun, RecordsActionsLogsFaultsAndClosingWindows) {
  DryRun r = dry_run("dir/r.lua", kRule,
                     {{"t/a", "90", protocol::QoS::at_least_once, true}, {"t/a", "x"}, {"t/b", "-1"}}, ".",
                     config::Rules{});
  ASSERT_EQ(r.error, "");
  EXPECT_EQ(r.rule, "r");
  ASSERT_EQ(r.messages.size(), 3u);

  const DryRunStep& m1 = r.messages[0];
  ASSERT_EQ(m1.actions.size(), 1u);
  EXPECT_TRUE(m1.actions[0].emit);
  EXPECT_EQ(m1.actions[0].target, "local");
  EXPECT_EQ(m1.actions[0].msg->topic, "alarm/a");
  EXPECT_FALSE(m1.dropped);
  ASSERT_TRUE(m1.passed);
  EXPECT_EQ(m1.passed->payload, "900");
  EXPECT_EQ(m1.passed->qos, protocol::QoS::at_least_once);  // the sample's QoS and retain travel
  EXPECT_TRUE(m1.passed->retain);

  const DryRunStep& m2 = r.messages[1];
  EXPECT_TRUE(m2.dropped);
  EXPECT_FALSE(m2.passed);
  ASSERT_EQ(m2.logs.size(), 1u);
  EXPECT_EQ(m2.logs[0].level, "warn");
  EXPECT_EQ(m2.logs[0].text, "dir/r.lua:5: not a number: x");

  const DryRunStep& m3 = r.messages[2];
  ASSERT_EQ(m3.faults.size(), 1u);
  EXPECT_EQ(m3.faults[0].rfind("dir/r.lua:6: negative", 0), 0u) << m3.faults[0];
  ASSERT_TRUE(m3.passed);
  EXPECT_EQ(m3.passed->payload, "-1");  // unchanged after a fault
  EXPECT_TRUE(r.faulted);

  ASSERT_EQ(r.closing.actions.size(), 1u);
  EXPECT_FALSE(r.closing.actions[0].emit);
  EXPECT_EQ(r.closing.actions[0].msg->topic, "avg/a");
  EXPECT_EQ(r.closing.actions[0].msg->payload, "90");

  EXPECT_EQ(format_dry_run(r),
            "rule r from dir/r.lua\n"
            "message 1: t/a 90\n"
            "  emit local alarm/a 90 qos=1\n"
            "  pass t/a 900 qos=1 retain\n"
            "message 2: t/a x\n"
            "  drop\n"
            "message 3: t/b -1\n"
            "  fault (see the error above); the message passes unchanged\n"
            "  pass t/b -1\n"
            "windows closed after the last message:\n"
            "  publish avg/a 90\n");
}

TEST(DryRun, LoadErrorsNameFileAndLine) {
  DryRun r = dry_run("x/bad.lua", "topics = 't'\nfunction on_message(m)\n  return 1 +\nend\n", {}, ".",
                     config::Rules{});
  EXPECT_EQ(r.error, "x/bad.lua:4: unexpected symbol near 'end'");
  r = dry_run("x/none.lua", "topics = 't'\n", {}, ".", config::Rules{});
  EXPECT_EQ(r.error, "x/none.lua: the rule defines no function on_message(msg)");
}

TEST(RulesApi, RuleNames) {
  EXPECT_TRUE(valid_api_rule_name("a"));
  EXPECT_TRUE(valid_api_rule_name("Line_1-temp"));
  EXPECT_TRUE(valid_api_rule_name(std::string(64, 'x')));
  EXPECT_FALSE(valid_api_rule_name(std::string(65, 'x')));
  EXPECT_FALSE(valid_api_rule_name(""));
  EXPECT_FALSE(valid_api_rule_name("../etc"));
  EXPECT_FALSE(valid_api_rule_name("a.lua"));
  EXPECT_FALSE(valid_api_rule_name("a/b"));
  EXPECT_FALSE(valid_api_rule_name("a b"));
}

}  // namespace
}  // namespace strata::rules
