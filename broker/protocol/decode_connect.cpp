// Decoders for the connection lifecycle packets: CONNECT, CONNACK,
// DISCONNECT and AUTH (see decoders.hpp for the contract).
//
// CONNECT carries its own protocol level, so it is decoded whatever version
// the connection assumed, and the level tells which version to answer in:
// "MQTT" 5 -> 5.0, "MQTT" 4 -> 3.1.1. MQTT 3.1 ("MQIsdp" 3) and anything
// else is unsupported_protocol_version, answered in 3.1.1 format (a client
// that is not 5.0 cannot read a 5.0 CONNACK) unless it claimed level 5.
#include <utility>

#include "broker/protocol/decoders.hpp"
#include "broker/protocol/properties_codec.hpp"

namespace strata::protocol::detail {

using wire::WireReader;

namespace {

// CONNECT flags (spec 3.1.2.3).
constexpr std::uint8_t flag_reserved = 0x01;
constexpr std::uint8_t flag_clean_start = 0x02;
constexpr std::uint8_t flag_will = 0x04;
constexpr std::uint8_t flag_will_retain = 0x20;
constexpr std::uint8_t flag_password = 0x40;
constexpr std::uint8_t flag_username = 0x80;

constexpr std::uint8_t connack_reasons[] = {0x00, 0x80, 0x81, 0x82, 0x83, 0x84, 0x85, 0x86,
                                            0x87, 0x88, 0x89, 0x8A, 0x8C, 0x90, 0x95, 0x97,
                                            0x99, 0x9A, 0x9B, 0x9C, 0x9D, 0x9F};
constexpr std::uint8_t disconnect_reasons[] = {
    0x00, 0x04, 0x80, 0x81, 0x82, 0x83, 0x87, 0x89, 0x8B, 0x8D, 0x8E, 0x8F, 0x90, 0x93, 0x94,
    0x95, 0x96, 0x97, 0x98, 0x99, 0x9A, 0x9B, 0x9C, 0x9D, 0x9E, 0x9F, 0xA0, 0xA1, 0xA2};
constexpr std::uint8_t auth_reasons[] = {0x00, 0x18, 0x19};

// 3.1.1 CONNACK return codes 0..5 as the v5 reason codes the broker uses;
// to_connack_311() maps each of these back to the same return code.
constexpr ReasonCode connack_311_reasons[] = {
    ReasonCode::success,
    ReasonCode::unsupported_protocol_version,
    ReasonCode::client_identifier_not_valid,
    ReasonCode::server_unavailable,
    ReasonCode::bad_user_name_or_password,
    ReasonCode::not_authorized,
};

}  // namespace

void decode_connect(WireReader& in, DecodeResult& r) {
  Connect c;
  c.protocol_name = in.utf8();
  const std::uint8_t level = in.u8();
  if (!in.ok()) return;
  if (c.protocol_name == "MQTT" && level == 5) {
    c.version = Version::v5;
  } else if (c.protocol_name == "MQTT" && level == 4) {
    c.version = Version::v311;
  } else {
    r.version = level == 5 ? Version::v5 : Version::v311;
    in.fail(ReasonCode::unsupported_protocol_version,
            c.protocol_name == "MQIsdp" ? "MQTT 3.1 is not supported"
                                        : "unsupported protocol name or level");
    return;
  }
  r.version = c.version;
  const bool v5 = c.version == Version::v5;

  const std::uint8_t flags = in.u8();
  c.keep_alive = in.u16();
  if (!in.ok()) return;
  if ((flags & flag_reserved) != 0) {
    in.fail(ReasonCode::malformed_packet, "CONNECT reserved flag set");
    return;
  }
  const bool will = (flags & flag_will) != 0;
  const auto will_qos = static_cast<std::uint8_t>((flags >> 3) & 0x03);
  const bool will_retain = (flags & flag_will_retain) != 0;
  const bool has_username = (flags & flag_username) != 0;
  const bool has_password = (flags & flag_password) != 0;
  if (will_qos == 3) {
    in.fail(ReasonCode::malformed_packet, "will QoS 3");
    return;
  }
  if (!will && (will_qos != 0 || will_retain)) {
    in.fail(ReasonCode::malformed_packet, "will QoS or retain without will flag");
    return;
  }
  if (!v5 && has_password && !has_username) {
    in.fail(ReasonCode::malformed_packet, "password without user name");
    return;
  }
  c.clean_start = (flags & flag_clean_start) != 0;
  if (v5) decode_properties(in, PropertyContext::connect, c.properties);

  c.client_id = in.utf8();
  if (will) {
    Will w;
    w.qos = static_cast<QoS>(will_qos);
    w.retain = will_retain;
    if (v5) decode_properties(in, PropertyContext::will, w.properties);
    w.topic = in.utf8();
    w.payload = in.binary();
    c.will = std::move(w);
  }
  if (has_username) c.username = in.utf8();
  if (has_password) c.password = in.binary();
  if (in.ok()) r.packet = std::move(c);
}

void decode_connack(WireReader& in, Version v, DecodeResult& r) {
  Connack c;
  const std::uint8_t ack_flags = in.u8();
  if (in.ok() && (ack_flags & 0xFE) != 0) {
    in.fail(ReasonCode::malformed_packet, "CONNACK reserved flags set");
  }
  c.session_present = (ack_flags & 0x01) != 0;
  if (v == Version::v5) {
    c.reason = read_reason(in, connack_reasons);
    decode_properties(in, PropertyContext::connack, c.properties);
  } else {
    const std::uint8_t rc = in.u8();
    if (in.ok() && rc >= std::size(connack_311_reasons)) {
      in.fail(ReasonCode::protocol_error, "invalid CONNACK return code");
    }
    if (in.ok()) c.reason = connack_311_reasons[rc];
  }
  if (in.ok()) r.packet = std::move(c);
}

void decode_disconnect(WireReader& in, Version v, DecodeResult& r) {
  Disconnect d;
  // 5.0: remaining length 0 means normal disconnection without properties,
  // 1 a reason code without properties (spec 3.14.2.1). 3.1.1: always empty.
  if (v == Version::v5 && !in.at_end()) {
    d.reason = read_reason(in, disconnect_reasons);
    if (!in.at_end()) decode_properties(in, PropertyContext::disconnect, d.properties);
  }
  if (in.ok()) r.packet = std::move(d);
}

void decode_auth(WireReader& in, DecodeResult& r) {
  Auth a;
  // Remaining length 0 means success without properties (spec 3.15.2.1);
  // otherwise the reason code and the property length are both present.
  if (!in.at_end()) {
    a.reason = read_reason(in, auth_reasons);
    decode_properties(in, PropertyContext::auth, a.properties);
  }
  if (in.ok()) r.packet = std::move(a);
}

}  // namespace strata::protocol::detail
