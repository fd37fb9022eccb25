// The kafka bridge type: a librdkafka producer behind the Adapter interface
// (adapter.hpp). The outbox drives it; it owns no queue.
//
// deliver() produces each record with RD_KAFKA_PARTITION_UA (the partitioner
// hashes the key, so one key — by default one MQTT topic — stays in one
// partition and in order). A payload value is handed to librdkafka without
// a copy: the record is kept alive by its in-flight slot until its delivery
// report. Delivery reports are served by rd_kafka_poll() on the bridge's own
// thread, woken by librdkafka through a pipe when its queue has something
// (and every 100 ms regardless); the confirmations of one poll go to the
// driver together:
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
//
// Per message, nothing is allocated on our side once the buffers have grown:
// the record is mapped into one reused KafkaMessage (kafka_record.hpp), the
// in-flight slots (record, envelope) are recycled through a free list and
// named to librdkafka by index (the message's opaque), and the topic handle
// (rd_kafka_topic_t) of each Kafka topic is looked up once and kept, so
// that librdkafka does not look the name up per message. librdkafka itself
// allocates its message (with a copy of the key) and the headers.
#pragma once

#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/steady_timer.hpp>
#include <deque>
#include <memory>
#include <string>
#include <unordered_map>
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
  // A produced record until its delivery report; recycled through free_.
  struct InFlight {
    RecordPtr record;
    std::string envelope;  // the value when value = "envelope" (capacity kept)
    std::uint32_t next_free = 0;
  };
  bool create_producer();
  void destroy_producer();
  rd_kafka_topic_t* topic_handle(const std::string& name);
  void forget_topics();  // releases the kept topic handles
  std::uint32_t take_slot();
  void free_slot(std::uint32_t i);
  void produce_pending();
  void poll();
  void arm_wakeup();
  void arm_timer();
  static void on_delivery(rd_kafka_t* rk, const rd_kafka_message_t* m, void* opaque);
  static void on_error(rd_kafka_t* rk, int err, const char* reason, void* opaque);
  void delivered(std::uint32_t slot, rd_kafka_resp_err_t err);
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
  std::deque<InFlight> slots_;     // a deque: an element never moves (librdkafka reads the envelope)
  std::uint32_t free_ = 0;         // first free slot + 1; 0: none
  // Topic handles by name; the last one used is tried first. Bounded: past
  // kMaxTopics names (a template with the whole MQTT topic in it) the
  // handles are released and looked up again.
  std::unordered_map<std::string, rd_kafka_topic_t*> topics_;
  const std::string* last_topic_ = nullptr;
  rd_kafka_topic_t* last_handle_ = nullptr;
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
