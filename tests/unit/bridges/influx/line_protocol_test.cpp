#include "bridges/influx/line_protocol.hpp"

#include <cmath>
#include <gtest/gtest.h>

namespace strata::bridges::influx {
namespace {

TEST(LineProtocol, Escaping) {
  std::string out;
  append_measurement(out, "a b,c=d");
  EXPECT_EQ(out, "a\\ b\\,c=d");
  out.clear();
  append_key(out, "k e,y=v");
  EXPECT_EQ(out, "k\\ e\\,y\\=v");
  out.clear();
  append_key(out, "line\nbreak\\");  // trailing backslash dropped, newline written as \n
  EXPECT_EQ(out, "line\\nbreak");
  out.clear();
  append_string_value(out, "say \"hi\" \\ now");
  EXPECT_EQ(out, "\"say \\\"hi\\\" \\\\ now\"");
  out.clear();
  append_measurement(out, "#comment");
  EXPECT_EQ(out, "_comment");
}

TEST(LineProtocol, Numbers) {
  std::string out;
  EXPECT_TRUE(append_float(out, 21.5));
  out += ' ';
  EXPECT_TRUE(append_float(out, 3.0));
  out += ' ';
  EXPECT_TRUE(append_float(out, 0.1));
  out += ' ';
  EXPECT_FALSE(append_float(out, std::nan("")));
  EXPECT_FALSE(append_float(out, INFINITY));
  append_integer(out, -42);
  EXPECT_EQ(out, "21.5 3 0.1 -42i");
}

TEST(LineProtocol, Line) {
  std::string out;
  LineBuilder b(out);
  b.measurement("temp");
  b.tag("site", "lyon");
  b.tag("empty", "");
  b.field_float("value", 21.5);
  b.field_integer("count", 7);
  b.field_bool("ok", true);
  b.field_string("unit", "°C");
  ASSERT_TRUE(b.finish(1700000000000));
  EXPECT_EQ(out, "temp,site=lyon value=21.5,count=7i,ok=true,unit=\"°C\" 1700000000000\n");
}

TEST(LineProtocol, NoFieldsNoLine) {
  std::string out = "before\n";
  LineBuilder b(out);
  b.measurement("m");
  b.tag("a", "b");
  b.field_float("nan", std::nan(""));
  EXPECT_FALSE(b.finish(1));
  EXPECT_EQ(out, "before\n");
}

}  // namespace
}  // namespace strata::bridges::influx
