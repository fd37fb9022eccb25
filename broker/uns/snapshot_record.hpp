// One catalogued topic as a record of the catalog snapshot (the store's
// database "uns_catalog", key: the topic). Pure, fuzzed (snapshot_fuzz).
//
// Layout, version 1, integers little-endian:
//   u8 version (1) | u64 first_ms | u64 last_ms | u64 count | u64 violations
//   | u32 size | u8 qos | u8 kind | u8 flags (1 retain, 2 truncated)
//   | u32 n + n bytes: the last value | u32 n + n bytes: the last publisher
// The decoder takes nothing on trust: a record of another version, cut
// short, with lengths past its end, bytes left over, a QoS above 2 or
// unknown flags is refused (nullopt), so the caller skips and counts it.
// Rates, user properties, the schema history and the last violation are
// not kept: they start afresh after a restart.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace strata::uns {

struct SnapshotTopic {
  std::uint64_t first_ms = 0, last_ms = 0, count = 0, violations = 0;
  std::uint32_t size = 0;
  std::uint8_t qos = 0, kind = 0;
  bool retain = false, truncated = false;
  std::string value, publisher;
};

inline constexpr std::uint8_t kSnapshotVersion = 1;

std::string encode_snapshot_record(const SnapshotTopic& t);
std::optional<SnapshotTopic> decode_snapshot_record(std::string_view bytes);

}  // namespace strata::uns
