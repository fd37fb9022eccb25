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
  return t;
}

TEST(UnsSnapshotRecord, RoundTrips) {
  std::string bytes = encode_snapshot_record(sample());
  EXPECT_EQ(bytes.size(), 1 + 4 * 8 + 4 + 3 + 4 + 12 + 4 + 5u);
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
  EXPECT_EQ(encode_snapshot_record(*back), bytes);
}

TEST(UnsSnapshotRecord, RefusesDamagedRecords) {
  std::string good = encode_snapshot_record(sample());
  // Every cut is refused, and so are bytes left over.
  for (std::size_t n = 0; n < good.size(); ++n) EXPECT_FALSE(decode_snapshot_record(good.substr(0, n))) << n;
  EXPECT_FALSE(decode_snapshot_record(good + "x"));
  std::string other_version = good;
  other_version[0] = 2;
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
}

}  // namespace
}  // namespace strata::uns
