// packet_type(): the control packet type of a Packet value (see packet.hpp).
#include "broker/protocol/packet.hpp"

namespace strata::protocol {

namespace {

struct TypeOf {
  PacketType operator()(const Connect&) const noexcept { return PacketType::connect; }
  PacketType operator()(const Connack&) const noexcept { return PacketType::connack; }
  PacketType operator()(const Publish&) const noexcept { return PacketType::publish; }
  PacketType operator()(const Ack& a) const noexcept {
    switch (a.type) {
      case PacketType::pubrec:
      case PacketType::pubrel:
      case PacketType::pubcomp: return a.type;
      default: return PacketType::puback;  // an Ack is one of the four
    }
  }
  PacketType operator()(const Subscribe&) const noexcept { return PacketType::subscribe; }
  PacketType operator()(const Suback&) const noexcept { return PacketType::suback; }
  PacketType operator()(const Unsubscribe&) const noexcept { return PacketType::unsubscribe; }
  PacketType operator()(const Unsuback&) const noexcept { return PacketType::unsuback; }
  PacketType operator()(const Pingreq&) const noexcept { return PacketType::pingreq; }
  PacketType operator()(const Pingresp&) const noexcept { return PacketType::pingresp; }
  PacketType operator()(const Disconnect&) const noexcept { return PacketType::disconnect; }
  PacketType operator()(const Auth&) const noexcept { return PacketType::auth; }
};

}  // namespace

PacketType packet_type(const Packet& p) noexcept { return std::visit(TypeOf{}, p); }

PublishIn PublishIn::of(const Publish& p) {
  PublishIn in{p.topic, p.payload, p.qos, p.retain, p.dup, p.packet_id, {}};
  if (!(p.properties == Properties{})) in.properties = p.properties;
  return in;
}

Publish PublishIn::to_publish() const {
  Publish p{std::string(topic), std::string(payload), qos, retain, dup, packet_id, {}};
  if (properties) p.properties = *properties;
  return p;
}

}  // namespace strata::protocol
