#include "bridges/influx/point_mapper.hpp"

#include <gtest/gtest.h>

namespace strata::bridges::influx {
namespace {

constexpr std::int64_t kRecv = 1'765'000'000'123;  // ms

std::string map(const PointMapper& m, std::string_view topic, std::string_view payload,
                MapResult expect = MapResult::line) {
  std::string out;
  EXPECT_EQ(m.map(topic, payload, kRecv, out), expect) << payload;
  return out;
}

TEST(PointMapper, PlainNumberIsValue) {
  PointMapper m{MapperOptions{}};
  EXPECT_EQ(map(m, "plant/line1/temp", "21.5"), "temp value=21.5 1765000000123\n");
  EXPECT_EQ(map(m, "plant/line1/temp", " 7 \n"), "temp value=7 1765000000123\n");
}

TEST(PointMapper, TagsFromLevelsByNameAndPosition) {
  MapperOptions o;
  o.topic_levels = {"site", "_", "line"};
  o.tags.emplace_back("sensor", TopicTemplate::compile("{-1}"));
  o.measurement = TopicTemplate::compile("plant");
  PointMapper m{o};
  EXPECT_EQ(map(m, "lyon/press/l2/t1", "1"), "plant,site=lyon,line=l2,sensor=t1 value=1 1765000000123\n");
}

TEST(PointMapper, JsonObjectFlattened) {
  MapperOptions o;
  o.int_fields = {"count", "status.code"};
  PointMapper m{o};
  EXPECT_EQ(map(m, "a/m", R"({"temp":21.5,"count":3,"ok":false,"unit":"C","status":{"code":2,"text":"run"},"arr":[1],"n":null})"),
            "m temp=21.5,count=3i,ok=false,unit=\"C\",status.code=2i,status.text=\"run\" 1765000000123\n");
  // A number that is not an int field stays a float, even when integral.
  EXPECT_EQ(map(m, "a/m", R"({"temp":21})"), "m temp=21 1765000000123\n");
  // An int field with a fraction is left out rather than conflict.
  EXPECT_EQ(map(m, "a/m", R"({"count":2.5,"x":1})"), "m x=1 1765000000123\n");
}

TEST(PointMapper, FieldAllowList) {
  MapperOptions o;
  o.fields = {"a.b"};
  PointMapper m{o};
  EXPECT_EQ(map(m, "t/m", R"({"a":{"b":1,"c":2},"d":3})"), "m a.b=1 1765000000123\n");
  map(m, "t/m", R"({"d":3})", MapResult::no_fields);
}

TEST(PointMapper, Timestamps) {
  MapperOptions o;
  o.timestamp_field = "ts";
  o.timestamp_unit = TimeUnit::s;
  o.precision = Precision::ns;
  PointMapper m{o};
  EXPECT_EQ(map(m, "t/m", R"({"ts":1765000000,"v":1})"), "m v=1 1765000000000000000\n");
  EXPECT_EQ(map(m, "t/m", R"({"ts":1765000000.5,"v":1})"), "m v=1 1765000000500000000\n");
  EXPECT_EQ(map(m, "t/m", R"({"ts":"2025-12-06T05:46:40.25Z","v":1})"), "m v=1 1765000000250000000\n");
  // Missing: the receive time; unreadable: skipped.
  EXPECT_EQ(map(m, "t/m", R"({"v":1})"), "m v=1 1765000000123000000\n");
  map(m, "t/m", R"({"ts":"yesterday","v":1})", MapResult::bad_timestamp);
  map(m, "t/m", R"({"ts":true,"v":1})", MapResult::bad_timestamp);

  MapperOptions nested;
  nested.timestamp_field = "meta.time";
  nested.timestamp_unit = TimeUnit::ms;
  nested.precision = Precision::s;
  EXPECT_EQ(map(PointMapper{nested}, "t/m", R"({"meta":{"time":1765000001999},"v":2})"), "m v=2 1765000001\n");
}

TEST(PointMapper, Rfc3339) {
  std::int64_t ns = 0;
  ASSERT_TRUE(parse_rfc3339("1970-01-01T00:00:00Z", ns));
  EXPECT_EQ(ns, 0);
  ASSERT_TRUE(parse_rfc3339("1970-01-01T01:00:00.000001+01:00", ns));
  EXPECT_EQ(ns, 1000);
  ASSERT_TRUE(parse_rfc3339("2000-02-29 12:00:00-00:30", ns));
  EXPECT_EQ(ns, 951827400LL * 1'000'000'000);
  EXPECT_FALSE(parse_rfc3339("2000-02-29T12:00:00", ns));
  EXPECT_FALSE(parse_rfc3339("2000-13-01T12:00:00Z", ns));
  EXPECT_FALSE(parse_rfc3339("2000-01-01T12:00:00.Z", ns));
  EXPECT_FALSE(parse_rfc3339("", ns));
}

TEST(PointMapper, SkippedMessages) {
  PointMapper m{MapperOptions{}};
  map(m, "t/m", "hello", MapResult::not_mappable);
  map(m, "t/m", "[1,2]", MapResult::not_mappable);
  map(m, "t/m", "{\"a\":[1]}", MapResult::no_fields);
  map(m, "t/m", "{}", MapResult::no_fields);
  map(m, "t/", "1", MapResult::no_measurement);
  map(m, "t/m", "{\"a\":1} junk", MapResult::not_mappable);
}

TEST(PointMapper, BooleanPayloadAndEscapedNames) {
  PointMapper m{MapperOptions{}};
  EXPECT_EQ(map(m, "t/motor on", "true"), "motor\\ on value=true 1765000000123\n");
  MapperOptions o;
  o.tags.emplace_back("topic", TopicTemplate::compile("{topic}"));
  EXPECT_EQ(map(PointMapper{o}, "a b/c=d", "{\"x y\":\"q\\\"\"}"),
            "c=d,topic=a\\ b/c\\=d x\\ y=\"q\\\"\" 1765000000123\n");
}

TEST(PointMapper, IntegerValueField) {
  MapperOptions o;
  o.int_fields = {"value"};
  PointMapper m{o};
  EXPECT_EQ(map(m, "t/m", "42"), "m value=42i 1765000000123\n");
  EXPECT_EQ(map(m, "t/m", "42.0"), "m value=42i 1765000000123\n");
  map(m, "t/m", "42.5", MapResult::no_fields);
}

TEST(PointMapper, OneMapperManyMessagesAndCopies) {
  // The mapper keeps its buffers from one message to the next: a large
  // payload (past the pooled buffers), a bad one and a small one in a row
  // each give exactly their own line; a copy maps the same on its own.
  MapperOptions o;
  o.tags.emplace_back("line", TopicTemplate::compile("{2}"));
  PointMapper m{o};
  std::string big = "{";
  for (int i = 0; i < 2000; ++i) big += (i ? ",\"f" : "\"f") + std::to_string(i) + "\":" + std::to_string(i) + ".5";
  big += "}";
  std::string line = map(m, "plant/l1/temp", big);
  EXPECT_EQ(line.rfind("temp,line=l1 f0=0.5,f1=1.5,", 0), 0u);
  EXPECT_NE(line.find(",f1999=1999.5 1765000000123\n"), std::string::npos);
  map(m, "plant/l1/temp", R"({"a":)", MapResult::not_mappable);
  EXPECT_EQ(map(m, "plant/l2/temp", R"({"v":{"w":2}})"), "temp,line=l2 v.w=2 1765000000123\n");
  PointMapper copy = m;
  EXPECT_EQ(map(copy, "plant/l3/temp", R"({"v":1})"), "temp,line=l3 v=1 1765000000123\n");
  EXPECT_EQ(map(m, "plant/l4/temp", "3"), "temp,line=l4 value=3 1765000000123\n");
}

}  // namespace
}  // namespace strata::bridges::influx
