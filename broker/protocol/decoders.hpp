// Internal to the codec: one decoder per packet body. Each reads the
// variable header and payload of one packet whose fixed header decode()
// has already checked, from a reader that spans exactly the remaining
// length. A decoder records the first rule broken on the reader and
// leaves trailing bytes to decode(), which treats them as malformed.
#pragma once

#include <cstdint>

#include "broker/protocol/codec.hpp"
#include "broker/protocol/wire.hpp"

namespace strata::protocol::detail {

// Connection lifecycle (decode_connect.cpp).
void decode_connect(wire::WireReader& in, DecodeResult& r);
void decode_connack(wire::WireReader& in, Version v, DecodeResult& r);
void decode_disconnect(wire::WireReader& in, Version v, DecodeResult& r);
void decode_auth(wire::WireReader& in, DecodeResult& r);

// Publish flow (decode_publish.cpp).
void decode_publish(wire::WireReader& in, std::uint8_t flags, Version v, DecodeResult& r);
void decode_publish_in(wire::WireReader& in, std::uint8_t flags, Version v, PublishIn& p);
void decode_ack(wire::WireReader& in, PacketType type, Version v, DecodeResult& r);

// Subscriptions (decode_subscribe.cpp).
void decode_subscribe(wire::WireReader& in, Version v, DecodeResult& r);
void decode_suback(wire::WireReader& in, Version v, DecodeResult& r);
void decode_unsubscribe(wire::WireReader& in, Version v, DecodeResult& r);
void decode_unsuback(wire::WireReader& in, Version v, DecodeResult& r);

// Reads a packet identifier; zero is a protocol error (spec 2.2.1).
std::uint16_t read_packet_id(wire::WireReader& in) noexcept;

// True when `rc` is among `allowed`.
template <std::size_t N>
constexpr bool one_of(std::uint8_t rc, const std::uint8_t (&allowed)[N]) noexcept {
  for (std::uint8_t a : allowed) {
    if (a == rc) return true;
  }
  return false;
}

// Reads a reason code byte and checks it is one `allowed` for the packet;
// any other value is a protocol error.
template <std::size_t N>
ReasonCode read_reason(wire::WireReader& in, const std::uint8_t (&allowed)[N]) noexcept {
  const std::uint8_t rc = in.u8();
  if (in.ok() && !one_of(rc, allowed)) {
    in.fail(ReasonCode::protocol_error, "reason code not valid for this packet");
  }
  return static_cast<ReasonCode>(rc);
}

}  // namespace strata::protocol::detail
