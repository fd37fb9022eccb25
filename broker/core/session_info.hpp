// A snapshot of one session (and its connection, when online) for the
// admin API: copied out on the owning core's thread, read anywhere.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "broker/protocol/packet.hpp"

namespace strata::core {

struct SubscriptionInfo {
  std::string filter;  // as the client sent it, "$share/g/f" included
  protocol::SubscribeOptions options;
  std::uint32_t identifier = 0;
};

struct SessionInfo {
  std::string client_id;
  std::string username;
  unsigned core = 0;
  bool connected = false;
  protocol::Version version = protocol::Version::v5;
  std::uint32_t expiry_interval = 0;  // seconds after disconnect
  std::uint64_t expires_at_ms = 0;    // offline: when it expires (unix ms); 0 online
  bool persistent = false;            // kept in the store
  std::size_t inflight = 0;
  std::size_t queued = 0;
  std::uint64_t queued_bytes = 0;
  bool bridge_session = false;  // queued in a log on disk ([[bridge_session]])
  std::vector<SubscriptionInfo> subscriptions;
  // Online only.
  std::string address;   // "ip:port"
  std::string listener;  // "tcp://0.0.0.0:1883"
  std::uint16_t keep_alive = 0;
  std::uint64_t connected_at_ms = 0;
  std::uint64_t messages_received = 0, messages_sent = 0;  // PUBLISH packets on this connection
};

// What a list filter may look at, without copying a session out: the
// fields the admin API filters on (references valid during the call).
struct SessionBrief {
  const std::string& client_id;
  std::string_view username;
  bool connected;
  protocol::Version version;
  std::string_view address;  // "ip:port" online, empty offline
};

// One core's part of a paged list: `matched` sessions passed the filter;
// `items` are the first `keep` of them by client id, sorted.
struct SessionPage {
  std::vector<SessionInfo> items;
  std::size_t matched = 0;
};
using SessionFilter = std::function<bool(const SessionBrief&)>;

}  // namespace strata::core
