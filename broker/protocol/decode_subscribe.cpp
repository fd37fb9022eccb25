// Decoders for subscriptions: SUBSCRIBE, SUBACK, UNSUBSCRIBE, UNSUBACK
// (see decoders.hpp for the contract).
//
// Subscription options byte (spec 5.0 3.8.3.1): bits 0-1 maximum QoS, bit 2
// no local, bit 3 retain as published, bits 4-5 retain handling, bits 6-7
// reserved. Reserved bits set are malformed; QoS 3 and retain handling 3
// are protocol errors. In 3.1.1 the byte is only a QoS: bits 2-7 set or
// QoS 3 are malformed (3.1.1 3.8.3-4). Whether a filter is a valid filter
// (wildcard placement, shared subscription syntax) is the router's check.
#include <utility>

#include "broker/protocol/decoders.hpp"
#include "broker/protocol/properties_codec.hpp"

namespace strata::protocol::detail {

using wire::WireReader;

namespace {

constexpr std::uint8_t suback_reasons[] = {0x00, 0x01, 0x02, 0x80, 0x83, 0x87,
                                           0x8F, 0x91, 0x97, 0x9E, 0xA1, 0xA2};
constexpr std::uint8_t suback_311_codes[] = {0x00, 0x01, 0x02, 0x80};
constexpr std::uint8_t unsuback_reasons[] = {0x00, 0x11, 0x80, 0x83, 0x87, 0x8F, 0x91};

SubscribeOptions read_options(WireReader& in, Version v) noexcept {
  SubscribeOptions o;
  const std::uint8_t b = in.u8();
  if (!in.ok()) return o;
  const std::uint8_t qos = b & 0x03;
  if (v == Version::v311) {
    if ((b & 0xFC) != 0 || qos == 3) {
      in.fail(ReasonCode::malformed_packet, "invalid subscription options");
      return o;
    }
  } else {
    if ((b & 0xC0) != 0) {
      in.fail(ReasonCode::malformed_packet, "subscription options reserved bits set");
      return o;
    }
    if (qos == 3) {
      in.fail(ReasonCode::protocol_error, "subscription QoS 3");
      return o;
    }
    o.retain_handling = static_cast<std::uint8_t>((b >> 4) & 0x03);
    if (o.retain_handling == 3) {
      in.fail(ReasonCode::protocol_error, "retain handling 3");
      return o;
    }
    o.no_local = (b & 0x04) != 0;
    o.retain_as_published = (b & 0x08) != 0;
  }
  o.max_qos = static_cast<QoS>(qos);
  return o;
}

}  // namespace

void decode_subscribe(WireReader& in, Version v, DecodeResult& r) {
  Subscribe s;
  s.packet_id = read_packet_id(in);
  if (v == Version::v5) decode_properties(in, PropertyContext::subscribe, s.properties);
  while (in.ok() && !in.at_end()) {
    SubscribeEntry e;
    e.filter = in.utf8();
    e.options = read_options(in, v);
    s.entries.push_back(std::move(e));
  }
  if (in.ok() && s.entries.empty()) {
    in.fail(ReasonCode::protocol_error, "SUBSCRIBE without topic filters");
  }
  if (in.ok()) r.packet = std::move(s);
}

void decode_suback(WireReader& in, Version v, DecodeResult& r) {
  Suback s;
  s.packet_id = read_packet_id(in);
  if (v == Version::v5) decode_properties(in, PropertyContext::suback, s.properties);
  while (in.ok() && !in.at_end()) {
    s.reasons.push_back(v == Version::v5 ? read_reason(in, suback_reasons)
                                         : read_reason(in, suback_311_codes));
  }
  if (in.ok() && s.reasons.empty()) {
    in.fail(ReasonCode::protocol_error, "SUBACK without reason codes");
  }
  if (in.ok()) r.packet = std::move(s);
}

void decode_unsubscribe(WireReader& in, Version v, DecodeResult& r) {
  Unsubscribe u;
  u.packet_id = read_packet_id(in);
  if (v == Version::v5) decode_properties(in, PropertyContext::unsubscribe, u.properties);
  while (in.ok() && !in.at_end()) u.filters.push_back(in.utf8());
  if (in.ok() && u.filters.empty()) {
    in.fail(ReasonCode::protocol_error, "UNSUBSCRIBE without topic filters");
  }
  if (in.ok()) r.packet = std::move(u);
}

void decode_unsuback(WireReader& in, Version v, DecodeResult& r) {
  Unsuback u;
  u.packet_id = read_packet_id(in);
  if (v == Version::v5) {
    decode_properties(in, PropertyContext::unsuback, u.properties);
    while (in.ok() && !in.at_end()) u.reasons.push_back(read_reason(in, unsuback_reasons));
    if (in.ok() && u.reasons.empty()) {
      in.fail(ReasonCode::protocol_error, "UNSUBACK without reason codes");
    }
  }
  if (in.ok()) r.packet = std::move(u);
}

}  // namespace strata::protocol::detail
