// encode() and encoded_size() (see codec.hpp).
//
// Each packet body is written once, as a template over a sink: a counting
// sink gives the remaining length and encoded_size(), an appending sink
// writes the bytes, so the two cannot disagree.
//
// Version differences: 3.1.1 has no properties, no reason codes on
// PUBACK/PUBREC/PUBREL/PUBCOMP, UNSUBACK and DISCONNECT, CONNACK return
// codes from to_connack_311(), SUBACK failures as 0x80, and no AUTH (an
// AUTH encodes to nothing in 3.1.1). 5.0 uses the short forms: an
// acknowledgement with reason success and no properties is just its packet
// identifier, a DISCONNECT or AUTH with reason success and no properties
// has remaining length 0.
//
// Preconditions, not checked: strings fit in 65,535 bytes (longer ones are
// cut), the whole body fits in a remaining length (268,435,455 bytes).
#include <string_view>

#include "broker/protocol/codec.hpp"
#include "broker/protocol/properties_codec.hpp"
#include "broker/protocol/wire.hpp"

namespace strata::protocol {

namespace {

struct CountSink {
  std::size_t n = 0;
  void u8(std::uint8_t) { n += 1; }
  void u16(std::uint16_t) { n += 2; }
  void str(std::string_view s) { n += wire::string_size(s); }
  void raw(std::string_view s) { n += s.size(); }
  void props(const Properties& p, PropertyContext ctx) { n += properties_size(p, ctx); }
};

struct AppendSink {
  std::string& out;
  void u8(std::uint8_t v) { wire::put_u8(out, v); }
  void u16(std::uint16_t v) { wire::put_u16(out, v); }
  void str(std::string_view s) { wire::put_string(out, s); }
  void raw(std::string_view s) { out.append(s); }
  void props(const Properties& p, PropertyContext ctx) { encode_properties(p, ctx, out); }
};

std::uint8_t u8_of(ReasonCode rc) { return static_cast<std::uint8_t>(rc); }
std::uint8_t u8_of(QoS q) { return static_cast<std::uint8_t>(q); }

bool no_props(const Properties& p, PropertyContext ctx) {
  return properties_body_size(p, ctx) == 0;
}

template <class Sink>
struct BodyWriter {
  Sink& s;
  bool v5;

  void operator()(const Connect& c) {
    std::uint8_t flags = 0;
    if (c.clean_start) flags |= 0x02;
    if (c.will) {
      flags |= 0x04;
      flags |= static_cast<std::uint8_t>((u8_of(c.will->qos) & 0x03) << 3);
      if (c.will->retain) flags |= 0x20;
    }
    if (c.password) flags |= 0x40;
    if (c.username) flags |= 0x80;
    s.str(c.protocol_name);
    s.u8(v5 ? 5 : 4);
    s.u8(flags);
    s.u16(c.keep_alive);
    if (v5) s.props(c.properties, PropertyContext::connect);
    s.str(c.client_id);
    if (c.will) {
      if (v5) s.props(c.will->properties, PropertyContext::will);
      s.str(c.will->topic);
      s.str(c.will->payload);
    }
    if (c.username) s.str(*c.username);
    if (c.password) s.str(*c.password);
  }

  void operator()(const Connack& c) {
    s.u8(c.session_present ? 1 : 0);
    if (v5) {
      s.u8(u8_of(c.reason));
      s.props(c.properties, PropertyContext::connack);
    } else {
      s.u8(static_cast<std::uint8_t>(to_connack_311(c.reason)));
    }
  }

  void operator()(const Publish& p) {
    s.str(p.topic);
    if (p.qos != QoS::at_most_once) s.u16(p.packet_id);
    if (v5) s.props(p.properties, PropertyContext::publish);
    s.raw(p.payload);
  }

  void operator()(const Ack& a) {
    s.u16(a.packet_id);
    if (!v5) return;
    const bool empty = no_props(a.properties, PropertyContext::puback);
    if (a.reason == ReasonCode::success && empty) return;
    s.u8(u8_of(a.reason));
    if (!empty) s.props(a.properties, PropertyContext::puback);
  }

