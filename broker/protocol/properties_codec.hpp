// Reading and writing MQTT 5.0 property blocks (spec 2.2.2): a variable
// byte integer length, then identifier/value pairs.
//
// Which properties a packet may carry comes from table 2-4 of the spec; a
// property identifier that is unknown or not valid for the packet type is a
// Malformed Packet (2.2.2.2). A property that appears twice is a Protocol
// Error, except User Property and, on PUBLISH, Subscription Identifier.
// Values outside their range are Protocol Errors (receive maximum 0,
// maximum packet size 0, subscription identifier 0, flag bytes above 1,
// authentication data without a method). Topic Alias 0 is decoded as is:
// whether an alias is acceptable is the session's decision.
//
// The encoder writes only properties valid for the packet type, so a
// stray field in a Properties value never puts an invalid packet on the
// wire; properties_size() agrees with encode_properties().
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "broker/protocol/properties.hpp"
#include "broker/protocol/wire.hpp"

namespace strata::protocol {

// Where a property block sits: the packet type, or the will of a CONNECT.
enum class PropertyContext : std::uint8_t {
  connect,
  will,
  connack,
  publish,
  puback,  // PUBACK, PUBREC, PUBREL, PUBCOMP
  subscribe,
  suback,
  unsubscribe,
  unsuback,
  disconnect,
  auth,
};

// True when property `id` may appear in `ctx` (spec table 2-4).
bool property_allowed(PropertyId id, PropertyContext ctx) noexcept;

// Reads a property block (length + properties) from `in` into `out`.
// Errors are recorded on `in`.
void decode_properties(wire::WireReader& in, PropertyContext ctx, Properties& out);

// Bytes of the properties themselves, without the length prefix.
std::size_t properties_body_size(const Properties& p, PropertyContext ctx) noexcept;

// Bytes of the whole block: length prefix plus body.
std::size_t properties_size(const Properties& p, PropertyContext ctx) noexcept;

// Writes the whole block: length prefix plus body.
void encode_properties(const Properties& p, PropertyContext ctx, std::string& out);

}  // namespace strata::protocol
