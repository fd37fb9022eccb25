// Which librdkafka errors are for good. A record refused with one of these
// goes to the dead letters (adapter.hpp: rejected); anything else may
// succeed later and is produced again (librdkafka retries most errors
// itself; with message.timeout.ms = 0 it never gives up on them).
#pragma once

#include <librdkafka/rdkafka.h>

namespace strata::bridges::kafka {

enum class ErrorKind : unsigned char {
  none,       // delivered
  permanent,  // dead-letter the record
  purged,     // the producer was torn down: the record is delivered again later
  retry,      // produce it again
  fatal,      // the producer cannot go on (idempotence broken): rebuild it
};

ErrorKind classify(rd_kafka_resp_err_t err) noexcept;

}  // namespace strata::bridges::kafka
