// Direction-dependent packet rules: see direction_check.hpp.
#include "broker/protocol/direction_check.hpp"

namespace strata::protocol {

namespace {

constexpr std::string_view shared_prefix = "$share/";

}  // namespace

std::optional<Violation> check_from_client(const Packet& p) noexcept {
  switch (packet_type(p)) {
    case PacketType::connack:
    case PacketType::suback:
    case PacketType::unsuback:
    case PacketType::pingresp:
      return Violation{ReasonCode::protocol_error, "packet type only sent by a server"};
    case PacketType::publish:
      if (!std::get<Publish>(p).properties.subscription_identifiers.empty()) {
        return Violation{ReasonCode::protocol_error, "subscription identifier in PUBLISH"};
      }
      return std::nullopt;
    case PacketType::subscribe:
      for (const SubscribeEntry& e : std::get<Subscribe>(p).entries) {
        if (e.options.no_local && e.filter.starts_with(shared_prefix)) {
          return Violation{ReasonCode::protocol_error, "no local on a shared subscription"};
        }
      }
      return std::nullopt;
    default: return std::nullopt;
  }
}

std::optional<Violation> check_from_client(const PublishIn& p) noexcept {
  if (p.properties && !p.properties->subscription_identifiers.empty()) {
    return Violation{ReasonCode::protocol_error, "subscription identifier in PUBLISH"};
  }
  return std::nullopt;
}

std::optional<Violation> check_from_server(const Packet& p) noexcept {
  switch (packet_type(p)) {
    case PacketType::connect:
    case PacketType::subscribe:
    case PacketType::unsubscribe:
    case PacketType::pingreq:
      return Violation{ReasonCode::protocol_error, "packet type only sent by a client"};
    default: return std::nullopt;
  }
}

}  // namespace strata::protocol
