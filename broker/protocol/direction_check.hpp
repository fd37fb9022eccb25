// Rules that depend on which way a packet travels. decode() is direction-
// neutral (the broker decodes what clients send, bridges and tests decode
// what servers send), so it cannot apply them; the connection applies the
// one for its role right after a successful decode:
//
//   check_from_client (the broker receiving):
//     - CONNACK, SUBACK, UNSUBACK, PINGRESP only flow server to client:
//       protocol error;
//     - a PUBLISH must not carry a Subscription Identifier (MQTT-3.3.4-6):
//       protocol error;
//     - No Local on a shared subscription ("$share/...") is a protocol
//       error (MQTT-3.8.3-4).
//   check_from_server (a bridge or client receiving):
//     - CONNECT, SUBSCRIBE, UNSUBSCRIBE, PINGREQ only flow client to
//       server: protocol error.
//
// Everything else a receiver checks on the wire is decode()'s job; topic
// name and filter syntax, topic aliases, receive maximum and packet
// identifier state are the session's and the router's.
#pragma once

#include <optional>
#include <string_view>

#include "broker/protocol/packet.hpp"

namespace strata::protocol {

struct Violation {
  ReasonCode reason = ReasonCode::protocol_error;
  std::string_view text;
};

std::optional<Violation> check_from_client(const Packet& p) noexcept;
// The same rule for a PUBLISH decoded in place.
std::optional<Violation> check_from_client(const PublishIn& p) noexcept;
std::optional<Violation> check_from_server(const Packet& p) noexcept;

}  // namespace strata::protocol
