#include "broker/session/session.hpp"

#include <gtest/gtest.h>

#include <set>

namespace strata::session {
namespace {

using protocol::QoS;

Delivery make(QoS qos, std::string payload = "x") {
  auto m = router::Message::make("t", std::move(payload));
  m->qos = qos;
  Delivery d;
  d.msg = m;
  d.qos = qos;
  return d;
}

class SessionTest : public ::testing::Test {
 protected:
  SessionRef handle = std::make_shared<SessionHandle>("c1", 1, 0);
  Session s{handle, protocol::Version::v5};
};

// The window and the queue are made on first use: a fresh session reads
// as empty everywhere, and lookups of ids it never sent find nothing.
TEST_F(SessionTest, AFreshSessionReadsEmptyWithoutAWindow) {
  EXPECT_EQ(s.inflight_count(), 0u);
  EXPECT_EQ(s.inflight_bytes(), 0u);
  EXPECT_TRUE(s.inflight().empty());
  EXPECT_TRUE(s.queue_empty());
  EXPECT_TRUE(s.queue().empty());
  EXPECT_EQ(s.queued_bytes(), 0u);
  EXPECT_EQ(s.find_inflight(1), nullptr);
  EXPECT_FALSE(s.take_inflight(1).has_value());
  // A second fresh session's reads are as empty, and filling one leaves
  // the other (and what empty sessions read) empty.
  Session other{std::make_shared<SessionHandle>("c2", 2, 0), protocol::Version::v5};
  s.add_inflight(7, make(QoS::at_least_once, "abc"));
  EXPECT_EQ(s.enqueue(make(QoS::at_least_once, "de"), 10), Session::Enqueue::queued);
  EXPECT_EQ(s.inflight_count(), 1u);
  EXPECT_EQ(s.inflight_bytes(), 4u);
  EXPECT_EQ(s.queued_bytes(), 3u);
  EXPECT_TRUE(other.inflight().empty());
  EXPECT_TRUE(other.queue_empty());
  EXPECT_EQ(other.find_inflight(7), nullptr);
}

TEST_F(SessionTest, PacketIdsAreSequentialAndNeverZero) {
  EXPECT_EQ(s.next_packet_id(), 1);
  EXPECT_EQ(s.next_packet_id(), 2);
  EXPECT_EQ(s.next_packet_id(), 3);
}

TEST_F(SessionTest, PacketIdsSkipThoseInFlightAndWrapAround) {
  s.add_inflight(2, make(QoS::at_least_once));
  EXPECT_EQ(s.next_packet_id(), 1);
  EXPECT_EQ(s.next_packet_id(), 3);  // 2 is still in flight
  for (int i = 4; i <= 65535; ++i) ASSERT_EQ(s.next_packet_id(), i);
  EXPECT_EQ(s.next_packet_id(), 1);  // wraps past 65535, skips 0
  EXPECT_EQ(s.next_packet_id(), 3);
}

TEST_F(SessionTest, PacketIdsRunOutOnlyWhenAllAreInFlight) {
  for (std::uint32_t id = 1; id <= 65535; ++id) s.add_inflight(static_cast<std::uint16_t>(id), make(QoS::at_least_once));
  EXPECT_EQ(s.next_packet_id(), std::nullopt);
  ASSERT_TRUE(s.take_inflight(777).has_value());
  EXPECT_EQ(s.next_packet_id(), 777);
}

TEST_F(SessionTest, InflightKeepsSendOrderAndStateByQoS) {
  s.add_inflight(5, make(QoS::exactly_once, "a"));
  s.add_inflight(3, make(QoS::at_least_once, "b"));
  s.add_inflight(9, make(QoS::exactly_once, "c"));
  ASSERT_EQ(s.inflight_count(), 3u);
  std::vector<std::uint16_t> order;
  for (const Outgoing& o : s.inflight()) order.push_back(o.packet_id);
  EXPECT_EQ(order, (std::vector<std::uint16_t>{5, 3, 9}));
  EXPECT_EQ(s.find_inflight(5)->state, Outgoing::State::await_pubrec);
  EXPECT_EQ(s.find_inflight(3)->state, Outgoing::State::await_puback);
  EXPECT_EQ(s.find_inflight(4), nullptr);
}

TEST_F(SessionTest, TakeInflightRemovesOnlyThatMessage) {
  s.add_inflight(1, make(QoS::at_least_once, "a"));
  s.add_inflight(2, make(QoS::at_least_once, "b"));
  auto taken = s.take_inflight(1);
  ASSERT_TRUE(taken.has_value());
  EXPECT_EQ(taken->delivery.msg->payload, "a");
  EXPECT_FALSE(s.take_inflight(1).has_value());
  EXPECT_EQ(s.inflight_count(), 1u);
  EXPECT_EQ(s.inflight().front().packet_id, 2);
}

TEST_F(SessionTest, InflightBytesCountTopicAndPayloadOfWhatIsInFlight) {
  EXPECT_EQ(s.inflight_bytes(), 0u);
  s.add_inflight(1, make(QoS::at_least_once, "abc"));    // "t" + "abc"
  s.add_inflight(2, make(QoS::exactly_once, "abcdefg"));  // "t" + "abcdefg"
  EXPECT_EQ(s.inflight_bytes(), 12u);
  auto taken = s.take_inflight(1);
  ASSERT_TRUE(taken.has_value());
  EXPECT_EQ(taken->bytes, 4u);
  EXPECT_EQ(s.inflight_bytes(), 8u);
  EXPECT_FALSE(s.take_inflight(1).has_value());
  EXPECT_EQ(s.inflight_bytes(), 8u);
  ASSERT_TRUE(s.take_inflight(2).has_value());
  EXPECT_EQ(s.inflight_bytes(), 0u);
}

TEST_F(SessionTest, QueueAcceptsUpToItsBound) {
  EXPECT_EQ(s.enqueue(make(QoS::at_least_once), 2), Session::Enqueue::queued);
  EXPECT_EQ(s.enqueue(make(QoS::at_most_once), 2), Session::Enqueue::queued);
  EXPECT_EQ(s.queue().size(), 2u);
}

TEST_F(SessionTest, FullQueueDropsNewQoS0) {
  s.enqueue(make(QoS::at_least_once, "1"), 1);
  EXPECT_EQ(s.enqueue(make(QoS::at_most_once, "2"), 1), Session::Enqueue::dropped_qos0);
  ASSERT_EQ(s.queue().size(), 1u);
  EXPECT_EQ(s.queue().front().msg->payload, "1");
}

TEST_F(SessionTest, FullQueueMakesRoomForQoS1ByDroppingOldestQoS0) {
  s.enqueue(make(QoS::at_least_once, "a"), 3);
  s.enqueue(make(QoS::at_most_once, "b"), 3);
  s.enqueue(make(QoS::at_most_once, "c"), 3);
  EXPECT_EQ(s.enqueue(make(QoS::exactly_once, "d"), 3), Session::Enqueue::dropped_qos0);
  std::vector<std::string> left;
  for (const Delivery& d : s.queue()) left.emplace_back(d.msg->payload);
  EXPECT_EQ(left, (std::vector<std::string>{"a", "c", "d"}));
}

TEST_F(SessionTest, FullQueueOfQoS1RefusesMore) {
  s.enqueue(make(QoS::at_least_once, "a"), 2);
  s.enqueue(make(QoS::exactly_once, "b"), 2);
  EXPECT_EQ(s.enqueue(make(QoS::at_least_once, "c"), 2), Session::Enqueue::dropped_full);
  EXPECT_EQ(s.queue().size(), 2u);
  EXPECT_EQ(s.queue().back().msg->payload, "b");
}

// The nodes of a message taken out of the window are reused by the next
// one added: ids, order, bytes and lookups stay right through the reuse.
TEST_F(SessionTest, InflightNodesReusedKeepIdsOrderAndBytes) {
  s.add_inflight(1, make(QoS::at_least_once, "aa"));
  s.add_inflight(2, make(QoS::exactly_once, "bbb"));
  ASSERT_TRUE(s.take_inflight(1).has_value());  // its nodes become the spares
  EXPECT_EQ(s.find_inflight(1), nullptr);
  s.add_inflight(3, make(QoS::at_least_once, "c"));  // reuses them
  ASSERT_EQ(s.inflight_count(), 2u);
  EXPECT_EQ(s.inflight_bytes(), 2u + 4u);  // "t" + payload each
  ASSERT_NE(s.find_inflight(3), nullptr);
  EXPECT_EQ(s.find_inflight(3)->delivery.msg->payload, "c");
  EXPECT_EQ(s.find_inflight(3)->state, Outgoing::State::await_puback);
  EXPECT_EQ(s.find_inflight(2)->state, Outgoing::State::await_pubrec);
  std::vector<std::uint16_t> order;
  for (const Outgoing& o : s.inflight()) order.push_back(o.packet_id);
  EXPECT_EQ(order, (std::vector<std::uint16_t>{2, 3}));
  // An id taken and added again at once, over and over (closed loop).
  for (int i = 0; i < 100; ++i) {
    auto out = s.take_inflight(3);
    ASSERT_TRUE(out.has_value());
    EXPECT_EQ(out->delivery.msg->payload, i == 0 ? "c" : "d");
    s.add_inflight(3, make(QoS::at_least_once, "d"));
  }
  EXPECT_EQ(s.inflight_count(), 2u);
  EXPECT_EQ(s.inflight_bytes(), 4u + 2u);
  EXPECT_FALSE(s.take_inflight(7).has_value());
  ASSERT_TRUE(s.take_inflight(2).has_value());
  ASSERT_TRUE(s.take_inflight(3).has_value());
  EXPECT_EQ(s.inflight_count(), 0u);
  EXPECT_EQ(s.inflight_bytes(), 0u);
  EXPECT_EQ(s.next_packet_id(), 1);
}

}  // namespace
}  // namespace strata::session
