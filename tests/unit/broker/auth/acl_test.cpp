#include "broker/auth/acl.hpp"

#include <gtest/gtest.h>

namespace strata::auth {
namespace {

std::string error_of(std::string_view text) {
  try {
    Acl::parse(text, "acl");
  } catch (const AclError& e) {
    return e.what();
  }
  return "(no error)";
}

TEST(FilterRelations, Covers) {
  EXPECT_TRUE(filter_covers("#", "a/b"));
  EXPECT_TRUE(filter_covers("#", "#"));
  EXPECT_TRUE(filter_covers("a/#", "a"));
  EXPECT_TRUE(filter_covers("a/#", "a/+/c"));
  EXPECT_TRUE(filter_covers("a/+", "a/+"));
  EXPECT_TRUE(filter_covers("a/+", "a/b"));
  EXPECT_TRUE(filter_covers("a/b", "a/b"));
  EXPECT_FALSE(filter_covers("a/b", "a/+"));
  EXPECT_FALSE(filter_covers("a/+", "a/#"));
  EXPECT_FALSE(filter_covers("a/+", "a/b/c"));
  EXPECT_FALSE(filter_covers("a/b", "a"));
  EXPECT_FALSE(filter_covers("#", "$SYS/#"));
  EXPECT_FALSE(filter_covers("+/x", "$SYS/x"));
  EXPECT_TRUE(filter_covers("$SYS/#", "$SYS/broker/uptime"));
}

TEST(FilterRelations, Overlap) {
  EXPECT_TRUE(filters_overlap("a/#", "a/b/secret"));
  EXPECT_TRUE(filters_overlap("a/+/c", "a/b/+"));
  EXPECT_TRUE(filters_overlap("#", "a"));
  EXPECT_TRUE(filters_overlap("a", "a/#"));
  EXPECT_FALSE(filters_overlap("a/b", "a/c"));
  EXPECT_FALSE(filters_overlap("a/+", "a/b/c"));
  EXPECT_FALSE(filters_overlap("#", "$SYS/x"));
}

constexpr std::string_view kRules = R"(# defaults
allow read $SYS/#
allow readwrite devices/%u/#
allow write clients/%c/status   # trailing comment
deny readwrite devices/+/locked

user alice
allow readwrite plant/#
deny write plant/+/setpoint

client gw-7
allow write plant/line7/#

user bob
allow read plant/line1/#
)";

TEST(Acl, RulesAndDenyOverridesAllow) {
  Acl acl = Acl::parse(kRules, "acl");
  EXPECT_EQ(acl.rule_count(), 8u);
  // per user
  EXPECT_TRUE(acl.can_publish("alice", "x", "plant/line1/temp"));
  EXPECT_FALSE(acl.can_publish("alice", "x", "plant/line1/setpoint"));  // deny over allow
  EXPECT_TRUE(acl.can_subscribe("alice", "x", "plant/#"));
  EXPECT_FALSE(acl.can_publish("bob", "x", "plant/line1/temp"));  // read only
  EXPECT_TRUE(acl.can_subscribe("bob", "x", "plant/line1/+"));
  EXPECT_FALSE(acl.can_subscribe("bob", "x", "plant/#"));  // not covered
  // per client id, for anyone using it
  EXPECT_TRUE(acl.can_publish("bob", "gw-7", "plant/line7/a"));
  EXPECT_TRUE(acl.can_publish("", "gw-7", "plant/line7/a"));
  EXPECT_FALSE(acl.can_publish("", "gw-8", "plant/line7/a"));
  // defaults with %u / %c
  EXPECT_TRUE(acl.can_publish("carol", "c1", "devices/carol/x"));
  EXPECT_FALSE(acl.can_publish("carol", "c1", "devices/dave/x"));
  EXPECT_FALSE(acl.can_publish("", "c1", "devices//x"));  // no username: %u never matches
  EXPECT_TRUE(acl.can_publish("", "c1", "clients/c1/status"));
  EXPECT_FALSE(acl.can_publish("", "c2", "clients/c1/status"));
  EXPECT_FALSE(acl.can_publish("carol", "c", "devices/carol/locked"));  // default deny over allow
  EXPECT_FALSE(acl.can_subscribe("carol", "c", "devices/#"));
  // a username with a wildcard does not widen a %u rule
  EXPECT_FALSE(acl.can_subscribe("#", "c", "devices/#"));
  EXPECT_FALSE(acl.can_publish("a/b", "c", "devices/a/b/x"));
  // subscribe: a deny that overlaps refuses the whole filter
  EXPECT_FALSE(acl.can_subscribe("carol", "c", "devices/carol/#"));  // overlaps devices/+/locked
  EXPECT_TRUE(acl.can_subscribe("carol", "c", "devices/carol/x/#"));
  EXPECT_TRUE(acl.can_subscribe("", "c", "$SYS/broker/#"));
  EXPECT_FALSE(acl.can_subscribe("", "c", "#"));
  // shared subscriptions are checked on their filter
  EXPECT_TRUE(acl.can_subscribe("alice", "c", "$share/g/plant/line1/#"));
  EXPECT_FALSE(acl.can_subscribe("bob", "c", "$share/g/plant/#"));
}

TEST(Acl, Errors) {
  EXPECT_EQ(error_of("allow read a\npermit read b\n"),
            "acl:2: unknown keyword 'permit'; expected allow, deny, user or client");
  EXPECT_EQ(error_of("allow rw a\n"), "acl:1: access 'rw' is not read, write or readwrite");
  EXPECT_EQ(error_of("allow read a/#/b\n"), "acl:1: 'a/#/b' is not a valid topic filter");
  EXPECT_EQ(error_of("\n\nuser\n"), "acl:3: expected 'user NAME'");
  EXPECT_EQ(error_of("deny read\n"), "acl:1: expected 'deny read|write|readwrite FILTER'");
  EXPECT_EQ(error_of("# only comments\n\n"), "(no error)");
}

}  // namespace
}  // namespace strata::auth
