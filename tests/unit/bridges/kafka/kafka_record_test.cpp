#include "bridges/kafka/kafka_record.hpp"

#include <gtest/gtest.h>

namespace strata::bridges::kafka {
namespace {

Record record(std::string topic, std::string payload, std::int32_t route = -1) {
  Record r;
  r.offset = 7;
  r.topic = std::move(topic);
  r.payload = std::move(payload);
  r.qos = protocol::QoS::at_least_once;
  r.received_ms = 1765000000123;
  r.route = route;
  return r;
}

TEST(KafkaRecord, DefaultsTopicKeyHeaders) {
  KafkaOptions o;
  RecordMapper m(o, {});
  Record r = record("plant/l1/temp", "21.5");
  r.mutable_properties().user_properties = {{"unit", "C"}, {"unit", "K"}};
  r.mutable_properties().content_type = "text/plain";
  KafkaMessage k;
  ASSERT_TRUE(m.map(r, k));
  EXPECT_EQ(k.topic, "plant.l1.temp");
  EXPECT_TRUE(k.has_key);
  EXPECT_EQ(k.key, "plant/l1/temp");
  EXPECT_EQ(k.envelope, "");
  std::vector<std::pair<std::string_view, std::string_view>> headers = {
      {"unit", "C"}, {"unit", "K"}, {"content-type", "text/plain"}, {"mqtt-topic", "plant/l1/temp"}};
  EXPECT_EQ(k.headers, headers);
}

TEST(KafkaRecord, TemplatesPerRouteWithRemoteRewrite) {
  KafkaOptions o;
  o.topic = TopicTemplate::compile("ot-{1}");
  o.key = TopicTemplate::compile("{#}");
  o.headers = false;
  Route route;
  route.filter = "site/+/#";
  route.remote = "eu/{topic}";
  Route plain;
  plain.filter = "raw/#";
  std::vector<Route> routes{route, plain};
  RecordMapper m(o, routes);
  KafkaMessage k;
  ASSERT_TRUE(m.map(record("site/lyon/press/t1", "1", 0), k));
  EXPECT_EQ(k.topic, "ot-eu");
  EXPECT_EQ(k.key, "eu/site/lyon/press/t1");  // after a rewrite, {#} is the rewritten topic
  EXPECT_TRUE(k.headers.empty());
  ASSERT_TRUE(m.map(record("raw/a/b", "1", 1), k));
  EXPECT_EQ(k.topic, "ot-raw");
  EXPECT_EQ(k.key, "a/b");
}

TEST(KafkaRecord, ReusedMessageHoldsOnlyTheLastRecord) {
  KafkaOptions o;
  Route route;
  route.filter = "site/#";
  route.remote = "eu/{topic}";
  std::vector<Route> routes{route};
  RecordMapper m(o, routes);
  KafkaMessage k;
  Record first = record("site/a/very/long/topic/name/that/does/not/fit/inline", "1", 0);
  first.mutable_properties().user_properties = {{"unit", "C"}};
  ASSERT_TRUE(m.map(first, k));
  EXPECT_EQ(k.topic, "eu.site.a.very.long.topic.name.that.does.not.fit.inline");
  Record second = record("site/b", "2", 0);
  ASSERT_TRUE(m.map(second, k));
  EXPECT_EQ(k.topic, "eu.site.b");
  EXPECT_EQ(k.key, "eu/site/b");
  std::vector<std::pair<std::string_view, std::string_view>> headers = {{"mqtt-topic", "eu/site/b"}};
  EXPECT_EQ(k.headers, headers);  // the rewritten topic, from the message's own buffer
}

TEST(KafkaRecord, EmptyTopicIsRefused) {
  KafkaOptions o;
  o.topic = TopicTemplate::compile("{5}");
  RecordMapper m(o, {});
  KafkaMessage k;
  EXPECT_FALSE(m.map(record("a/b", "1"), k));
}

TEST(KafkaRecord, Envelope) {
  Record r = record("plant/l1/temp", "21.5 \"C\"");
  r.retain = true;
  r.mutable_properties().user_properties = {{"unit", "C"}};
  r.mutable_properties().content_type = "text/plain";
  EXPECT_EQ(envelope_json("plant/l1/temp", r),
            R"({"topic":"plant/l1/temp","payload":"21.5 \"C\"","qos":1,"retain":true,"time":1765000000123,)"
            R"("content_type":"text/plain","user_properties":[["unit","C"]]})");
  Record bin = record("b", std::string("\xff\x00\x01", 3));
  EXPECT_EQ(envelope_json("b", bin), R"({"topic":"b","payload_base64":"/wAB","qos":1,"retain":false,"time":1765000000123})");
}

TEST(KafkaRecord, EnvelopeMode) {
  KafkaOptions o;
  o.value = ValueMode::envelope;
  RecordMapper m(o, {});
  KafkaMessage k;
  ASSERT_TRUE(m.map(record("a", "x"), k));
  EXPECT_EQ(k.envelope, R"({"topic":"a","payload":"x","qos":1,"retain":false,"time":1765000000123})");
}

}  // namespace
}  // namespace strata::bridges::kafka
