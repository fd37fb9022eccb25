// The store's record layouts (broker/store/records.hpp): round trips, and
// every truncation of a record is reported as undecodable, never misread.
#include "broker/store/records.hpp"

#include <gtest/gtest.h>

namespace strata::store {
namespace {

using protocol::QoS;

router::MessagePtr message() {
  auto m = router::Message::make("plant/line1/temp", std::string("21.5\0x", 6));
  m->qos = QoS::exactly_once;
  m->retain = true;
  m->expires_at_ms = 1'790'000'000'123;
  m->publisher = "plc-7";
  protocol::Properties& p = m->properties.edit();
  p.content_type = "text/plain";
  p.correlation_data = std::string("\x01\x02", 2);
  p.user_properties = {{"unit", "C"}, {"unit", "K"}};
  p.payload_format_indicator = 1;
  return m;
}

session::Session session_with_state() {
  auto h = std::make_shared<session::SessionHandle>("client-1", 1, 0);
  session::Session s(h, protocol::Version::v311);
  s.expiry_interval = 3600;
  s.username = "operator";
  protocol::Will w;
  w.topic = "will/t";
  w.payload = "gone";
  w.qos = QoS::at_least_once;
  w.retain = true;
  w.properties.will_delay_interval = 30;
  w.properties.content_type = "text/plain";
  s.will = w;
  session::StoredSubscription a;
  a.options.max_qos = QoS::exactly_once;
  a.options.no_local = true;
  a.options.retain_handling = 2;
  a.identifier = 77;
  s.subscriptions["$share/g/plant/#"] = a;
  session::StoredSubscription b;
  b.options.retain_as_published = true;
  s.subscriptions["a/+/b"] = b;
  return s;
}

TEST(StoreRecords, SessionRoundTrip) {
  session::Session s = session_with_state();
  std::string v = encode_session(s, 1234567);
  SessionRecord r;
  ASSERT_TRUE(decode_session("client-1", v, r));
  EXPECT_EQ(r.client_id, "client-1");
  EXPECT_EQ(r.version, protocol::Version::v311);
  EXPECT_EQ(r.expiry_interval, 3600u);
  EXPECT_EQ(r.deadline_ms, 1234567u);
  EXPECT_EQ(r.username, "operator");
  ASSERT_TRUE(r.will);
  EXPECT_EQ(*r.will, *s.will);
  ASSERT_EQ(r.subscriptions.size(), 2u);
  EXPECT_EQ(r.subscriptions[0].first, "$share/g/plant/#");
  EXPECT_EQ(r.subscriptions[0].second.options, s.subscriptions["$share/g/plant/#"].options);
  EXPECT_EQ(r.subscriptions[0].second.identifier, 77u);
  EXPECT_EQ(r.subscriptions[1].first, "a/+/b");
  EXPECT_TRUE(r.subscriptions[1].second.options.retain_as_published);
}

TEST(StoreRecords, DeliveryRoundTrip) {
  session::Delivery d;
  d.msg = message();
  d.qos = QoS::at_least_once;
  d.retain = true;
  d.identifiers = {3, 70000};
  d.share_group = "g";
  d.share_filter = "plant/#";
  std::string v = encode_delivery(d, 1, 4711);
  DeliveryRecord r;
  r.seq = 9;
  ASSERT_TRUE(decode_delivery(v, r));
  EXPECT_EQ(r.state, 1);
  EXPECT_EQ(r.packet_id, 4711);
  EXPECT_EQ(r.delivery.seq, 9u);
  EXPECT_EQ(r.delivery.qos, QoS::at_least_once);
  EXPECT_TRUE(r.delivery.retain);
  EXPECT_EQ(r.delivery.identifiers, d.identifiers);
  EXPECT_EQ(r.delivery.share_group, "g");
  EXPECT_EQ(r.delivery.share_filter, "plant/#");
  const router::Message& m = *r.delivery.msg;
  EXPECT_EQ(m.topic, d.msg->topic);
  EXPECT_EQ(m.payload, d.msg->payload);
  EXPECT_EQ(m.qos, d.msg->qos);
  EXPECT_EQ(m.retain, d.msg->retain);
  EXPECT_EQ(m.expires_at_ms, d.msg->expires_at_ms);
  EXPECT_EQ(m.publisher, d.msg->publisher);
  EXPECT_EQ(m.properties, d.msg->properties);
}

TEST(StoreRecords, AwaitingPubcompHasNoMessage) {
  session::Delivery d;
  d.msg = message();
  d.qos = QoS::exactly_once;
  std::string v = encode_delivery(d, 3, 12);
  EXPECT_LT(v.size(), 40u);
  DeliveryRecord r;
  ASSERT_TRUE(decode_delivery(v, r));
  EXPECT_EQ(r.state, 3);
  EXPECT_EQ(r.packet_id, 12);
  EXPECT_EQ(r.delivery.msg, nullptr);
}

TEST(StoreRecords, LargePayloadBeyondTwoByteLengths) {
  auto m = router::Message::copy(*message(), message()->topic, std::string(200000, 'p'));
  auto back = decode_message(encode_message(*m));
  ASSERT_TRUE(back);
  EXPECT_EQ(back->payload, m->payload);
}

TEST(StoreRecords, EveryTruncationIsUndecodable) {
  session::Session s = session_with_state();
  std::string sv = encode_session(s, 1);
  for (std::size_t n = 0; n < sv.size(); ++n) {
    SessionRecord r;
    EXPECT_FALSE(decode_session("c", std::string_view(sv).substr(0, n), r)) << n;
  }
  session::Delivery d;
  d.msg = message();
  d.qos = QoS::at_least_once;
  std::string dv = encode_delivery(d, 0, 0);
  for (std::size_t n = 0; n < dv.size(); ++n) {
    DeliveryRecord r;
    EXPECT_FALSE(decode_delivery(std::string_view(dv).substr(0, n), r)) << n;
  }
  // And trailing garbage is not ignored.
  DeliveryRecord r;
  EXPECT_FALSE(decode_delivery(dv + "x", r));
}

TEST(StoreRecords, KeysGroupASessionsRecords) {
  std::string k = message_key("abc", 0x0102030405060708ull);
  EXPECT_EQ(k, std::string("abc\0\x01\x02\x03\x04\x05\x06\x07\x08", 12));
  EXPECT_EQ(k.rfind(session_prefix("abc"), 0), 0u);
  EXPECT_NE(message_key("abcd", 1).rfind(session_prefix("abc"), 0), 0u);  // "abcd" is not under "abc"
  std::string_view id, tail;
  const std::string key = qos2_key("abc", 513);  // the views point into it
  ASSERT_TRUE(split_key(key, id, tail));
  EXPECT_EQ(id, "abc");
  EXPECT_EQ(read_u64(tail), 513u);
  // Sequence numbers sort numerically as keys.
  EXPECT_LT(message_key("a", 255), message_key("a", 256));
}

}  // namespace
}  // namespace strata::store
