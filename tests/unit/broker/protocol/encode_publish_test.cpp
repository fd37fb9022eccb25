// encode_publish(): exact bytes, and the same bytes as encode() of the
// equivalent Publish for every combination of the parts that vary.
#include <gtest/gtest.h>

#include <random>

#include "broker/protocol/codec.hpp"
#include "broker/protocol/publish_view.hpp"
#include "tests/unit/broker/protocol/codec_test_util.hpp"

namespace strata::protocol {
namespace {

using test::Bytes;

Bytes view_bytes(const PublishView& v, Version version) {
  std::string out = "prefix";  // appends, leaves what is there
  const std::size_t n = encode_publish(v, version, out);
  EXPECT_EQ(out.substr(0, 6), "prefix");
  EXPECT_EQ(n, out.size() - 6);
  EXPECT_EQ(n, encoded_publish_size(v, version));
  return Bytes(out.begin() + 6, out.end());
}

TEST(EncodePublish, V5WithEveryPublishProperty) {
  Properties app;
  app.payload_format_indicator = 1;
  app.content_type = "js";
  app.user_properties = {{"k", "v"}};
  const std::uint32_t ids[] = {1, 200};
  PublishView v;
  v.topic = "a/b";
  v.payload = "hi";
  v.qos = QoS::at_least_once;
  v.retain = true;
  v.dup = true;
  v.packet_id = 10;
  v.properties = &app;
  v.subscription_identifiers = ids;
  v.message_expiry_interval = 30;
  v.topic_alias = 3;
  const Bytes expected = {
      0x3B, 37,                    // fixed header: PUBLISH QoS 1, DUP, RETAIN; remaining length
      0x00, 0x03, 'a', '/', 'b',   // topic
      0x00, 0x0A,                  // packet id 10
      27,                          // property length
      0x01, 0x01,                  // payload format indicator 1
      0x02, 0x00, 0x00, 0x00, 30,  // message expiry 30
      0x03, 0x00, 0x02, 'j', 's',  // content type "js"
      0x0B, 0x01,                  // subscription identifier 1
      0x0B, 0xC8, 0x01,            // subscription identifier 200 (two-byte varint)
      0x23, 0x00, 0x03,            // topic alias 3
      0x26, 0x00, 0x01, 'k', 0x00, 0x01, 'v',  // user property k=v
      'h', 'i',                    // payload
  };
  EXPECT_EQ(view_bytes(v, Version::v5), expected);
}

TEST(EncodePublish, V311HasNoPropertiesAndQoS0NoPacketIdOrDup) {
  Properties app;
  app.content_type = "ignored in 3.1.1";
  PublishView v;
  v.topic = "t";
  v.payload = "x";
  v.dup = true;  // cleared: QoS 0
  v.packet_id = 7;  // not written: QoS 0
  v.properties = &app;
  const Bytes expected = {
      0x30, 4,              // fixed header: PUBLISH QoS 0; remaining length
      0x00, 0x01, 't',      // topic
      'x',                  // payload
  };
  EXPECT_EQ(view_bytes(v, Version::v311), expected);
}

TEST(EncodePublish, PerDeliveryFieldsInPropertiesAreIgnored) {
  Properties app;
  app.message_expiry_interval = 99;
  app.topic_alias = 9;
  app.subscription_identifiers = {5};
  app.session_expiry_interval = 1;  // not a PUBLISH property at all
  PublishView v;
  v.topic = "t";
  v.properties = &app;
  const Bytes expected = {
      0x30, 4,          // fixed header: PUBLISH QoS 0; remaining length
      0x00, 0x01, 't',  // topic
      0x00,             // no properties
  };
  EXPECT_EQ(view_bytes(v, Version::v5), expected);
}

// Random parts: the view encodes exactly as the Publish holding the same
// values, and decodes back to it.
TEST(EncodePublish, SameBytesAsEncodeOfTheEquivalentPublish) {
  std::mt19937 rng(5);
  auto coin = [&] { return (rng() & 1) != 0; };
  auto text = [&](std::size_t max) {
    std::string s(rng() % (max + 1), 'a');
    for (char& c : s) c = static_cast<char>('a' + rng() % 26);
    return s;
  };
  for (int i = 0; i < 2000; ++i) {
    for (Version version : {Version::v311, Version::v5}) {
      Properties app;
      if (coin()) app.payload_format_indicator = static_cast<std::uint8_t>(rng() % 2);
      if (coin()) app.content_type = text(10);
      if (coin()) app.response_topic = "r/" + text(8);
      if (coin()) app.correlation_data = text(20);
      for (std::size_t n = rng() % 3; n > 0; --n) app.user_properties.emplace_back(text(5), text(5));
      std::vector<std::uint32_t> ids;
      for (std::size_t n = rng() % 3; n > 0; --n) ids.push_back(1 + rng() % 300000);

      Publish p;
      p.qos = static_cast<QoS>(rng() % 3);
      p.retain = coin();
      p.dup = p.qos != QoS::at_most_once && coin();
      p.packet_id = p.qos == QoS::at_most_once ? 0 : static_cast<std::uint16_t>(1 + rng() % 65535);
      p.payload = text(rng() % 4 == 0 ? 300 : 30);
      p.topic = "s/" + text(12);
      PublishView v{p.topic, p.payload, p.qos, p.retain, p.dup, p.packet_id, &app, ids, {}, {}};
      if (version == Version::v5) {
        p.properties = app;
        p.properties.subscription_identifiers = ids;
        if (coin()) v.message_expiry_interval = p.properties.message_expiry_interval = static_cast<std::uint32_t>(rng());
        if (coin()) {
          v.topic_alias = p.properties.topic_alias = static_cast<std::uint16_t>(1 + rng() % 100);
          if (coin()) v.topic = p.topic = "";
        }
      }
      const Bytes got = view_bytes(v, version);
      ASSERT_EQ(got, test::encode_bytes(p, version)) << "case " << i;
      const DecodeResult back = test::decode_bytes(got, version);
      ASSERT_EQ(back.status, DecodeStatus::ok) << back.error_text;
      ASSERT_EQ(std::get<Publish>(back.packet), p);
    }
  }
}

}  // namespace
}  // namespace strata::protocol
