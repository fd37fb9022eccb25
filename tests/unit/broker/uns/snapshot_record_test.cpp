#include "broker/uns/snapshot_record.hpp"

#include <gtest/gtest.h>

namespace strata::uns {
namespace {

SnapshotTopic sample() {
  SnapshotTopic t;
  t.first_ms = 1700000000000;
  t.last_ms = 1700000000500;
  t.count = 42;
  t.violations = 3;
  t.size = 2048;
  t.qos = 1;
  t.kind = 4;
  t.retain = true;
  t.truncated = true;
  t.value = "{\"value\": 1}";
  t.publisher = "plc-7";
  t.taken_ms = 1700000001000;
  t.rate_per_s = 0.25;
  t.rate_per_min = 15;
  t.properties.user = {{"unit", "C"}, {"line", "1"}};
  t.current = 1;
  t.versions.push_back(SnapshotVersion{1700000000000, 1700000000200, 10, 0x1234, {{"", 32}, {"/value", 4}}});
  t.versions.push_back(SnapshotVersion{1700000000300, 1700000000500, 32, 0x5678, {{"", 32}, {"/value", 8}}});
  return t;
}

// Version 3's additions: the other properties and the last violation.
SnapshotTopic sample3() {
  SnapshotTopic t = sample();
  t.properties.payload_format_indicator = 1;
  t.properties.message_expiry_interval = 3600;
  t.properties.content_type = "application/json";
  t.properties.response_topic = "reply/here";
  t.properties.correlation_data = std::string("\x00\x01", 2);
  t.last_violation = SnapshotViolation{1700000000400, "plc-7", "temperature", "3", "/value", 3, "maximum", "{\"value\": 900}", 0};
  return t;
}

// The size of sample()'s record up to and including its schema versions.
std::size_t v2_size() {
  return encode_snapshot_record(sample()).size() - 2;  // without the two bytes v3 adds for no properties, no violation
}

constexpr std::size_t kV1Size = 1 + 4 * 8 + 4 + 3 + 4 + 12 + 4 + 5;

TEST(UnsSnapshotRecord, RoundTrips) {
  std::string bytes = encode_snapshot_record(sample());
  // v1's fields, then taken_ms and two rates, 2 user properties, current,
  // 2 versions of 2 fields each.
  EXPECT_EQ(bytes.size(), kV1Size + 24 + (4 + 4 + 4 + 4 + 1 + 4 + 4 + 4 + 1) + 4 + 4 + 2 * (36 + 4 + 1 + 4 + 6 + 1) + 2);
  auto back = decode_snapshot_record(bytes);
  ASSERT_TRUE(back);
  EXPECT_EQ(back->first_ms, 1700000000000u);
  EXPECT_EQ(back->last_ms, 1700000000500u);
  EXPECT_EQ(back->count, 42u);
  EXPECT_EQ(back->violations, 3u);
  EXPECT_EQ(back->size, 2048u);
  EXPECT_EQ(back->qos, 1);
  EXPECT_EQ(back->kind, 4);
  EXPECT_TRUE(back->retain);
  EXPECT_TRUE(back->truncated);
  EXPECT_EQ(back->value, "{\"value\": 1}");
  EXPECT_EQ(back->publisher, "plc-7");
  EXPECT_EQ(*back, sample());
  EXPECT_EQ(encode_snapshot_record(*back), bytes);
  auto full = decode_snapshot_record(encode_snapshot_record(sample3()));
  ASSERT_TRUE(full);
  EXPECT_EQ(*full, sample3());
}

// A version 2 record (no properties but the user ones, no violation) is
// still read.
TEST(UnsSnapshotRecord, ReadsVersionTwo) {
  std::string v2 = encode_snapshot_record(sample()).substr(0, v2_size());
  v2[0] = 2;
  auto back = decode_snapshot_record(v2);
  ASSERT_TRUE(back);
  EXPECT_EQ(*back, sample());
  EXPECT_FALSE(decode_snapshot_record(v2 + "x"));
}

// A record written before the rates, user properties and schema history
// were kept is still read; those start afresh.
TEST(UnsSnapshotRecord, ReadsVersionOne) {
  std::string v2 = encode_snapshot_record(sample());
  std::string v1 = v2.substr(0, kV1Size);
  v1[0] = 1;
  auto back = decode_snapshot_record(v1);
  ASSERT_TRUE(back);
  EXPECT_EQ(back->count, 42u);
  EXPECT_EQ(back->publisher, "plc-7");
  EXPECT_TRUE(back->versions.empty());
  EXPECT_TRUE(back->properties.empty());
  EXPECT_EQ(back->rate_per_s, 0);
  EXPECT_FALSE(decode_snapshot_record(v1 + "x"));
}

TEST(UnsSnapshotRecord, RefusesDamagedRecords) {
  std::string good = encode_snapshot_record(sample());
  // Every cut is refused, and so are bytes left over.
  for (std::size_t n = 0; n < good.size(); ++n) EXPECT_FALSE(decode_snapshot_record(good.substr(0, n))) << n;
  EXPECT_FALSE(decode_snapshot_record(good + "x"));
  std::string other_version = good;
  other_version[0] = 4;
  EXPECT_FALSE(decode_snapshot_record(other_version));
  std::string bad_qos = good;
  bad_qos[1 + 32 + 4] = 3;
  EXPECT_FALSE(decode_snapshot_record(bad_qos));
  std::string bad_flags = good;
  bad_flags[1 + 32 + 4 + 2] = 4;
  EXPECT_FALSE(decode_snapshot_record(bad_flags));
  std::string long_value = good;
  long_value[1 + 32 + 4 + 3 + 3] = 0x7F;  // the value's length far past the end
  EXPECT_FALSE(decode_snapshot_record(long_value));
  SnapshotTopic backwards = sample();
  backwards.first_ms = backwards.last_ms + 1;
  EXPECT_FALSE(decode_snapshot_record(encode_snapshot_record(backwards)));
  SnapshotTopic bad_current = sample();
  bad_current.current = 2;  // only versions 0 and 1
  EXPECT_FALSE(decode_snapshot_record(encode_snapshot_record(bad_current)));
  SnapshotTopic too_many = sample();
  too_many.versions.resize(kSnapshotMaxVersions + 1);
  EXPECT_FALSE(decode_snapshot_record(encode_snapshot_record(too_many)));
  SnapshotTopic version_backwards = sample();
  version_backwards.versions[0].first_ms = version_backwards.versions[0].last_ms + 1;
  EXPECT_FALSE(decode_snapshot_record(encode_snapshot_record(version_backwards)));
  std::string many_props = good;
  many_props[kV1Size + 24] = '\x7F';  // a user property count far past the end
  EXPECT_FALSE(decode_snapshot_record(many_props));
  std::string full = encode_snapshot_record(sample3());
  for (std::size_t n = 0; n < full.size(); ++n) EXPECT_FALSE(decode_snapshot_record(full.substr(0, n))) << n;
  std::string bad_prop_flags = good;
  bad_prop_flags[v2_size()] = 32;
  EXPECT_FALSE(decode_snapshot_record(bad_prop_flags));
  std::string bad_violation_flag = good;
  bad_violation_flag[v2_size() + 1] = 2;
  EXPECT_FALSE(decode_snapshot_record(bad_violation_flag));
  SnapshotTopic bad_kind = sample3();
  bad_kind.last_violation->kind = kSnapshotKinds;
  EXPECT_FALSE(decode_snapshot_record(encode_snapshot_record(bad_kind)));
  SnapshotTopic bad_action = sample3();
  bad_action.last_violation->action = kSnapshotActions;
  EXPECT_FALSE(decode_snapshot_record(encode_snapshot_record(bad_action)));
}

}  // namespace
}  // namespace strata::uns
