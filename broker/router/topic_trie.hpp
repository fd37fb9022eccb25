// The subscription index: topic filter -> subscribers.
//
// Matching costs time proportional to the topic's depth (times the number
// of '+'/'#' branches met on the way), not to the number of subscriptions.
// Each core owns its own replica, mutated only by that core's thread, so
// matching takes no lock (see broker/core/core.hpp).
#pragma once

#include <cstdint>
#include <memory>
#include <string_view>
#include <vector>

#include "broker/protocol/packet.hpp"
#include "broker/session/session_handle.hpp"

namespace strata::router {

struct Subscription {
  session::SessionRef subscriber;
  protocol::SubscribeOptions options;
  std::uint32_t identifier = 0;  // 0: no subscription identifier
  bool check_read = false;       // the ACL lets it read only some topics
};

// One delivery decided by match(): the subscriber gets one copy at `qos`.
struct Match {
  session::SessionRef subscriber;
  protocol::QoS qos = protocol::QoS::at_most_once;  // the subscription's maximum QoS
  bool retain_as_published = false;
  // Every matching subscription reads only some topics (ACL): the
  // subscriber's read access to the topic is checked on delivery.
  bool check_read = false;
  std::vector<std::uint32_t> identifiers;  // every matching subscription id
  // Empty unless via $share. They view the trie's copy of the group name and
  // filter and stay valid until that group is unsubscribed from.
  std::string_view share_group;
  std::string_view share_filter;           // the filter of the shared subscription
};

class TopicTrie {
 public:
  TopicTrie();
  ~TopicTrie();
  TopicTrie(const TopicTrie&) = delete;
  TopicTrie& operator=(const TopicTrie&) = delete;

  // Adds or replaces the subscription of `sub.subscriber` on `filter`
  // (for a shared subscription, `group` is the share name and `filter` the
  // part after it). Returns true if the subscription did not exist before.
  bool subscribe(std::string_view filter, std::string_view group, Subscription sub);

  // Returns true if the subscription existed.
  bool unsubscribe(std::string_view filter, std::string_view group,
                   const session::SessionHandle* subscriber);

  // Appends the deliveries for a message on `topic` published by `publisher`
  // (nullptr for the broker itself):
  // - non-shared: one Match per subscriber, at the highest QoS of its
  //   matching subscriptions, with all their identifiers; subscriptions with
  //   no_local are skipped when the subscriber is the publisher;
  //   retain_as_published is true if any matching subscription has it,
  //   check_read only if every one has it.
  // - shared: per (group, filter), one member, the least recently served
  //   of those that are online (or of all members if none is).
  void match(std::string_view topic, const session::SessionHandle* publisher,
             std::vector<Match>& out);

  // Like match() for one shared group, excluding `except`: where a departing
  // member's unacknowledged messages go. Returns nullptr if no other member.
  session::SessionRef pick_share_member(std::string_view group, std::string_view filter,
                                        const session::SessionHandle* except);

  std::size_t subscription_count() const noexcept;

  // Trie nodes below the root (for tests and metrics: proves pruning).
  std::size_t node_count() const noexcept;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace strata::router
