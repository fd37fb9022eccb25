// Encoding and decoding of the store's records; layouts in records.hpp.
// Decoding reads through protocol::wire::WireReader, which never reads past
// its input and records the first error, so a damaged record is reported
// as undecodable instead of being misread.
#include "broker/store/records.hpp"

#include "broker/protocol/properties_codec.hpp"
#include "broker/protocol/record_fields.hpp"
#include "broker/protocol/wire.hpp"

namespace strata::store {

namespace wire = protocol::wire;
using protocol::PropertyContext;
using protocol::QoS;

namespace {

constexpr std::uint8_t record_version = 1;

std::uint8_t options_byte(const protocol::SubscribeOptions& o) {
  return static_cast<std::uint8_t>(static_cast<std::uint8_t>(o.max_qos) | (o.no_local ? 4 : 0) |
                                   (o.retain_as_published ? 8 : 0) | (o.retain_handling << 4));
}

void append_message(std::string& out, const router::Message& m) {
  wire::put_bytes32(out, m.topic);
  wire::put_bytes32(out, m.payload);
  wire::put_u8(out, static_cast<std::uint8_t>(m.qos));
  wire::put_u8(out, m.retain ? 1 : 0);
  wire::put_u64(out, m.expires_at_ms);
  wire::put_bytes32(out, m.publisher);
  protocol::encode_properties(*m.properties, PropertyContext::publish, out);
}

// The message in one allocation, its topic and payload copied from the
// record's bytes (router/message.hpp); null if the record is malformed.
std::shared_ptr<router::Message> read_message(wire::WireReader& r) {
  const std::string_view topic = wire::get_bytes32_view(r);
  const std::string_view payload = wire::get_bytes32_view(r);
  router::MessageAttributes a;
  std::uint8_t qos = r.u8();
  a.qos = static_cast<QoS>(qos > 2 ? 0 : qos);
  a.retain = r.u8() != 0;
  a.expires_at_ms = wire::get_u64(r);
  a.publisher = wire::get_bytes32(r);
  protocol::Properties props;
  protocol::decode_properties(r, PropertyContext::publish, props);
  a.properties = std::move(props);  // kept only when there are some
  if (!r.ok() || qos > 2) return nullptr;
  return router::Message::make(topic, payload, std::move(a));
}

std::string key_with(std::string_view client_id, std::size_t tail) {
  std::string k;
  k.reserve(client_id.size() + 1 + tail);
  k.append(client_id);
  k.push_back('\0');
  return k;
}

}  // namespace

std::uint64_t read_u64(std::string_view bytes) {
  std::uint64_t v = 0;
  for (unsigned char c : bytes) v = (v << 8) | c;
  return v;
}

std::string session_prefix(std::string_view client_id) { return key_with(client_id, 0); }

std::string message_key(std::string_view client_id, std::uint64_t seq) {
  std::string k = key_with(client_id, 8);
  wire::put_u64(k, seq);
  return k;
}

std::string qos2_key(std::string_view client_id, std::uint16_t packet_id) {
  std::string k = key_with(client_id, 2);
  wire::put_u16(k, packet_id);
  return k;
}

bool split_key(std::string_view key, std::string_view& client_id, std::string_view& tail) {
  auto zero = key.find('\0');
  if (zero == std::string_view::npos) return false;
  client_id = key.substr(0, zero);
  tail = key.substr(zero + 1);
  return tail.size() == 8 || tail.size() == 2;
}

std::string encode_session(const session::Session& s, std::uint64_t deadline_ms) {
  std::string out;
  wire::put_u8(out, record_version);
  wire::put_u8(out, static_cast<std::uint8_t>(s.version));
  wire::put_u32(out, s.expiry_interval);
  wire::put_u64(out, deadline_ms);
  wire::put_bytes32(out, s.username);
  wire::put_u8(out, s.will ? 1 : 0);
  if (s.will) {
    wire::put_bytes32(out, s.will->topic);
    wire::put_bytes32(out, s.will->payload);
    wire::put_u8(out, static_cast<std::uint8_t>(s.will->qos));
    wire::put_u8(out, s.will->retain ? 1 : 0);
    protocol::encode_properties(s.will->properties, PropertyContext::will, out);
  }
  wire::put_u32(out, static_cast<std::uint32_t>(s.subscriptions.size()));
  for (const auto& [filter, sub] : s.subscriptions) {
    wire::put_bytes32(out, filter);
    wire::put_u8(out, options_byte(sub.options));
    wire::put_u32(out, sub.identifier);
  }
  return out;
}

bool decode_session(std::string_view key, std::string_view value, SessionRecord& out) {
  auto r = wire::record_reader(value);
  if (r.u8() != record_version) return false;
  out.client_id = std::string(key);
  std::uint8_t v = r.u8();
  if (v != 4 && v != 5) return false;
  out.version = static_cast<protocol::Version>(v);
  out.expiry_interval = r.u32();
  out.deadline_ms = wire::get_u64(r);
  out.username = wire::get_bytes32(r);
  if (r.u8() != 0) {
    protocol::Will w;
    w.topic = wire::get_bytes32(r);
    w.payload = wire::get_bytes32(r);
    std::uint8_t qos = r.u8();
    if (qos > 2) return false;
    w.qos = static_cast<QoS>(qos);
    w.retain = r.u8() != 0;
    protocol::decode_properties(r, PropertyContext::will, w.properties);
    out.will = std::move(w);
  }
  std::uint32_t n = r.u32();
  for (std::uint32_t i = 0; i < n && r.ok(); ++i) {
    std::string filter = wire::get_bytes32(r);
    std::uint8_t o = r.u8();
    session::StoredSubscription sub;
    if ((o & 3) > 2) return false;
    sub.options.max_qos = static_cast<QoS>(o & 3);
    sub.options.no_local = (o & 4) != 0;
    sub.options.retain_as_published = (o & 8) != 0;
    sub.options.retain_handling = static_cast<std::uint8_t>((o >> 4) & 3);
    sub.identifier = r.u32();
    out.subscriptions.emplace_back(std::move(filter), sub);
  }
  return r.ok() && r.at_end();
}

std::string encode_delivery(const session::Delivery& d, std::uint8_t state, std::uint16_t packet_id) {
  std::string out;
  wire::put_u8(out, record_version);
  wire::put_u8(out, state);
  wire::put_u16(out, packet_id);
  wire::put_u8(out, static_cast<std::uint8_t>(d.qos));
  wire::put_u8(out, d.retain ? 1 : 0);
  wire::put_u32(out, static_cast<std::uint32_t>(d.identifiers.size()));
  for (std::uint32_t id : d.identifiers) wire::put_u32(out, id);
  wire::put_bytes32(out, d.share_group);
  wire::put_bytes32(out, d.share_filter);
  bool with_message = d.msg != nullptr && state != 3;
  wire::put_u8(out, with_message ? 1 : 0);
  if (with_message) append_message(out, *d.msg);
  return out;
}

bool decode_delivery(std::string_view value, DeliveryRecord& out) {
  auto r = wire::record_reader(value);
  if (r.u8() != record_version) return false;
  out.state = r.u8();
  out.packet_id = r.u16();
  std::uint8_t qos = r.u8();
  if (out.state > 3 || qos > 2) return false;
  session::Delivery& d = out.delivery;
  d.qos = static_cast<QoS>(qos);
  d.retain = r.u8() != 0;
  std::uint32_t n = r.u32();
  if (n > r.remaining() / 4) return false;
  for (std::uint32_t i = 0; i < n; ++i) d.identifiers.push_back(r.u32());
  d.share_group = wire::get_bytes32(r);
  d.share_filter = wire::get_bytes32(r);
  if (r.u8() != 0) {
    d.msg = read_message(r);
    if (!d.msg) return false;
  } else if (out.state != 3) {
    return false;  // only a message awaiting PUBCOMP may lack its message
  }
  d.seq = out.seq;
  return r.ok() && r.at_end();
}

std::string encode_message(const router::Message& m) {
  std::string out;
  append_message(out, m);
  return out;
}

std::shared_ptr<router::Message> decode_message(std::string_view value) {
  auto r = wire::record_reader(value);
  std::shared_ptr<router::Message> m = read_message(r);
  return m && r.at_end() ? m : nullptr;
}

}  // namespace strata::store
