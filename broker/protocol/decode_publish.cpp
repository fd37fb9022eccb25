// Decoders for the publish flow: PUBLISH and its acknowledgements PUBACK,
// PUBREC, PUBREL, PUBCOMP (see decoders.hpp for the contract).
//
// The codec checks only the shape of a PUBLISH: the QoS/DUP flags, a
// well-formed UTF-8 topic, a non-zero packet identifier for QoS 1 and 2,
// the properties. Topic rules (no wildcards, not empty unless aliased),
// topic aliases and subscription identifiers sent by a client are the
// session's and the broker's checks.
#include <utility>

#include "broker/protocol/decoders.hpp"
#include "broker/protocol/properties_codec.hpp"

namespace strata::protocol::detail {

using wire::WireReader;

namespace {

constexpr std::uint8_t puback_reasons[] = {0x00, 0x10, 0x80, 0x83, 0x87,
                                           0x90, 0x91, 0x97, 0x99};  // also PUBREC
constexpr std::uint8_t pubrel_reasons[] = {0x00, 0x92};              // also PUBCOMP

}  // namespace

std::uint16_t read_packet_id(WireReader& in) noexcept {
  const std::uint16_t id = in.u16();
  if (in.ok() && id == 0) in.fail(ReasonCode::protocol_error, "packet identifier 0");
  return id;
}

void decode_publish_in(WireReader& in, std::uint8_t flags, Version v, PublishIn& p) {
  p.retain = (flags & 0x01) != 0;
  p.qos = static_cast<QoS>((flags >> 1) & 0x03);
  p.dup = (flags & 0x08) != 0;
  p.topic = in.utf8_view();
  if (p.qos != QoS::at_most_once) p.packet_id = read_packet_id(in);
  if (v == Version::v5) {
    // Most PUBLISHes carry no properties (length byte 0): no Properties
    // value is made for them.
    WireReader peek = in;
    if (peek.u8() == 0 && peek.ok()) {
      in = peek;
    } else {
      decode_properties(in, PropertyContext::publish, p.properties.emplace());
    }
  }
  p.payload = in.rest_view();
}

void decode_publish(WireReader& in, std::uint8_t flags, Version v, DecodeResult& r) {
  PublishIn p;
  decode_publish_in(in, flags, v, p);
  if (in.ok()) r.packet = p.to_publish();
}

void decode_ack(WireReader& in, PacketType type, Version v, DecodeResult& r) {
  Ack a;
  a.type = type;
  a.packet_id = read_packet_id(in);
  // 5.0: remaining length 2 means success without properties, 3 a reason
  // code without properties (spec 3.4.2.1). 3.1.1: always 2.
  if (v == Version::v5 && in.ok() && !in.at_end()) {
    const bool pubrel_like = type == PacketType::pubrel || type == PacketType::pubcomp;
    a.reason = pubrel_like ? read_reason(in, pubrel_reasons) : read_reason(in, puback_reasons);
    if (!in.at_end()) decode_properties(in, PropertyContext::puback, a.properties);
  }
  if (in.ok()) r.packet = std::move(a);
}

}  // namespace strata::protocol::detail
