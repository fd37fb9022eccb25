#include "broker/router/retained_index.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <random>
#include <set>
#include <string>

#include "broker/router/topic.hpp"

namespace strata::router {
namespace {

MessagePtr msg(std::string topic, std::string payload, std::uint64_t expires_at_ms = 0) {
  auto m = Message::make(std::move(topic), std::move(payload));
  m->retain = true;
  m->expires_at_ms = expires_at_ms;
  return m;
}

// Topics returned for `filter`, sorted.
std::vector<std::string> topics(RetainedIndex& r, std::string_view filter, std::uint64_t now_ms = 1000) {
  std::vector<MessagePtr> out;
  r.match(filter, now_ms, out);
  std::vector<std::string> ts;
  for (const auto& m : out) ts.emplace_back(m->topic);
  std::sort(ts.begin(), ts.end());
  return ts;
}

using Topics = std::vector<std::string>;

TEST(RetainedIndex, SetReplaceDelete) {
  RetainedIndex r;
  EXPECT_EQ(r.size(), 0u);
  r.set(msg("a/b", "1"));
  EXPECT_EQ(r.size(), 1u);
  r.set(msg("a/b", "2"));
  EXPECT_EQ(r.size(), 1u);
  std::vector<MessagePtr> out;
  r.match("a/b", 0, out);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0]->payload, "2");

  r.set(msg("a/c", "3"));
  r.set(msg("a", "4"));
  EXPECT_EQ(r.size(), 3u);
  EXPECT_EQ(r.node_count(), 3u);

  r.set(msg("a/b", ""));  // delete
  EXPECT_EQ(r.size(), 2u);
  EXPECT_EQ(topics(r, "a/b"), Topics{});
  EXPECT_EQ(r.node_count(), 2u);
  r.set(msg("a/b", ""));  // deleting again is harmless
  r.set(msg("x/y/z", ""));  // so is deleting what never was
  EXPECT_EQ(r.size(), 2u);
  EXPECT_EQ(r.node_count(), 2u);

  r.set(msg("a", ""));  // "a" keeps its node: "a/c" is below it
  EXPECT_EQ(r.node_count(), 2u);
  r.set(msg("a/c", ""));
  EXPECT_EQ(r.size(), 0u);
  EXPECT_EQ(r.node_count(), 0u);
}

TEST(RetainedIndex, WildcardMatching) {
  RetainedIndex r;
  for (const char* t : {"sport/tennis/player1", "sport/tennis/player1/ranking", "sport/tennis/player2",
                        "sport/golf", "sport", "/finance", "a//b", "sport/"}) {
    r.set(msg(t, "x"));
  }
  EXPECT_EQ(topics(r, "sport/tennis/player1/#"),
            (Topics{"sport/tennis/player1", "sport/tennis/player1/ranking"}));
  EXPECT_EQ(topics(r, "sport/tennis/+"), (Topics{"sport/tennis/player1", "sport/tennis/player2"}));
  EXPECT_EQ(topics(r, "sport/+"), (Topics{"sport/", "sport/golf"}));
  EXPECT_EQ(topics(r, "sport/#"), (Topics{"sport", "sport/", "sport/golf", "sport/tennis/player1",
                                          "sport/tennis/player1/ranking", "sport/tennis/player2"}));
  EXPECT_EQ(topics(r, "+"), (Topics{"sport"}));
  EXPECT_EQ(topics(r, "+/+"), (Topics{"/finance", "sport/", "sport/golf"}));
  EXPECT_EQ(topics(r, "/+"), (Topics{"/finance"}));
  EXPECT_EQ(topics(r, "a/+/b"), (Topics{"a//b"}));
  EXPECT_EQ(topics(r, "+/+/+/#"), (Topics{"a//b", "sport/tennis/player1", "sport/tennis/player1/ranking",
                                          "sport/tennis/player2"}));
  EXPECT_EQ(topics(r, "#").size(), 8u);
  EXPECT_EQ(topics(r, "nothing/#"), Topics{});
  EXPECT_EQ(topics(r, "sport/tennis"), Topics{});
}

