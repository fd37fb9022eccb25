// From an outbox record to what is produced to Kafka: topic, key, value and
// headers. Pure: kafka_producer.cpp hands the result to librdkafka.
//
// The topic the templates see is the record's topic, rewritten by its
// route's `remote` template when that is not "{topic}"; {#} is what the
// '#' of the route's filter matched (the whole topic after a rewrite). Value "payload" is the MQTT payload as it is (librdkafka
// reads it from the record without a copy); value "envelope" is a JSON
// object (envelope_json). Headers, when on: every MQTT 5 user property in
// order (repeats kept), then content-type (if the message has one), then
// mqtt-topic (the MQTT topic).
#pragma once

#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "bridges/bridge_config.hpp"
#include "bridges/kafka/kafka_options.hpp"
#include "bridges/outbox/record.hpp"

namespace strata::bridges::kafka {

struct KafkaMessage {
  std::string topic;
  std::string key;
  bool has_key = false;
  std::string envelope;  // the value when value = "envelope"
  std::vector<std::pair<std::string, std::string>> headers;
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

// {"topic":"plant/l1/temp","payload":"21.5","qos":1,"retain":false,
//  "time":1765000000123,"content_type":"text/plain",
//  "user_properties":[["unit","C"]]}
// The payload is "payload" when it is UTF-8, else "payload_base64".
// content_type and user_properties appear only when the message has them.
std::string envelope_json(std::string_view topic, const Record& r);

}  // namespace strata::bridges::kafka
