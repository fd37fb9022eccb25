// Direction-dependent packet rules: see direction_check.hpp.
#include "broker/protocol/direction_check.hpp"

namespace strata::protocol {

namespace {

constexpr std::string_view shared_prefix = "$share/";

// A PUBLISH from a client carries no subscription identifier (3.3.4).
std::optional<Violation> check_publish(const Properties& p) noexcept {
  if (p.subscription_identifiers.empty()) return std::nullopt;
  return Violation{ReasonCode::protocol_error, "subscription identifier in PUBLISH"};
}

}  // namespace

std::optional<Violation> check_from_client(const Packet& p) noexcept {
  switch (packet_type(p)) {
    case PacketType::connack:
    case PacketType::suback:
    case PacketType::unsuback:
    case PacketType::pingresp:
      return Violation{ReasonCode::protocol_error, "packet type only sent by a server"};
    case PacketType::publish: return check_publish(std::get<Publish>(p).properties);
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
  if (!p.properties) return std::nullopt;
  return check_publish(*p.properties);
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
