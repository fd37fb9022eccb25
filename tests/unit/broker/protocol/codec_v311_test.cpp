// MQTT 3.1.1 wire examples: every packet type encoded byte by byte and
// decoded back. 3.1.1 has no properties and no reason codes outside
// CONNACK and SUBACK, so the encoder drops them and maps what it must.
#include "codec_test_util.hpp"

namespace strata::protocol::test {
namespace {

constexpr auto v311 = Version::v311;

TEST(CodecV311, ConnectWithWillAndCredentials) {
  Connect c;
  c.version = Version::v311;
  c.client_id = "abc";
  c.keep_alive = 60;
  Will w;
  w.topic = "w";
  w.payload = "bye";
  w.qos = QoS::at_least_once;
  w.retain = true;
  c.will = w;
  c.username = "u";
  c.password = "p";
  expect_wire(c, v311,
              {
                  0x10, 0x1D,                      // fixed header: CONNECT, remaining length 29
                  0x00, 0x04, 'M', 'Q', 'T', 'T',  // protocol name
                  0x04,                            // protocol level 4
                  0xEE,  // flags: user name, password, will retain, will QoS 1, will, clean session
                  0x00, 0x3C,                 // keep alive 60
                  0x00, 0x03, 'a', 'b', 'c',  // client identifier
                  0x00, 0x01, 'w',            // will topic
                  0x00, 0x03, 'b', 'y', 'e',  // will message
                  0x00, 0x01, 'u',            // user name
                  0x00, 0x01, 'p',            // password
              });
}

TEST(CodecV311, ConnectDropsProperties) {
  Connect c;
  c.version = Version::v311;
  c.client_id = "a";
  c.properties.session_expiry_interval = 10;  // 5.0 only: not written
  Connect plain = c;
  plain.properties = {};
  EXPECT_EQ(encode_bytes(c, v311),
            (Bytes{
                0x10, 0x0D,                      // fixed header: CONNECT
                0x00, 0x04, 'M', 'Q', 'T', 'T',  // protocol name
                0x04,                            // protocol level 4
                0x02,                            // flags: clean session
                0x00, 0x00,                      // keep alive 0
                0x00, 0x01, 'a',                 // client identifier
            }));
  expect_decodes_to(encode_bytes(c, v311), v311, plain);
}

TEST(CodecV311, ConnectIsDecodedByItsOwnLevel) {
  // A 3.1.1 CONNECT decodes as 3.1.1 even on a connection assumed to be 5.0.
  const Bytes b = {
      0x10, 0x0C,                      // fixed header: CONNECT
      0x00, 0x04, 'M', 'Q', 'T', 'T',  // protocol name
      0x04,                            // protocol level 4
      0x02,                            // flags: clean session
      0x00, 0x0A,                      // keep alive 10
      0x00, 0x00,                      // empty client identifier
  };
  const DecodeResult r = decode_bytes(b, Version::v5);
  ASSERT_EQ(r.status, DecodeStatus::ok) << r.error_text;
  EXPECT_EQ(r.version, Version::v311);
  const auto& c = std::get<Connect>(r.packet);
  EXPECT_EQ(c.version, Version::v311);
  EXPECT_EQ(c.keep_alive, 10);
  EXPECT_TRUE(c.clean_start);
}

TEST(CodecV311, ConnackUsesReturnCodes) {
  Connack ok;
  ok.session_present = true;
  expect_wire(ok, v311,
              {
                  0x20, 0x02,  // fixed header: CONNACK
                  0x01,        // acknowledge flags: session present
                  0x00,        // return code: accepted
              });
  const std::pair<ReasonCode, std::uint8_t> cases[] = {
      {ReasonCode::unsupported_protocol_version, 0x01},
      {ReasonCode::client_identifier_not_valid, 0x02},
      {ReasonCode::server_unavailable, 0x03},
      {ReasonCode::bad_user_name_or_password, 0x04},
      {ReasonCode::not_authorized, 0x05},
  };
  for (const auto& [reason, code] : cases) {
    Connack c;
    c.reason = reason;
    expect_wire(c, v311, {0x20, 0x02, 0x00, code});  // CONNACK, flags, return code
  }
}

TEST(CodecV311, ConnackMapsOtherReasonsAndDropsProperties) {
  Connack c;
  c.reason = ReasonCode::banned;
  c.properties.reason_string = "go away";
  EXPECT_EQ(encode_bytes(c, v311), (Bytes{
                                       0x20, 0x02,  // fixed header: CONNACK
                                       0x00,        // acknowledge flags
                                       0x05,        // return code: not authorized
                                   }));
  c.reason = ReasonCode::server_busy;
  EXPECT_EQ(encode_bytes(c, v311), (Bytes{0x20, 0x02, 0x00, 0x03}));  // server unavailable
  c.reason = ReasonCode::bad_authentication_method;
  EXPECT_EQ(encode_bytes(c, v311), (Bytes{0x20, 0x02, 0x00, 0x04}));  // bad user name/password
}

TEST(CodecV311, Publish) {
  Publish p;
  p.topic = "t";
  p.payload = "x";
  expect_wire(p, v311,
              {
                  0x30, 0x04,       // fixed header: PUBLISH QoS 0
                  0x00, 0x01, 't',  // topic
                  'x',              // payload
              });
  Publish q;
  q.topic = "a/b";
  q.payload = "hi";
  q.qos = QoS::exactly_once;
  q.dup = true;
  q.retain = true;
  q.packet_id = 0x1234;
  expect_wire(q, v311,
              {
                  0x3D, 0x09,                 // fixed header: PUBLISH DUP, QoS 2, RETAIN
                  0x00, 0x03, 'a', '/', 'b',  // topic
                  0x12, 0x34,                 // packet identifier 0x1234
                  'h', 'i',                   // payload
              });
}

TEST(CodecV311, PublishDropsProperties) {
  Publish p;
  p.topic = "t";
  p.qos = QoS::at_least_once;
  p.packet_id = 1;
  p.properties.message_expiry_interval = 5;
  EXPECT_EQ(encode_bytes(p, v311), (Bytes{
                                       0x32, 0x05,       // fixed header: PUBLISH QoS 1
                                       0x00, 0x01, 't',  // topic
                                       0x00, 0x01,       // packet identifier 1
                                   }));
}

TEST(CodecV311, Acks) {
  expect_wire(Ack{PacketType::puback, 7, ReasonCode::success, {}}, v311,
              {0x40, 0x02, 0x00, 0x07});  // PUBACK, packet identifier 7
  expect_wire(Ack{PacketType::pubrec, 7, ReasonCode::success, {}}, v311,
              {0x50, 0x02, 0x00, 0x07});  // PUBREC, packet identifier 7
  expect_wire(Ack{PacketType::pubrel, 7, ReasonCode::success, {}}, v311,
              {0x62, 0x02, 0x00, 0x07});  // PUBREL (flags 0b0010), packet identifier 7
  expect_wire(Ack{PacketType::pubcomp, 7, ReasonCode::success, {}}, v311,
              {0x70, 0x02, 0x00, 0x07});  // PUBCOMP, packet identifier 7
  // Reason codes and properties do not exist in 3.1.1: always two bytes.
  Ack a{PacketType::puback, 7, ReasonCode::quota_exceeded, {}};
  a.properties.reason_string = "full";
  EXPECT_EQ(encode_bytes(a, v311), (Bytes{0x40, 0x02, 0x00, 0x07}));
}

TEST(CodecV311, Subscribe) {
  Subscribe s;
  s.packet_id = 1;
  s.entries.push_back({"a/#", {QoS::at_least_once, false, false, 0}});
  s.entries.push_back({"b", {QoS::exactly_once, false, false, 0}});
  expect_wire(s, v311,
              {
                  0x82, 0x0C,                 // fixed header: SUBSCRIBE (flags 0b0010)
                  0x00, 0x01,                 // packet identifier 1
                  0x00, 0x03, 'a', '/', '#',  // filter a/#
                  0x01,                       // requested QoS 1
                  0x00, 0x01, 'b',            // filter b
                  0x02,                       // requested QoS 2
              });
}

TEST(CodecV311, SubscribeDropsV5Options) {
  Subscribe s;
  s.packet_id = 1;
  s.properties.subscription_identifiers = {3};
  s.entries.push_back({"a", {QoS::at_least_once, true, true, 2}});
  EXPECT_EQ(encode_bytes(s, v311), (Bytes{
                                       0x82, 0x06,       // fixed header: SUBSCRIBE
                                       0x00, 0x01,       // packet identifier 1
                                       0x00, 0x01, 'a',  // filter a
                                       0x01,             // requested QoS 1 only
                                   }));
}

TEST(CodecV311, SubackMapsErrorsTo0x80) {
  Suback s;
  s.packet_id = 1;
  s.reasons = {ReasonCode::success, ReasonCode::granted_qos2, ReasonCode::not_authorized,
               ReasonCode::topic_filter_invalid};
  s.properties.reason_string = "dropped";
  EXPECT_EQ(encode_bytes(s, v311), (Bytes{
                                       0x90, 0x06,  // fixed header: SUBACK
                                       0x00, 0x01,  // packet identifier 1
                                       0x00,        // granted QoS 0
                                       0x02,        // granted QoS 2
                                       0x80,        // failure
                                       0x80,        // failure
                                   }));
  EXPECT_EQ(encoded_size(s, v311), 8u);
  Suback decoded;
  decoded.packet_id = 1;
  decoded.reasons = {ReasonCode::success, ReasonCode::granted_qos2,
                     ReasonCode::unspecified_error, ReasonCode::unspecified_error};
  expect_wire(decoded, v311, encode_bytes(s, v311));
}

TEST(CodecV311, Unsubscribe) {
  Unsubscribe u;
  u.packet_id = 2;
  u.filters = {"a", "b/c"};
  expect_wire(u, v311,
              {
                  0xA2, 0x0A,                 // fixed header: UNSUBSCRIBE (flags 0b0010)
                  0x00, 0x02,                 // packet identifier 2
                  0x00, 0x01, 'a',            // filter a
                  0x00, 0x03, 'b', '/', 'c',  // filter b/c
              });
}

TEST(CodecV311, UnsubackHasNoPayload) {
  Unsuback u;
  u.packet_id = 2;
  expect_wire(u, v311, {0xB0, 0x02, 0x00, 0x02});  // UNSUBACK, packet identifier 2
  u.reasons = {ReasonCode::no_subscription_existed};
  EXPECT_EQ(encode_bytes(u, v311), (Bytes{0xB0, 0x02, 0x00, 0x02}));
}

TEST(CodecV311, PingAndDisconnect) {
  expect_wire(Pingreq{}, v311, {0xC0, 0x00});     // PINGREQ
  expect_wire(Pingresp{}, v311, {0xD0, 0x00});    // PINGRESP
  expect_wire(Disconnect{}, v311, {0xE0, 0x00});  // DISCONNECT
  // No reason codes in 3.1.1: DISCONNECT is always empty.
  EXPECT_EQ(encode_bytes(Disconnect{ReasonCode::server_shutting_down, {}}, v311),
            (Bytes{0xE0, 0x00}));
}

TEST(CodecV311, AuthIsNotEncoded) {
  EXPECT_TRUE(encode_bytes(Auth{}, v311).empty());
  EXPECT_EQ(encoded_size(Auth{}, v311), 0u);
}

}  // namespace
}  // namespace strata::protocol::test
