// encode_publish() and encoded_publish_size() (see publish_view.hpp).
//
// Like encode.cpp, the body is written once as a template over a sink (a
// counting one for the sizes, a writing one for the bytes) so size and
// bytes cannot disagree. The property block is spelled out for the eight
// PUBLISH properties rather than walking the generic property table: this
// is the per-delivery hot path.
#include "broker/protocol/publish_view.hpp"

#include <cstring>

#include "broker/protocol/wire.hpp"

namespace strata::protocol {

namespace {

struct Count {
  std::size_t n = 0;
  void u8(std::uint8_t) { n += 1; }
  void u16(std::uint16_t) { n += 2; }
  void u32(std::uint32_t) { n += 4; }
  void varint(std::uint32_t v) { n += wire::varint_size(v); }
  void str(std::string_view s) { n += wire::string_size(s); }
  void raw(std::string_view s) { n += s.size(); }
};

// Writes into bytes already sized by Count (encode_publish resizes the
// string once): a push_back per byte checked the capacity and moved the
// terminator each time, ~200 instructions of a QoS 0 delivery's ~360.
// Through wire's varint writer and string clamp, so the bytes are those
// of encode() and the count above.
struct Put {
  char* p;
  void u8(std::uint8_t v) { *p++ = static_cast<char>(v); }
  void u16(std::uint16_t v) {
    p[0] = static_cast<char>(v >> 8);
    p[1] = static_cast<char>(v & 0xFF);
    p += 2;
  }
  void u32(std::uint32_t v) {
    u16(static_cast<std::uint16_t>(v >> 16));
    u16(static_cast<std::uint16_t>(v & 0xFFFF));
  }
  void varint(std::uint32_t v) { p = wire::write_varint(p, v); }
  void str(std::string_view s) {
    const std::size_t len = wire::string_size(s) - 2;  // clamped as put_string does
    u16(static_cast<std::uint16_t>(len));
    raw(s.substr(0, len));
  }
  void raw(std::string_view s) {
    if (!s.empty()) std::memcpy(p, s.data(), s.size());
    p += s.size();
  }
};

constexpr auto id(PropertyId p) { return static_cast<std::uint8_t>(p); }

// The property identifiers and values, without the length prefix.
template <class Sink>
void write_properties(Sink& s, const PublishView& p) {
  static const Properties none;
  const Properties& a = p.properties ? *p.properties : none;
  if (a.payload_format_indicator) {
    s.u8(id(PropertyId::payload_format_indicator));
    s.u8(*a.payload_format_indicator);
  }
  if (p.message_expiry_interval) {
    s.u8(id(PropertyId::message_expiry_interval));
    s.u32(*p.message_expiry_interval);
  }
  if (a.content_type) {
    s.u8(id(PropertyId::content_type));
    s.str(*a.content_type);
  }
  if (a.response_topic) {
    s.u8(id(PropertyId::response_topic));
    s.str(*a.response_topic);
  }
  if (a.correlation_data) {
    s.u8(id(PropertyId::correlation_data));
    s.str(*a.correlation_data);
  }
  for (std::uint32_t sid : p.subscription_identifiers) {
    s.u8(id(PropertyId::subscription_identifier));
    s.varint(sid);
  }
  if (p.topic_alias) {
    s.u8(id(PropertyId::topic_alias));
    s.u16(*p.topic_alias);
  }
  for (const auto& [k, v] : a.user_properties) {
    s.u8(id(PropertyId::user_property));
    s.str(k);
    s.str(v);
  }
}

std::size_t properties_body(const PublishView& p) {
  // Most deliveries carry no property at all: no walk then.
  if (p.properties == nullptr && !p.message_expiry_interval && p.subscription_identifiers.empty() && !p.topic_alias) {
    return 0;
  }
  Count c;
  write_properties(c, p);
  return c.n;
}

// Everything after the fixed header; `props` is properties_body(p) (v5).
template <class Sink>
void write_body(Sink& s, const PublishView& p, bool v5, std::size_t props) {
  s.str(p.topic);
  if (p.qos != QoS::at_most_once) s.u16(p.packet_id);
  if (v5) {
    s.varint(static_cast<std::uint32_t>(props));
    if (props != 0) write_properties(s, p);  // 0: none to write
  }
  s.raw(p.payload);
}

std::size_t body_size(const PublishView& p, bool v5, std::size_t props) {
  Count c;
  write_body(c, p, v5, props);
  return c.n;
}

}  // namespace

std::size_t encoded_publish_size(const PublishView& p, Version version) noexcept {
  const bool v5 = version == Version::v5;
  const std::size_t body = body_size(p, v5, v5 ? properties_body(p) : 0);
  return 1 + wire::varint_size(static_cast<std::uint32_t>(body)) + body;
}

std::size_t encode_publish(const PublishView& p, Version version, std::string& out) {
  const bool v5 = version == Version::v5;
  const std::size_t props = v5 ? properties_body(p) : 0;
  const std::size_t body = body_size(p, v5, props);
  const std::size_t total = 1 + wire::varint_size(static_cast<std::uint32_t>(body)) + body;
  const std::size_t before = out.size();
  out.resize(before + total);
  const auto qos = static_cast<std::uint8_t>(static_cast<std::uint8_t>(p.qos) & 0x03);
  auto first = static_cast<std::uint8_t>(0x30 | (qos << 1));
  if (p.dup && qos != 0) first |= 0x08;  // DUP must be 0 for QoS 0
  if (p.retain) first |= 0x01;
  Put w{out.data() + before};
  w.u8(first);
  w.varint(static_cast<std::uint32_t>(body));
  write_body(w, p, v5, props);
  return total;
}

}  // namespace strata::protocol
