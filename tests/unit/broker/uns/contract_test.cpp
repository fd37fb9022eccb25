#include "broker/uns/contract.hpp"

#include <gtest/gtest.h>

#include "broker/uns/annotation.hpp"

namespace strata::uns {
namespace {

constexpr const char* kTemperature = R"({
  "type": "object",
  "required": ["timestamp_ms", "value", "unit"],
  "properties": {
    "timestamp_ms": {"type": "integer"},
    "value": {"type": "number", "minimum": -50, "maximum": 500},
    "unit": {"enum": ["C", "F"]},
    "quality": {"type": "string", "maxLength": 8},
    "sensor": {"type": "object", "properties": {"id": {"type": "string"}}, "required": ["id"]}
  },
  "additionalProperties": false
})";

std::optional<Failure> check(const Contract& c, const std::string& payload) {
  rapidjson::Document doc;
  std::string error;
  bool ok = parse_json(payload, doc, error);
  return c.check(ok ? &doc : nullptr, error);
}

TEST(Contract, PassesAGoodPayload) {
  Contract c("t", "a/#", "1", Shape::none, kTemperature);
  EXPECT_FALSE(check(c, R"({"timestamp_ms": 1, "value": 21.5, "unit": "C", "quality": "good"})"));
}

TEST(Contract, NamesKindAndPointerOfTheFirstFailure) {
  Contract c("t", "a/#", "1", Shape::none, kTemperature);
  struct Case {
    const char* payload;
    Kind kind;
    const char* pointer;
    const char* keyword;
  } cases[] = {
      {R"({"timestamp_ms": 1, "unit": "C"})", Kind::missing_field, "/value", "required"},
      {R"({"timestamp_ms": 1.5, "value": 1, "unit": "C"})", Kind::wrong_type, "/timestamp_ms", "type"},
      {R"({"timestamp_ms": 1, "value": 501, "unit": "C"})", Kind::out_of_range, "/value", "maximum"},
      {R"({"timestamp_ms": 1, "value": 1, "unit": "K"})", Kind::invalid_value, "/unit", "enum"},
      {R"({"timestamp_ms": 1, "value": 1, "unit": "C", "x": 0})", Kind::unexpected_field, "/x", "additionalProperties"},
      {R"({"timestamp_ms": 1, "value": 1, "unit": "C", "quality": "much too long"})", Kind::out_of_range, "/quality",
       "maxLength"},
      {R"({"timestamp_ms": 1, "value": 1, "unit": "C", "sensor": {}})", Kind::missing_field, "/sensor/id", "required"},
      {R"([1, 2])", Kind::wrong_type, "", "type"},
  };
  for (const Case& k : cases) {
    auto f = check(c, k.payload);
    ASSERT_TRUE(f) << k.payload;
    EXPECT_EQ(f->kind, k.kind) << k.payload;
    EXPECT_EQ(f->pointer, k.pointer) << k.payload;
    EXPECT_EQ(f->detail, k.keyword) << k.payload;
  }
}

TEST(Contract, NotJson) {
  Contract c("t", "a/#", "1", Shape::none, kTemperature);
  auto f = check(c, "{\"value\": ");
  ASSERT_TRUE(f);
  EXPECT_EQ(f->kind, Kind::not_json);
  EXPECT_EQ(f->detail, "invalid JSON at offset 10: Invalid value.");
}

TEST(Contract, Shapes) {
  Contract number("n", "#", "1", Shape::number, "");
  EXPECT_FALSE(check(number, "42"));
  EXPECT_FALSE(check(number, "-1.5e3"));
  EXPECT_EQ(check(number, "\"42\"")->kind, Kind::wrong_type);
  EXPECT_EQ(check(number, "forty")->kind, Kind::not_json);
  Contract ts("ts", "#", "1", Shape::timeseries, "");
  EXPECT_FALSE(check(ts, R"({"timestamp_ms": 1733400000000, "value": 3.5})"));
  EXPECT_FALSE(check(ts, R"({"timestamp_ms": 1, "value": true})"));
  EXPECT_FALSE(check(ts, R"({"timestamp_ms": 1, "value": "running", "extra": 1})"));
  auto f = check(ts, R"({"value": 1})");
  EXPECT_EQ(f->kind, Kind::missing_field);
  EXPECT_EQ(f->pointer, "/timestamp_ms");
  EXPECT_EQ(check(ts, R"({"timestamp_ms": 1, "value": null})")->pointer, "/value");
}

TEST(Contract, ShapeAndSchemaBothApply) {
  Contract c("c", "#", "1", Shape::timeseries, R"({"properties": {"value": {"minimum": 0}}})");
  EXPECT_FALSE(check(c, R"({"timestamp_ms": 1, "value": 3})"));
  EXPECT_EQ(check(c, R"({"timestamp_ms": 1, "value": -3})")->kind, Kind::out_of_range);
  EXPECT_EQ(check(c, R"({"value": 3})")->kind, Kind::missing_field);
}

TEST(Contract, BadSchemaTextSaysLineAndColumn) {
  try {
    Contract c("c", "#", "1", Shape::none, "{\n  \"type\": \"object\",\n  \"required\": [\"a\"\n}\n");
    FAIL() << "accepted";
  } catch (const std::invalid_argument& e) {
    EXPECT_STREQ(e.what(), "line 4, column 1: Missing a comma or ']' after an array element.");
  }
  EXPECT_THROW(Contract("c", "#", "1", Shape::none, "[1]"), std::invalid_argument);
}

TEST(Contract, KindOfKeyword) {
  EXPECT_EQ(kind_of_keyword("required"), Kind::missing_field);
  EXPECT_EQ(kind_of_keyword("additionalProperties"), Kind::unexpected_field);
  EXPECT_EQ(kind_of_keyword("type"), Kind::wrong_type);
  EXPECT_EQ(kind_of_keyword("minimum"), Kind::out_of_range);
  EXPECT_EQ(kind_of_keyword("pattern"), Kind::invalid_value);
}

TEST(ParseJson, DepthIsBounded) {
  rapidjson::Document doc;
  std::string error;
  EXPECT_FALSE(parse_json(std::string(1000, '[') + std::string(1000, ']'), doc, error));
  EXPECT_EQ(error, "JSON nested deeper than 64");
  EXPECT_TRUE(parse_json("[[[1]]]", doc, error));
}

}  // namespace
}  // namespace strata::uns
