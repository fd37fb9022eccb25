// encode_publish(): a PUBLISH encoded straight from borrowed parts.
//
// The broker keeps one immutable Message per accepted PUBLISH and sends it
// to many subscribers; what differs per delivery is small (QoS, packet id,
// DUP, RETAIN, subscription identifiers, remaining expiry, topic alias).
// Building a protocol::Publish per delivery would copy topic, payload and
// the whole Properties struct each time; a PublishView points at them
// instead, and encode_publish() writes the same bytes encode() would write
// for the equivalent Publish (unit-tested byte for byte against it).
//
// Properties: only those a PUBLISH may carry are written, in identifier
// order, as encode() does: payload format indicator, content type, response
// topic, correlation data and user properties from `properties`; message
// expiry, subscription identifiers and topic alias from the view (the same
// fields in `properties` are ignored). In 3.1.1 there are none.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "broker/protocol/packet.hpp"

namespace strata::protocol {

struct PublishView {
  std::string_view topic;  // empty when topic_alias names the topic (v5)
  std::string_view payload;
  QoS qos = QoS::at_most_once;
  bool retain = false;
  bool dup = false;
  std::uint16_t packet_id = 0;  // written for QoS 1 and 2
  const Properties* properties = nullptr;  // application properties, or none
  std::span<const std::uint32_t> subscription_identifiers;
  std::optional<std::uint32_t> message_expiry_interval;
  std::optional<std::uint16_t> topic_alias;
};

// Appends the PUBLISH to `out`; returns the bytes appended.
std::size_t encode_publish(const PublishView& p, Version version, std::string& out);

// Bytes encode_publish() would append.
std::size_t encoded_publish_size(const PublishView& p, Version version) noexcept;

}  // namespace strata::protocol
