// Input a server must reject, each with the reason code the 5.0 spec names
// (0x81 malformed packet, 0x82 protocol error, 0x84 unsupported protocol
// version, 0x95 packet too large), and the limits of what it must accept.
#include "codec_test_util.hpp"

namespace strata::protocol::test {
namespace {

constexpr auto v5 = Version::v5;
constexpr auto v311 = Version::v311;
constexpr auto malformed = ReasonCode::malformed_packet;
constexpr auto protocol = ReasonCode::protocol_error;

// A v5 PUBLISH QoS 0 on topic "t" carrying the given property bytes.
Bytes publish_with_properties(const Bytes& props) {
  Bytes b = {0x30, static_cast<std::uint8_t>(3 + 1 + props.size()),  // PUBLISH QoS 0
             0x00, 0x01, 't',                                        // topic
             static_cast<std::uint8_t>(props.size())};               // property length
  b.insert(b.end(), props.begin(), props.end());
  return b;
}

// A v5 CONNECT (client id "c") carrying the given property bytes.
Bytes connect_with_properties(const Bytes& props) {
  Bytes b = {0x10, static_cast<std::uint8_t>(10 + 1 + props.size() + 3),  // CONNECT
             0x00, 0x04, 'M', 'Q', 'T', 'T',                               // protocol name
             0x05,                                                         // level 5
             0x02,                                                         // clean start
             0x00, 0x00,                                                   // keep alive
             static_cast<std::uint8_t>(props.size())};                     // property length
  b.insert(b.end(), props.begin(), props.end());
  b.insert(b.end(), {0x00, 0x01, 'c'});  // client identifier
  return b;
}

// A PUBLISH QoS 0 whose topic is the given bytes.
Bytes publish_with_topic(const Bytes& topic) {
  Bytes b = {0x30, static_cast<std::uint8_t>(2 + topic.size() + 1),  // PUBLISH QoS 0
             0x00, static_cast<std::uint8_t>(topic.size())};          // topic length
  b.insert(b.end(), topic.begin(), topic.end());
  b.push_back(0x00);  // v5: property length 0; v3.1.1: one payload byte
  return b;
}

// ---- fixed header ----------------------------------------------------------

TEST(CodecMalformed, ReservedPacketType0) {
  expect_error({0x00, 0x00}, v5, malformed);
  expect_error({0x00}, v311, malformed);  // known from the first byte alone
}

TEST(CodecMalformed, ReservedFlagBits) {
  expect_error({0x60, 0x02, 0x00, 0x01}, v5, malformed);        // PUBREL flags 0000
  expect_error({0x80, 0x06, 0x00, 0x01, 0x00, 0x01, 'a', 0x00}, v5, malformed);  // SUBSCRIBE
  expect_error({0xA0, 0x05, 0x00, 0x01, 0x00, 0x01, 'a'}, v311, malformed);  // UNSUBSCRIBE
  expect_error({0x41, 0x02, 0x00, 0x01}, v5, malformed);        // PUBACK flags 0001
  expect_error({0x72, 0x02, 0x00, 0x01}, v311, malformed);      // PUBCOMP flags 0010
  expect_error({0xC8}, v5, malformed);                          // PINGREQ flags 1000
  expect_error({0xE2, 0x00}, v5, malformed);                    // DISCONNECT flags 0010
  expect_error({0x11, 0x00}, v5, malformed);                    // CONNECT flags 0001
  expect_error({0x24, 0x02, 0x00, 0x00}, v311, malformed);      // CONNACK flags 0100
  expect_error({0xF1, 0x00}, v5, malformed);                    // AUTH flags 0001
}

TEST(CodecMalformed, PublishQos3) {
  expect_error({0x36}, v5, malformed);  // rejected from the first byte
  expect_error({0x36, 0x05, 0x00, 0x01, 't', 0x00, 0x01}, v311, malformed);
}

TEST(CodecMalformed, PublishQos0WithDup) {
  expect_error({0x38, 0x04, 0x00, 0x01, 't', 0x00}, v5, malformed);
  expect_error({0x38, 0x03, 0x00, 0x01, 't'}, v311, malformed);
}

TEST(CodecMalformed, AuthIsNot311) { expect_error({0xF0, 0x00}, v311, malformed); }

TEST(CodecMalformed, RemainingLengthOverFourBytes) {
  expect_error({0x30, 0xFF, 0xFF, 0xFF, 0xFF}, v5, malformed);  // a fifth byte would follow
  expect_error({0x30, 0x80, 0x80, 0x80, 0x80, 0x01}, v311, malformed);
}

TEST(CodecMalformed, RemainingLengthNotInShortestForm) {
  expect_error({0xC0, 0x80, 0x00}, v5, malformed);  // 0 written in two bytes
  expect_error({0x30, 0x85, 0x80, 0x00, 0x00, 0x01, 't', 0x00, 0x00}, v5, malformed);
}

TEST(CodecMalformed, TrailingBytes) {
  expect_error({0xC0, 0x01, 0x00}, v5, malformed);              // PINGREQ with a body
  expect_error({0xD0, 0x01, 0x00}, v311, malformed);            // PINGRESP with a body
  expect_error({0x40, 0x03, 0x00, 0x01, 0x00}, v311, malformed);  // 3.1.1 PUBACK of 3 bytes
  expect_error({0xE0, 0x01, 0x00}, v311, malformed);            // 3.1.1 DISCONNECT with a body
  expect_error({0xB0, 0x03, 0x00, 0x01, 0x00}, v311, malformed);  // 3.1.1 UNSUBACK payload
  expect_error({0x20, 0x03, 0x00, 0x00, 0x00}, v311, malformed);  // 3.1.1 CONNACK of 3 bytes
  // 5.0 CONNECT followed by a byte after the last field.
  expect_error({0x10, 0x0E, 0x00, 0x04, 'M', 'Q', 'T', 'T', 0x05, 0x02, 0x00, 0x00, 0x00,
                0x00, 0x00, 0xAA},
               v5, malformed);
}

TEST(CodecMalformed, FieldsLongerThanThePacket) {
  expect_error({0x30, 0x02, 0x00, 0x05}, v311, malformed);  // topic length 5, no bytes
  expect_error({0x32, 0x03, 0x00, 0x01, 't'}, v311, malformed);  // QoS 1 without packet id
  expect_error({0x40, 0x01, 0x00}, v5, malformed);          // half a packet identifier
  expect_error({0x40, 0x00}, v5, malformed);                // no packet identifier
  expect_error({0x82, 0x05, 0x00, 0x01, 0x00, 0x01, 'a'}, v311, malformed);  // no options byte
}

// ---- size limits -----------------------------------------------------------

TEST(CodecMalformed, TooLargeFromTheFixedHeaderAlone) {
  // Remaining length 268,435,455: rejected from five bytes, nothing buffered.
  const Bytes header = {0x30, 0xFF, 0xFF, 0xFF, 0x7F};
  const DecodeResult r = decode_bytes(header, v5, 1024);
  ASSERT_EQ(r.status, DecodeStatus::error);
  EXPECT_EQ(r.error, ReasonCode::packet_too_large);
  // Partial length bytes are not enough to tell yet.
  EXPECT_EQ(decode_bytes({0x30, 0xFF}, v5, 1024).status, DecodeStatus::need_more);
}

TEST(CodecMalformed, LimitCountsTheWholePacket) {
  const Bytes ping = {0xC0, 0x00};
  EXPECT_EQ(decode_bytes(ping, v5, 2).status, DecodeStatus::ok);
  const DecodeResult r = decode_bytes(ping, v5, 1);
  ASSERT_EQ(r.status, DecodeStatus::error);
  EXPECT_EQ(r.error, ReasonCode::packet_too_large);
  // PUBLISH announcing 9 body bytes: 11 in all, over a limit of 10.
  const DecodeResult p = decode_bytes({0x30, 0x09}, v311, 10);
  ASSERT_EQ(p.status, DecodeStatus::error);
  EXPECT_EQ(p.error, ReasonCode::packet_too_large);
  EXPECT_EQ(decode_bytes({0x30, 0x08}, v311, 10).status, DecodeStatus::need_more);
}

TEST(CodecMalformed, NeedMoreUntilTheWholePacketIsThere) {
  EXPECT_EQ(decode_bytes({}, v5).status, DecodeStatus::need_more);
  EXPECT_EQ(decode_bytes({0x30}, v5).status, DecodeStatus::need_more);
  EXPECT_EQ(decode_bytes({0x30, 0x80}, v5).status, DecodeStatus::need_more);
  EXPECT_EQ(decode_bytes({0x30, 0x80, 0x01}, v5).status, DecodeStatus::need_more);
  EXPECT_EQ(decode_bytes({0x30, 0x03, 0x00, 0x01}, v5).status, DecodeStatus::need_more);
}

// ---- UTF-8 -----------------------------------------------------------------

TEST(CodecMalformed, Utf8Rules) {
  for (Version v : {v5, v311}) {
    expect_error(publish_with_topic({'a', 0x00}), v, malformed);        // U+0000
    expect_error(publish_with_topic({0xED, 0xA0, 0x80}), v, malformed);  // surrogate U+D800
    expect_error(publish_with_topic({0xED, 0xBF, 0xBF}), v, malformed);  // surrogate U+DFFF
    expect_error(publish_with_topic({0xC0, 0xAF}), v, malformed);        // overlong '/'
    expect_error(publish_with_topic({0xC1, 0xBF}), v, malformed);        // overlong
    expect_error(publish_with_topic({0xE0, 0x80, 0xAF}), v, malformed);  // overlong '/'
    expect_error(publish_with_topic({0xF0, 0x80, 0x80, 0xAF}), v, malformed);  // overlong
    expect_error(publish_with_topic({0xF4, 0x90, 0x80, 0x80}), v, malformed);  // > U+10FFFF
    expect_error(publish_with_topic({0xE2, 0x82}), v, malformed);        // cut sequence
    expect_error(publish_with_topic({0x80}), v, malformed);              // lone continuation
    expect_error(publish_with_topic({0xF8, 0x88, 0x80, 0x80, 0x80}), v, malformed);  // 5 bytes
    expect_error(publish_with_topic({0xFF}), v, malformed);
  }
}

TEST(CodecMalformed, Utf8AcceptsWhatTheSpecAllows) {
  for (Version v : {v5, v311}) {
    // é, €, U+1F600, U+FFFF (non-character), U+0001 and U+007F (controls), U+10FFFF.
    const Bytes topic = {0xC3, 0xA9, 0xE2, 0x82, 0xAC, 0xF0, 0x9F, 0x98, 0x80, 0xEF,
                         0xBF, 0xBF, 0x01, 0x7F, 0xF4, 0x8F, 0xBF, 0xBF};
    const DecodeResult r = decode_bytes(publish_with_topic(topic), v);
    ASSERT_EQ(r.status, DecodeStatus::ok) << r.error_text;
    EXPECT_EQ(std::get<Publish>(r.packet).topic, std::string(topic.begin(), topic.end()));
  }
}

TEST(CodecMalformed, Utf8CheckedInEveryStringField) {
  // CONNECT client identifier with a surrogate.
  expect_error({0x10, 0x0F, 0x00, 0x04, 'M', 'Q', 'T', 'T', 0x04, 0x02, 0x00, 0x00,
                0x00, 0x03, 0xED, 0xA0, 0x80},
               v311, malformed);
  // CONNECT user name containing U+0000.
  expect_error({0x10, 0x11, 0x00, 0x04, 'M', 'Q', 'T', 'T', 0x05, 0x80, 0x00, 0x00, 0x00,
                0x00, 0x00, 0x00, 0x02, 'u', 0x00},
               v5, malformed);
  // SUBSCRIBE filter with an overlong form.
  expect_error({0x82, 0x07, 0x00, 0x01, 0x00, 0x02, 0xC0, 0xAF, 0x00}, v311, malformed);
  // UNSUBSCRIBE filter with U+0000.
  expect_error({0xA2, 0x06, 0x00, 0x01, 0x00, 0x00, 0x01, 0x00}, v5, malformed);
  // User property value with a lone continuation byte.
  expect_error(publish_with_properties({0x26, 0x00, 0x01, 'k', 0x00, 0x01, 0x80}), v5,
               malformed);
  // Reason string with a surrogate.
  expect_error({0x40, 0x0A, 0x00, 0x01, 0x80, 0x06, 0x1F, 0x00, 0x03, 0xED, 0xB0, 0x80}, v5,
               malformed);
}

// ---- properties -------------------------------------------------------------

TEST(CodecMalformed, PropertyLengthBeyondThePacket) {
  expect_error({0x30, 0x05, 0x00, 0x01, 't', 0x05, 0x01}, v5, malformed);
  expect_error({0x30, 0x04, 0x00, 0x01, 't', 0x80}, v5, malformed);  // cut varint
}

TEST(CodecMalformed, PropertyValueBeyondItsBlock) {
  // Message expiry needs four bytes; the block holds two, the packet more.
  expect_error({0x30, 0x0A, 0x00, 0x01, 't', 0x03, 0x02, 0x00, 0x00, 0x00, 0x00, 'x'}, v5,
               malformed);
  expect_error(publish_with_properties({0x26, 0x00, 0x01, 'k'}), v5, malformed);  // no value
}

TEST(CodecMalformed, UnknownProperty) {
  expect_error(publish_with_properties({0x05, 0x00}), v5, malformed);
  expect_error(publish_with_properties({0x00}), v5, malformed);
  expect_error(publish_with_properties({0x7F, 0x00}), v5, malformed);
}

TEST(CodecMalformed, PropertyNotAllowedInThePacket) {
  expect_error(publish_with_properties({0x11, 0x00, 0x00, 0x00, 0x01}), v5, malformed);
  expect_error(publish_with_properties({0x18, 0x00, 0x00, 0x00, 0x01}), v5, malformed);
  expect_error(connect_with_properties({0x23, 0x00, 0x01}), v5, malformed);  // topic alias
  expect_error(connect_with_properties({0x24, 0x01}), v5, malformed);  // maximum QoS
  expect_error({0xE0, 0x07, 0x00, 0x05, 0x18, 0x00, 0x00, 0x00, 0x01}, v5, malformed);
  expect_error({0x40, 0x06, 0x00, 0x01, 0x00, 0x02, 0x23, 0x00}, v5, malformed);
  expect_error({0xA2, 0x08, 0x00, 0x01, 0x02, 0x0B, 0x01, 0x00, 0x01, 'a'}, v5, malformed);
}

TEST(CodecMalformed, DuplicateProperty) {
  expect_error(publish_with_properties({0x02, 0, 0, 0, 1, 0x02, 0, 0, 0, 2}), v5, protocol);
  expect_error(publish_with_properties({0x03, 0, 1, 'a', 0x03, 0, 1, 'b'}), v5, protocol);
  expect_error(publish_with_properties({0x23, 0, 1, 0x23, 0, 1}), v5, protocol);
  expect_error(connect_with_properties({0x21, 0, 1, 0x21, 0, 1}), v5, protocol);
  expect_error(connect_with_properties({0x15, 0, 1, 'm', 0x15, 0, 1, 'm'}), v5, protocol);
  // SUBSCRIBE carries at most one subscription identifier.
  expect_error({0x82, 0x0B, 0x00, 0x01, 0x04, 0x0B, 0x01, 0x0B, 0x02, 0x00, 0x01, 'a', 0x00},
               v5, protocol);
}

TEST(CodecMalformed, RepeatableProperties) {
  const DecodeResult r = decode_bytes(
      publish_with_properties({0x26, 0, 1, 'k', 0, 1, 'a',   // user property k=a
                               0x26, 0, 1, 'k', 0, 1, 'b',   // user property k=b
                               0x0B, 0x01, 0x0B, 0x02}),     // subscription ids 1, 2
      v5);
  ASSERT_EQ(r.status, DecodeStatus::ok) << r.error_text;
  const auto& p = std::get<Publish>(r.packet).properties;
  EXPECT_EQ(p.user_properties, (UserProperties{{"k", "a"}, {"k", "b"}}));
  EXPECT_EQ(p.subscription_identifiers, (std::vector<std::uint32_t>{1, 2}));
}

TEST(CodecMalformed, PropertyValueRanges) {
  expect_error(connect_with_properties({0x21, 0x00, 0x00}), v5, protocol);  // receive max 0
  expect_error(connect_with_properties({0x27, 0, 0, 0, 0}), v5, protocol);  // max packet 0
  expect_error(connect_with_properties({0x17, 0x02}), v5, protocol);  // request problem 2
  expect_error(connect_with_properties({0x19, 0x02}), v5, protocol);  // request response 2
  expect_error(publish_with_properties({0x01, 0x02}), v5, protocol);  // payload format 2
  expect_error(publish_with_properties({0x0B, 0x00}), v5, protocol);  // subscription id 0
  expect_error({0x82, 0x09, 0x00, 0x01, 0x02, 0x0B, 0x00, 0x00, 0x01, 'a', 0x00}, v5,
               protocol);  // SUBSCRIBE subscription id 0
  expect_error({0x20, 0x05, 0x00, 0x00, 0x02, 0x24, 0x02}, v5, protocol);  // maximum QoS 2
  expect_error({0x20, 0x05, 0x00, 0x00, 0x02, 0x25, 0x02}, v5, protocol);  // retain avail 2
  expect_error({0x20, 0x05, 0x00, 0x00, 0x02, 0x28, 0x05}, v5, protocol);  // wildcard avail
  expect_error({0x20, 0x05, 0x00, 0x00, 0x02, 0x29, 0x02}, v5, protocol);  // sub id avail
  expect_error({0x20, 0x05, 0x00, 0x00, 0x02, 0x2A, 0xFF}, v5, protocol);  // shared avail
  // A subscription identifier in more than four varint bytes.
  expect_error(publish_with_properties({0x0B, 0x80, 0x80, 0x80, 0x80, 0x01}), v5, malformed);
}

TEST(CodecMalformed, TopicAliasZeroIsLeftToTheSession) {
  const DecodeResult r = decode_bytes(publish_with_properties({0x23, 0x00, 0x00}), v5);
  ASSERT_EQ(r.status, DecodeStatus::ok) << r.error_text;
  EXPECT_EQ(std::get<Publish>(r.packet).properties.topic_alias, 0);
}

TEST(CodecMalformed, AuthenticationDataWithoutMethod) {
  expect_error(connect_with_properties({0x16, 0x00, 0x01, 'd'}), v5, protocol);
  expect_error({0xF0, 0x06, 0x18, 0x04, 0x16, 0x00, 0x01, 'd'}, v5, protocol);
}

// ---- CONNECT ----------------------------------------------------------------

Bytes connect_311_flags(std::uint8_t flags, const Bytes& payload) {
  Bytes b = {0x10, static_cast<std::uint8_t>(10 + 2 + payload.size()),  // CONNECT
             0x00, 0x04, 'M', 'Q', 'T', 'T',                             // protocol name
             0x04,                                                       // level 4
             flags,                                                      // connect flags
             0x00, 0x00,                                                 // keep alive
             0x00, 0x00};                                                // empty client id
  b.insert(b.end(), payload.begin(), payload.end());
  return b;
}

TEST(CodecMalformed, ConnectMqtt31IsUnsupportedAnsweredIn311) {
  const Bytes b = {0x10, 0x10, 0x00, 0x06, 'M', 'Q', 'I', 's', 'd', 'p',  // MQIsdp
                   0x03,                                                  // level 3
                   0x02, 0x00, 0x3C, 0x00, 0x02, 'i', 'd'};
  for (Version v : {v5, v311}) {
    const DecodeResult r = decode_bytes(b, v);
    ASSERT_EQ(r.status, DecodeStatus::error);
    EXPECT_EQ(r.error, ReasonCode::unsupported_protocol_version);
    EXPECT_EQ(r.version, Version::v311);
  }
}

TEST(CodecMalformed, ConnectUnknownNameOrLevel) {
  auto check = [](const Bytes& b, Version answer) {
    const DecodeResult r = decode_bytes(b, v5);
    ASSERT_EQ(r.status, DecodeStatus::error);
    EXPECT_EQ(r.error, ReasonCode::unsupported_protocol_version);
    EXPECT_EQ(r.version, answer);
  };
  check({0x10, 0x0C, 0x00, 0x04, 'M', 'Q', 'T', 'T', 0x03, 0x02, 0x00, 0x00, 0x00, 0x00},
        v311);  // MQTT level 3
  check({0x10, 0x0C, 0x00, 0x04, 'M', 'Q', 'T', 'T', 0x06, 0x02, 0x00, 0x00, 0x00, 0x00},
        v311);  // MQTT level 6
  check({0x10, 0x0D, 0x00, 0x04, 'M', 'Q', 'T', 'X', 0x05, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00},
        v5);  // wrong name, level 5
}

TEST(CodecMalformed, ConnectReservedFlag) {
  expect_error(connect_311_flags(0x03, {}), v311, malformed);
  expect_error({0x10, 0x0D, 0x00, 0x04, 'M', 'Q', 'T', 'T', 0x05, 0x01, 0x00, 0x00, 0x00,
                0x00, 0x00},
               v5, malformed);
}

TEST(CodecMalformed, ConnectWillFlags) {
  const Bytes will = {0x00, 0x01, 'w', 0x00, 0x00};  // will topic "w", empty message
  expect_error(connect_311_flags(0x1C, will), v311, malformed);  // will QoS 3
  expect_error(connect_311_flags(0x08, {}), v311, malformed);    // will QoS 1, no will
  expect_error(connect_311_flags(0x10, {}), v311, malformed);    // will QoS 2, no will
  expect_error(connect_311_flags(0x20, {}), v311, malformed);    // will retain, no will
  expect_error(connect_311_flags(0x04, {}), v311, malformed);    // will flag, no will fields
  expect_error(connect_311_flags(0x04, {0x00, 0x01, 'w'}), v311, malformed);  // no message
  expect_decodes_to(connect_311_flags(0x34, will), v311, [] {
    Connect c;
    c.version = Version::v311;
    c.clean_start = false;
    c.will = Will{"w", "", QoS::exactly_once, true, {}};
    return c;
  }());
}

TEST(CodecMalformed, ConnectPasswordWithoutUserName) {
  expect_error(connect_311_flags(0x40, {0x00, 0x01, 'p'}), v311, malformed);
  // Allowed in 5.0: see CodecV5.PasswordWithoutUserNameIsAllowed.
}

TEST(CodecMalformed, ConnectMissingFlaggedFields) {
  expect_error(connect_311_flags(0x80, {}), v311, malformed);  // user name flag, no name
  expect_error(connect_311_flags(0xC0, {0x00, 0x01, 'u'}), v311, malformed);  // no password
  expect_error({0x10, 0x0A, 0x00, 0x04, 'M', 'Q', 'T', 'T', 0x04, 0x02, 0x00, 0x00}, v311,
               malformed);  // no client identifier
  expect_error({0x10, 0x03, 0x00, 0x04, 'M'}, v5, malformed);  // cut protocol name
}

TEST(CodecMalformed, ConnectErrorsAnswerInTheClaimedVersion) {
  const DecodeResult r = decode_bytes(connect_311_flags(0x01, {}), v5);
  ASSERT_EQ(r.status, DecodeStatus::error);
  EXPECT_EQ(r.version, Version::v311);
  const DecodeResult r5 = decode_bytes(connect_with_properties({0x21, 0x00, 0x00}), v311);
  ASSERT_EQ(r5.status, DecodeStatus::error);
  EXPECT_EQ(r5.version, Version::v5);
}

// ---- packet identifiers, reason codes ----------------------------------------

TEST(CodecMalformed, PacketIdentifierZero) {
  expect_error({0x32, 0x05, 0x00, 0x01, 't', 0x00, 0x00}, v311, protocol);  // PUBLISH QoS 1
  expect_error({0x34, 0x06, 0x00, 0x01, 't', 0x00, 0x00, 0x00}, v5, protocol);  // QoS 2
  for (std::uint8_t first : {0x40, 0x50, 0x62, 0x70}) {  // PUBACK PUBREC PUBREL PUBCOMP
    expect_error({first, 0x02, 0x00, 0x00}, v5, protocol);
    expect_error({first, 0x02, 0x00, 0x00}, v311, protocol);
  }
  expect_error({0x82, 0x06, 0x00, 0x00, 0x00, 0x01, 'a', 0x00}, v311, protocol);  // SUBSCRIBE
  expect_error({0xA2, 0x05, 0x00, 0x00, 0x00, 0x01, 'a'}, v311, protocol);  // UNSUBSCRIBE
  expect_error({0x90, 0x03, 0x00, 0x00, 0x00}, v311, protocol);              // SUBACK
  expect_error({0xB0, 0x02, 0x00, 0x00}, v311, protocol);                    // UNSUBACK
}

TEST(CodecMalformed, ReasonCodeNotValidForThePacket) {
  expect_error({0x40, 0x03, 0x00, 0x01, 0x92}, v5, protocol);  // PUBACK: id not found
  expect_error({0x50, 0x03, 0x00, 0x01, 0x04}, v5, protocol);  // PUBREC: with will
  expect_error({0x62, 0x03, 0x00, 0x01, 0x10}, v5, protocol);  // PUBREL: no subscribers
  expect_error({0x70, 0x03, 0x00, 0x01, 0x80}, v5, protocol);  // PUBCOMP: unspecified
  expect_error({0xE0, 0x01, 0x01}, v5, protocol);              // DISCONNECT: granted QoS 1
  expect_error({0xF0, 0x02, 0x04, 0x00}, v5, protocol);        // AUTH: with will
  expect_error({0x20, 0x03, 0x00, 0x01, 0x00}, v5, protocol);  // CONNACK: granted QoS 1
  expect_error({0x20, 0x02, 0x00, 0x06}, v311, protocol);      // CONNACK: return code 6
  expect_error({0x90, 0x04, 0x00, 0x01, 0x00, 0x03}, v5, protocol);  // SUBACK: 0x03
  expect_error({0x90, 0x03, 0x00, 0x01, 0x87}, v311, protocol);      // SUBACK 3.1.1: 0x87
  expect_error({0xB0, 0x04, 0x00, 0x01, 0x00, 0x01}, v5, protocol);  // UNSUBACK: 0x01
}

TEST(CodecMalformed, ShortFormsThatAreNot) {
  expect_error({0xF0, 0x01, 0x00}, v5, malformed);  // AUTH: reason without property length
  expect_error({0x40, 0x01, 0x00}, v5, malformed);  // PUBACK: one byte
}

TEST(CodecMalformed, ConnackReservedFlags) {
  expect_error({0x20, 0x02, 0x02, 0x00}, v311, malformed);
  expect_error({0x20, 0x03, 0x80, 0x00, 0x00}, v5, malformed);
}

// ---- SUBSCRIBE, UNSUBSCRIBE, acknowledgements ----------------------------------

TEST(CodecMalformed, SubscribeWithoutEntries) {
  expect_error({0x82, 0x03, 0x00, 0x01, 0x00}, v5, protocol);
  expect_error({0x82, 0x02, 0x00, 0x01}, v311, protocol);
}

TEST(CodecMalformed, SubscribeOptionsV5) {
  auto sub = [](std::uint8_t options) {
    return Bytes{0x82, 0x07, 0x00, 0x01, 0x00, 0x00, 0x01, 'a', options};
  };
  expect_error(sub(0x40), v5, malformed);  // reserved bit 6
  expect_error(sub(0x80), v5, malformed);  // reserved bit 7
  expect_error(sub(0x30), v5, protocol);   // retain handling 3
  expect_error(sub(0x03), v5, protocol);   // QoS 3
  const DecodeResult r = decode_bytes(sub(0x2E), v5);  // rh 2, rap, no local, QoS 2
  ASSERT_EQ(r.status, DecodeStatus::ok) << r.error_text;
  const SubscribeOptions o = std::get<Subscribe>(r.packet).entries.at(0).options;
  EXPECT_EQ(o, (SubscribeOptions{QoS::exactly_once, true, true, 2}));
}

TEST(CodecMalformed, SubscribeOptionsV311) {
  auto sub = [](std::uint8_t options) {
    return Bytes{0x82, 0x06, 0x00, 0x01, 0x00, 0x01, 'a', options};
  };
  expect_error(sub(0x03), v311, malformed);  // QoS 3
  expect_error(sub(0x04), v311, malformed);  // a 5.0 option bit
  expect_error(sub(0x20), v311, malformed);
  expect_error(sub(0x80), v311, malformed);
}

TEST(CodecMalformed, UnsubscribeWithoutFilters) {
  expect_error({0xA2, 0x03, 0x00, 0x01, 0x00}, v5, protocol);
  expect_error({0xA2, 0x02, 0x00, 0x01}, v311, protocol);
}

TEST(CodecMalformed, AcknowledgementsWithoutReasonCodes) {
  expect_error({0x90, 0x03, 0x00, 0x01, 0x00}, v5, protocol);  // SUBACK
  expect_error({0x90, 0x02, 0x00, 0x01}, v311, protocol);      // SUBACK
  expect_error({0xB0, 0x03, 0x00, 0x01, 0x00}, v5, protocol);  // UNSUBACK
}

}  // namespace
}  // namespace strata::protocol::test
