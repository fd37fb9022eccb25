#include "bridges/kafka/kafka_errors.hpp"

#include <gtest/gtest.h>

namespace strata::bridges::kafka {
namespace {

TEST(KafkaErrors, Classes) {
  EXPECT_EQ(classify(RD_KAFKA_RESP_ERR_NO_ERROR), ErrorKind::none);
  EXPECT_EQ(classify(RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE), ErrorKind::permanent);
  EXPECT_EQ(classify(RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED), ErrorKind::permanent);
  EXPECT_EQ(classify(RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC), ErrorKind::permanent);
  EXPECT_EQ(classify(RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION), ErrorKind::retry);
  EXPECT_EQ(classify(RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT), ErrorKind::retry);
  EXPECT_EQ(classify(RD_KAFKA_RESP_ERR__MSG_TIMED_OUT), ErrorKind::retry);
  EXPECT_EQ(classify(RD_KAFKA_RESP_ERR__TRANSPORT), ErrorKind::retry);
  EXPECT_EQ(classify(RD_KAFKA_RESP_ERR__PURGE_INFLIGHT), ErrorKind::purged);
  EXPECT_EQ(classify(RD_KAFKA_RESP_ERR__FATAL), ErrorKind::fatal);
}

}  // namespace
}  // namespace strata::bridges::kafka
