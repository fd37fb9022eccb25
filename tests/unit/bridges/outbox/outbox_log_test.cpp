// Outbox record and key encodings round-trip; damaged bytes are refused.
#include "bridges/outbox/outbox_log.hpp"

#include <gtest/gtest.h>

namespace strata::bridges {
namespace {

TEST(OutboxLog, RecordRoundTrip) {
  Record r;
  r.topic = "plant/a/temp";
  r.payload = std::string("\x00\x01x", 3);
  r.qos = protocol::QoS::exactly_once;
  r.retain = true;
  r.mutable_properties().content_type = "application/json";
  r.mutable_properties().correlation_data = std::string("\x00\xff", 2);
  r.mutable_properties().user_properties = {{"b", "1"}, {"a", "2"}, {"b", "3"}};
  r.expires_at_ms = 123456789;
  r.received_ms = 987654321;
  r.hops = 3;
  r.origin = "edge";
  r.route = 2;
  Record back;
  ASSERT_TRUE(outbox_log::decode_record(outbox_log::encode_record(r), back));
  back.offset = r.offset;
  EXPECT_EQ(back.topic, r.topic);
  EXPECT_EQ(back.payload, r.payload);
  EXPECT_EQ(back.qos, r.qos);
  EXPECT_TRUE(back.retain);
  EXPECT_EQ(back.properties(), r.properties());
  EXPECT_EQ(back.expires_at_ms, r.expires_at_ms);
  EXPECT_EQ(back.received_ms, r.received_ms);
  EXPECT_EQ(back.hops, 3);
  EXPECT_EQ(back.origin, "edge");
  EXPECT_EQ(back.route, 2);
}

// The writer encodes an appended record into a buffer of record_size()
// bytes (LMDB's page): exactly what encode_record() gives, with and
// without properties.
TEST(OutboxLog, WriteRecordFillsExactlyRecordSize) {
  Record plain;
  plain.topic = "plant/a/temp";
  plain.payload = std::string(300, 'p');
  plain.received_ms = 42;
  Record with = plain;
  with.origin = "edge";
  with.mutable_properties().content_type = "text/plain";
  with.mutable_properties().user_properties = {{"k", "v"}};
  for (const Record* r : {&plain, &with}) {
    const std::string encoded = outbox_log::encode_record(*r);
    ASSERT_EQ(outbox_log::record_size(*r), encoded.size());
    std::string buffer(encoded.size() + 1, '\x7f');  // one guard byte past the end
    outbox_log::write_record(*r, buffer.data());
    EXPECT_EQ(buffer.substr(0, encoded.size()), encoded);
    EXPECT_EQ(buffer.back(), '\x7f');
    Record back;
    ASSERT_TRUE(outbox_log::decode_record(encoded, back));
    EXPECT_EQ(back.payload, r->payload);
    EXPECT_EQ(back.properties(), r->properties());
  }
}

TEST(OutboxLog, EmitRouteIsMinusOne) {
  Record r;
  r.topic = "t";
  Record back;
  ASSERT_TRUE(outbox_log::decode_record(outbox_log::encode_record(r), back));
  EXPECT_EQ(back.route, -1);
}

TEST(OutboxLog, TruncatedRecordIsRefused) {
  Record r;
  r.topic = "plant/a";
  r.payload = "12.5";
  std::string bytes = outbox_log::encode_record(r);
  Record back;
  for (std::size_t n = 0; n < bytes.size(); ++n) {
    EXPECT_FALSE(outbox_log::decode_record(std::string_view(bytes).substr(0, n), back)) << n;
  }
}

TEST(OutboxLog, KeysSortByOffsetAndSplit) {
  // name, 0x00, u64 offset big-endian
  EXPECT_EQ(outbox_log::record_key("ab", 0x0102030405060708u), std::string("ab\x00\x01\x02\x03\x04\x05\x06\x07\x08", 11));
  EXPECT_EQ(outbox_log::record_key("", 1), std::string("\x00\x00\x00\x00\x00\x00\x00\x00\x01", 9));
  EXPECT_LT(outbox_log::record_key("f", 255), outbox_log::record_key("f", 256));
  std::uint64_t o = 0;
  EXPECT_TRUE(outbox_log::offset_of(outbox_log::record_key("factory", 77), "factory", o));
  EXPECT_EQ(o, 77u);
  EXPECT_FALSE(outbox_log::offset_of(outbox_log::record_key("factory2", 77), "factory", o));
  std::uint64_t acked = 0;
  EXPECT_TRUE(outbox_log::decode_meta(outbox_log::encode_meta(42), acked));
  EXPECT_EQ(acked, 42u);
}

}  // namespace
}  // namespace strata::bridges
