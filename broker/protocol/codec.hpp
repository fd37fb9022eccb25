// The MQTT codec: a pure function of bytes, protocol version and limits.
// It never touches a socket, so it is unit-tested byte by byte and fuzzed.
//
// decode() reads at most one packet from the front of a buffer. It reports
// `need_more` until a whole packet is there, but it fails with
// packet_too_large as soon as the fixed header announces a packet larger
// than the limit, so a peer cannot make us buffer it. Malformed input gives
// `error` with malformed_packet (0x81) or protocol_error (0x82) and a short
// text for logs and reason strings; the caller closes the connection.
//
// CONNECT is decoded whatever `version` says (it carries its own protocol
// level); an unknown protocol name or level decodes to an error with
// unsupported_protocol_version, and `version` in the result tells whether
// the CONNACK must be in 3.1.1 (levels 3, 4) or 5.0 format.
//
// What decode() checks: fixed header flags, the remaining length (at most
// four bytes, shortest form) and that the body is used exactly, UTF-8
// strings (spec 1.5.4), property blocks (properties_codec.hpp), and every
// per-packet field rule of both versions; reason codes not valid for the
// packet type are protocol errors. `version` in the result is the
// `version` argument except for a CONNECT whose level byte was read. What
// it leaves to others: direction (direction_check.hpp), topic name and
// filter syntax (router), topic alias values, receive maximum and packet
// identifier state (session). `max_packet_size` is taken literally.
//
// encode() writes what the packet holds, shaped for `version`: properties
// a packet type may not carry are left out, DUP is cleared on QoS 0, the
// CONNECT level byte is `version`. The caller keeps strings under 65,536
// bytes and the packet under the 268,435,455 byte remaining length limit.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

#include "broker/protocol/packet.hpp"

namespace strata::protocol {

enum class DecodeStatus : std::uint8_t { ok, need_more, error };

struct DecodeResult {
  DecodeStatus status = DecodeStatus::need_more;
  // Valid when status == ok. Until then a Pingreq, the cheapest
  // alternative: a default Packet would be a Connect (~1.2 KB of strings
  // and optionals), made and destroyed for every packet read, PUBLISHes
  // read in place included.
  Packet packet{Pingreq{}};
  std::size_t consumed = 0;  // bytes of this packet, when status == ok
  ReasonCode error = ReasonCode::success;  // when status == error
  std::string error_text;                  // when status == error
  Version version = Version::v5;  // for CONNECT (ok or error): the version to answer in
  // A PUBLISH went into the caller's PublishIn (decode with `publish`);
  // `packet` is then left as it was.
  bool in_place = false;
};

// Decodes one packet. `max_packet_size` bounds the whole packet (fixed
// header included), as MQTT 5's Maximum Packet Size does.
DecodeResult decode(std::span<const std::uint8_t> buffer, Version version,
                    std::uint32_t max_packet_size);

// The same, but a PUBLISH is read in place into `*publish` (its topic and
// payload view `buffer`) and `in_place` is set: what the broker's read
// loop does, so that a message is copied once, from the read buffer into
// the message. Other packets, and every check, are as above.
DecodeResult decode(std::span<const std::uint8_t> buffer, Version version,
                    std::uint32_t max_packet_size, PublishIn* publish);

// Appends the encoding of `packet` in `version` to `out`.
void encode(const Packet& packet, Version version, std::string& out);

// Bytes that encode() would append for `packet`.
std::size_t encoded_size(const Packet& packet, Version version);

}  // namespace strata::protocol
