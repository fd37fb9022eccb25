// decode(): the fixed header and the framing of one packet (see codec.hpp).
//
// Fixed header (spec 2.1): byte 1 is the packet type (high nibble) and its
// flags (low nibble); then the remaining length, a variable byte integer of
// one to four bytes. Flags are fixed for every type but PUBLISH: 0b0010 for
// PUBREL, SUBSCRIBE and UNSUBSCRIBE, 0 otherwise; anything else is
// malformed. The checks run as soon as their bytes are there, so a bad
// first byte or an oversize announcement fails before the body arrives.
// The body decoders (decoders.hpp) then read exactly the remaining length;
// bytes left over are malformed.
#include "broker/protocol/codec.hpp"

#include "broker/protocol/decoders.hpp"

namespace strata::protocol {

namespace {

DecodeResult& fail(DecodeResult& r, ReasonCode code, const char* text) {
  r.status = DecodeStatus::error;
  r.error = code;
  r.error_text = text;
  return r;
}

// Checks the first byte of the fixed header; returns an error text or null.
const char* check_first_byte(std::uint8_t first, Version version) noexcept {
  const auto type = static_cast<std::uint8_t>(first >> 4);
  const auto flags = static_cast<std::uint8_t>(first & 0x0F);
  switch (static_cast<PacketType>(type)) {
    case PacketType::publish: {
      const auto qos = (flags >> 1) & 0x03;
      if (qos == 3) return "PUBLISH QoS 3";
      if (qos == 0 && (flags & 0x08) != 0) return "PUBLISH QoS 0 with DUP set";
      return nullptr;
    }
    case PacketType::pubrel:
    case PacketType::subscribe:
    case PacketType::unsubscribe:
      return flags == 0x02 ? nullptr : "invalid fixed header flags";
    case PacketType::auth:
      if (version == Version::v311) return "AUTH is not an MQTT 3.1.1 packet";
      return flags == 0 ? nullptr : "invalid fixed header flags";
    case PacketType::connect:
    case PacketType::connack:
    case PacketType::puback:
    case PacketType::pubrec:
    case PacketType::pubcomp:
    case PacketType::suback:
    case PacketType::unsuback:
    case PacketType::pingreq:
    case PacketType::pingresp:
    case PacketType::disconnect:
      return flags == 0 ? nullptr : "invalid fixed header flags";
  }
  return "reserved packet type 0";
}

void decode_body(wire::WireReader& in, std::uint8_t first, Version v, DecodeResult& r,
                 PublishIn* publish) {
  using namespace detail;
  const auto type = static_cast<PacketType>(first >> 4);
  switch (type) {
    case PacketType::connect: decode_connect(in, r); break;
    case PacketType::connack: decode_connack(in, v, r); break;
    case PacketType::publish:
      if (publish != nullptr) {
        decode_publish_in(in, first & 0x0F, v, *publish);
        r.in_place = true;
      } else {
        decode_publish(in, first & 0x0F, v, r);
      }
      break;
    case PacketType::puback:
    case PacketType::pubrec:
    case PacketType::pubrel:
    case PacketType::pubcomp: decode_ack(in, type, v, r); break;
    case PacketType::subscribe: decode_subscribe(in, v, r); break;
    case PacketType::suback: decode_suback(in, v, r); break;
    case PacketType::unsubscribe: decode_unsubscribe(in, v, r); break;
    case PacketType::unsuback: decode_unsuback(in, v, r); break;
    case PacketType::pingreq: r.packet = Pingreq{}; break;
    case PacketType::pingresp: r.packet = Pingresp{}; break;
    case PacketType::disconnect: decode_disconnect(in, v, r); break;
    case PacketType::auth: decode_auth(in, r); break;
  }
}

}  // namespace

DecodeResult decode(std::span<const std::uint8_t> buffer, Version version,
                    std::uint32_t max_packet_size) {
  return decode(buffer, version, max_packet_size, nullptr);
}

DecodeResult decode(std::span<const std::uint8_t> buffer, Version version,
                    std::uint32_t max_packet_size, PublishIn* publish) {
  DecodeResult r;
  r.version = version;
  if (buffer.empty()) return r;  // need_more

  const std::uint8_t first = buffer[0];
  if (const char* text = check_first_byte(first, version)) {
    return fail(r, ReasonCode::malformed_packet, text);
  }
  const wire::VarintRead length = wire::read_varint(buffer.subspan(1));
  if (length.status == wire::VarintStatus::need_more) return r;
  if (length.status == wire::VarintStatus::malformed) {
    return fail(r, ReasonCode::malformed_packet, "bad remaining length");
  }
  const std::uint64_t header = 1 + length.length;
  const std::uint64_t total = header + length.value;
  if (total > max_packet_size) {
    return fail(r, ReasonCode::packet_too_large, "packet exceeds maximum packet size");
  }
  if (buffer.size() < total) return r;  // need_more

  wire::WireReader in(buffer.subspan(header, length.value));
  decode_body(in, first, version, r, publish);
  if (in.ok() && !in.at_end()) in.fail(ReasonCode::malformed_packet, "trailing bytes in packet");
  if (!in.ok()) {
    r.packet = Pingreq{};
    r.in_place = false;
    return fail(r, in.error(), in.error_text());
  }
  r.status = DecodeStatus::ok;
  r.consumed = static_cast<std::size_t>(total);
  return r;
}

}  // namespace strata::protocol
