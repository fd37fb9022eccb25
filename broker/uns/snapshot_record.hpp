// One catalogued topic as a record of the catalog snapshot (the store's
// database "uns_catalog", key: the topic). Pure, fuzzed (contract_fuzz
// feeds every input to the decoder).
//
// Layout, version 3, integers little-endian, text = u32 n + n bytes:
//   u8 version (2) | u64 first_ms | u64 last_ms | u64 count | u64 violations
//   | u32 size | u8 qos | u8 kind | u8 flags (1 retain, 2 truncated)
//   | text: the last value | text: the last publisher
//   | u64 taken_ms | f64 rate_per_s | f64 rate_per_min   (as of taken_ms)
//   | u32 n user properties, each text key, text value
//   | u32 current | u32 n schema versions (≤ 16), oldest first, each:
//       u64 first_ms | u64 last_ms | u64 count | u64 shape hash
//       | u32 n fields, each text JSON pointer, u8 types (TypeBit)
//   | u8 property flags (1 payload format, 2 expiry interval, 4 content
//     type, 8 response topic, 16 correlation data), then those present in
//     that order: u8 | u32 | text | text | text
//   | u8 1 when a last violation follows, else 0: u64 at_ms | text client id
//     | text contract | text version | text pointer | u8 kind | text detail
//     | text sample | u8 action
// Versions 1 (before the rates, user properties and schema history were
// kept: the same up to the publisher) and 2 (up to the schema versions) are
// still read: what they lack starts afresh.
// The decoder takes nothing on trust: another version, a record cut short,
// lengths past its end, bytes left over, a QoS above 2, unknown flags,
// first after last, more than 16 schema versions or `current` outside them
// is refused (nullopt), so the caller skips and counts the record; so is
// an unknown property flag, violation kind or action.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "broker/uns/last_properties.hpp"

namespace strata::uns {

struct SnapshotViolation {
  std::uint64_t at_ms = 0;
  std::string client_id, contract, version, pointer;
  std::uint8_t kind = 0;  // uns::Kind
  std::string detail, sample;
  std::uint8_t action = 0;  // uns::Action
  bool operator==(const SnapshotViolation&) const = default;
};

struct SnapshotField {
  std::string path;
  std::uint8_t types = 0;
  bool operator==(const SnapshotField&) const = default;
};

struct SnapshotVersion {
  std::uint64_t first_ms = 0, last_ms = 0, count = 0, hash = 0;
  std::vector<SnapshotField> fields;
  bool operator==(const SnapshotVersion&) const = default;
};

struct SnapshotTopic {
  std::uint64_t first_ms = 0, last_ms = 0, count = 0, violations = 0;
  std::uint32_t size = 0;
  std::uint8_t qos = 0, kind = 0;
  bool retain = false, truncated = false;
  std::string value, publisher;
  // Version 2:
  std::uint64_t taken_ms = 0;  // when the rates below were read
  double rate_per_s = 0, rate_per_min = 0;
  LastProperties properties;  // version 2: the user properties only
  std::uint32_t current = 0;  // index into versions
  std::vector<SnapshotVersion> versions;
  // Version 3:
  std::optional<SnapshotViolation> last_violation;
  bool operator==(const SnapshotTopic&) const = default;
};

inline constexpr std::uint8_t kSnapshotVersion = 3;
inline constexpr std::size_t kSnapshotMaxVersions = 16;
inline constexpr std::uint8_t kSnapshotKinds = 7;    // uns::Kind values (contract.hpp: kKindCount)
inline constexpr std::uint8_t kSnapshotActions = 3;  // uns::Action values

// Always writes the current version.
std::string encode_snapshot_record(const SnapshotTopic& t);
std::optional<SnapshotTopic> decode_snapshot_record(std::string_view bytes);

}  // namespace strata::uns
