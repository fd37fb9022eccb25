#include "tools/strata_ctl/table.hpp"

#include <gtest/gtest.h>

namespace strata::ctl {
namespace {

rapidjson::Document json(const char* text) {
  rapidjson::Document d;
  d.Parse(text);
  EXPECT_FALSE(d.HasParseError()) << text;
  return d;
}

TEST(CtlTable, AlignsColumnsWithoutTrailingBlanks) {
  Table t({"client id", "qos", "topic"});
  t.add_row({"a", "1", "x/y"});
  t.add_row({"longer-id", "0", ""});
  EXPECT_EQ(t.render(),
            "CLIENT ID  QOS  TOPIC\n"
            "a          1    x/y\n"
            "longer-id  0\n");
}

TEST(CtlTable, CellsStayOnOneLineAndCountCharacters) {
  Table t({"a", "b"});
  t.add_row({"line1\nline2\t\x01", "z"});
  t.add_row({"\xC3\xA4\xC3\xB6", "z"});  // two characters, four bytes
  EXPECT_EQ(t.render(),
            "A" + std::string(19, ' ') + "B\n" +
            "line1\\nline2\\t\\x01  z\n" +
            "\xC3\xA4\xC3\xB6" + std::string(18, ' ') + "z\n");
}

TEST(CtlTable, CellText) {
  auto d = json(R"({"s":"x","n":12,"f":1.5,"t":true,"z":null,"a":["p","q"],"e":[],"o":{"k":1},"m":[{"k":1}]})");
  EXPECT_EQ(cell_text(d["s"]), "x");
  EXPECT_EQ(cell_text(d["n"]), "12");
  EXPECT_EQ(cell_text(d["f"]), "1.5");
  EXPECT_EQ(cell_text(d["t"]), "true");
  EXPECT_EQ(cell_text(d["z"]), "-");
  EXPECT_EQ(cell_text(d["a"]), "p,q");
  EXPECT_EQ(cell_text(d["e"]), "-");
  EXPECT_EQ(cell_text(d["o"]), R"({"k":1})");
  EXPECT_EQ(cell_text(d["m"]), R"([{"k":1}])");
}

TEST(CtlTable, ListTableOfPagedAnswerAndOfNamedArray) {
  auto d = json(R"({"data":[{"clientid":"c1","qos":1,"meta":{"x":"deep"}},{"clientid":"c2"}],
                    "meta":{"page":1,"limit":100,"count":2,"hasnext":false}})");
  EXPECT_EQ(list_table(d, {{"client id", "clientid"}, {"qos", "qos"}, {"x", "meta.x"}}).render(),
            "CLIENT ID  QOS  X\n"
            "c1         1    deep\n"
            "c2         -    -\n");
  auto rules = json(R"({"rules":[{"name":"alarm","file":"alarm.lua","enabled":true,"p99_us":12}]})");
  EXPECT_EQ(list_table(rules, {{"name", "name"}, {"enabled", "enabled"}}).render(),
            "NAME   ENABLED\n"
            "alarm  true\n");
  auto empty = json(R"({"data":[],"meta":{}})");
  EXPECT_EQ(list_table(empty, {{"topic", "topic"}}).render(), "TOPIC\n");
  auto odd = json(R"({"data":[1,"x"]})");
  EXPECT_EQ(list_table(odd, {{"topic", "topic"}}).rows(), 2u);
}

TEST(CtlTable, SeriesTable) {
  auto d = json(R"({"results":[{"statement_id":0,"series":[
      {"name":"p#rpm","tags":{"tier":"raw"},"columns":["time","value"],"values":[[1000,100],[2000,null]]},
      {"name":"p#temp","columns":["time","avg"],"values":[["2026-12-06T07:00:00Z",1.25]]}]}]})");
  EXPECT_EQ(series_table(d).render(),
            "SERIES  TIME                  VALUE\n"
            "p#rpm   1000                  100\n"
            "p#rpm   2000                  -\n"
            "p#temp  2026-12-06T07:00:00Z  1.25\n");
  EXPECT_EQ(series_table(json("{}")).rows(), 0u);
}

TEST(CtlTable, DescribeNestedValues) {
  auto d = json(R"({"name":"r","enabled":false,"topics":["a/#","b"],"source":"x",
                    "result":{"published":[{"topic":"t","payload":"1\n2"}],"log":[],"drop":null}})");
  EXPECT_EQ(describe(d, {"source"}),
            "name: r\n"
            "enabled: false\n"
            "topics:\n"
            "  - a/#\n"
            "  - b\n"
            "result:\n"
            "  published:\n"
            "    - topic: t\n"
            "      payload: 1\\n2\n"
            "  log: []\n"
            "  drop: -\n");
  EXPECT_EQ(describe(json("[[1,2],{}]")), "- - 1\n  - 2\n- {}\n");
  EXPECT_EQ(describe(json("7")), "7\n");
  EXPECT_EQ(describe(json(R"({"username":""})")), "username: \"\"\n");
}

}  // namespace
}  // namespace strata::ctl
