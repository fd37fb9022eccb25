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
  // the only topic both would match is "", which is not a topic
  EXPECT_FALSE(filters_overlap("+", "/#"));
  EXPECT_TRUE(filter_intersection("+", "/#").empty());
  EXPECT_TRUE(filters_overlap("+", "a/#"));
  EXPECT_FALSE(filters_overlap("a/+", "a/b/c"));
  EXPECT_FALSE(filters_overlap("#", "$SYS/x"));
}

TEST(FilterRelations, Intersection) {
  EXPECT_EQ(filter_intersection("#", "a/+"), "a/+");
  EXPECT_EQ(filter_intersection("a/+", "#"), "a/+");
  EXPECT_EQ(filter_intersection("a/#", "+/b/#"), "a/b/#");
  EXPECT_EQ(filter_intersection("a/+/c", "a/b/+"), "a/b/c");
  EXPECT_EQ(filter_intersection("a/#", "a"), "a");
  EXPECT_EQ(filter_intersection("a", "a/#"), "a");
  EXPECT_EQ(filter_intersection("#", "#"), "#");
  EXPECT_EQ(filter_intersection("$SYS/#", "$SYS/+/x"), "$SYS/+/x");
  EXPECT_EQ(filter_intersection("a/b", "a/c"), "");
  EXPECT_EQ(filter_intersection("a/+", "a/b/c"), "");
  EXPECT_EQ(filter_intersection("#", "$SYS/x"), "");
  EXPECT_EQ(filter_intersection("+/x", "$SYS/#"), "");
}

