// Samples from payloads: plain numbers and booleans, JSON fields at any
// depth, payload timestamps in every accepted form, and what is ignored.
#include "broker/historian/samples.hpp"

#include <gtest/gtest.h>

#include "broker/historian/time_format.hpp"

namespace strata::historian {
namespace {

std::vector<Sample> extract(std::string_view payload, std::string_view ts_field = "", std::int64_t now = 5000) {
  std::vector<Sample> out;
  extract_samples("plant/press", payload, now, ts_field, out);
  return out;
}

TEST(Samples, PlainNumbersAndBooleans) {
  auto s = extract(" 21.5\n");
  ASSERT_EQ(s.size(), 1u);
  EXPECT_EQ(s[0].series, "plant/press");
  EXPECT_EQ(s[0].t, 5000);
  EXPECT_EQ(s[0].v, 21.5);
  EXPECT_EQ(extract("-3e2")[0].v, -300);
  EXPECT_EQ(extract("+4")[0].v, 4);
  EXPECT_EQ(extract("true")[0].v, 1);
  EXPECT_EQ(extract("false")[0].v, 0);
  for (const char* p : {"", "abc", "21.5 C", "nan", "inf", "[1,2]", "\"5\"", "{bad json", "{\"a\":\"text\"}", "1e999"}) {
    EXPECT_TRUE(extract(p).empty()) << p;
  }
}

TEST(Samples, JsonFieldsAtAnyDepth) {
  auto s = extract(R"({"temp":21.5,"ok":true,"name":"x","inner":{"p":2,"deeper":{"q":-1}},"list":[1,2]})");
  ASSERT_EQ(s.size(), 4u);
  EXPECT_EQ(s[0].series, "plant/press#temp");
  EXPECT_EQ(s[1].series, "plant/press#ok");
  EXPECT_EQ(s[1].v, 1);
  EXPECT_EQ(s[2].series, "plant/press#inner.p");
  EXPECT_EQ(s[3].series, "plant/press#inner.deeper.q");
  EXPECT_EQ(s[3].v, -1);
}

TEST(Samples, PayloadTimestamps) {
  auto rfc = extract(R"({"ts":"2026-12-06T07:00:00.250Z","v":1})", "ts");
  ASSERT_EQ(rfc.size(), 1u) << "the timestamp field is not a series";
  EXPECT_EQ(rfc[0].t, *parse_rfc3339("2026-12-06T07:00:00.250Z"));
  EXPECT_EQ(extract(R"({"ts":1796540400250,"v":1})", "ts")[0].t, 1796540400250);
  EXPECT_EQ(extract(R"({"ts":1796540400.25,"v":1})", "ts")[0].t, 1796540400250) << "seconds";
  EXPECT_EQ(extract(R"({"ts":"1796540400250","v":1})", "ts")[0].t, 1796540400250);
  EXPECT_EQ(extract(R"({"meta":{"at":1796540400000},"v":1})", "meta.at")[0].t, 1796540400000);
  // Missing or unreadable: the receive time.
  EXPECT_EQ(extract(R"({"v":1})", "ts")[0].t, 5000);
  EXPECT_EQ(extract(R"({"ts":"yesterday","v":1})", "ts")[0].t, 5000);
  EXPECT_EQ(extract(R"({"ts":-5,"v":1})", "ts")[0].t, 5000);
}

}  // namespace
}  // namespace strata::historian
