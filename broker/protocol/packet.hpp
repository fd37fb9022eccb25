// The MQTT control packets as plain values, shared by 3.1.1 and 5.0.
// Fields a version does not have are ignored by its encoder and left at
// their defaults by its decoder (e.g. properties and reason codes in 3.1.1).
// PUBACK, PUBREC, PUBREL and PUBCOMP share one struct, told apart by `type`.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "broker/protocol/properties.hpp"
#include "broker/protocol/reason_code.hpp"
#include "broker/util/inline_optional.hpp"

namespace strata::protocol {

// The protocol level byte of CONNECT.
enum class Version : std::uint8_t { v311 = 4, v5 = 5 };

enum class PacketType : std::uint8_t {
  connect = 1,
  connack = 2,
  publish = 3,
  puback = 4,
  pubrec = 5,
  pubrel = 6,
  pubcomp = 7,
  subscribe = 8,
  suback = 9,
  unsubscribe = 10,
  unsuback = 11,
  pingreq = 12,
  pingresp = 13,
  disconnect = 14,
  auth = 15,
};

enum class QoS : std::uint8_t { at_most_once = 0, at_least_once = 1, exactly_once = 2 };

struct Will {
  std::string topic;
  std::string payload;
  QoS qos = QoS::at_most_once;
  bool retain = false;
  Properties properties;  // will properties (v5): delay, expiry, content type …
  bool operator==(const Will&) const = default;
};

struct Connect {
  std::string protocol_name = "MQTT";
  Version version = Version::v5;
  bool clean_start = true;  // "clean session" in 3.1.1
  std::uint16_t keep_alive = 0;
  std::string client_id;
  std::optional<Will> will;
  std::optional<std::string> username;
  std::optional<std::string> password;  // binary data
  Properties properties;
  bool operator==(const Connect&) const = default;
};

struct Connack {
  bool session_present = false;
  ReasonCode reason = ReasonCode::success;  // 3.1.1: mapped by to_connack_311
  Properties properties;
  bool operator==(const Connack&) const = default;
};

struct Publish {
  std::string topic;  // may be empty in v5 when a topic alias is set
  std::string payload;
  QoS qos = QoS::at_most_once;
  bool retain = false;
  bool dup = false;
  std::uint16_t packet_id = 0;  // only for QoS 1 and 2
  Properties properties;
  bool operator==(const Publish&) const = default;
};

// A PUBLISH as decode() reads it in place (codec.hpp): the fields of
// Publish, but the topic and the payload are views of the decoded bytes,
// valid only as long as they are, and the properties are there only when
// the packet has some. What the broker builds its message from: one copy
// of topic and payload, into the message (router::Message::make).
struct PublishIn {
  std::string_view topic;  // may be empty in v5 when a topic alias is set
  std::string_view payload;
  QoS qos = QoS::at_most_once;
  bool retain = false;
  bool dup = false;
  std::uint16_t packet_id = 0;  // only for QoS 1 and 2
  // None: an empty property block, or 3.1.1. Not a std::optional, whose
  // empty state clears ~500 bytes per PUBLISH (util/inline_optional.hpp).
  util::InlineOptional<Properties> properties;

  // A view of `p` (valid as long as it is).
  static PublishIn of(const Publish& p);
  // An owned copy.
  Publish to_publish() const;
};

// PUBACK, PUBREC, PUBREL, PUBCOMP.
struct Ack {
  PacketType type = PacketType::puback;
  std::uint16_t packet_id = 0;
  ReasonCode reason = ReasonCode::success;
  Properties properties;
  bool operator==(const Ack&) const = default;
};

struct SubscribeOptions {
  QoS max_qos = QoS::at_most_once;
  bool no_local = false;             // v5
  bool retain_as_published = false;  // v5
  std::uint8_t retain_handling = 0;  // v5: 0 send, 1 send if new, 2 don't send
  bool operator==(const SubscribeOptions&) const = default;
};

struct SubscribeEntry {
  std::string filter;
  SubscribeOptions options;
  bool operator==(const SubscribeEntry&) const = default;
};

struct Subscribe {
  std::uint16_t packet_id = 0;
  std::vector<SubscribeEntry> entries;
  Properties properties;  // subscription identifier, user properties
  bool operator==(const Subscribe&) const = default;
};

struct Suback {
  std::uint16_t packet_id = 0;
  std::vector<ReasonCode> reasons;  // 3.1.1: 0x00-0x02 kept, any error is 0x80
  Properties properties;
  bool operator==(const Suback&) const = default;
};

struct Unsubscribe {
  std::uint16_t packet_id = 0;
  std::vector<std::string> filters;
  Properties properties;
  bool operator==(const Unsubscribe&) const = default;
};

struct Unsuback {
  std::uint16_t packet_id = 0;
  std::vector<ReasonCode> reasons;  // v5 only; 3.1.1 UNSUBACK has no payload
  Properties properties;
  bool operator==(const Unsuback&) const = default;
};

struct Pingreq {
  bool operator==(const Pingreq&) const = default;
};
struct Pingresp {
  bool operator==(const Pingresp&) const = default;
};

struct Disconnect {
  ReasonCode reason = ReasonCode::success;
  Properties properties;
  bool operator==(const Disconnect&) const = default;
};

struct Auth {
  ReasonCode reason = ReasonCode::success;
  Properties properties;
  bool operator==(const Auth&) const = default;
};

using Packet = std::variant<Connect, Connack, Publish, Ack, Subscribe, Suback, Unsubscribe,
                            Unsuback, Pingreq, Pingresp, Disconnect, Auth>;

PacketType packet_type(const Packet& p) noexcept;

}  // namespace strata::protocol
