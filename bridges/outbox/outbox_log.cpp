// Encoding of the outbox databases; layout in outbox_log.hpp.
#include "bridges/outbox/outbox_log.hpp"

#include "broker/protocol/properties_codec.hpp"
#include "broker/protocol/wire.hpp"

namespace strata::bridges::outbox_log {

namespace wire = protocol::wire;

namespace {

constexpr std::uint8_t version = 1;

void put_u64(std::string& out, std::uint64_t v) {
  wire::put_u32(out, static_cast<std::uint32_t>(v >> 32));
  wire::put_u32(out, static_cast<std::uint32_t>(v));
}

void put_bytes(std::string& out, std::string_view s) {
  wire::put_u32(out, static_cast<std::uint32_t>(s.size()));
  out.append(s);
}

std::uint64_t get_u64(wire::WireReader& r) {
  std::uint64_t hi = r.u32();
  return (hi << 32) | r.u32();
}

std::string get_bytes(wire::WireReader& r) {
  std::uint32_t n = r.u32();
  if (!r.ok()) return {};
  if (n > r.remaining()) {
    r.fail(protocol::ReasonCode::malformed_packet, "length beyond record");
    return {};
  }
  return r.sub(n).rest();
}

wire::WireReader reader(std::string_view v) {
  return wire::WireReader({reinterpret_cast<const std::uint8_t*>(v.data()), v.size()});
}

}  // namespace

std::string prefix(std::string_view log) {
  std::string k(log);
  k.push_back('\0');
  return k;
}

std::string record_key(std::string_view log, std::uint64_t offset) {
  std::string k = prefix(log);
  put_u64(k, offset);
  return k;
}

bool offset_of(std::string_view key, std::string_view log, std::uint64_t& offset) {
  if (key.size() != log.size() + 9 || key.substr(0, log.size()) != log || key[log.size()] != '\0') return false;
  offset = 0;
  for (unsigned char c : key.substr(log.size() + 1)) offset = (offset << 8) | c;
  return true;
}

std::string encode_record(const Record& r) {
  std::string out;
  out.reserve(r.topic.size() + r.payload.size() + 48);
  wire::put_u8(out, version);
  put_bytes(out, r.topic);
  put_bytes(out, r.payload);
  wire::put_u8(out, static_cast<std::uint8_t>(r.qos));
  wire::put_u8(out, r.retain ? 1 : 0);
  put_u64(out, r.expires_at_ms);
  put_u64(out, r.received_ms);
  wire::put_u8(out, r.hops);
  put_bytes(out, r.origin);
  wire::put_u32(out, static_cast<std::uint32_t>(r.route));
  protocol::encode_properties(r.properties, protocol::PropertyContext::publish, out);
  return out;
}

bool decode_record(std::string_view value, Record& out) {
  auto r = reader(value);
  if (r.u8() != version) return false;
  out.topic = get_bytes(r);
  out.payload = get_bytes(r);
  std::uint8_t qos = r.u8();
  out.qos = static_cast<protocol::QoS>(qos > 2 ? 0 : qos);
  out.retain = r.u8() != 0;
  out.expires_at_ms = get_u64(r);
  out.received_ms = get_u64(r);
  out.hops = r.u8();
  out.origin = get_bytes(r);
  out.route = static_cast<std::int32_t>(r.u32());
  protocol::decode_properties(r, protocol::PropertyContext::publish, out.properties);
  return r.ok() && r.at_end() && qos <= 2;
}

std::string encode_meta(std::uint64_t acknowledged) {
  std::string out;
  wire::put_u8(out, version);
  put_u64(out, acknowledged);
  return out;
}

bool decode_meta(std::string_view value, std::uint64_t& acknowledged) {
  auto r = reader(value);
  if (r.u8() != version) return false;
  acknowledged = get_u64(r);
  return r.ok() && r.at_end();
}

std::string encode_dead(const Record& rec, std::string_view reason, std::uint64_t now_ms) {
  std::string out;
  put_bytes(out, reason);
  put_u64(out, now_ms);
  out += encode_record(rec);
  return out;
}

}  // namespace strata::bridges::outbox_log
