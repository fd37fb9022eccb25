#include "tools/strata_ctl/args.hpp"

#include <gtest/gtest.h>

namespace strata::ctl {
namespace {

// The invocation points into the table: it lives as long as the tests.
const Registry& table() {
  static const Registry r = all_commands();
  return r;
}

Invocation parse(std::vector<std::string> argv) { return parse_command_line(table(), argv); }

std::string usage_error(std::vector<std::string> argv, std::string* usage = nullptr) {
  try {
    parse(std::move(argv));
  } catch (const UsageError& e) {
    if (usage) *usage = e.usage();
    return e.what();
  }
  return "(no error)";
}

TEST(CtlArgs, OneWordCommand) {
  Invocation inv = parse({"status"});
  ASSERT_NE(inv.command, nullptr);
  EXPECT_EQ(inv.command->name(), "status");
  EXPECT_FALSE(inv.help);
  EXPECT_TRUE(inv.args.positional.empty());
}

TEST(CtlArgs, GroupVerbPositionalsAndOptionsAnywhere) {
  Invocation inv = parse({"--url", "http://h:1", "subs", "add", "--qos", "1", "c1", "a/#", "--json"});
  ASSERT_NE(inv.command, nullptr);
  EXPECT_EQ(inv.command->name(), "subs add");
  EXPECT_EQ(inv.args.positional, (std::vector<std::string>{"c1", "a/#"}));
  EXPECT_EQ(inv.args.value("--url"), "http://h:1");
  EXPECT_EQ(inv.args.value("--qos"), "1");
  EXPECT_EQ(inv.args.integer("--qos", 0, 2, 0), 1);
  EXPECT_TRUE(inv.args.has("--json"));
  EXPECT_FALSE(inv.args.has("--insecure"));
}

TEST(CtlArgs, EqualsFormAndDashPayloads) {
  Invocation inv = parse({"publish", "t/1", "-5", "--qos=2", "--retain"});
  EXPECT_EQ(inv.args.positional, (std::vector<std::string>{"t/1", "-5"}));
  EXPECT_EQ(inv.args.value("--qos"), "2");
  EXPECT_TRUE(inv.args.has("--retain"));
  // After "--" everything is positional, even "--retain".
  inv = parse({"publish", "t/1", "--", "--retain"});
  EXPECT_EQ(inv.args.positional, (std::vector<std::string>{"t/1", "--retain"}));
  EXPECT_FALSE(inv.args.has("--retain"));
}

TEST(CtlArgs, RepeatedTwoValueOption) {
  Invocation inv = parse({"rules", "test", "r.lua", "--message", "a/b", "1", "--message", "c", "{\"x\":2}"});
  EXPECT_EQ(inv.args.values("--message"), (std::vector<std::string>{"a/b", "1", "c", "{\"x\":2}"}));
  EXPECT_EQ(usage_error({"rules", "test", "r.lua", "--message", "a/b"}), "--message needs TOPIC PAYLOAD");
  EXPECT_EQ(usage_error({"rules", "test", "r.lua", "--message=a/b"}),
            "--message takes TOPIC PAYLOAD, not NAME=VALUE");
}

TEST(CtlArgs, Help) {
  Invocation inv = parse({"--help"});
  EXPECT_TRUE(inv.help);
  EXPECT_EQ(inv.command, nullptr);
  EXPECT_EQ(inv.group, "");
  inv = parse({"clients", "-h"});
  EXPECT_TRUE(inv.help);
  EXPECT_EQ(inv.group, "clients");
  inv = parse({"clients", "kick", "--help", "--bogus"});
  ASSERT_NE(inv.command, nullptr);
  EXPECT_EQ(inv.command->name(), "clients kick");
  EXPECT_EQ(inv.command->usage(), "strata-ctl clients kick ID [--end-session]");
  EXPECT_NE(inv.command->help_text().find("--end-session  also end its session"), std::string::npos);
  EXPECT_NE(general_usage(all_commands()).find("  subs add CLIENT FILTER "), std::string::npos);
}

TEST(CtlArgs, UsageErrors) {
  std::string usage;
  EXPECT_EQ(usage_error({}, &usage), "no command given");
  EXPECT_EQ(usage_error({"frobnicate"}), "unknown command 'frobnicate'");
  EXPECT_EQ(usage_error({"clients"}, &usage), "clients needs one of: list, show, kick");
  EXPECT_EQ(usage, "strata-ctl clients COMMAND ... (strata-ctl clients --help)");
  EXPECT_EQ(usage_error({"clients", "eat"}), "unknown command 'clients eat'");
  EXPECT_EQ(usage_error({"clients", "show"}, &usage), "clients show takes ID");
  EXPECT_EQ(usage, "strata-ctl clients show ID");
  EXPECT_EQ(usage_error({"clients", "show", "a", "b"}), "clients show takes ID (too many arguments)");
  EXPECT_EQ(usage_error({"status", "x"}), "status takes no arguments (too many arguments)");
  EXPECT_EQ(usage_error({"status", "--qos", "1"}), "unknown option --qos for status");
  EXPECT_EQ(usage_error({"--qos", "1", "publish", "t", "p"}), "unknown option --qos");
  EXPECT_EQ(usage_error({"status", "--url"}), "--url needs URL");
  EXPECT_EQ(usage_error({"status", "--json=yes"}), "--json takes no value");
  EXPECT_EQ(usage_error({"status", "--json", "--json"}), "--json is given twice");
}

TEST(CtlArgs, IntegerOptions) {
  Invocation inv = parse({"publish", "t", "p", "--qos", "3"});
  try {
    inv.args.integer("--qos", 0, 2, 0);
    FAIL();
  } catch (const UsageError& e) {
    EXPECT_STREQ(e.what(), "--qos must be an integer from 0 to 2, not '3'");
  }
  inv = parse({"publish", "t", "p", "--qos", "1x"});
  EXPECT_THROW(inv.args.integer("--qos", 0, 2, 0), UsageError);
  inv = parse({"publish", "t", "p"});
  EXPECT_EQ(inv.args.integer("--qos", 0, 2, 0), 0);
}

TEST(CtlArgs, EveryCommandHasAUsageAndRuns) {
  Registry r = all_commands();
  for (const Command& c : r.all()) {
    EXPECT_TRUE(c.run) << c.name();
    EXPECT_FALSE(c.help.empty()) << c.name();
    EXPECT_LE(c.min_args, c.max_args) << c.name();
    EXPECT_EQ(r.find(c.group, c.verb), &c) << c.name() << " is registered twice";
  }
}

}  // namespace
}  // namespace strata::ctl
