// Direction-dependent rules applied after decode().
#include "broker/protocol/direction_check.hpp"

#include <gtest/gtest.h>

namespace strata::protocol {
namespace {

TEST(DirectionCheck, ServerOnlyPacketsFromAClient) {
  for (const Packet& p : {Packet{Connack{}}, Packet{Suback{}}, Packet{Unsuback{}},
                          Packet{Pingresp{}}}) {
    const auto v = check_from_client(p);
    ASSERT_TRUE(v.has_value());
    EXPECT_EQ(v->reason, ReasonCode::protocol_error);
    EXPECT_FALSE(check_from_server(p).has_value());
  }
}

TEST(DirectionCheck, ClientOnlyPacketsFromAServer) {
  for (const Packet& p : {Packet{Connect{}}, Packet{Subscribe{}}, Packet{Unsubscribe{}},
                          Packet{Pingreq{}}}) {
    const auto v = check_from_server(p);
    ASSERT_TRUE(v.has_value());
    EXPECT_EQ(v->reason, ReasonCode::protocol_error);
    EXPECT_FALSE(check_from_client(p).has_value());
  }
}

TEST(DirectionCheck, BothWays) {
  for (const Packet& p : {Packet{Publish{}}, Packet{Ack{}}, Packet{Disconnect{}},
                          Packet{Auth{}}}) {
    EXPECT_FALSE(check_from_client(p).has_value());
    EXPECT_FALSE(check_from_server(p).has_value());
  }
}

TEST(DirectionCheck, SubscriptionIdentifierInAClientPublish) {
  Publish p;
  p.topic = "t";
  p.properties.subscription_identifiers = {1};
  const auto v = check_from_client(p);
  ASSERT_TRUE(v.has_value());
  EXPECT_EQ(v->reason, ReasonCode::protocol_error);
  EXPECT_FALSE(check_from_server(p).has_value());  // servers send them
}

TEST(DirectionCheck, NoLocalOnASharedSubscription) {
  Subscribe s;
  s.packet_id = 1;
  s.entries = {{"$share/g/a/b", {QoS::at_most_once, true, false, 0}}};
  ASSERT_TRUE(check_from_client(s).has_value());
  s.entries[0].options.no_local = false;
  EXPECT_FALSE(check_from_client(s).has_value());
  s.entries = {{"a/b", {QoS::at_most_once, true, false, 0}}};  // not shared: allowed
  EXPECT_FALSE(check_from_client(s).has_value());
}

}  // namespace
}  // namespace strata::protocol
