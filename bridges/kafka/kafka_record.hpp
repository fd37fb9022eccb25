// From an outbox record to what is produced to Kafka: topic, key, value and
// headers. Pure: kafka_adapter.cpp hands the result to librdkafka.
//
// The topic the templates see is the record's topic, rewritten by its
// route's `remote` template when that is not "{topic}"; {#} is what the
// '#' of the route's filter matched (the whole topic after a rewrite).
// Value "payload" is the MQTT payload as it is (librdkafka reads it from the
// record without a copy); value "envelope" is a JSON object (envelope_json).
// Headers, when on: every MQTT 5 user property in order (repeats kept), then
// content-type (if the message has one), then mqtt-topic (the MQTT topic).
//
// map() runs once per message on the bridge's thread: it fills a
// KafkaMessage that is reused from one message to the next, so that once its
// buffers have grown to the size of the names in use nothing is allocated
// per message. Headers are views into the record and into the message's own
// buffers: valid while both are and until the next map() into it.
#pragma once

#include <optional>
#include <span>
#include <string_view>
#include <string>
#include <utility>
#include <vector>

#include "bridges/bridge_config.hpp"
#include "bridges/kafka/kafka_options.hpp"
#include "bridges/outbox/record.hpp"

namespace strata::bridges::kafka {

struct KafkaMessage {
  std::string topic;  // the Kafka topic name, ready to produce to
  std::string key;
  bool has_key = false;
  std::string envelope;  // the value when value = "envelope"
  std::vector<std::pair<std::string_view, std::string_view>> headers;
  std::string rewritten;  // the topic after the route's `remote` template (mqtt-topic may point here)
};

class RecordMapper {
 public:
  RecordMapper(const KafkaOptions& options, std::span<const Route> routes);

  // Fills `out` (cleared first). False when the topic comes out empty.
  bool map(const Record& r, KafkaMessage& out) const;

 private:
  struct PerRoute {
    std::optional<TopicTemplate> remote;  // unset: the topic as it is
    TopicTemplate topic, key;
  };
  const PerRoute& route(std::int32_t i) const noexcept;

  ValueMode value_;
  bool headers_;
  bool has_key_;
  PerRoute emitted_;  // records from a rule's emit(): no route
  std::vector<PerRoute> routes_;
};

// Appends, e.g.
// {"topic":"plant/l1/temp","payload":"21.5","qos":1,"retain":false,
//  "time":1765000000123,"content_type":"text/plain",
//  "user_properties":[["unit","C"]]}
// The payload is "payload" when it is UTF-8, else "payload_base64".
// content_type and user_properties appear only when the message has them.
void envelope_json(std::string_view topic, const Record& r, std::string& out);
std::string envelope_json(std::string_view topic, const Record& r);

}  // namespace strata::bridges::kafka
