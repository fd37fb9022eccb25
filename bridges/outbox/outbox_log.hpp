// The byte layout of the outbox databases in the store's LMDB environment
// (opened by broker/store/lmdb_env.cpp; broker/store/records.hpp owns the
// other databases). All integers big-endian; "bytes" is a u32 length and
// that many bytes. Log names are bridge names ([A-Za-z0-9_.-]) or
// "session:<client id>" for a [[bridge_session]]; neither contains 0x00.
//
//   outbox        name, 0x00, u64 offset  -> record
//   outbox_meta   name                    -> u8 version (1), u64 acknowledged offset
//   outbox_dead   name, 0x00, u64 offset  -> bytes reason, u64 unix ms, record
//   outbox_state  name, 0x00, key         -> value (the adapter's own: MQTT QoS 2 ids)
//
// record: u8 version (1), bytes topic, bytes payload, u8 qos, u8 retain,
//   u64 expiry deadline (unix ms, 0 never), u64 received (unix ms), u8 hops,
//   bytes origin, u32 route (0xFFFFFFFF: a rule's emit), PUBLISH property
//   block (MQTT 5 encoding of the application properties).
//
// Invariants (outbox.hpp says why they hold):
// - Offsets of one log only grow; a log's records are one key range, and
//   big-endian offsets sort in offset order.
// - After a commit, no record of a log has an offset <= its acknowledged
//   offset that will be delivered again: open() deletes any such record
//   (a delete that raced its put) before anything reads the log.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "bridges/outbox/record.hpp"

namespace strata::bridges::outbox_log {

std::string record_key(std::string_view log, std::uint64_t offset);
std::string prefix(std::string_view log);  // name, 0x00
// The offset of a record key of `log`; false if the key is not one.
bool offset_of(std::string_view key, std::string_view log, std::uint64_t& offset);

std::string encode_record(const Record& r);
// The same in two steps, for a writer that encodes into its own buffer
// (the LMDB page: Outbox::append): the size, then the bytes.
std::size_t record_size(const Record& r);
void write_record(const Record& r, char* out);
bool decode_record(std::string_view value, Record& out);

std::string encode_meta(std::uint64_t acknowledged);
bool decode_meta(std::string_view value, std::uint64_t& acknowledged);

std::string encode_dead(const Record& r, std::string_view reason, std::uint64_t now_ms);
// False when `value` is not a dead letter (the fuzz target outbox_fuzz reads it).
bool decode_dead(std::string_view value, Record& out, std::string& reason, std::uint64_t& at_ms);

}  // namespace strata::bridges::outbox_log
