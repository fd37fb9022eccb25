// The per-packet property table (spec 5.0 table 2-4) and property blocks.
#include "broker/protocol/properties_codec.hpp"

#include <gtest/gtest.h>

#include <vector>

namespace strata::protocol {
namespace {

using C = PropertyContext;
using Id = PropertyId;

TEST(PropertiesCodec, AllowedTable) {
  EXPECT_TRUE(property_allowed(Id::payload_format_indicator, C::publish));
  EXPECT_TRUE(property_allowed(Id::payload_format_indicator, C::will));
  EXPECT_FALSE(property_allowed(Id::payload_format_indicator, C::connect));
  EXPECT_TRUE(property_allowed(Id::subscription_identifier, C::subscribe));
  EXPECT_FALSE(property_allowed(Id::subscription_identifier, C::unsubscribe));
  EXPECT_TRUE(property_allowed(Id::session_expiry_interval, C::disconnect));
  EXPECT_FALSE(property_allowed(Id::session_expiry_interval, C::publish));
  EXPECT_TRUE(property_allowed(Id::will_delay_interval, C::will));
  EXPECT_FALSE(property_allowed(Id::will_delay_interval, C::connect));
  EXPECT_TRUE(property_allowed(Id::reason_string, C::puback));
  EXPECT_FALSE(property_allowed(Id::reason_string, C::publish));
  EXPECT_FALSE(property_allowed(Id::reason_string, C::connect));
  EXPECT_TRUE(property_allowed(Id::server_reference, C::disconnect));
  EXPECT_TRUE(property_allowed(Id::topic_alias, C::publish));
  EXPECT_FALSE(property_allowed(Id::maximum_qos, C::connect));
  EXPECT_TRUE(property_allowed(Id::authentication_method, C::auth));
  EXPECT_FALSE(property_allowed(Id::authentication_method, C::disconnect));
  for (C ctx : {C::connect, C::will, C::connack, C::publish, C::puback, C::subscribe, C::suback,
                C::unsubscribe, C::unsuback, C::disconnect, C::auth}) {
    EXPECT_TRUE(property_allowed(Id::user_property, ctx));
  }
  EXPECT_FALSE(property_allowed(static_cast<Id>(0x04), C::publish));
}

TEST(PropertiesCodec, EmptyBlockIsOneZeroByte) {
  std::string out;
  encode_properties({}, C::publish, out);
  EXPECT_EQ(out, std::string(1, '\0'));
  EXPECT_EQ(properties_size({}, C::publish), 1u);
  EXPECT_EQ(properties_body_size({}, C::publish), 0u);
}

TEST(PropertiesCodec, BlockBytesAndBack) {
  Properties p;
  p.message_expiry_interval = 0x01020304;
  p.user_properties = {{"k", "v"}};
  std::string out;
  encode_properties(p, C::publish, out);
  const std::vector<std::uint8_t> expected = {
      0x0C,                                     // property length 12
      0x02, 0x01, 0x02, 0x03, 0x04,             // message expiry interval
      0x26, 0x00, 0x01, 'k', 0x00, 0x01, 'v',  // user property k=v
  };
  EXPECT_EQ(out, std::string(expected.begin(), expected.end()));
  EXPECT_EQ(properties_size(p, C::publish), out.size());

  wire::WireReader in(expected);
  Properties back;
  decode_properties(in, C::publish, back);
  ASSERT_TRUE(in.ok()) << in.error_text();
  EXPECT_TRUE(in.at_end());
  EXPECT_EQ(back, p);
}

TEST(PropertiesCodec, SubscribeWritesOneSubscriptionIdentifier) {
  Properties p;
  p.subscription_identifiers = {4, 5};
  std::string out;
  encode_properties(p, C::subscribe, out);
  EXPECT_EQ(out, std::string("\x02\x0B\x04", 3));  // length 2, subscription identifier 4
  EXPECT_EQ(properties_size(p, C::subscribe), 3u);
}

}  // namespace
}  // namespace strata::protocol
