// Reason code names and the 3.1.1 CONNACK return code mapping.
#include "broker/protocol/reason_code.hpp"

#include <gtest/gtest.h>

namespace strata::protocol {
namespace {

TEST(ReasonCode, ConnackMappingTo311) {
  using C = ConnackReturnCode311;
  EXPECT_EQ(to_connack_311(ReasonCode::success), C::accepted);
  EXPECT_EQ(to_connack_311(ReasonCode::unsupported_protocol_version),
            C::unacceptable_protocol_version);
  EXPECT_EQ(to_connack_311(ReasonCode::client_identifier_not_valid), C::identifier_rejected);
  EXPECT_EQ(to_connack_311(ReasonCode::server_unavailable), C::server_unavailable);
  EXPECT_EQ(to_connack_311(ReasonCode::server_busy), C::server_unavailable);
  EXPECT_EQ(to_connack_311(ReasonCode::bad_user_name_or_password), C::bad_user_name_or_password);
  EXPECT_EQ(to_connack_311(ReasonCode::bad_authentication_method), C::bad_user_name_or_password);
  EXPECT_EQ(to_connack_311(ReasonCode::not_authorized), C::not_authorized);
  EXPECT_EQ(to_connack_311(ReasonCode::banned), C::not_authorized);
  EXPECT_EQ(to_connack_311(ReasonCode::unspecified_error), C::server_unavailable);
}

TEST(ReasonCode, Names) {
  EXPECT_EQ(to_string(ReasonCode::success), "success");
  EXPECT_EQ(to_string(ReasonCode::malformed_packet), "malformed packet");
  EXPECT_EQ(to_string(ReasonCode::protocol_error), "protocol error");
  EXPECT_EQ(to_string(ReasonCode::packet_too_large), "packet too large");
  EXPECT_EQ(to_string(ReasonCode::wildcard_subscriptions_not_supported),
            "wildcard subscriptions not supported");
  EXPECT_EQ(to_string(static_cast<ReasonCode>(0x7F)), "unknown reason code");
}

TEST(ReasonCode, EveryCodeHasAName) {
  for (int v = 0; v < 256; ++v) {
    const auto rc = static_cast<ReasonCode>(v);
    EXPECT_FALSE(to_string(rc).empty());
  }
  EXPECT_FALSE(is_error(ReasonCode::no_subscription_existed));
  EXPECT_TRUE(is_error(ReasonCode::unspecified_error));
}

}  // namespace
}  // namespace strata::protocol
