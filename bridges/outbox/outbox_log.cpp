// Encoding of the outbox databases; layout in outbox_log.hpp.
#include "bridges/outbox/outbox_log.hpp"

#include <algorithm>
#include <cstring>

#include "broker/protocol/properties_codec.hpp"
#include "broker/protocol/record_fields.hpp"
#include "broker/protocol/wire.hpp"

namespace strata::bridges::outbox_log {

namespace wire = protocol::wire;

namespace {

constexpr std::uint8_t version = 1;

}  // namespace

std::string prefix(std::string_view log) {
  std::string k(log);
  k.push_back('\0');
  return k;
}

std::string record_key(std::string_view log, std::uint64_t offset) {
  // Sized once and stored into (one per appended record; appends were
  // ~265 instructions, now a copy and eight stores).
  std::string k(log.size() + 9, '\0');
  std::memcpy(k.data(), log.data(), log.size());
  for (int i = 0; i < 8; ++i) k[log.size() + 1 + static_cast<std::size_t>(i)] = static_cast<char>((offset >> (56 - 8 * i)) & 0xFF);
  return k;
}

bool offset_of(std::string_view key, std::string_view log, std::uint64_t& offset) {
  if (key.size() != log.size() + 9 || key.substr(0, log.size()) != log || key[log.size()] != '\0') return false;
  offset = 0;
  for (unsigned char c : key.substr(log.size() + 1)) offset = (offset << 8) | c;
  return true;
}

namespace {

// Big-endian stores into a buffer sized beforehand (for an appended record
// the LMDB page the store's writer reserved for it): no per-byte appends.
char* be(char* at, std::uint64_t v, int bytes) {
  for (int i = bytes - 1; i >= 0; --i) *at++ = static_cast<char>((v >> (8 * i)) & 0xFF);
  return at;
}

char* bytes32(char* at, std::string_view s) {
  at = be(at, s.size(), 4);
  if (!s.empty()) std::memcpy(at, s.data(), s.size());
  return at + s.size();
}

}  // namespace

std::size_t record_size(const Record& r) {
  // version, topic, payload, qos, retain, expiry, received, hops, origin, route, properties
  const std::size_t fixed = 1 + 4 + r.topic.size() + 4 + r.payload.size() + 1 + 1 + 8 + 8 + 1 + 4 + r.origin.size() + 4;
  return r.props ? fixed + protocol::properties_size(*r.props, protocol::PropertyContext::publish) : fixed + 1;
}

namespace {

// Everything before the property block; returns where that starts.
char* write_fields(const Record& r, char* at) {
  *at++ = static_cast<char>(version);
  at = bytes32(at, r.topic);
  at = bytes32(at, r.payload);
  *at++ = static_cast<char>(r.qos);
  *at++ = static_cast<char>(r.retain ? 1 : 0);
  at = be(at, r.expires_at_ms, 8);
  at = be(at, r.received_ms, 8);
  *at++ = static_cast<char>(r.hops);
  at = bytes32(at, r.origin);
  return be(at, static_cast<std::uint32_t>(r.route), 4);
}

}  // namespace

void write_record(const Record& r, char* out) {
  char* at = write_fields(r, out);
  if (!r.props) {
    *at = 0;  // an empty property block
    return;
  }
  std::string block;  // (a record with properties is the rare case)
  protocol::encode_properties(*r.props, protocol::PropertyContext::publish, block);
  // record_size() reserved properties_size() bytes (the codec says the two
  // agree): never past them, whatever happens.
  std::memcpy(at, block.data(), std::min(block.size(), protocol::properties_size(*r.props, protocol::PropertyContext::publish)));
}

std::string encode_record(const Record& r) {
  std::string out(record_size(r), '\0');
  write_record(r, out.data());
  return out;
}

bool decode_record(std::string_view value, Record& out) {
  auto r = wire::record_reader(value);
  if (r.u8() != version) return false;
  out.topic = wire::get_bytes32(r);
  out.payload = wire::get_bytes32(r);
  std::uint8_t qos = r.u8();
  out.qos = static_cast<protocol::QoS>(qos > 2 ? 0 : qos);
  out.retain = r.u8() != 0;
  out.expires_at_ms = wire::get_u64(r);
  out.received_ms = wire::get_u64(r);
  out.hops = r.u8();
  out.origin = wire::get_bytes32(r);
  out.route = static_cast<std::int32_t>(r.u32());
  protocol::Properties props;
  protocol::decode_properties(r, protocol::PropertyContext::publish, props);
  out.set_properties(std::move(props));
  return r.ok() && r.at_end() && qos <= 2;
}

std::string encode_meta(std::uint64_t acknowledged) {
  std::string out;
  wire::put_u8(out, version);
  wire::put_u64(out, acknowledged);
  return out;
}

bool decode_meta(std::string_view value, std::uint64_t& acknowledged) {
  auto r = wire::record_reader(value);
  if (r.u8() != version) return false;
  acknowledged = wire::get_u64(r);
  return r.ok() && r.at_end();
}

std::string encode_dead(const Record& rec, std::string_view reason, std::uint64_t now_ms) {
  std::string out;
  wire::put_bytes32(out, reason);
  wire::put_u64(out, now_ms);
  out += encode_record(rec);
  return out;
}

bool decode_dead(std::string_view value, Record& out, std::string& reason, std::uint64_t& at_ms) {
  auto r = wire::record_reader(value);
  reason = wire::get_bytes32(r);
  at_ms = wire::get_u64(r);
  if (!r.ok()) return false;
  return decode_record(value.substr(value.size() - r.remaining()), out);
}

}  // namespace strata::bridges::outbox_log
