#include "tools/strata_ctl/uns_render.hpp"

#include <gtest/gtest.h>

namespace strata::ctl {
namespace {

rapidjson::Document json(const char* text) {
  rapidjson::Document d;
  d.Parse(text);
  EXPECT_FALSE(d.HasParseError()) << text;
  return d;
}

TEST(CtlUnsRender, TreeIndentsLevelsAndMarksUnexpandedNodes) {
  auto d = json(R"({"name":"acme","path":"acme","topics":3,"messages":7,"rate_per_s":0.5,"status":"violating",
    "child_count":2,"children":[
      {"name":"berlin","path":"acme/berlin","topics":2,"messages":6,"rate_per_s":0.123,"status":"ok","child_count":1,
       "children":[{"name":"press","path":"acme/berlin/press","topics":2,"messages":6,"rate_per_s":0,"status":"ok",
                    "child_count":1}]},
      {"name":"lyon","path":"acme/lyon","topics":1,"messages":1,"rate_per_s":2,"status":"violating","child_count":0,
       "children":[]}]})");
  EXPECT_EQ(tree_table(d).render(),
            "NODE           TOPICS  MESSAGES  RATE/S  STATUS\n"
            "acme           3       7         0.50    violating\n"
            "  berlin       2       6         0.12    ok\n"
            "    press/...  2       6         0.00    ok\n"
            "  lyon         1       1         2.00    violating\n");
}

TEST(CtlUnsRender, TreeOfTheWholeNamespaceIsRootedAtSlash) {
  auto d = json(R"({"name":"","path":"","topics":0,"messages":0,"rate_per_s":0,"status":"ok","child_count":0,
                    "children":[]})");
  EXPECT_EQ(tree_table(d).render(), "NODE  TOPICS  MESSAGES  RATE/S  STATUS\n/     0       0         0.00    ok\n");
}

TEST(CtlUnsRender, TopicsWithUtcTimes) {
  auto d = json(R"({"data":[{"topic":"a/b","messages":2,"rate_per_s":1.005,"last_seen_ms":1700000000123,
                     "status":"ok"},{"topic":"c","messages":1,"status":"violating"}],"meta":{}})");
  EXPECT_EQ(topics_table(d).render(),
            "TOPIC  MESSAGES  RATE/S  LAST SEEN                 STATUS\n"
            "a/b    2         1.00    2023-11-14T22:13:20.123Z  ok\n"
            "c      1         -       -                         violating\n");
}

TEST(CtlUnsRender, FieldsWithPresenceInPercent) {
  auto d = json(R"({"topic":"t","current_version":2,"fields":{"/value":{"types":"number","presence":1.0},
                    "/unit":{"types":"string","presence":0.25}},"versions":[]})");
  EXPECT_EQ(fields_table(d).render(),
            "FIELD   TYPES   PRESENCE\n"
            "/value  number  100%\n"
            "/unit   string  25%\n");
}

TEST(CtlUnsRender, TestResultsCountFailures) {
  auto d = json(R"({"results":[{"valid":true},{"valid":false,"kind":"missing_field","pointer":"/value",
                    "detail":"required"}]})");
  std::size_t failed = 9;
  EXPECT_EQ(test_table(d, {"{\"value\":1}", "{}"}, failed).render(),
            "SAMPLE       RESULT   KIND           POINTER  DETAIL\n"
            "{\"value\":1}  valid\n"
            "{}           invalid  missing_field  /value   required\n");
  EXPECT_EQ(failed, 1u);
  auto bad = json(R"({"unexpected":1})");
  EXPECT_EQ(test_table(bad, {}, failed).rows(), 0u);
  EXPECT_EQ(failed, 0u);
}

TEST(CtlUnsRender, ContractsShowShapeOrSchemaFile) {
  auto d = json(R"({"data":[{"name":"ts","version":"1","filter":"a/#","action":"reject","shape":"timeseries",
                     "schema_file":"","matched":3,"passed":2,"failed":1},
                    {"name":"s","version":"2","filter":"b/#","action":"observe","shape":"none",
                     "schema_file":"s.json","matched":0,"passed":0,"failed":0}]})");
  EXPECT_EQ(contracts_table(d).render(),
            "NAME  VERSION  FILTER  CHECKS      ACTION   MATCHED  PASSED  FAILED\n"
            "ts    1        a/#     timeseries  reject   3        2       1\n"
            "s     2        b/#     s.json      observe  0        0       0\n");
}

}  // namespace
}  // namespace strata::ctl
