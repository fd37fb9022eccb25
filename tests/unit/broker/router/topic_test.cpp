#include "broker/router/topic.hpp"

#include "broker/router/level_map.hpp"

#include <gtest/gtest.h>

#include <set>
#include <string>
#include <string_view>

namespace strata::router {
namespace {

using namespace std::string_view_literals;

TEST(TopicName, Valid) {
  for (std::string_view t : {"a", "a/b", "/", "/a", "a/", "a//b", "$SYS/x", " ", "sport/tennis/player1",
                             "//", "$share/g/a", "caf\xc3\xa9/x"}) {
    EXPECT_TRUE(is_valid_topic_name(t)) << t;
  }
}

TEST(TopicName, Invalid) {
  for (std::string_view t : {"", "a/+", "+", "#", "a/#", "a+b", "a#", "/+/", "sport/tennis/#"}) {
    EXPECT_FALSE(is_valid_topic_name(t)) << t;
  }
  EXPECT_FALSE(is_valid_topic_name("a\0b"sv));
  EXPECT_FALSE(is_valid_topic_name(std::string(65536, 'a')));
  EXPECT_TRUE(is_valid_topic_name(std::string(65535, 'a')));
}

TEST(TopicFilter, Valid) {
  for (std::string_view f : {"#", "+", "a/#", "a/+", "+/+", "+/b/#", "/+", "a//b", "/", "$SYS/#", "a/b/c",
                             "+/#", "//", "/#", "+/", "sport/tennis/player1/#", "sport/+/player1", "a/b/"}) {
    EXPECT_TRUE(is_valid_topic_filter(f)) << f;
  }
}

TEST(TopicFilter, Invalid) {
  for (std::string_view f : {"", "a/#/b", "#/a", "a#", "a/b#", "a+", "+a", "a/+b/c", "##", "++", "#/",
                             "sport/tennis#", "sport/tennis/#/ranking", "a/#/#", "+#", "#+"}) {
    EXPECT_FALSE(is_valid_topic_filter(f)) << f;
  }
  EXPECT_FALSE(is_valid_topic_filter("a/\0"sv));
  EXPECT_FALSE(is_valid_topic_filter(std::string(65536, 'a')));
}

TEST(SharedFilter, Valid) {
  struct Case {
    std::string_view in, group, filter;
  };
  for (const Case& c : {Case{"$share/g/a", "g", "a"}, Case{"$share/g/#", "g", "#"},
                        Case{"$share/g/+/b", "g", "+/b"}, Case{"$share/g//a", "g", "/a"},
                        Case{"$share/consumers/sensors/+/temp", "consumers", "sensors/+/temp"},
                        Case{"$share/g/$SYS/#", "g", "$SYS/#"}}) {
    bool valid = false;
    auto s = parse_shared_filter(c.in, valid);
    ASSERT_TRUE(s.has_value()) << c.in;
    EXPECT_TRUE(valid) << c.in;
    EXPECT_EQ(s->group, c.group) << c.in;
    EXPECT_EQ(s->filter, c.filter) << c.in;
  }
}

TEST(SharedFilter, Invalid) {
  for (std::string_view f : {"$share/", "$share/g", "$share/g/", "$share//a", "$share/g+/a", "$share/#/a",
                             "$share/+/a", "$share/g#/a", "$share/g/a/#/b", "$share/g/a+"}) {
    bool valid = true;
    auto s = parse_shared_filter(f, valid);
    EXPECT_TRUE(s.has_value()) << f;
    EXPECT_FALSE(valid) << f;
  }
}

TEST(SharedFilter, NotShared) {
  for (std::string_view f : {"$share", "$shared/g/a", "a/$share/g/b", "#", "a/b", "$SHARE/g/a"}) {
    bool valid = false;
    EXPECT_FALSE(parse_shared_filter(f, valid).has_value()) << f;
    EXPECT_TRUE(valid) << f;
  }
}

struct MatchCase {
  std::string_view filter;
  std::string_view topic;
  bool matches;
};

TEST(TopicMatches, Table) {
  const MatchCase cases[] = {
      {"sport/tennis/player1/#", "sport/tennis/player1", true},
      {"sport/tennis/player1/#", "sport/tennis/player1/ranking", true},
      {"sport/tennis/player1/#", "sport/tennis/player1/score/wimbledon", true},
      {"sport/tennis/player1/#", "sport/tennis/player2", false},
      {"sport/tennis/player1/#", "sport/tennis", false},
      {"sport/#", "sport", true},
      {"sport/#", "sport/", true},
      {"sport/#", "sports", false},
      {"#", "sport/tennis", true},
      {"#", "/", true},
      {"#", "a", true},
      {"sport/tennis/+", "sport/tennis/player1", true},
      {"sport/tennis/+", "sport/tennis/player2", true},
      {"sport/tennis/+", "sport/tennis/player1/ranking", false},
      {"sport/tennis/+", "sport/tennis", false},
      {"sport/+", "sport", false},
      {"sport/+", "sport/", true},
      {"+", "sport", true},
      {"+", "/finance", false},
      {"+/+", "/finance", true},
      {"/+", "/finance", true},
      {"+/+", "a", false},
      {"+/+", "a/b/c", false},
      {"+/#", "a", true},
      {"+/#", "/", true},
      {"a/+/c", "a//c", true},
      {"a//c", "a//c", true},
      {"a//c", "a/c", false},
      {"a/b", "a/b/", false},
      {"a/b/", "a/b/", true},
      {"a/b", "A/b", false},
      {"/", "/", true},
      {"/#", "/", true},
      {"/#", "a", false},
      {"#", "$SYS/x", false},
      {"#", "$SYS", false},
      {"+", "$SYS", false},
      {"+/monitor/Clients", "$SYS/monitor/Clients", false},
      {"+/#", "$SYS/x", false},
      {"$SYS/#", "$SYS/monitor/Clients", true},
      {"$SYS/#", "$SYS", true},
      {"$SYS/monitor/+", "$SYS/monitor/Clients", true},
      {"$SYS/+/Clients", "$SYS/monitor/Clients", true},
      {"a/$SYS", "a/$SYS", true},
      {"a/+", "a/$SYS", true},
      {"a/#", "a/$SYS/x", true},
      {"$share/g/a", "$share/g/a", true},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(topic_matches(c.filter, c.topic), c.matches) << c.filter << " vs " << c.topic;
  }
}

TEST(TopicLevels, Count) {
  EXPECT_EQ(topic_levels(""), 1u);
  EXPECT_EQ(topic_levels("a"), 1u);
  EXPECT_EQ(topic_levels("/"), 2u);
  EXPECT_EQ(topic_levels("a/b/c"), 3u);
  EXPECT_EQ(topic_levels("a//b"), 3u);
  EXPECT_EQ(topic_levels("/a/"), 3u);
}

// The level map's hash and equality read words, overlapping at the end:
// every byte of every length still counts.
TEST(LevelMap, EveryByteOfEveryLengthCounts) {
  const LevelHash hash;
  const LevelEqual equal;
  std::set<std::size_t> hashes;
  std::size_t variants = 0;
  for (std::size_t n = 0; n <= 40; ++n) {
    const std::string base(n, 'a');
    EXPECT_TRUE(equal(base, std::string(n, 'a')));
    EXPECT_FALSE(equal(base, std::string(n + 1, 'a')));
    EXPECT_EQ(hash(base), hash(std::string(n, 'a')));
    hashes.insert(hash(base));
    ++variants;
    for (std::size_t i = 0; i < n; ++i) {
      std::string other = base;
      other[i] = 'b';
      EXPECT_FALSE(equal(base, other)) << n << " " << i;
      EXPECT_FALSE(equal(other, base)) << n << " " << i;
      EXPECT_NE(hash(base), hash(other)) << n << " " << i;
      hashes.insert(hash(other));
      ++variants;
    }
  }
  EXPECT_EQ(hashes.size(), variants);
  // Views into a longer buffer read only their own bytes.
  const std::string buffer = "xxstrata-bench/p1yy";
  EXPECT_TRUE(equal(std::string_view(buffer).substr(2, 12), "strata-bench"));
  EXPECT_EQ(hash(std::string_view(buffer).substr(2, 12)), hash("strata-bench"));
  EXPECT_EQ(hash(std::string_view(buffer).substr(15, 2)), hash("p1"));
}

}  // namespace
}  // namespace strata::router
