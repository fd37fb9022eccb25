// The store's databases and the byte layout of their keys and values.
//
// This file owns the layout of every database in the store's LMDB
// environment (<data_dir>/store): lmdb_env.cpp opens them and checks the
// format version, store.cpp reads and writes them through the functions
// below, writer.cpp commits what store.cpp encoded. Nothing else touches
// their bytes; a change to any layout is made here first.
//
// STORE FORMAT VERSION 1 (format_version below), kept in `meta` under
// "format". A store with a higher version is refused at open with a
// message naming both versions, never misread; an older one is read as
// is. Any change that an older strata would misread bumps it. The u8
// "record version" inside session and delivery records only guards
// against damaged bytes: a record whose version is not 1 is reported as
// undecodable, skipped and deleted at load.
//
// All integers are big-endian; "bytes" is a u32 length followed by that
// many bytes. The databases (name: key -> value):
//
//   meta      "format"                 -> u32 format version
//   sessions  client id                -> session record
//   messages  client id, 0x00, u64 seq -> delivery record
//   qos2      client id, 0x00, u16 id  -> (empty)   incoming QoS 2 ids awaiting PUBREL
//   retained  topic                    -> message record
//   outbox, outbox_meta, outbox_dead, outbox_state: the bridges' logs,
//             laid out in bridges/outbox/outbox_log.hpp
//
// Client ids and topics are MQTT UTF-8 strings, which cannot contain
// U+0000, so "client id, 0x00" is an unambiguous prefix: every record of
// one session is one contiguous key range, deleted with the session.
// Sequence numbers are per session and only grow, so a session's
// deliveries load in the order they were queued. Retained keys sort by
// topic, so start-up reads them in topic order.
//
// session record:  u8 record version (1), u8 protocol version (4/5),
//   u32 expiry interval (s), u64 expiry deadline (unix ms; 0: the session
//   was online when written), bytes username, u8 has will,
//   [bytes topic, bytes payload, u8 qos, u8 retain, will property block],
//   u32 subscription count, per subscription: bytes filter (as sent,
//   "$share/..." included), u8 options (qos | no_local << 2 |
//   retain_as_published << 3 | retain_handling << 4), u32 identifier.
// delivery record: u8 record version (1), u8 state (0 queued, 1 awaiting
//   PUBACK, 2 awaiting PUBREC, 3 awaiting PUBCOMP), u16 packet id, u8 qos,
//   u8 retain, u32 identifier count + u32 each, bytes share group, bytes
//   share filter, u8 has message, [message record]. A message awaiting
//   PUBCOMP has no message (only its id matters).
// message record:  bytes topic, bytes payload, u8 qos, u8 retain,
//   u64 expiry deadline (unix ms, 0 never), bytes publisher, PUBLISH
//   property block (MQTT 5 encoding, the message's application properties).
//   The will property block and the PUBLISH property block are the MQTT 5
//   property encodings of the WILL and PUBLISH contexts (varint length,
//   then properties), whatever the protocol version of the session.
//
// Messages are stored per session, not once with a reference count: a
// delivery's record is written and deleted by the one core that owns the
// session, with no cross-core bookkeeping and no shared counter to repair
// after a crash. The cost is one copy per persistent subscriber, which is
// what an offline queue is anyway.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "broker/protocol/packet.hpp"
#include "broker/router/message.hpp"
#include "broker/session/session.hpp"

namespace strata::store {

inline constexpr std::uint32_t format_version = 1;

// What the store keeps of a session (loaded at start-up).
struct SessionRecord {
  std::string client_id;
  protocol::Version version = protocol::Version::v5;
  std::uint32_t expiry_interval = 0;
  std::uint64_t deadline_ms = 0;
  std::string username;
  std::optional<protocol::Will> will;
  std::vector<std::pair<std::string, session::StoredSubscription>> subscriptions;
};

// A queued (state 0) or inflight delivery of a session.
struct DeliveryRecord {
  std::uint64_t seq = 0;
  std::uint8_t state = 0;
  std::uint16_t packet_id = 0;
  session::Delivery delivery;
};

std::string encode_session(const session::Session& s, std::uint64_t deadline_ms);
bool decode_session(std::string_view key, std::string_view value, SessionRecord& out);

std::string session_prefix(std::string_view client_id);  // client id, 0x00
std::string message_key(std::string_view client_id, std::uint64_t seq);
std::string qos2_key(std::string_view client_id, std::uint16_t packet_id);
// Splits a messages/qos2 key; false if it has no 0x00 or a wrong tail size.
bool split_key(std::string_view key, std::string_view& client_id, std::string_view& tail);
std::uint64_t read_u64(std::string_view bytes);  // big-endian, up to 8 bytes

std::string encode_delivery(const session::Delivery& d, std::uint8_t state, std::uint16_t packet_id);
bool decode_delivery(std::string_view value, DeliveryRecord& out);

std::string encode_message(const router::Message& m);
// Null if `value` is not a whole message record.
std::shared_ptr<router::Message> decode_message(std::string_view value);

}  // namespace strata::store
