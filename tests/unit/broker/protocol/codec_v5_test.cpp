// MQTT 5.0 wire examples: every packet type encoded byte by byte and decoded
// back, including the short forms of acknowledgements, DISCONNECT and AUTH.
#include "codec_test_util.hpp"

namespace strata::protocol::test {
namespace {

constexpr auto v5 = Version::v5;

TEST(CodecV5, ConnectWithWillCredentialsAndProperties) {
  Connect c;
  c.client_id = "abc";
  c.keep_alive = 60;
  c.clean_start = true;
  c.properties.session_expiry_interval = 3600;
  c.properties.receive_maximum = 20;
  Will w;
  w.topic = "w";
  w.payload = "bye";
  w.qos = QoS::at_least_once;
  w.retain = true;
  w.properties.will_delay_interval = 5;
  c.will = w;
  c.username = "u";
  c.password = "p";
  expect_wire(c, v5,
              {
                  0x10, 0x2C,                    // fixed header: CONNECT, remaining length 44
                  0x00, 0x04, 'M', 'Q', 'T', 'T',  // protocol name
                  0x05,                          // protocol level 5
                  0xEE,  // flags: user name, password, will retain, will QoS 1, will, clean start
                  0x00, 0x3C,                    // keep alive 60
                  0x08,                          // property length 8
                  0x11, 0x00, 0x00, 0x0E, 0x10,  // session expiry interval 3600
                  0x21, 0x00, 0x14,              // receive maximum 20
                  0x00, 0x03, 'a', 'b', 'c',     // client identifier
                  0x05,                          // will property length 5
                  0x18, 0x00, 0x00, 0x00, 0x05,  // will delay interval 5
                  0x00, 0x01, 'w',               // will topic
                  0x00, 0x03, 'b', 'y', 'e',     // will payload
                  0x00, 0x01, 'u',               // user name
                  0x00, 0x01, 'p',               // password
              });
}

TEST(CodecV5, MinimalConnect) {
  Connect c;
  c.clean_start = false;
  expect_wire(c, v5,
              {
                  0x10, 0x0D,                      // fixed header: CONNECT
                  0x00, 0x04, 'M', 'Q', 'T', 'T',  // protocol name
                  0x05,                            // protocol level 5
                  0x00,                            // flags: none
                  0x00, 0x00,                      // keep alive 0
                  0x00,                            // property length 0
                  0x00, 0x00,                      // empty client identifier
              });
}

TEST(CodecV5, PasswordWithoutUserNameIsAllowed) {
  Connect c;
  c.password = std::string("\x00\xFF", 2);
  expect_wire(c, v5,
              {
                  0x10, 0x11,                      // fixed header: CONNECT
                  0x00, 0x04, 'M', 'Q', 'T', 'T',  // protocol name
                  0x05,                            // protocol level 5
                  0x42,                            // flags: password, clean start
                  0x00, 0x00,                      // keep alive 0
                  0x00,                            // property length 0
                  0x00, 0x00,                      // empty client identifier
                  0x00, 0x02, 0x00, 0xFF,          // password (binary)
              });
}

TEST(CodecV5, Connack) {
  Connack c;
  c.session_present = true;
  c.properties.assigned_client_identifier = "id";
  c.properties.topic_alias_maximum = 10;
  expect_wire(c, v5,
              {
                  0x20, 0x0B,                    // fixed header: CONNACK
                  0x01,                          // acknowledge flags: session present
                  0x00,                          // reason: success
                  0x08,                          // property length 8
                  0x12, 0x00, 0x02, 'i', 'd',    // assigned client identifier
                  0x22, 0x00, 0x0A,              // topic alias maximum 10
              });
}

TEST(CodecV5, ConnackRefused) {
  Connack c;
  c.reason = ReasonCode::bad_user_name_or_password;
  c.properties.reason_string = "no";
  expect_wire(c, v5,
              {
                  0x20, 0x08,              // fixed header: CONNACK
                  0x00,                    // acknowledge flags: none
                  0x86,                    // reason: bad user name or password
                  0x05,                    // property length 5
                  0x1F, 0x00, 0x02, 'n', 'o',  // reason string
              });
}

TEST(CodecV5, PublishQos1WithProperties) {
  Publish p;
  p.topic = "a/b";
  p.payload = "hi";
  p.qos = QoS::at_least_once;
  p.retain = true;
  p.dup = true;
  p.packet_id = 10;
  p.properties.payload_format_indicator = 1;
  p.properties.user_properties = {{"k", "v"}};
  expect_wire(p, v5,
              {
                  0x3B, 0x13,                    // fixed header: PUBLISH DUP, QoS 1, RETAIN
                  0x00, 0x03, 'a', '/', 'b',     // topic
                  0x00, 0x0A,                    // packet identifier 10
                  0x09,                          // property length 9
                  0x01, 0x01,                    // payload format indicator: UTF-8
                  0x26, 0x00, 0x01, 'k', 0x00, 0x01, 'v',  // user property k=v
                  'h', 'i',                      // payload
              });
}

TEST(CodecV5, PublishQos0EmptyTopicWithAlias) {
  Publish p;
  p.properties.topic_alias = 3;
  p.payload = "x";
  expect_wire(p, v5,
              {
                  0x30, 0x07,        // fixed header: PUBLISH QoS 0
                  0x00, 0x00,        // empty topic (an alias stands in)
                  0x03,              // property length 3
                  0x23, 0x00, 0x03,  // topic alias 3
                  'x',               // payload
              });
}

TEST(CodecV5, PublishQos2ManySubscriptionIdentifiers) {
  Publish p;
  p.topic = "t";
  p.qos = QoS::exactly_once;
  p.packet_id = 1;
  p.properties.subscription_identifiers = {1, 300};
  expect_wire(p, v5,
              {
                  0x34, 0x0B,        // fixed header: PUBLISH QoS 2
                  0x00, 0x01, 't',   // topic
                  0x00, 0x01,        // packet identifier 1
                  0x05,              // property length 5
                  0x0B, 0x01,        // subscription identifier 1
                  0x0B, 0xAC, 0x02,  // subscription identifier 300 (two byte varint)
                  // empty payload
              });
}

TEST(CodecV5, PubackShortForm) {
  expect_wire(Ack{PacketType::puback, 7, ReasonCode::success, {}}, v5,
              {
                  0x40, 0x02,  // fixed header: PUBACK
                  0x00, 0x07,  // packet identifier 7 (success, no properties: omitted)
              });
}

TEST(CodecV5, PubackReasonOnly) {
  expect_wire(Ack{PacketType::puback, 7, ReasonCode::no_matching_subscribers, {}}, v5,
              {
                  0x40, 0x03,  // fixed header: PUBACK
                  0x00, 0x07,  // packet identifier 7
                  0x10,        // reason: no matching subscribers (no property length)
              });
}

TEST(CodecV5, PubrecWithReasonString) {
  Ack a{PacketType::pubrec, 7, ReasonCode::unspecified_error, {}};
  a.properties.reason_string = "no";
  expect_wire(a, v5,
              {
                  0x50, 0x09,                  // fixed header: PUBREC
                  0x00, 0x07,                  // packet identifier 7
                  0x80,                        // reason: unspecified error
                  0x05,                        // property length 5
                  0x1F, 0x00, 0x02, 'n', 'o',  // reason string
              });
}

TEST(CodecV5, PubrelAndPubcomp) {
  expect_wire(Ack{PacketType::pubrel, 1, ReasonCode::success, {}}, v5,
              {
                  0x62, 0x02,  // fixed header: PUBREL (flags 0b0010)
                  0x00, 0x01,  // packet identifier 1
              });
  expect_wire(Ack{PacketType::pubcomp, 1, ReasonCode::packet_identifier_not_found, {}}, v5,
              {
                  0x70, 0x03,  // fixed header: PUBCOMP
                  0x00, 0x01,  // packet identifier 1
                  0x92,        // reason: packet identifier not found
              });
}

TEST(CodecV5, AckWithReasonAndEmptyPropertiesDecodes) {
  // Remaining length 4 with a property length of 0 is the long form.
  expect_decodes_to({0x40, 0x04, 0x00, 0x07, 0x00, 0x00}, v5,
                    Ack{PacketType::puback, 7, ReasonCode::success, {}});
  // Remaining length 3, reason success: also a valid encoding.
  expect_decodes_to({0x40, 0x03, 0x00, 0x07, 0x00}, v5,
                    Ack{PacketType::puback, 7, ReasonCode::success, {}});
}

TEST(CodecV5, Subscribe) {
  Subscribe s;
  s.packet_id = 1;
  s.properties.subscription_identifiers = {5};
  s.entries.push_back({"a/#", {QoS::at_least_once, true, true, 2}});
  s.entries.push_back({"b", {QoS::exactly_once, false, false, 0}});
  expect_wire(s, v5,
              {
                  0x82, 0x0F,                    // fixed header: SUBSCRIBE (flags 0b0010)
                  0x00, 0x01,                    // packet identifier 1
                  0x02,                          // property length 2
                  0x0B, 0x05,                    // subscription identifier 5
                  0x00, 0x03, 'a', '/', '#',     // filter a/#
                  0x2D,  // options: retain handling 2, retain as published, no local, QoS 1
                  0x00, 0x01, 'b',               // filter b
                  0x02,                          // options: QoS 2
              });
}

TEST(CodecV5, Suback) {
  Suback s;
  s.packet_id = 1;
  s.reasons = {ReasonCode::granted_qos1, ReasonCode::not_authorized};
  expect_wire(s, v5,
              {
                  0x90, 0x05,  // fixed header: SUBACK
                  0x00, 0x01,  // packet identifier 1
                  0x00,        // property length 0
                  0x01,        // granted QoS 1
                  0x87,        // not authorized
              });
}

TEST(CodecV5, Unsubscribe) {
  Unsubscribe u;
  u.packet_id = 2;
  u.filters = {"a", "b/c"};
  expect_wire(u, v5,
              {
                  0xA2, 0x0B,                 // fixed header: UNSUBSCRIBE (flags 0b0010)
                  0x00, 0x02,                 // packet identifier 2
                  0x00,                       // property length 0
                  0x00, 0x01, 'a',            // filter a
                  0x00, 0x03, 'b', '/', 'c',  // filter b/c
              });
}

TEST(CodecV5, Unsuback) {
  Unsuback u;
  u.packet_id = 2;
  u.reasons = {ReasonCode::success, ReasonCode::no_subscription_existed};
  expect_wire(u, v5,
              {
                  0xB0, 0x05,  // fixed header: UNSUBACK
                  0x00, 0x02,  // packet identifier 2
                  0x00,        // property length 0
                  0x00,        // success
                  0x11,        // no subscription existed
              });
}

TEST(CodecV5, Ping) {
  expect_wire(Pingreq{}, v5, {0xC0, 0x00});   // fixed header: PINGREQ
  expect_wire(Pingresp{}, v5, {0xD0, 0x00});  // fixed header: PINGRESP
}

TEST(CodecV5, DisconnectForms) {
  expect_wire(Disconnect{}, v5, {0xE0, 0x00});  // normal disconnection: remaining length 0
  expect_wire(Disconnect{ReasonCode::disconnect_with_will, {}}, v5,
              {
                  0xE0, 0x01,  // fixed header: DISCONNECT
                  0x04,        // reason: disconnect with will message
              });
  Disconnect d;
  d.properties.session_expiry_interval = 0;
  expect_wire(d, v5,
              {
                  0xE0, 0x07,                    // fixed header: DISCONNECT
                  0x00,                          // reason: normal disconnection
                  0x05,                          // property length 5
                  0x11, 0x00, 0x00, 0x00, 0x00,  // session expiry interval 0
              });
}

TEST(CodecV5, AuthForms) {
  expect_wire(Auth{}, v5, {0xF0, 0x00});  // success without properties: remaining length 0
  Auth a;
  a.reason = ReasonCode::continue_authentication;
  a.properties.authentication_method = "SCRAM";
  a.properties.authentication_data = std::string("\x01\x02", 2);
  expect_wire(a, v5,
              {
                  0xF0, 0x0F,                                // fixed header: AUTH
                  0x18,                                      // reason: continue authentication
                  0x0D,                                      // property length 13
                  0x15, 0x00, 0x05, 'S', 'C', 'R', 'A', 'M',  // authentication method
                  0x16, 0x00, 0x02, 0x01, 0x02,              // authentication data
              });
}

TEST(CodecV5, EveryPropertyRoundTripsWhereAllowed) {
  Connack c;
  c.properties.session_expiry_interval = 1;
  c.properties.receive_maximum = 2;
  c.properties.maximum_qos = 1;
  c.properties.retain_available = 0;
  c.properties.maximum_packet_size = 1000;
  c.properties.assigned_client_identifier = "x";
  c.properties.topic_alias_maximum = 3;
  c.properties.reason_string = "r";
  c.properties.user_properties = {{"a", "b"}, {"a", "c"}};
  c.properties.wildcard_subscription_available = 1;
  c.properties.subscription_identifier_available = 0;
  c.properties.shared_subscription_available = 1;
  c.properties.server_keep_alive = 30;
  c.properties.response_information = "ri";
  c.properties.server_reference = "sr";
  c.properties.authentication_method = "m";
  c.properties.authentication_data = "d";
  const Bytes b = encode_bytes(c, v5);
  EXPECT_EQ(b.size(), encoded_size(c, v5));
  expect_decodes_to(b, v5, c);

  Publish p;
  p.topic = "t";
  p.properties.payload_format_indicator = 0;
  p.properties.message_expiry_interval = 60;
  p.properties.content_type = "json";
  p.properties.response_topic = "r/t";
  p.properties.correlation_data = std::string("\x00\x01", 2);
  p.properties.topic_alias = 1;
  p.properties.subscription_identifiers = {7, 268'435'455};
  p.properties.user_properties = {{"", ""}};
  expect_decodes_to(encode_bytes(p, v5), v5, p);

  Connect cn;
  cn.properties.request_problem_information = 0;
  cn.properties.request_response_information = 1;
  cn.properties.maximum_packet_size = 1;
  cn.properties.topic_alias_maximum = 0;
  cn.will = Will{};
  cn.will->properties.message_expiry_interval = 9;
  cn.will->properties.content_type = "c";
  cn.will->properties.response_topic = "rt";
  cn.will->properties.correlation_data = "cd";
  cn.will->properties.payload_format_indicator = 1;
  expect_decodes_to(encode_bytes(cn, v5), v5, cn);
}

TEST(CodecV5, EncoderDropsPropertiesNotAllowedInThePacket) {
  Ack a{PacketType::puback, 1, ReasonCode::success, {}};
  a.properties.topic_alias = 4;  // not a PUBACK property
  expect_wire(Ack{PacketType::puback, 1, ReasonCode::success, {}}, v5, encode_bytes(a, v5));
  EXPECT_EQ(encode_bytes(a, v5), (Bytes{0x40, 0x02, 0x00, 0x01}));
}

TEST(CodecV5, DecodesOnePacketFromTheFrontOfABuffer) {
  const Bytes two = {0xC0, 0x00, 0xD0, 0x00};  // PINGREQ then PINGRESP
  const DecodeResult r = decode_bytes(two, v5);
  ASSERT_EQ(r.status, DecodeStatus::ok);
  EXPECT_EQ(r.consumed, 2u);
  EXPECT_TRUE(std::holds_alternative<Pingreq>(r.packet));
}

TEST(CodecV5, LargePublishUsesFourByteRemainingLength) {
  Publish p;
  p.topic = "t";
  p.payload.assign(2'097'152, 'x');  // + topic 3 + property length 1: needs 4 bytes
  const Bytes b = encode_bytes(p, v5);
  ASSERT_EQ(b.size(), encoded_size(p, v5));
  EXPECT_EQ(b[0], 0x30);  // fixed header: PUBLISH QoS 0
  EXPECT_EQ((Bytes{b[1], b[2], b[3], b[4]}), (Bytes{0x84, 0x80, 0x80, 0x01}));  // 2,097,156
  const DecodeResult r = decode_bytes(b, v5, 4u << 20);
  ASSERT_EQ(r.status, DecodeStatus::ok) << r.error_text;
  EXPECT_TRUE(r.packet == Packet{p});
}

}  // namespace
}  // namespace strata::protocol::test
