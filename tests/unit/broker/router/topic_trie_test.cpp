#include "broker/router/topic_trie.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <random>
#include <set>
#include <string>
#include <tuple>

#include "broker/router/topic.hpp"

namespace strata::router {
namespace {

using protocol::QoS;
using session::SessionHandle;
using session::SessionRef;

SessionRef make_session(std::string id, bool online = true) {
  auto s = std::make_shared<SessionHandle>(std::move(id), 1, 0);
  s->online = online;
  return s;
}

Subscription sub(const SessionRef& who, QoS qos = QoS::at_most_once, std::uint32_t id = 0,
                 bool no_local = false, bool rap = false) {
  Subscription s;
  s.subscriber = who;
  s.options.max_qos = qos;
  s.options.no_local = no_local;
  s.options.retain_as_published = rap;
  s.identifier = id;
  return s;
}

std::vector<Match> match(TopicTrie& t, std::string_view topic, const SessionHandle* publisher = nullptr) {
  std::vector<Match> out;
  t.match(topic, publisher, out);
  return out;
}

const Match* find(const std::vector<Match>& ms, const SessionRef& who) {
  for (const auto& m : ms) {
    if (m.subscriber == who) return &m;
  }
  return nullptr;
}

TEST(TopicTrie, ExactAndWildcardMatches) {
  TopicTrie t;
  auto a = make_session("a");
  auto b = make_session("b");
  auto c = make_session("c");
  EXPECT_TRUE(t.subscribe("sport/tennis/player1", "", sub(a)));
  EXPECT_TRUE(t.subscribe("sport/tennis/+", "", sub(b)));
  EXPECT_TRUE(t.subscribe("sport/#", "", sub(c)));
  EXPECT_EQ(t.subscription_count(), 3u);

  auto ms = match(t, "sport/tennis/player1");
  EXPECT_EQ(ms.size(), 3u);
  EXPECT_NE(find(ms, a), nullptr);
  EXPECT_NE(find(ms, b), nullptr);
  EXPECT_NE(find(ms, c), nullptr);

  ms = match(t, "sport/tennis/player2");
  EXPECT_EQ(ms.size(), 2u);
  EXPECT_EQ(find(ms, a), nullptr);

  ms = match(t, "sport");  // "sport/#" matches its parent level
  ASSERT_EQ(ms.size(), 1u);
  EXPECT_EQ(ms[0].subscriber, c);
  EXPECT_TRUE(ms[0].share_group.empty());

  EXPECT_TRUE(match(t, "sports").empty());
  EXPECT_TRUE(match(t, "other/tennis/player1").empty());
}

TEST(TopicTrie, EmptyLevels) {
  TopicTrie t;
  auto a = make_session("a");
  auto b = make_session("b");
  auto c = make_session("c");
  t.subscribe("+/+", "", sub(a));
  t.subscribe("/+", "", sub(b));
  t.subscribe("+", "", sub(c));
  auto ms = match(t, "/finance");
  EXPECT_EQ(ms.size(), 2u);
  EXPECT_NE(find(ms, a), nullptr);
  EXPECT_NE(find(ms, b), nullptr);
  EXPECT_EQ(find(ms, c), nullptr);

  TopicTrie u;
  u.subscribe("a//b", "", sub(a));
  EXPECT_EQ(match(u, "a//b").size(), 1u);
  EXPECT_TRUE(match(u, "a/b").empty());
}

TEST(TopicTrie, DollarTopics) {
  TopicTrie t;
  auto all = make_session("all");
  auto plus = make_session("plus");
  auto sys = make_session("sys");
  auto sys_plus = make_session("sys_plus");
  t.subscribe("#", "", sub(all));
  t.subscribe("+/monitor/Clients", "", sub(plus));
  t.subscribe("$SYS/#", "", sub(sys));
  t.subscribe("$SYS/monitor/+", "", sub(sys_plus));
  t.subscribe("#", "g", sub(all));

  auto ms = match(t, "$SYS/monitor/Clients");
  EXPECT_EQ(ms.size(), 2u);
  EXPECT_NE(find(ms, sys), nullptr);
  EXPECT_NE(find(ms, sys_plus), nullptr);

  ms = match(t, "$SYS");
  ASSERT_EQ(ms.size(), 1u);
  EXPECT_EQ(ms[0].subscriber, sys);

  ms = match(t, "x/monitor/Clients");
  EXPECT_EQ(ms.size(), 3u);  // "#", "+/monitor/Clients", shared "#"
}

TEST(TopicTrie, OverlappingSubscriptionsCollapse) {
  TopicTrie t;
  auto a = make_session("a");
  auto b = make_session("b");
  t.subscribe("a/b", "", sub(a, QoS::at_most_once, 1));
  t.subscribe("a/+", "", sub(a, QoS::exactly_once, 2));
  t.subscribe("#", "", sub(a, QoS::at_least_once, 3, false, true));
  t.subscribe("a/#", "", sub(a, QoS::at_most_once));  // no identifier
  t.subscribe("a/b", "", sub(b, QoS::at_least_once, 7));
  EXPECT_EQ(t.subscription_count(), 5u);

  auto ms = match(t, "a/b");
  ASSERT_EQ(ms.size(), 2u);
  const Match* ma = find(ms, a);
  ASSERT_NE(ma, nullptr);
  EXPECT_EQ(ma->qos, QoS::exactly_once);
  EXPECT_TRUE(ma->retain_as_published);
  std::vector<std::uint32_t> ids = ma->identifiers;
  std::sort(ids.begin(), ids.end());
  EXPECT_EQ(ids, (std::vector<std::uint32_t>{1, 2, 3}));
  const Match* mb = find(ms, b);
  ASSERT_NE(mb, nullptr);
  EXPECT_EQ(mb->qos, QoS::at_least_once);
  EXPECT_FALSE(mb->retain_as_published);
  EXPECT_EQ(mb->identifiers, (std::vector<std::uint32_t>{7}));

  ms = match(t, "x");
  ASSERT_EQ(ms.size(), 1u);
  EXPECT_EQ(ms[0].qos, QoS::at_least_once);
  EXPECT_EQ(ms[0].identifiers, (std::vector<std::uint32_t>{3}));
}

TEST(TopicTrie, MatchAppendsToOut) {
  TopicTrie t;
  auto a = make_session("a");
  t.subscribe("a", "", sub(a));
  t.subscribe("#", "", sub(a));
  std::vector<Match> out(1);  // something already there
  out[0].subscriber = a;
  t.match("a", nullptr, out);
  EXPECT_EQ(out.size(), 2u);
}

TEST(TopicTrie, NoLocal) {
  TopicTrie t;
  auto a = make_session("a");
  auto b = make_session("b");
  t.subscribe("x/y", "", sub(a, QoS::exactly_once, 1, /*no_local=*/true));
  t.subscribe("x/+", "", sub(a, QoS::at_least_once, 2));
  t.subscribe("x/#", "", sub(b, QoS::at_most_once, 0, /*no_local=*/true));

  // Published by a: a's no_local subscription is skipped, its other one is not.
  auto ms = match(t, "x/y", a.get());
  ASSERT_EQ(ms.size(), 2u);
  const Match* ma = find(ms, a);
  ASSERT_NE(ma, nullptr);
  EXPECT_EQ(ma->qos, QoS::at_least_once);
  EXPECT_EQ(ma->identifiers, (std::vector<std::uint32_t>{2}));

  // Published by b: b gets nothing, a gets both.
  ms = match(t, "x/y", b.get());
  ASSERT_EQ(ms.size(), 1u);
  EXPECT_EQ(ms[0].subscriber, a);
  EXPECT_EQ(ms[0].qos, QoS::exactly_once);

  // Published by the broker.
  EXPECT_EQ(match(t, "x/y", nullptr).size(), 2u);
}

TEST(TopicTrie, NoLocalNotAppliedToShared) {
  TopicTrie t;
  auto a = make_session("a");
  t.subscribe("x", "g", sub(a, QoS::at_most_once, 0, /*no_local=*/true));
  auto ms = match(t, "x", a.get());
  ASSERT_EQ(ms.size(), 1u);
  EXPECT_EQ(ms[0].subscriber, a);
}

TEST(TopicTrie, UnsubscribeAndResubscribe) {
  TopicTrie t;
  auto a = make_session("a");
  auto b = make_session("b");
  EXPECT_TRUE(t.subscribe("a/b", "", sub(a, QoS::at_most_once, 1)));
  EXPECT_FALSE(t.subscribe("a/b", "", sub(a, QoS::exactly_once, 9, false, true)));  // replaces
  EXPECT_EQ(t.subscription_count(), 1u);
  auto ms = match(t, "a/b");
  ASSERT_EQ(ms.size(), 1u);
  EXPECT_EQ(ms[0].qos, QoS::exactly_once);
  EXPECT_TRUE(ms[0].retain_as_published);
  EXPECT_EQ(ms[0].identifiers, (std::vector<std::uint32_t>{9}));

  // Re-subscribing without an identifier drops it.
  EXPECT_FALSE(t.subscribe("a/b", "", sub(a, QoS::at_least_once)));
  ms = match(t, "a/b");
  ASSERT_EQ(ms.size(), 1u);
  EXPECT_TRUE(ms[0].identifiers.empty());

  EXPECT_FALSE(t.unsubscribe("a/b", "", b.get()));
  EXPECT_FALSE(t.unsubscribe("a/c", "", a.get()));
  EXPECT_FALSE(t.unsubscribe("a/b", "g", a.get()));
  EXPECT_TRUE(t.unsubscribe("a/b", "", a.get()));
  EXPECT_FALSE(t.unsubscribe("a/b", "", a.get()));
  EXPECT_EQ(t.subscription_count(), 0u);
  EXPECT_TRUE(match(t, "a/b").empty());
}

TEST(TopicTrie, SharedAndNonSharedAreSeparate) {
  TopicTrie t;
  auto a = make_session("a");
  t.subscribe("x/+", "", sub(a, QoS::at_most_once, 1));
  t.subscribe("x/+", "g1", sub(a, QoS::at_least_once, 2));
  t.subscribe("x/+", "g2", sub(a, QoS::exactly_once, 3));
  t.subscribe("x/#", "g1", sub(a, QoS::exactly_once, 4));
  EXPECT_EQ(t.subscription_count(), 4u);
  auto ms = match(t, "x/y");
  ASSERT_EQ(ms.size(), 4u);
  std::set<std::tuple<std::string, std::string, std::uint32_t>> got;
  for (const auto& m : ms) {
    ASSERT_EQ(m.identifiers.size(), 1u);
    got.emplace(std::string(m.share_group), std::string(m.share_filter), m.identifiers[0]);
  }
  const std::set<std::tuple<std::string, std::string, std::uint32_t>> want = {
      {"", "", 1}, {"g1", "x/+", 2}, {"g2", "x/+", 3}, {"g1", "x/#", 4}};
  EXPECT_EQ(got, want);
  EXPECT_TRUE(t.unsubscribe("x/+", "g1", a.get()));
  EXPECT_EQ(match(t, "x/y").size(), 3u);
}

TEST(TopicTrie, SharedLeastRecentlyServedIsFair) {
  TopicTrie t;
  std::vector<SessionRef> members;
  for (int i = 0; i < 5; ++i) {
    members.push_back(make_session("m" + std::to_string(i)));
    t.subscribe("jobs/+", "workers", sub(members.back(), QoS::at_least_once));
  }
  std::map<const SessionHandle*, int> served;
  const SessionHandle* last = nullptr;
  for (int i = 0; i < 1000; ++i) {
    auto ms = match(t, "jobs/" + std::to_string(i));
    ASSERT_EQ(ms.size(), 1u);
    EXPECT_EQ(ms[0].share_group, "workers");
    EXPECT_EQ(ms[0].share_filter, "jobs/+");
    EXPECT_EQ(ms[0].qos, QoS::at_least_once);
    EXPECT_NE(ms[0].subscriber.get(), last);  // never the same twice in a row
    last = ms[0].subscriber.get();
    ++served[last];
  }
  ASSERT_EQ(served.size(), 5u);
  for (const auto& [who, n] : served) EXPECT_EQ(n, 200);

  // A new member has never been served: it is next.
  auto late = make_session("late");
  t.subscribe("jobs/+", "workers", sub(late));
  auto ms = match(t, "jobs/x");
  ASSERT_EQ(ms.size(), 1u);
  EXPECT_EQ(ms[0].subscriber, late);
}

TEST(TopicTrie, SharedSkipsOfflineMembers) {
  TopicTrie t;
  auto a = make_session("a");
  auto b = make_session("b");
  auto c = make_session("c");
  for (const auto& s : {a, b, c}) t.subscribe("t", "g", sub(s));
  b->online = false;
  std::map<const SessionHandle*, int> served;
  for (int i = 0; i < 100; ++i) {
    auto ms = match(t, "t");
    ASSERT_EQ(ms.size(), 1u);
    ++served[ms[0].subscriber.get()];
  }
  EXPECT_EQ(served[a.get()], 50);
  EXPECT_EQ(served[b.get()], 0);
  EXPECT_EQ(served[c.get()], 50);

  // b is back: it was served least recently, so it is next.
  b->online = true;
  EXPECT_EQ(match(t, "t")[0].subscriber, b);

  // Nobody online: still delivered (queued for a persistent session), fairly.
  a->online = b->online = c->online = false;
  served.clear();
  for (int i = 0; i < 30; ++i) ++served[match(t, "t")[0].subscriber.get()];
  EXPECT_EQ(served[a.get()], 10);
  EXPECT_EQ(served[b.get()], 10);
  EXPECT_EQ(served[c.get()], 10);

  // An offline member with a live session beats one whose session ended.
  a->ended = true;
  b->ended = true;
  for (int i = 0; i < 10; ++i) EXPECT_EQ(match(t, "t")[0].subscriber, c);
}

// A group large enough to be indexed by subscriber (thousands of stored
// sessions in one group at start-up): re-subscribing replaces, removing
// members keeps the rest findable and in order, shrinking drops the index.
TEST(TopicTrie, LargeShareGroupIndexedBySubscriber) {
  TopicTrie t;
  std::vector<SessionRef> members;
  for (int i = 0; i < 100; ++i) {
    members.push_back(make_session("m" + std::to_string(i)));
    EXPECT_TRUE(t.subscribe("big/#", "g", sub(members.back(), QoS::at_most_once, 1)));
  }
  EXPECT_EQ(t.subscription_count(), 100u);
  // Re-subscribing replaces the options of the one entry.
  EXPECT_FALSE(t.subscribe("big/#", "g", sub(members[57], QoS::exactly_once, 7)));
  EXPECT_EQ(t.subscription_count(), 100u);
  // Never served yet: members are picked in subscription order.
  auto first = match(t, "big/x");
  ASSERT_EQ(first.size(), 1u);
  EXPECT_EQ(first[0].subscriber, members[0]);
  // Remove every even member; the odd ones stay, each once.
  for (int i = 0; i < 100; i += 2) EXPECT_TRUE(t.unsubscribe("big/#", "g", members[i].get()));
  EXPECT_FALSE(t.unsubscribe("big/#", "g", members[10].get()));
  EXPECT_EQ(t.subscription_count(), 50u);
  for (int i = 1; i < 100; i += 2) EXPECT_FALSE(t.subscribe("big/#", "g", sub(members[i])));
  EXPECT_EQ(t.subscription_count(), 50u);
  std::map<const SessionHandle*, int> served;
  for (int i = 0; i < 50; ++i) {
    auto ms = match(t, "big/y");
    ASSERT_EQ(ms.size(), 1u);
    ++served[ms[0].subscriber.get()];
  }
  ASSERT_EQ(served.size(), 50u);
  for (int i = 1; i < 100; i += 2) EXPECT_EQ(served[members[i].get()], 1) << i;
  // Down to a few (the index is dropped), then to none: the group is gone.
  for (int i = 1; i < 95; i += 2) EXPECT_TRUE(t.unsubscribe("big/#", "g", members[i].get()));
  EXPECT_EQ(t.subscription_count(), 3u);
  EXPECT_EQ(t.pick_share_member("g", "big/#", members[95].get()), members[97]);
  for (int i : {95, 97, 99}) EXPECT_TRUE(t.unsubscribe("big/#", "g", members[i].get()));
  EXPECT_EQ(t.subscription_count(), 0u);
  EXPECT_EQ(t.node_count(), 0u);
}

TEST(TopicTrie, PickShareMember) {
  TopicTrie t;
  auto a = make_session("a");
  auto b = make_session("b");
  auto c = make_session("c");
  EXPECT_EQ(t.pick_share_member("g", "t/+", nullptr), nullptr);
  t.subscribe("t/+", "g", sub(a));
  EXPECT_EQ(t.pick_share_member("g", "t/+", a.get()), nullptr);  // nobody else
  EXPECT_EQ(t.pick_share_member("g", "t/+", nullptr), a);
  EXPECT_EQ(t.pick_share_member("h", "t/+", nullptr), nullptr);  // other group
  EXPECT_EQ(t.pick_share_member("g", "t/#", nullptr), nullptr);  // other filter
  t.subscribe("t/+", "g", sub(b));
  t.subscribe("t/+", "g", sub(c));
  for (int i = 0; i < 20; ++i) EXPECT_NE(t.pick_share_member("g", "t/+", a.get()), a);
  // Picks count as served: the next message goes to a, served least recently.
  EXPECT_EQ(match(t, "t/x")[0].subscriber, a);
  // Online members first.
  b->online = false;
  for (int i = 0; i < 5; ++i) EXPECT_EQ(t.pick_share_member("g", "t/+", a.get()), c);
  c->online = false;
  EXPECT_NE(t.pick_share_member("g", "t/+", a.get()), nullptr);
}

TEST(TopicTrie, PruningUnderChurn) {
  TopicTrie t;
  auto a = make_session("a");
  auto b = make_session("b");
  EXPECT_EQ(t.node_count(), 0u);
  t.subscribe("a/b/c", "", sub(a));
  EXPECT_EQ(t.node_count(), 3u);
  t.subscribe("a/b", "", sub(b));
  t.subscribe("a/+/#", "g", sub(b));
  t.subscribe("#", "", sub(a));
  EXPECT_EQ(t.node_count(), 6u);  // a, b, c, +, # under +, # at root
  EXPECT_TRUE(t.unsubscribe("a/b/c", "", a.get()));
  EXPECT_EQ(t.node_count(), 5u);  // c went; a/b still holds b
  EXPECT_TRUE(t.unsubscribe("a/+/#", "g", b.get()));
  EXPECT_EQ(t.node_count(), 3u);
  EXPECT_TRUE(t.unsubscribe("a/b", "", b.get()));
  EXPECT_EQ(t.node_count(), 1u);
  EXPECT_TRUE(t.unsubscribe("#", "", a.get()));
  EXPECT_EQ(t.node_count(), 0u);
  EXPECT_EQ(t.subscription_count(), 0u);

  // Many subscribers and filters come and go: nothing is left behind.
  std::vector<SessionRef> sessions;
  for (int i = 0; i < 50; ++i) sessions.push_back(make_session("s" + std::to_string(i)));
  for (int round = 0; round < 3; ++round) {
    for (int i = 0; i < 50; ++i) {
      for (int f = 0; f < 20; ++f) {
        const std::string filter = "site/" + std::to_string(f) + "/+/x" + std::to_string(i % 3);
        t.subscribe(filter, i % 2 ? "" : "g", sub(sessions[i]));
      }
    }
    EXPECT_EQ(t.subscription_count(), 1000u);
    // i % 3 == 1: odd i (9 of them) subscribed directly, even i share one group.
    EXPECT_EQ(match(t, "site/3/q/x1").size(), 9u + 1u);
    for (int i = 0; i < 50; ++i) {
      for (int f = 0; f < 20; ++f) {
        const std::string filter = "site/" + std::to_string(f) + "/+/x" + std::to_string(i % 3);
        EXPECT_TRUE(t.unsubscribe(filter, i % 2 ? "" : "g", sessions[i].get()));
      }
    }
    EXPECT_EQ(t.subscription_count(), 0u);
    EXPECT_EQ(t.node_count(), 0u);
  }
}

TEST(TopicTrie, ManySubscribersOnOneFilter) {
  // Crosses the size at which a node indexes its subscribers, both ways.
  TopicTrie t;
  std::vector<SessionRef> s;
  for (int i = 0; i < 100; ++i) {
    s.push_back(make_session("s" + std::to_string(i)));
    EXPECT_TRUE(t.subscribe("x", "", sub(s.back(), QoS::at_most_once, static_cast<std::uint32_t>(i + 1))));
  }
  for (int i = 0; i < 100; ++i) {
    EXPECT_FALSE(t.subscribe("x", "", sub(s[i], QoS::at_least_once, static_cast<std::uint32_t>(i + 1))));
  }
  EXPECT_EQ(t.subscription_count(), 100u);
  auto ms = match(t, "x");
  ASSERT_EQ(ms.size(), 100u);
  for (const auto& m : ms) {
    EXPECT_EQ(m.qos, QoS::at_least_once);
    ASSERT_EQ(m.identifiers.size(), 1u);
    EXPECT_EQ(m.subscriber->client_id, "s" + std::to_string(m.identifiers[0] - 1));
  }
  for (int i = 0; i < 100; i += 2) EXPECT_TRUE(t.unsubscribe("x", "", s[i].get()));
  for (int i = 0; i < 100; i += 2) EXPECT_FALSE(t.unsubscribe("x", "", s[i].get()));
  ms = match(t, "x");
  EXPECT_EQ(ms.size(), 50u);
  for (const auto& m : ms) EXPECT_EQ((m.identifiers[0] - 1) % 2, 1u);
  for (int i = 1; i < 100; i += 2) EXPECT_TRUE(t.unsubscribe("x", "", s[i].get()));
  EXPECT_EQ(t.node_count(), 0u);
}

TEST(TopicTrie, DeepTopicDoesNotRecurse) {
  TopicTrie t;
  auto a = make_session("a");
  std::string deep;
  for (int i = 0; i < 20000; ++i) deep += "+/";
  deep += "#";
  t.subscribe(deep, "", sub(a));
  t.subscribe("#", "", sub(a));
  std::string topic(30000, '/');
  EXPECT_EQ(match(t, topic).size(), 1u);
  EXPECT_TRUE(t.unsubscribe(deep, "", a.get()));
  EXPECT_EQ(t.node_count(), 1u);
}

TEST(TopicTrie, ManySubscribersOverlapping) {
  // Each subscriber matches through three filters; each gets one Match.
  TopicTrie t;
  std::vector<SessionRef> s;
  for (int i = 0; i < 3000; ++i) {
    s.push_back(make_session("s" + std::to_string(i)));
    t.subscribe("plant/#", "", sub(s.back(), QoS::at_most_once, 1));
    t.subscribe("plant/+/temp", "", sub(s.back(), QoS::at_least_once, 2));
    if (i % 2) t.subscribe("plant/line1/temp", "", sub(s.back(), QoS::exactly_once, 3));
  }
  for (int round = 0; round < 3; ++round) {
    auto ms = match(t, "plant/line1/temp");
    ASSERT_EQ(ms.size(), 3000u);
    std::set<const SessionHandle*> who;
    for (const auto& m : ms) {
      who.insert(m.subscriber.get());
      const bool odd = (m.subscriber->client_id.back() - '0') % 2 == 1;
      EXPECT_EQ(m.qos, odd ? QoS::exactly_once : QoS::at_least_once);
      EXPECT_EQ(m.identifiers.size(), odd ? 3u : 2u);
    }
    EXPECT_EQ(who.size(), 3000u);
    // A small match after a big one reuses the scratch table correctly.
    TopicTrie small;
    small.subscribe("x/#", "", sub(s[0], QoS::at_most_once, 1));
    small.subscribe("x/y", "", sub(s[0], QoS::at_least_once, 2));
    auto one = match(small, "x/y");
    ASSERT_EQ(one.size(), 1u);
    EXPECT_EQ(one[0].identifiers.size(), 2u);
    ms = match(t, "plant/line2/temp");
    EXPECT_EQ(ms.size(), 3000u);
    ms = match(t, "plant/line2/pressure");
    EXPECT_EQ(ms.size(), 3000u);
  }
}

// Cross-checks everything match() decides against a brute-force model built
// on topic_matches(): non-shared merging (QoS, identifiers,
// retain_as_published, no_local) and one member per shared group.
TEST(TopicTrie, RandomizedFullModel) {
  std::mt19937 rng(99);
  auto pick = [&](std::size_t n) { return std::uniform_int_distribution<std::size_t>(0, n - 1)(rng); };
  const std::vector<std::string> filters = {"#", "+", "a", "a/b", "a/+", "a/#", "+/b", "+/+", "/#",
                                            "$SYS/#", "a/b/c", "+/b/#", "a//c", "+/+/+"};
  const std::vector<std::string> topics = {"a", "a/b", "a/c", "a/b/c", "/", "/b", "$SYS/a", "a//c",
                                           "x/b", "x/b/y", "a/b/c/d"};
  const std::vector<std::string> groups = {"", "", "", "g1", "g2"};
  std::vector<SessionRef> sessions;
  for (int i = 0; i < 8; ++i) sessions.push_back(make_session("s" + std::to_string(i), i % 3 != 0));

  struct Key {
    std::string group, filter;
    int who;
    auto operator<=>(const Key&) const = default;
  };
  std::map<Key, Subscription> model;
  TopicTrie t;
  for (int step = 0; step < 3000; ++step) {
    Key k{groups[pick(groups.size())], filters[pick(filters.size())], static_cast<int>(pick(sessions.size()))};
    if (pick(3) == 0) {
      EXPECT_EQ(t.unsubscribe(k.filter, k.group, sessions[k.who].get()), model.erase(k) > 0);
    } else {
      Subscription s = sub(sessions[k.who], static_cast<QoS>(pick(3)), static_cast<std::uint32_t>(pick(4)),
                           k.group.empty() && pick(3) == 0, pick(2) == 0);
      EXPECT_EQ(t.subscribe(k.filter, k.group, s), model.insert_or_assign(k, s).second);
    }
    ASSERT_EQ(t.subscription_count(), model.size());
    if (step % 10 != 0) continue;

    const std::string& topic = topics[pick(topics.size())];
    const SessionHandle* publisher = pick(2) ? sessions[pick(sessions.size())].get() : nullptr;
    struct Want {
      QoS qos = QoS::at_most_once;
      bool rap = false;
      std::set<std::uint32_t> ids;
    };
    std::map<const SessionHandle*, Want> want;
    std::map<std::pair<std::string, std::string>, std::set<const SessionHandle*>> want_shared;
    for (const auto& [key, s] : model) {
      if (!topic_matches(key.filter, topic)) continue;
      if (!key.group.empty()) {
        want_shared[{key.group, key.filter}].insert(s.subscriber.get());
        continue;
      }
      if (s.options.no_local && s.subscriber.get() == publisher) continue;
      Want& w = want[s.subscriber.get()];
      w.qos = std::max(w.qos, s.options.max_qos);
      w.rap = w.rap || s.options.retain_as_published;
      if (s.identifier) w.ids.insert(s.identifier);
    }

    std::vector<Match> out;
    t.match(topic, publisher, out);
    std::map<const SessionHandle*, Want> got;
    std::map<std::pair<std::string, std::string>, std::set<const SessionHandle*>> got_shared;
    for (const auto& m : out) {
      if (!m.share_group.empty()) {
        auto& members = got_shared[{std::string(m.share_group), std::string(m.share_filter)}];
        EXPECT_TRUE(members.empty()) << "two deliveries to one group";
        members.insert(m.subscriber.get());
        continue;
      }
      EXPECT_EQ(got.count(m.subscriber.get()), 0u) << "duplicate delivery";
      Want& g = got[m.subscriber.get()];
      g.qos = m.qos;
      g.rap = m.retain_as_published;
      g.ids.insert(m.identifiers.begin(), m.identifiers.end());
      EXPECT_EQ(g.ids.size(), m.identifiers.size()) << "repeated identifier";
    }
    ASSERT_EQ(got.size(), want.size()) << topic;
    for (const auto& [who, w] : want) {
      ASSERT_EQ(got.count(who), 1u) << topic;
      EXPECT_EQ(got[who].qos, w.qos) << topic;
      EXPECT_EQ(got[who].rap, w.rap) << topic;
      EXPECT_EQ(got[who].ids, w.ids) << topic;
    }
    ASSERT_EQ(got_shared.size(), want_shared.size()) << topic;
    for (const auto& [gf, members] : want_shared) {
      ASSERT_EQ(got_shared.count(gf), 1u) << gf.first << " " << gf.second;
      const SessionHandle* chosen = *got_shared[gf].begin();
      EXPECT_EQ(members.count(chosen), 1u);
      // Online members go first.
      const bool any_online = std::any_of(members.begin(), members.end(),
                                          [](const SessionHandle* h) { return h->online.load(); });
      if (any_online) {
        EXPECT_TRUE(chosen->online.load());
      }
    }
  }
}

// Cross-checks the trie against topic_matches() over random filters/topics.
TEST(TopicTrie, RandomizedAgainstBruteForce) {
  std::mt19937 rng(20240611);
  const std::vector<std::string> words = {"a", "b", "c", "", "$SYS", "$x", "dd"};
  auto pick = [&](std::size_t n) { return std::uniform_int_distribution<std::size_t>(0, n - 1)(rng); };
  auto random_topic = [&] {
    std::string s;
    const std::size_t levels = 1 + pick(4);
    for (std::size_t i = 0; i < levels; ++i) {
      if (i) s += '/';
      std::string w = words[pick(words.size())];
      if (i > 0 && !w.empty() && w[0] == '$' && pick(2)) w = "e";
      s += w;
    }
    return s.empty() ? std::string("/") : s;
  };
  auto random_filter = [&] {
    std::string s;
    const std::size_t levels = 1 + pick(4);
    for (std::size_t i = 0; i < levels; ++i) {
      if (i) s += '/';
      const std::size_t r = pick(10);
      if (r < 3) {
        s += '+';
      } else if (r == 3) {
        s += '#';
        break;
      } else {
        s += words[pick(words.size())];
      }
    }
    return s.empty() ? std::string("#") : s;
  };

  std::vector<SessionRef> sessions;
  for (int i = 0; i < 40; ++i) sessions.push_back(make_session("s" + std::to_string(i)));

  // (subscriber index, filter) -> qos; mirrors the trie's non-shared state.
  std::map<std::pair<int, std::string>, QoS> model;
  TopicTrie t;
  for (int round = 0; round < 4000; ++round) {
    const int who = static_cast<int>(pick(sessions.size()));
    const std::string filter = random_filter();
    ASSERT_TRUE(is_valid_topic_filter(filter)) << filter;
    if (pick(4) == 0) {
      const bool had = model.erase({who, filter}) > 0;
      EXPECT_EQ(t.unsubscribe(filter, "", sessions[who].get()), had);
    } else {
      const QoS q = static_cast<QoS>(pick(3));
      const bool fresh = model.insert_or_assign({who, filter}, q).second;
      EXPECT_EQ(t.subscribe(filter, "", sub(sessions[who], q)), fresh);
    }
  }
  ASSERT_EQ(t.subscription_count(), model.size());

  std::vector<Match> out;
  for (int i = 0; i < 3000; ++i) {
    const std::string topic = random_topic();
    ASSERT_TRUE(is_valid_topic_name(topic)) << topic;
    std::map<const SessionHandle*, QoS> want;
    for (const auto& [key, q] : model) {
      if (!topic_matches(key.second, topic)) continue;
      auto [it, fresh] = want.try_emplace(sessions[key.first].get(), q);
      if (!fresh) it->second = std::max(it->second, q);
    }
    out.clear();
    t.match(topic, nullptr, out);
    std::map<const SessionHandle*, QoS> got;
    for (const auto& m : out) {
      EXPECT_TRUE(got.emplace(m.subscriber.get(), m.qos).second) << "duplicate delivery on " << topic;
    }
    EXPECT_EQ(got, want) << topic;
  }

  // Take everything away again: the trie must be empty.
  for (const auto& [key, q] : model) EXPECT_TRUE(t.unsubscribe(key.second, "", sessions[key.first].get()));
  EXPECT_EQ(t.subscription_count(), 0u);
  EXPECT_EQ(t.node_count(), 0u);
}

// A node with one literal child compares its key instead of hashing: keys of
// the same length that differ in one byte, and other lengths, do not match,
// as the node goes from one child to two and back.
TEST(TopicTrie, SingleChildLookupsCompareTheWholeLevel) {
  TopicTrie t;
  auto a = make_session("a");
  auto b = make_session("b");
  EXPECT_TRUE(t.subscribe("line-0001/x", "", sub(a)));
  EXPECT_EQ(match(t, "line-0001/x").size(), 1u);
  EXPECT_TRUE(match(t, "line-0002/x").empty());
  EXPECT_TRUE(match(t, "line-0001/y").empty());
  EXPECT_TRUE(match(t, "line-000/x").empty());
  EXPECT_TRUE(match(t, "line-00011/x").empty());
  EXPECT_TRUE(match(t, "l/x").empty());
  EXPECT_TRUE(t.subscribe("line-0002/x", "", sub(b)));
  auto ms = match(t, "line-0002/x");
  ASSERT_EQ(ms.size(), 1u);
  EXPECT_EQ(ms[0].subscriber, b);
  EXPECT_TRUE(t.unsubscribe("line-0001/x", "", a.get()));
  EXPECT_TRUE(match(t, "line-0001/x").empty());
  ms = match(t, "line-0002/x");
  ASSERT_EQ(ms.size(), 1u);
  EXPECT_EQ(ms[0].subscriber, b);
}

}  // namespace
}  // namespace strata::router
