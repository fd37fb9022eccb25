// The kafka bridge type: a librdkafka producer behind the Adapter interface
// (adapter.hpp). The outbox drives it; it owns no queue.
//
// deliver() produces each record with RD_KAFKA_PARTITION_UA (the partitioner
// hashes the key, so one key — by default one MQTT topic — stays in one
// partition and in order). A payload value is handed to librdkafka without
// a copy: the record is kept alive by the message's opaque until its
// delivery report. Delivery reports are served by rd_kafka_poll() on the
// bridge's own thread, woken by librdkafka through a pipe when its queue
// has something (and every 100 ms regardless):
//
//   no error             confirmed(offset)
//   permanent error      rejected(offset, reason): the dead letters
//   retriable error      produced again (only seen when the user set
//                        rdkafka.message.timeout.ms; by default librdkafka
//                        retries for ever)
//   fatal (idempotence)  failed(reason); the producer is rebuilt and the
//                        outbox delivers everything unconfirmed again
//
// Confirmations come in any order across partitions; the outbox keeps the
// acknowledged offset at the end of the contiguous confirmed prefix. stop()
// flushes (up to 5 s) so that what Kafka took is confirmed before exit.
#pragma once

#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/steady_timer.hpp>
#include <deque>
#include <memory>
#include <string>
#include <vector>

#include <librdkafka/rdkafka.h>

#include "bridges/adapter.hpp"
#include "bridges/kafka/kafka_options.hpp"
#include "bridges/kafka/kafka_record.hpp"

namespace strata::bridges::kafka {

// Builds a librdkafka configuration with `props` set in order; on an
// unknown property or bad value returns nullptr and the message in `error`.
rd_kafka_conf_t* make_conf(const std::vector<std::pair<std::string, std::string>>& props, std::string& error);

class KafkaAdapter final : public Adapter {
 public:
  KafkaAdapter(const BridgeConfig& bridge, KafkaOptions options);
  ~KafkaAdapter() override;

  void start(const AdapterContext& ctx) override;
  void deliver(Batch batch) override;
  void stop() override;

 private:
  struct InFlight;
  bool create_producer();
  void destroy_producer();
  void produce_pending();
  void poll();
  void arm_wakeup();
  void arm_timer();
  static void on_delivery(rd_kafka_t* rk, const rd_kafka_message_t* m, void* opaque);
  static void on_error(rd_kafka_t* rk, int err, const char* reason, void* opaque);
  void delivered(InFlight* f, rd_kafka_resp_err_t err);
  void reject(std::uint64_t offset, std::string reason);

  const BridgeConfig& bridge_;
  KafkaOptions options_;
  RecordMapper mapper_;
  AdapterContext ctx_;
  rd_kafka_t* rk_ = nullptr;
  int pipe_[2] = {-1, -1};
  std::unique_ptr<boost::asio::posix::stream_descriptor> wake_;
  std::unique_ptr<boost::asio::steady_timer> timer_;
  char wake_buf_[64];
  std::deque<RecordPtr> pending_;  // given by deliver(), not yet taken by librdkafka
  std::vector<std::uint64_t> confirmed_;  // gathered during one poll
  KafkaMessage scratch_;
  std::uint64_t rejected_ = 0;
  bool fatal_ = false;
  bool connected_ = false;
  bool stopped_ = false;
};

// The AdapterType to register as "kafka".
AdapterType kafka_adapter_type();

}  // namespace strata::bridges::kafka
