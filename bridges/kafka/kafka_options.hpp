// The keys of a [[bridge]] with type = "kafka", and the librdkafka producer
// configuration they make.
//
//   brokers = "127.0.0.1:9092,127.0.0.1:9093"   # bootstrap list (or an array)
//   topic = "{topic}"          # Kafka topic template (topic_template.hpp);
//                              # '/' becomes '.', any other character Kafka
//                              # does not allow in a topic name becomes '_'
//   key = "{topic}"            # message key template; "" sends no key
//   value = "payload"          # or "envelope": JSON with topic, payload, qos ...
//   headers = true             # user properties, content-type, mqtt-topic
//   acks = "all"               # "all" | "1" | "0"
//   idempotence = true         # enable.idempotence: order kept with retries
//   compression = "none"       # "lz4" | "zstd" | "gzip" | "snappy"
//   window = 50000             # records produced and not yet reported
//   rdkafka.linger.ms = 5      # any librdkafka property, passed as it is
//
// Defaults that differ from librdkafka's: acks=all, enable.idempotence=true
// and message.timeout.ms=0 (retry a retriable error for ever; a record leaves
// the outbox only when Kafka has it or refused it for good) unless the
// rdkafka table sets them.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "bridges/template/topic_template.hpp"
#include "broker/config/table_reader.hpp"

namespace strata::bridges::kafka {

enum class ValueMode : std::uint8_t { payload, envelope };

struct KafkaOptions {
  std::string brokers;
  TopicTemplate topic = TopicTemplate::compile("{topic}");
  TopicTemplate key = TopicTemplate::compile("{topic}");
  Namespaces namespaces;  // [uns]'s models, for {uns.*} in per-route templates
  bool has_key = true;
  ValueMode value = ValueMode::payload;
  bool headers = true;
  std::size_t window = 50000;
  // librdkafka properties in the order they are set (ours, then the user's).
  std::vector<std::pair<std::string, std::string>> rdkafka;
};

// The [[bridge]] keys of this type (besides the common ones).
const std::vector<std::string_view>& kafka_keys();

// Reads them (throws config::ConfigError with file:line). Does not check
// the librdkafka properties: kafka_producer.cpp does, by setting them.
KafkaOptions read_kafka_options(const config::TableReader& r, const Namespaces& namespaces = {});

// A Kafka topic name from an expanded template: '/' -> '.', characters
// outside [A-Za-z0-9._-] -> '_', at most 249 characters ("" stays "").
std::string kafka_topic_name(std::string_view expanded);
// The same in place (no allocation: every character maps to one).
void to_kafka_topic_name(std::string& name);

}  // namespace strata::bridges::kafka
