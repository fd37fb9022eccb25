// The common part of a [[bridge]] table: what every bridge type shares
// (name, type, routes, outbox bounds and overflow policy, loop guard,
// order). The keys of one type (url, brokers, database ...) are read by
// that type's AdapterType::make (adapter.hpp); a key that neither the
// common list nor the bridge's type lists is an error with file:line.
//
//   [[bridge]]
//   name = "factory"            # [A-Za-z0-9_.-]+, unique; names the outbox log and $SYS/bridges/<name>
//   type = "mqtt"               # a registered AdapterType
//   enabled = true
//   max_bytes = 1073741824      # outbox bounds: bytes (topic + payload), messages, age (s, 0: none)
//   max_messages = 10000000
//   max_age = 0
//   overflow = "block"          # when full: "block" | "drop_oldest" | "drop_new"
//   block_timeout = 10          # block: QoS 1/2 publishers held longer get 0x97
//   order = "strict"            # or "live_first" (with live_threshold)
//   live_threshold = 10000
//   qos0 = "queue"              # or "drop_when_offline"
//   hops_property = "strata-hops"
//   max_hops = 8
//   [[bridge.route]]
//   direction = "out"           # "out": local -> target; "in": target -> local
//   filter = "plant/+/temp/#"   # out: a local filter; in: a filter on the peer
//   remote = "edge1/{topic}"    # topic on the target (template/topic_template.hpp:
//                               # {topic}, {1}..{n}, {-1}, {#}, {uns.site}, ...)
//   local = "{topic}"           # in: topic on this broker
//   qos = 1                     # the most this route sends with
//   retain = "keep"             # or "clear"
//   rule = ""                   # only messages this rule emits
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "bridges/adapter.hpp"
#include "bridges/template/topic_template.hpp"
#include "broker/config/table_reader.hpp"
#include "broker/protocol/packet.hpp"

namespace strata::bridges {

enum class Overflow : std::uint8_t { block, drop_oldest, drop_new };
enum class Order : std::uint8_t { strict, live_first };
enum class Qos0Policy : std::uint8_t { queue, drop_when_offline };

// Bounds of an outbox log (a [[bridge]]'s or a [[bridge_session]]'s).
struct OutboxBounds {
  std::uint64_t max_bytes = 1ull << 30;    // topic + payload bytes queued
  std::uint64_t max_messages = 10'000'000;
  std::chrono::seconds max_age{0};         // 0: no limit (nothing leaves by time but its own expiry)
  Overflow overflow = Overflow::block;
  std::chrono::seconds block_timeout{10};
  bool operator==(const OutboxBounds&) const = default;
};

struct Route {
  enum class Direction : std::uint8_t { out, in };
  enum class Retain : std::uint8_t { keep, clear };
  Direction direction = Direction::out;
  std::string filter;
  std::string remote = "{topic}";
  std::string local = "{topic}";
  protocol::QoS qos = protocol::QoS::exactly_once;  // the most this route sends with
  Retain retain = Retain::keep;
  std::string rule;                                // "" : every matching message
  std::string where;                               // "file:line:column" of the route
  bool operator==(const Route&) const = default;
};

struct BridgeConfig {
  std::string name;
  std::string type;
  bool enabled = true;
  std::vector<Route> routes;
  OutboxBounds bounds;
  Order order = Order::strict;
  std::uint64_t live_threshold = 10000;
  Qos0Policy qos0 = Qos0Policy::queue;
  std::string hops_property = "strata-hops";
  std::uint8_t max_hops = 8;
  std::string where;  // "file:line:column" of the [[bridge]] table
  Namespaces namespaces;  // [uns]'s models for {uns.*} templates; null when [uns] is off
};

// The keys of [[bridge]] every type shares, and those of [[bridge.route]].
std::span<const std::string_view> common_bridge_keys();
std::span<const std::string_view> route_keys();

// Reads the outbox bounds keys (max_bytes, max_messages, max_age, overflow,
// block_timeout) of a [[bridge]] or [[bridge_session]] table.
void read_bounds(const config::TableReader& r, OutboxBounds& out);

// One [[bridge]] as read: its common part and its unstarted adapter.
struct ParsedBridge {
  std::unique_ptr<BridgeConfig> config;  // stable address: adapters keep a pointer
  std::unique_ptr<Adapter> adapter;
};

// Reads every [[bridge]] of `doc`, and [uns]'s namespace models for the
// routes' templates. Throws config::ConfigError with file:line on an
// unknown type or key, a duplicate name, a bad route or template.
std::vector<ParsedBridge> read_bridges(const config::Document& doc, const AdapterTypes& types);

// A route's `remote` or `local` template, compiled as the adapters use it.
TopicTemplate route_template(const Route& route, const std::string& text, const Namespaces& namespaces);

}  // namespace strata::bridges
