// The per-core catalog (catalog.cpp), inferred schemas and the queries over
// merged catalogs (catalog_query.cpp).
#include "broker/uns/catalog.hpp"

#include <gtest/gtest.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "broker/uns/catalog_query.hpp"
#include "broker/uns/namespace_hook.hpp"

namespace strata::uns {
namespace {

std::shared_ptr<router::Message> msg(const std::string& topic, const std::string& payload,
                                     const std::string& from = "c1") {
  auto m = router::Message::make(topic, payload);
  m->publisher = from;
  return m;
}

int record(Catalog& c, const std::shared_ptr<router::Message>& ptr, std::uint64_t now) {
  const router::Message& m = *ptr;
  bool created = false;
  CatalogEntry& e = c.touch(m.topic, created);
  rapidjson::Document doc;
  std::string error;
  bool ok = parse_json(m.payload, doc, error);
  return c.record(e, m, ok ? &doc : nullptr, now, 8);
}

std::string text(const rapidjson::Value& v) {
  rapidjson::StringBuffer b;
  rapidjson::Writer<rapidjson::StringBuffer> w(b);
  v.Accept(w);
  return b.GetString();
}

// The open-addressing index through growth and many evictions (backward
// shift): every kept topic is found with its own entry, no evicted one is.
TEST(Catalog, IndexFindsEveryKeptTopicThroughGrowthAndEviction) {
  Catalog c(1000);
  for (int i = 0; i < 20'000; ++i) {
    bool created = false;
    CatalogEntry& e = c.touch("t/" + std::to_string(i % 7) + "/" + std::to_string(i), created);
    ASSERT_TRUE(created);
    e.count = static_cast<std::uint64_t>(i);
  }
  EXPECT_EQ(c.size(), 1000u);
  EXPECT_EQ(c.evicted(), 19'000u);
  for (int i = 0; i < 20'000; ++i) {
    std::string topic = "t/" + std::to_string(i % 7) + "/" + std::to_string(i);
    const CatalogEntry* e = c.find(topic);
    if (i < 19'000) {
      EXPECT_EQ(e, nullptr) << topic;
    } else {
      ASSERT_NE(e, nullptr) << topic;
      EXPECT_EQ(e->topic(), topic);
      EXPECT_EQ(e->count, static_cast<std::uint64_t>(i));
    }
  }
  bool created = true;
  EXPECT_EQ(c.touch("t/0/19999", created).count, 19'999u);
  EXPECT_FALSE(created);
}

TEST(InferredSchema, HashIgnoresMemberOrderAndSeesTypes) {
  rapidjson::Document a, b, c;
  a.Parse(R"({"x": 1, "y": "s", "z": {"k": [1, 2.5]}})");
  b.Parse(R"({"z": {"k": [3, 4.5]}, "y": "t", "x": 2})");
  c.Parse(R"({"x": 1.5, "y": "s", "z": {"k": [1, 2.5]}})");
  EXPECT_EQ(shape_hash(a), shape_hash(b));
  EXPECT_NE(shape_hash(a), shape_hash(c));
  InferredSchema s = infer(a);
  std::vector<Field> want{{"", t_object}, {"/x", t_integer}, {"/y", t_string},
                          {"/z", t_object}, {"/z/k", t_array}, {"/z/k/*", t_integer | t_number}};
  EXPECT_EQ(s.fields, want);
  EXPECT_EQ(describe_drift(s, infer(c)), "/x: integer -> number");
  EXPECT_EQ(plain_kind("12.5"), t_number);
  EXPECT_EQ(plain_kind("true"), t_bool);
  EXPECT_EQ(plain_kind("on"), t_string);
  EXPECT_EQ(plain_kind(std::string("\xff\x00", 2)), t_binary);
}

TEST(Catalog, RecordsAndKeepsSchemaVersions) {
  Catalog c(10);
  EXPECT_EQ(record(c, msg("t", R"({"a": 1})"), 1000), 0);  // first version
  EXPECT_EQ(record(c, msg("t", R"({"a": 2})"), 2000), -1);
  EXPECT_EQ(record(c, msg("t", R"({"a": 2, "b": true})"), 3000), 1);  // drift
  EXPECT_EQ(record(c, msg("t", R"({"a": 3})"), 4000), -1);            // back to v1: not drift
  const CatalogEntry* e = c.find("t");
  ASSERT_NE(e, nullptr);
  EXPECT_EQ(e->count, 4u);
  EXPECT_EQ(e->first_ms, 1000u);
  EXPECT_EQ(e->last_ms, 4000u);
  EXPECT_EQ(e->versions.size(), 2u);
  EXPECT_EQ(e->current, 0u);
  EXPECT_EQ(e->versions[0].count, 3u);
  EXPECT_EQ(e->value, R"({"a": 3})");
  record(c, msg("t", R"({"a": 123456})"), 5000);
  EXPECT_EQ(e->value, R"({"a": 12)");  // cut at value_bytes (8)
  EXPECT_TRUE(e->truncated);
  EXPECT_EQ(e->size, 13u);
}

TEST(Catalog, EvictsTheLeastRecentlySeen) {
  Catalog c(3);
  record(c, msg("a", "1"), 1);
  record(c, msg("b", "1"), 2);
  record(c, msg("c", "1"), 3);
  record(c, msg("a", "2"), 4);  // a is now the most recent
  record(c, msg("d", "1"), 5);  // evicts b
  EXPECT_EQ(c.size(), 3u);
  EXPECT_EQ(c.evicted(), 1u);
  EXPECT_EQ(c.find("b"), nullptr);
  std::vector<std::string> order;
  c.for_each([&](std::string_view t, const CatalogEntry&) { order.emplace_back(t); });
  EXPECT_EQ(order, (std::vector<std::string>{"d", "a", "c"}));
  c.set_max_topics(1);
  EXPECT_EQ(c.size(), 1u);
  EXPECT_EQ(c.evicted(), 3u);
}

TEST(Catalog, SharesIdenticalSchemas) {
  Catalog c(10);
  record(c, msg("a", R"({"v": 1})"), 1);
  record(c, msg("b", R"({"v": 2})"), 1);
  EXPECT_EQ(c.find("a")->versions[0].schema.get(), c.find("b")->versions[0].schema.get());
}

struct Fixture {
  Rules rules;
  Catalog core0{100}, core1{100};
  MergedCatalog merged(std::uint64_t now) {
    MergedCatalog m;
    merge_into(m, core0, rules, now);
    merge_into(m, core1, rules, now);
    return m;
  }
};

TEST(Catalog, InternsPublishersAndKeepsTheLastUserProperties) {
  Catalog c{100};
  record(c, msg("a/1", "1", "plc-000000000000001"), 1);
  record(c, msg("a/2", "2", "plc-000000000000001"), 1);
  const CatalogEntry* e1 = c.find("a/1");
  const CatalogEntry* e2 = c.find("a/2");
  ASSERT_NE(e1->publisher, nullptr);
  EXPECT_EQ(e1->publisher.get(), e2->publisher.get());  // one shared copy
  EXPECT_EQ(*e1->publisher, "plc-000000000000001");
  EXPECT_EQ(e1->properties, nullptr);

  auto m = msg("a/1", "3", "other");
  m->properties.edit().user_properties = {{"k", "v"}};
  record(c, m, 2);
  EXPECT_EQ(*e1->publisher, "other");
  EXPECT_EQ(*e2->publisher, "plc-000000000000001");
  ASSERT_NE(e1->properties, nullptr);
  EXPECT_EQ(e1->properties->user, (protocol::UserProperties{{"k", "v"}}));
  m->properties.edit().user_properties = {{"k", "w"}, {"x", "y"}};
  m->properties.edit().content_type = "text/plain";
  m->properties.edit().message_expiry_interval = 60;
  record(c, m, 3);
  EXPECT_EQ(e1->properties->user, (protocol::UserProperties{{"k", "w"}, {"x", "y"}}));
  EXPECT_EQ(e1->properties->content_type, "text/plain");
  EXPECT_EQ(e1->properties->message_expiry_interval, 60u);
  EXPECT_FALSE(e1->properties->response_topic);
  auto only_type = msg("a/1", "5", "other");
  only_type->properties.edit().payload_format_indicator = 1;
  record(c, only_type, 4);
  ASSERT_NE(e1->properties, nullptr);
  EXPECT_TRUE(e1->properties->user.empty());
  EXPECT_EQ(e1->properties->payload_format_indicator, 1);
  record(c, msg("a/1", "4", "other"), 5);  // none: cleared
  EXPECT_EQ(e1->properties, nullptr);
}

TEST(CatalogQuery, MergesCoresAndSearches) {
  Fixture f;
  record(f.core0, msg("acme/berlin/press/l1/temp", "20", "x"), 1000);
  record(f.core1, msg("acme/berlin/press/l1/temp", "21", "y"), 2000);
  record(f.core1, msg("acme/berlin/weld/l2/temp", "22"), 2000);
  record(f.core0, msg("acme/paris/press/l1/speed", "5"), 500);
  MergedCatalog m = f.merged(3000);
  ASSERT_EQ(m.topics.size(), 3u);
  const MergedTopic& t = m.topics["acme/berlin/press/l1/temp"];
  EXPECT_EQ(t.count, 2u);
  EXPECT_EQ(t.value, "21");
  EXPECT_EQ(t.publisher, "y");
  EXPECT_EQ(t.first_ms, 1000u);

  auto search = [&](TopicQuery q) {
    std::vector<std::string> out;
    rapidjson::Document d = query_topics(m, q, 3000);
    for (const auto& i : d["items"].GetArray()) out.push_back(i["topic"].GetString());
    return out;
  };
  TopicQuery q;
  q.match = "acme/+/press/#";
  EXPECT_EQ(search(q), (std::vector<std::string>{"acme/berlin/press/l1/temp", "acme/paris/press/l1/speed"}));
  q = {};
  q.q = "weld";
  EXPECT_EQ(search(q), (std::vector<std::string>{"acme/berlin/weld/l2/temp"}));
  q = {};
  q.regex = "^acme/[a-z]+/press/l1/(temp|speed)$";
  EXPECT_EQ(search(q).size(), 2u);
  q = {};
  q.stale_s = 2;
  EXPECT_EQ(search(q), (std::vector<std::string>{"acme/paris/press/l1/speed"}));
  q = {};
  q.offset = 1;
  q.limit = 1;
  EXPECT_EQ(search(q), (std::vector<std::string>{"acme/berlin/weld/l2/temp"}));
  q = {};
  q.regex = "(";
  EXPECT_THROW(query_topics(m, q, 3000), std::invalid_argument);

  rapidjson::Document tree = query_tree(m, "acme", 2, 0, 100);
  EXPECT_EQ(tree["topics"].GetUint64(), 3u);
  EXPECT_EQ(tree["messages"].GetUint64(), 4u);
  ASSERT_EQ(tree["children"].Size(), 2u);
  EXPECT_STREQ(tree["children"][0]["name"].GetString(), "berlin");
  EXPECT_EQ(tree["children"][0]["topics"].GetUint64(), 2u);
  EXPECT_EQ(tree["children"][0]["children"].Size(), 2u);
  EXPECT_FALSE(tree["children"][0]["children"][0].HasMember("children"));  // depth 2 ends here

  auto one = query_topic(m, "acme/berlin/press/l1/temp");
  ASSERT_TRUE(one);
  EXPECT_EQ((*one)["messages"].GetUint64(), 2u);
  EXPECT_STREQ((*one)["kind"].GetString(), "integer");
  EXPECT_FALSE(query_topic(m, "nope"));
}

TEST(CatalogQuery, SchemaAndSchemaAsContract) {
  Fixture f;
  record(f.core0, msg("m", R"({"rpm": 1200, "tags": ["a"]})"), 1000);
  record(f.core0, msg("m", R"({"rpm": 1250, "tags": ["b"], "temp": 40.5})"), 2000);
  MergedCatalog m = f.merged(3000);
  auto s = query_schema(m, "m", false);
  ASSERT_TRUE(s);
  EXPECT_EQ(text((*s)["fields"]),
            R"({"":{"types":"object","presence":1.0},"/rpm":{"types":"integer","presence":1.0},)"
            R"("/tags":{"types":"array","presence":1.0},"/tags/*":{"types":"string","presence":1.0},)"
            R"("/temp":{"types":"number","presence":0.5}})");
  EXPECT_EQ((*s)["versions"].Size(), 2u);
  auto c = query_schema(m, "m", true);
  EXPECT_EQ(text(*c),
            R"({"$schema":"http://json-schema.org/draft-04/schema#","type":"object","properties":)"
            R"({"rpm":{"type":"integer"},"tags":{"type":"array","items":{"type":"string"}},"temp":{"type":"number"}},)"
            R"("required":["rpm","tags","temp"]})");
  // The draft it gives is a contract the current payload keeps.
  Contract contract("m", "m", "1", Shape::none, text(*c));
  rapidjson::Document doc;
  doc.Parse(R"({"rpm": 1250, "tags": ["b"], "temp": 40.5})");
  EXPECT_FALSE(contract.check(&doc, ""));
}

}  // namespace
}  // namespace strata::uns
