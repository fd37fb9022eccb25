// One message in a bridge's outbox log (bridges/outbox/outbox.hpp), as an
// adapter sees it: the message a route or a rule's emit() put there, its
// place in the log, and what the loop guard and the lag need.
//
// A record is immutable once appended and shared (RecordPtr) between the
// outbox's in-memory window and the adapter delivering it; an adapter may
// keep the pointer until the record is confirmed.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "broker/protocol/packet.hpp"
#include "broker/protocol/properties.hpp"

namespace strata::bridges {

struct Record {
  // Position in the log: assigned by Outbox::append, from 1, +1 per record,
  // never reused (a purged log starts after its last offset).
  std::uint64_t offset = 0;
  std::string topic;  // the local topic (adapters apply their templates)
  std::string payload;
  protocol::QoS qos = protocol::QoS::at_most_once;  // already capped by the route's qos
  bool retain = false;                              // already cleared if the route says retain = "clear"
  // Application properties: payload format, content type, response topic,
  // correlation data, user properties (in order, repeats kept). Message
  // expiry is not here but in expires_at_ms: an adapter that sends MQTT 5
  // computes the remaining interval when it sends. Shared and immutable;
  // null when the message has none (most have none: then a record costs
  // no copy of the ~700-byte Properties struct, in time or memory).
  std::shared_ptr<const protocol::Properties> props;
  std::uint64_t expires_at_ms = 0;  // unix ms; 0: never. An expired record is dropped, counted as expired.
  std::uint64_t received_ms = 0;    // unix ms when the broker accepted it (lag, latency)
  // Bridges this message already crossed (the `strata-hops` user property
  // as received, or 0). An adapter that forwards it to a peer sends hops + 1.
  std::uint8_t hops = 0;
  // The bridge it came in over ("" for a local client or a rule): a bridge
  // never sends a message back to the peer it came from.
  std::string origin;
  // Which route of the bridge matched (index into BridgeConfig::routes),
  // or -1 when a rule's emit() appended it. Adapters use it to pick the
  // route's `remote` template.
  std::int32_t route = -1;

  // The application properties (an empty set when there are none).
  const protocol::Properties& properties() const noexcept { return props ? *props : no_properties(); }
  // For whoever builds a record: the properties to fill in (made, or
  // copied when shared, first).
  protocol::Properties& mutable_properties();
  // Takes the application properties of `p`; none leaves `props` null.
  void set_properties(const protocol::Properties& p);
  void set_properties(protocol::Properties&& p);

  static const protocol::Properties& no_properties() noexcept;
};

// Whether `p` has a property a record keeps (see Record::props).
bool has_application_properties(const protocol::Properties& p) noexcept;

using RecordPtr = std::shared_ptr<const Record>;

}  // namespace strata::bridges
