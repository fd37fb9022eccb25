#include "bridges/kafka/kafka_errors.hpp"

namespace strata::bridges::kafka {

ErrorKind classify(rd_kafka_resp_err_t err) noexcept {
  switch (err) {
    case RD_KAFKA_RESP_ERR_NO_ERROR: return ErrorKind::none;
    case RD_KAFKA_RESP_ERR__PURGE_QUEUE:
    case RD_KAFKA_RESP_ERR__PURGE_INFLIGHT: return ErrorKind::purged;
    case RD_KAFKA_RESP_ERR__FATAL: return ErrorKind::fatal;
    case RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE:           // the producer's or the broker's message.max.bytes
    case RD_KAFKA_RESP_ERR_RECORD_LIST_TOO_LARGE:
    case RD_KAFKA_RESP_ERR_INVALID_MSG:
    case RD_KAFKA_RESP_ERR_INVALID_RECORD:
    case RD_KAFKA_RESP_ERR_TOPIC_EXCEPTION:
    case RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC:               // unknown, and not auto-created
    case RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED:
    case RD_KAFKA_RESP_ERR_CLUSTER_AUTHORIZATION_FAILED:
    case RD_KAFKA_RESP_ERR_UNSUPPORTED_FOR_MESSAGE_FORMAT:
    case RD_KAFKA_RESP_ERR__INVALID_ARG: return ErrorKind::permanent;
    default: return ErrorKind::retry;
  }
}

}  // namespace strata::bridges::kafka