  void operator()(const Subscribe& sub) {
    s.u16(sub.packet_id);
    if (v5) s.props(sub.properties, PropertyContext::subscribe);
    for (const SubscribeEntry& e : sub.entries) {
      s.str(e.filter);
      auto opts = static_cast<std::uint8_t>(u8_of(e.options.max_qos) & 0x03);
      if (v5) {
        if (e.options.no_local) opts |= 0x04;
        if (e.options.retain_as_published) opts |= 0x08;
        opts |= static_cast<std::uint8_t>((e.options.retain_handling & 0x03) << 4);
      }
      s.u8(opts);
    }
  }

  void operator()(const Suback& a) {
    s.u16(a.packet_id);
    if (v5) s.props(a.properties, PropertyContext::suback);
    for (ReasonCode rc : a.reasons) {
      // 3.1.1 knows granted QoS 0-2 and failure 0x80 only.
      s.u8(v5 || u8_of(rc) <= 2 ? u8_of(rc) : std::uint8_t{0x80});
    }
  }

  void operator()(const Unsubscribe& u) {
    s.u16(u.packet_id);
    if (v5) s.props(u.properties, PropertyContext::unsubscribe);
    for (const std::string& f : u.filters) s.str(f);
  }

  void operator()(const Unsuback& a) {
    s.u16(a.packet_id);
    if (!v5) return;  // 3.1.1 UNSUBACK has no payload
    s.props(a.properties, PropertyContext::unsuback);
    for (ReasonCode rc : a.reasons) s.u8(u8_of(rc));
  }

  void operator()(const Pingreq&) {}
  void operator()(const Pingresp&) {}

  void operator()(const Disconnect& d) {
    if (!v5) return;  // 3.1.1 DISCONNECT is empty
    const bool empty = no_props(d.properties, PropertyContext::disconnect);
    if (d.reason == ReasonCode::success && empty) return;
    s.u8(u8_of(d.reason));
    if (!empty) s.props(d.properties, PropertyContext::disconnect);
  }

  void operator()(const Auth& a) {
    if (!v5) return;  // no AUTH in 3.1.1; encode() writes nothing at all
    if (a.reason == ReasonCode::success && no_props(a.properties, PropertyContext::auth)) {
      return;
    }
    s.u8(u8_of(a.reason));
    s.props(a.properties, PropertyContext::auth);
  }
};

std::uint8_t first_byte(const Packet& packet) {
  const PacketType type = packet_type(packet);
  auto b = static_cast<std::uint8_t>(static_cast<std::uint8_t>(type) << 4);
  switch (type) {
    case PacketType::publish: {
      const auto& p = std::get<Publish>(packet);
      const auto qos = static_cast<std::uint8_t>(u8_of(p.qos) & 0x03);
      b |= static_cast<std::uint8_t>(qos << 1);
      if (p.dup && qos != 0) b |= 0x08;  // DUP must be 0 for QoS 0
      if (p.retain) b |= 0x01;
      break;
    }
    case PacketType::pubrel:
    case PacketType::subscribe:
    case PacketType::unsubscribe: b |= 0x02; break;
    default: break;
  }
  return b;
}

bool writes_nothing(const Packet& packet, Version version) {
  return version == Version::v311 && std::holds_alternative<Auth>(packet);
}

std::size_t body_size(const Packet& packet, Version version) {
  CountSink count;
  std::visit(BodyWriter<CountSink>{count, version == Version::v5}, packet);
  return count.n;
}

}  // namespace

std::size_t encoded_size(const Packet& packet, Version version) {
  if (writes_nothing(packet, version)) return 0;
  const std::size_t body = body_size(packet, version);
  return 1 + wire::varint_size(static_cast<std::uint32_t>(body)) + body;
}

void encode(const Packet& packet, Version version, std::string& out) {
  if (writes_nothing(packet, version)) return;
  const std::size_t body = body_size(packet, version);
  out.reserve(out.size() + 1 + wire::varint_size(static_cast<std::uint32_t>(body)) + body);
  wire::put_u8(out, first_byte(packet));
  wire::put_varint(out, static_cast<std::uint32_t>(body));
  AppendSink append{out};
  std::visit(BodyWriter<AppendSink>{append, version == Version::v5}, packet);
}

}  // namespace strata::protocol
