// MQTT 5.0 property blocks: see properties_codec.hpp for the model.
//
// One table row per property identifier says its wire type, which packets
// may carry it (spec table 2-4), its range rule and the Properties member
// it lives in; decoding, sizing and encoding all walk that one table.
#include "broker/protocol/properties_codec.hpp"

#include <array>
#include <optional>

namespace strata::protocol {
namespace {

using wire::WireReader;

enum class Kind : std::uint8_t { byte, u16, u32, varint, utf8, binary, pair };
enum class Range : std::uint8_t { any, nonzero, flag };  // flag: 0 or 1

constexpr std::uint16_t bit(PropertyContext c) {
  return static_cast<std::uint16_t>(1u << static_cast<unsigned>(c));
}
using C = PropertyContext;
constexpr std::uint16_t all_contexts = 0x07FF;

struct Row {
  PropertyId id;
  Kind kind;
  Range range;
  std::uint16_t contexts;
  std::optional<std::uint8_t> Properties::*byte_field = nullptr;
  std::optional<std::uint16_t> Properties::*u16_field = nullptr;
  std::optional<std::uint32_t> Properties::*u32_field = nullptr;
  std::optional<std::string> Properties::*str_field = nullptr;
};

using P = Properties;
using Id = PropertyId;

constexpr Row byte_row(Id id, Range r, std::uint16_t ctx, std::optional<std::uint8_t> P::*f) {
  return Row{id, Kind::byte, r, ctx, f, nullptr, nullptr, nullptr};
}
constexpr Row u16_row(Id id, Range r, std::uint16_t ctx, std::optional<std::uint16_t> P::*f) {
  return Row{id, Kind::u16, r, ctx, nullptr, f, nullptr, nullptr};
}
constexpr Row u32_row(Id id, Range r, std::uint16_t ctx, std::optional<std::uint32_t> P::*f) {
  return Row{id, Kind::u32, r, ctx, nullptr, nullptr, f, nullptr};
}
constexpr Row str_row(Id id, Kind k, std::uint16_t ctx, std::optional<std::string> P::*f) {
  return Row{id, k, Range::any, ctx, nullptr, nullptr, nullptr, f};
}

constexpr std::uint16_t pub_will = bit(C::publish) | bit(C::will);
constexpr std::uint16_t conn_ack = bit(C::connect) | bit(C::connack);
constexpr std::uint16_t auth_ctx = bit(C::connect) | bit(C::connack) | bit(C::auth);
constexpr std::uint16_t reason_ctx = bit(C::connack) | bit(C::puback) | bit(C::suback) |
                                     bit(C::unsuback) | bit(C::disconnect) | bit(C::auth);

// Rows in identifier order: the encoder writes properties in this order.
constexpr std::array<Row, 27> rows{{
    byte_row(Id::payload_format_indicator, Range::flag, pub_will, &P::payload_format_indicator),
    u32_row(Id::message_expiry_interval, Range::any, pub_will, &P::message_expiry_interval),
    str_row(Id::content_type, Kind::utf8, pub_will, &P::content_type),
    str_row(Id::response_topic, Kind::utf8, pub_will, &P::response_topic),
    str_row(Id::correlation_data, Kind::binary, pub_will, &P::correlation_data),
    Row{Id::subscription_identifier, Kind::varint, Range::nonzero,
        bit(C::publish) | bit(C::subscribe)},
    u32_row(Id::session_expiry_interval, Range::any, conn_ack | bit(C::disconnect),
            &P::session_expiry_interval),
    str_row(Id::assigned_client_identifier, Kind::utf8, bit(C::connack),
            &P::assigned_client_identifier),
    u16_row(Id::server_keep_alive, Range::any, bit(C::connack), &P::server_keep_alive),
    str_row(Id::authentication_method, Kind::utf8, auth_ctx, &P::authentication_method),
    str_row(Id::authentication_data, Kind::binary, auth_ctx, &P::authentication_data),
    byte_row(Id::request_problem_information, Range::flag, bit(C::connect),
             &P::request_problem_information),
    u32_row(Id::will_delay_interval, Range::any, bit(C::will), &P::will_delay_interval),
    byte_row(Id::request_response_information, Range::flag, bit(C::connect),
             &P::request_response_information),
    str_row(Id::response_information, Kind::utf8, bit(C::connack), &P::response_information),
    str_row(Id::server_reference, Kind::utf8, bit(C::connack) | bit(C::disconnect),
            &P::server_reference),
    str_row(Id::reason_string, Kind::utf8, reason_ctx, &P::reason_string),
    u16_row(Id::receive_maximum, Range::nonzero, conn_ack, &P::receive_maximum),
    u16_row(Id::topic_alias_maximum, Range::any, conn_ack, &P::topic_alias_maximum),
    u16_row(Id::topic_alias, Range::any, bit(C::publish), &P::topic_alias),
    byte_row(Id::maximum_qos, Range::flag, bit(C::connack), &P::maximum_qos),
    byte_row(Id::retain_available, Range::flag, bit(C::connack), &P::retain_available),
    Row{Id::user_property, Kind::pair, Range::any, all_contexts},
    u32_row(Id::maximum_packet_size, Range::nonzero, conn_ack, &P::maximum_packet_size),
    byte_row(Id::wildcard_subscription_available, Range::flag, bit(C::connack),
             &P::wildcard_subscription_available),
    byte_row(Id::subscription_identifier_available, Range::flag, bit(C::connack),
             &P::subscription_identifier_available),
    byte_row(Id::shared_subscription_available, Range::flag, bit(C::connack),
             &P::shared_subscription_available),
}};

const Row* find_row(std::uint8_t id) noexcept {
  for (const Row& r : rows) {
    if (static_cast<std::uint8_t>(r.id) == id) return &r;
  }
  return nullptr;
}

bool in_range(Range r, std::uint32_t v) noexcept {
  switch (r) {
    case Range::any: return true;
    case Range::nonzero: return v != 0;
    case Range::flag: return v <= 1;
  }
  return true;
}

// Reads one property value described by `row` into `out`.
void read_value(WireReader& in, const Row& row, Properties& out) {
  std::uint32_t number = 0;
  switch (row.kind) {
    case Kind::byte: number = in.u8(); break;
    case Kind::u16: number = in.u16(); break;
    case Kind::u32: number = in.u32(); break;
    case Kind::varint: number = in.varint(); break;
    case Kind::utf8: {
      std::string s = in.utf8();
      if (in.ok()) out.*row.str_field = std::move(s);
      return;
    }
    case Kind::binary: {
      std::string s = in.binary();
      if (in.ok()) out.*row.str_field = std::move(s);
      return;
    }
    case Kind::pair: {
      std::string k = in.utf8();
      std::string v = in.utf8();
      if (in.ok()) out.user_properties.emplace_back(std::move(k), std::move(v));
      return;
    }
  }
  if (!in.ok()) return;
  if (!in_range(row.range, number)) {
    in.fail(ReasonCode::protocol_error, "property value out of range");
    return;
  }
  switch (row.kind) {
    case Kind::byte: out.*row.byte_field = static_cast<std::uint8_t>(number); break;
    case Kind::u16: out.*row.u16_field = static_cast<std::uint16_t>(number); break;
    case Kind::u32: out.*row.u32_field = number; break;
    case Kind::varint: out.subscription_identifiers.push_back(number); break;
    default: break;
  }
}

bool repeatable(Id id, PropertyContext ctx) noexcept {
  return id == Id::user_property ||
         (id == Id::subscription_identifier && ctx == PropertyContext::publish);
}

// Calls f(row) for every property present in `p` and valid in `ctx`, in
// table order; user properties and subscription identifiers once per value.
template <class F>
void for_each_present(const Properties& p, PropertyContext ctx, F&& f) {
  for (const Row& row : rows) {
    if ((row.contexts & bit(ctx)) == 0) continue;
    switch (row.kind) {
      case Kind::byte:
        if (p.*row.byte_field) f(row, std::uint32_t{*(p.*row.byte_field)}, std::string_view{});
        break;
      case Kind::u16:
        if (p.*row.u16_field) f(row, std::uint32_t{*(p.*row.u16_field)}, std::string_view{});
        break;
      case Kind::u32:
        if (p.*row.u32_field) f(row, *(p.*row.u32_field), std::string_view{});
        break;
      case Kind::varint:
        for (std::uint32_t id : p.subscription_identifiers) {
          f(row, id, std::string_view{});
          if (ctx != PropertyContext::publish) break;  // SUBSCRIBE carries one
        }
        break;
      case Kind::utf8:
      case Kind::binary:
        if (p.*row.str_field) f(row, 0, std::string_view{*(p.*row.str_field)});
        break;
      case Kind::pair:
        for (const auto& [k, v] : p.user_properties) {
          f(row, 0, std::string_view{k});
          f(row, 1, std::string_view{v});  // 1: second half of the pair
        }
        break;
    }
  }
}

}  // namespace

bool property_allowed(PropertyId id, PropertyContext ctx) noexcept {
  const Row* row = find_row(static_cast<std::uint8_t>(id));
  return row != nullptr && (row->contexts & bit(ctx)) != 0;
}

void decode_properties(WireReader& in, PropertyContext ctx, Properties& out) {
  const std::uint32_t length = in.varint();
  if (!in.ok()) return;
  if (length > in.remaining()) {
    in.fail(ReasonCode::malformed_packet, "property length exceeds packet");
    return;
  }
  WireReader block = in.sub(length);
  std::uint64_t seen = 0;  // one bit per identifier (all are below 64)
  while (block.ok() && !block.at_end()) {
    const std::uint8_t id = block.u8();
    const Row* row = find_row(id);
    if (row == nullptr) {
      block.fail(ReasonCode::malformed_packet, "unknown property");
      break;
    }
    if ((row->contexts & bit(ctx)) == 0) {
      block.fail(ReasonCode::malformed_packet, "property not allowed in this packet");
      break;
    }
    const std::uint64_t mask = std::uint64_t{1} << id;
    const bool repeat = (seen & mask) != 0;
    if (repeat && !repeatable(row->id, ctx)) {
      block.fail(ReasonCode::protocol_error, "duplicate property");
      break;
    }
    seen |= mask;
    read_value(block, *row, out);
  }
  if (!block.ok()) {
    in.fail(block.error(), block.error_text());
    return;
  }
  if (out.authentication_data && !out.authentication_method) {
    in.fail(ReasonCode::protocol_error, "authentication data without method");
  }
}

std::size_t properties_body_size(const Properties& p, PropertyContext ctx) noexcept {
  std::size_t size = 0;
  for_each_present(p, ctx, [&](const Row& row, std::uint32_t n, std::string_view s) {
    if (row.kind == Kind::pair) {
      size += (n == 0 ? 1 : 0) + wire::string_size(s);  // id once per pair
      return;
    }
    size += 1;  // identifier
    switch (row.kind) {
      case Kind::byte: size += 1; break;
      case Kind::u16: size += 2; break;
      case Kind::u32: size += 4; break;
      case Kind::varint: size += wire::varint_size(n); break;
      default: size += wire::string_size(s); break;
    }
  });
  return size;
}

std::size_t properties_size(const Properties& p, PropertyContext ctx) noexcept {
  const std::size_t body = properties_body_size(p, ctx);
  return wire::varint_size(static_cast<std::uint32_t>(body)) + body;
}

void encode_properties(const Properties& p, PropertyContext ctx, std::string& out) {
  wire::put_varint(out, static_cast<std::uint32_t>(properties_body_size(p, ctx)));
  for_each_present(p, ctx, [&](const Row& row, std::uint32_t n, std::string_view s) {
    if (row.kind != Kind::pair || n == 0) wire::put_u8(out, static_cast<std::uint8_t>(row.id));
    switch (row.kind) {
      case Kind::byte: wire::put_u8(out, static_cast<std::uint8_t>(n)); break;
      case Kind::u16: wire::put_u16(out, static_cast<std::uint16_t>(n)); break;
      case Kind::u32: wire::put_u32(out, n); break;
      case Kind::varint: wire::put_varint(out, n); break;
      default: wire::put_string(out, s); break;
    }
  });
}

}  // namespace strata::protocol