TEST(RetainedIndex, DollarTopics) {
  RetainedIndex r;
  r.set(msg("$SYS/broker/uptime", "1"));
  r.set(msg("$SYS", "2"));
  r.set(msg("plain/x", "3"));
  r.set(msg("plain/$x", "4"));
  EXPECT_EQ(topics(r, "#"), (Topics{"plain/$x", "plain/x"}));
  EXPECT_EQ(topics(r, "+/broker/uptime"), Topics{});
  EXPECT_EQ(topics(r, "+"), Topics{});
  EXPECT_EQ(topics(r, "$SYS/#"), (Topics{"$SYS", "$SYS/broker/uptime"}));
  EXPECT_EQ(topics(r, "$SYS/+/uptime"), (Topics{"$SYS/broker/uptime"}));
  EXPECT_EQ(topics(r, "plain/+"), (Topics{"plain/$x", "plain/x"}));
}

TEST(RetainedIndex, ExpiredMessagesAreRemovedWhenMet) {
  RetainedIndex r;
  r.set(msg("a/old", "x", 500));
  r.set(msg("a/new", "x", 5000));
  r.set(msg("a/forever", "x", 0));
  r.set(msg("a/old/child", "x", 500));
  r.set(msg("b/old", "x", 500));
  EXPECT_EQ(r.size(), 5u);
  EXPECT_EQ(topics(r, "a/#", 499), (Topics{"a/forever", "a/new", "a/old", "a/old/child"}));
  EXPECT_EQ(r.size(), 5u);
  EXPECT_EQ(topics(r, "a/#", 500), (Topics{"a/forever", "a/new"}));  // expires_at <= now
  EXPECT_EQ(r.size(), 3u);
  EXPECT_EQ(r.node_count(), 5u);  // a, new, forever, b, old under b
  EXPECT_EQ(topics(r, "a/#", 400), (Topics{"a/forever", "a/new"}));  // gone for good
  EXPECT_EQ(topics(r, "b/old", 10000), Topics{});
  EXPECT_EQ(r.size(), 2u);
  EXPECT_EQ(r.node_count(), 3u);
  // A replacement with a later expiry lives on.
  r.set(msg("a/new", "y", 20000));
  EXPECT_EQ(topics(r, "+/new", 10000), (Topics{"a/new"}));
}

TEST(RetainedIndex, DeepTopics) {
  RetainedIndex r;
  std::string deep(30000, '/');
  r.set(msg(deep, "x"));
  EXPECT_EQ(r.node_count(), 30001u);
  EXPECT_EQ(topics(r, "#").size(), 1u);
  EXPECT_EQ(topics(r, deep).size(), 1u);
  r.set(msg("other", "x"));
  r.set(msg(deep, ""));
  EXPECT_EQ(r.node_count(), 1u);
  r.set(msg(deep + "x", "x"));  // and the destructor frees a deep tree
}

// Cross-checks match() against topic_matches() over random topics/filters.
TEST(RetainedIndex, RandomizedAgainstBruteForce) {
  std::mt19937 rng(7);
  const std::vector<std::string> words = {"a", "b", "", "$SYS", "cc"};
  auto pick = [&](std::size_t n) { return std::uniform_int_distribution<std::size_t>(0, n - 1)(rng); };
  auto random_levels = [&](bool wild) {
    std::string s;
    const std::size_t levels = 1 + pick(4);
    for (std::size_t i = 0; i < levels; ++i) {
      if (i) s += '/';
      const std::size_t r = wild ? pick(8) : 7;
      if (r < 2) {
        s += '+';
      } else if (r == 2) {
        s += '#';
        break;
      } else {
        s += words[pick(words.size())];
      }
    }
    return s.empty() ? std::string("/") : s;
  };

  RetainedIndex r;
  std::set<std::string> model;
  for (int i = 0; i < 2000; ++i) {
    const std::string t = random_levels(false);
    if (pick(3) == 0) {
      model.erase(t);
      r.set(msg(t, ""));
    } else {
      model.insert(t);
      r.set(msg(t, "x"));
    }
  }
  ASSERT_EQ(r.size(), model.size());
  for (int i = 0; i < 1000; ++i) {
    const std::string f = random_levels(true);
    ASSERT_TRUE(is_valid_topic_filter(f)) << f;
    Topics want;
    for (const auto& t : model) {
      if (topic_matches(f, t)) want.push_back(t);
    }
    EXPECT_EQ(topics(r, f), want) << f;
  }
  for (const auto& t : model) r.set(msg(t, ""));
  EXPECT_EQ(r.size(), 0u);
  EXPECT_EQ(r.node_count(), 0u);
}

}  // namespace
}  // namespace strata::router
