#include "bridges/kafka/kafka_options.hpp"

#include <gtest/gtest.h>

#include "bridges/kafka/kafka_adapter.hpp"

namespace strata::bridges::kafka {
namespace {

KafkaOptions read(std::string_view text) {
  static std::string file = "strata.toml";
  static toml::table root;
  root = toml::parse(text, file);
  const toml::table& t = *root["bridge"].as_array()->at(0).as_table();
  config::TableReader r(file, t, "bridge.");
  return read_kafka_options(r);
}

std::string error_of(std::string_view text) {
  try {
    read(text);
  } catch (const config::ConfigError& e) {
    return e.what();
  }
  return "";
}

std::string prop(const KafkaOptions& o, std::string_view key) {
  std::string v = "<unset>";
  for (const auto& [k, val] : o.rdkafka) {
    if (k == key) v = val;  // the last one set wins, as in librdkafka
  }
  return v;
}

TEST(KafkaOptions, Defaults) {
  KafkaOptions o = read("[[bridge]]\nbrokers = \"127.0.0.1:9092\"\n");
  EXPECT_EQ(o.brokers, "127.0.0.1:9092");
  EXPECT_EQ(o.topic.text(), "{topic}");
  EXPECT_EQ(o.key.text(), "{topic}");
  EXPECT_TRUE(o.has_key);
  EXPECT_EQ(o.value, ValueMode::payload);
  EXPECT_EQ(prop(o, "bootstrap.servers"), "127.0.0.1:9092");
  EXPECT_EQ(prop(o, "acks"), "all");
  EXPECT_EQ(prop(o, "enable.idempotence"), "true");
  EXPECT_EQ(prop(o, "message.timeout.ms"), "0");
  EXPECT_EQ(prop(o, "compression.codec"), "none");
}

TEST(KafkaOptions, EverythingSet) {
  KafkaOptions o = read(R"([[bridge]]
brokers = ["a:1", "b:2"]
topic = "plant.{2}"
key = ""
value = "envelope"
headers = false
compression = "zstd"
window = 1000
rdkafka.linger.ms = 5
rdkafka.message.timeout.ms = 30000
rdkafka."security.protocol" = "plaintext"
rdkafka.enable.idempotence = false
idempotence = false
acks = "1"
)");
  EXPECT_EQ(o.brokers, "a:1,b:2");
  EXPECT_EQ(o.topic.text(), "plant.{2}");
  EXPECT_FALSE(o.has_key);
  EXPECT_EQ(o.value, ValueMode::envelope);
  EXPECT_FALSE(o.headers);
  EXPECT_EQ(o.window, 1000u);
  EXPECT_EQ(prop(o, "compression.codec"), "zstd");
  EXPECT_EQ(prop(o, "linger.ms"), "5");
  EXPECT_EQ(prop(o, "message.timeout.ms"), "30000");
  EXPECT_EQ(prop(o, "security.protocol"), "plaintext");
  EXPECT_EQ(prop(o, "acks"), "1");
  std::string error;
  rd_kafka_conf_t* conf = make_conf(o.rdkafka, error);
  ASSERT_NE(conf, nullptr) << error;
  rd_kafka_conf_destroy(conf);
}

TEST(KafkaOptions, Errors) {
  EXPECT_EQ(error_of("[[bridge]]\ntopic = \"x\"\n"),
            "strata.toml:1:1: a kafka [[bridge]] needs brokers = \"host:port[,host:port...]\"");
  EXPECT_EQ(error_of("[[bridge]]\nbrokers = \"a:1\"\ntopic = \"{nope}\"\n"),
            "strata.toml:3:9: bridge.topic: template '{nope}': unknown placeholder {nope}; expected {topic}, {#}, {N}, {-N}");
  EXPECT_EQ(error_of("[[bridge]]\nbrokers = \"a:1\"\nacks = \"1\"\n"),
            "strata.toml:3:8: bridge.acks must be \"all\" with idempotence = true (set idempotence = false)");
  EXPECT_EQ(error_of("[[bridge]]\nbrokers = \"a:1\"\ncompression = \"brotli\"\n"),
            "strata.toml:3:15: bridge.compression 'brotli' is not valid; expected none, lz4, zstd, gzip or snappy");
  EXPECT_EQ(error_of("[[bridge]]\nbrokers = \"a:1\"\nrdkafka.linger.ms = [1]\n"),
            "strata.toml:3:21: bridge.rdkafka.linger.ms must be a string, an integer or a boolean, got an array");
}

TEST(KafkaOptions, UnknownLibrdkafkaPropertyIsRefused) {
  KafkaOptions o = read("[[bridge]]\nbrokers = \"a:1\"\nrdkafka.no.such.thing = 1\n");
  std::string error;
  EXPECT_EQ(make_conf(o.rdkafka, error), nullptr);
  EXPECT_NE(error.find("No such configuration property: \"no.such.thing\""), std::string::npos) << error;
}

TEST(KafkaOptions, TopicNames) {
  EXPECT_EQ(kafka_topic_name("plant/line 1/temp°"), "plant.line_1.temp__");
  EXPECT_EQ(kafka_topic_name(std::string(300, 'a')).size(), 249u);
}

}  // namespace
}  // namespace strata::bridges::kafka