// Wildcard subscriptions under an ACL with denies: granted when some topic
// is readable, checked per message when not all are.
TEST(Acl, ReadAccessOfWildcards) {
  Acl acl = Acl::parse(
      "allow read #\n"
      "allow read $SYS/broker/#\n"
      "deny read plant/secret/#\n"
      "deny read plant/+/password\n",
      "acl");
  EXPECT_EQ(acl.read_access("u", "c", "#"), ReadAccess::some);
  EXPECT_EQ(acl.read_access("u", "c", "plant/#"), ReadAccess::some);
  EXPECT_EQ(acl.read_access("u", "c", "plant/+/temp"), ReadAccess::some);  // plant/secret/temp
  EXPECT_EQ(acl.read_access("u", "c", "plant/line1/#"), ReadAccess::some);  // plant/line1/password
  EXPECT_EQ(acl.read_access("u", "c", "plant/line1/temp"), ReadAccess::all);
  EXPECT_EQ(acl.read_access("u", "c", "plant/line1/+/x"), ReadAccess::all);
  EXPECT_EQ(acl.read_access("u", "c", "other/#"), ReadAccess::all);
  EXPECT_EQ(acl.read_access("u", "c", "plant/secret/#"), ReadAccess::none);
  EXPECT_EQ(acl.read_access("u", "c", "plant/secret"), ReadAccess::none);  // # matches the parent
  EXPECT_EQ(acl.read_access("u", "c", "plant/+/password"), ReadAccess::none);
  EXPECT_EQ(acl.read_access("u", "c", "$SYS/#"), ReadAccess::some);
  EXPECT_EQ(acl.read_access("u", "c", "$SYS/clients/#"), ReadAccess::none);
  EXPECT_EQ(acl.read_access("u", "c", "$share/g/#"), ReadAccess::some);
  EXPECT_EQ(acl.read_access("u", "c", "$share/g/plant/secret/x"), ReadAccess::none);
  EXPECT_TRUE(acl.can_read("u", "c", "plant/line1/temp"));
  EXPECT_FALSE(acl.can_read("u", "c", "plant/line1/password"));
  EXPECT_FALSE(acl.can_read("u", "c", "plant/secret"));
  EXPECT_FALSE(acl.can_read("u", "c", "plant/secret/a/b"));
  EXPECT_TRUE(acl.can_read("u", "c", "$SYS/broker/uptime"));
  EXPECT_FALSE(acl.can_read("u", "c", "$SYS/clients/x"));
  // Readable only through the intersection of one allow with a deny-free
  // part: allow a/+ and deny a/b leave a/c etc.
  Acl narrow = Acl::parse("allow read a/+\ndeny read a/b\n", "acl");
  EXPECT_EQ(narrow.read_access("u", "c", "#"), ReadAccess::some);
  EXPECT_EQ(narrow.read_access("u", "c", "a/b/#"), ReadAccess::none);
  EXPECT_EQ(narrow.read_access("u", "c", "x/#"), ReadAccess::none);
  // Without rules nothing may be read.
  Acl empty = Acl::parse("# nothing\n", "acl");
  EXPECT_EQ(empty.read_access("u", "c", "#"), ReadAccess::none);
  EXPECT_FALSE(empty.can_read("u", "c", "a"));
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
  EXPECT_EQ(acl.read_access("alice", "x", "plant/#"), ReadAccess::all);
  EXPECT_FALSE(acl.can_publish("bob", "x", "plant/line1/temp"));  // read only
  EXPECT_EQ(acl.read_access("bob", "x", "plant/line1/+"), ReadAccess::all);
  EXPECT_EQ(acl.read_access("bob", "x", "plant/#"), ReadAccess::some);  // plant/line1/# of it
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
  EXPECT_EQ(acl.read_access("carol", "c", "devices/#"), ReadAccess::some);
  // a username with a wildcard does not widen a %u rule
  EXPECT_EQ(acl.read_access("#", "c", "devices/#"), ReadAccess::none);
  EXPECT_FALSE(acl.can_publish("a/b", "c", "devices/a/b/x"));
  // subscribe: a deny that overlaps makes the filter read only some topics
  EXPECT_EQ(acl.read_access("carol", "c", "devices/carol/#"), ReadAccess::some);  // overlaps devices/+/locked
  EXPECT_EQ(acl.read_access("carol", "c", "devices/carol/locked"), ReadAccess::none);
  EXPECT_EQ(acl.read_access("carol", "c", "devices/+/locked"), ReadAccess::none);
  EXPECT_FALSE(acl.can_read("carol", "c", "devices/carol/locked"));
  EXPECT_TRUE(acl.can_read("carol", "c", "devices/carol/x"));
  EXPECT_FALSE(acl.can_read("carol", "c", "devices/dave/x"));
  EXPECT_EQ(acl.read_access("carol", "c", "devices/carol/x/#"), ReadAccess::all);
  EXPECT_EQ(acl.read_access("", "c", "$SYS/broker/#"), ReadAccess::all);
  EXPECT_EQ(acl.read_access("", "c", "#"), ReadAccess::none);  // only $SYS/#, which # does not match
  // shared subscriptions are checked on their filter
  EXPECT_EQ(acl.read_access("alice", "c", "$share/g/plant/line1/#"), ReadAccess::all);
  EXPECT_EQ(acl.read_access("bob", "c", "$share/g/plant/#"), ReadAccess::some);
}

// A comment starts a line or follows the last field of a rule; '#' as a
// whole filter is a filter.
TEST(Acl, HashFilterAndComments) {
  Acl acl = Acl::parse(
      "allow readwrite #\n"
      "deny write #   # nobody writes\n"
      "  # indented comment\n"
      "user alice # her section\n"
      "allow write a/#\t#tab before the comment\n"
      "client #\n"
      "allow write c/d #\n",
      "acl");
  EXPECT_EQ(acl.rule_count(), 4u);
  EXPECT_EQ(acl.read_access("", "x", "#"), ReadAccess::all);
  EXPECT_EQ(acl.read_access("", "x", "any/topic"), ReadAccess::all);
  EXPECT_FALSE(acl.can_publish("alice", "x", "a/b"));  // the default deny write #
  EXPECT_EQ(error_of("allow read # everything\n"),
            "acl:1: expected 'allow read|write|readwrite FILTER'");
  EXPECT_EQ(error_of("user alice bob\n"), "acl:1: expected 'user NAME'");
  EXPECT_EQ(error_of("allow read #a\n"), "acl:1: '#a' is not a valid topic filter");
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
