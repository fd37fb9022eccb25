// The answer classifier fed with answers recorded from InfluxDB 1.6,
// InfluxDB 2.x and VictoriaMetrics.
#include "bridges/influx/write_answer.hpp"

#include <gtest/gtest.h>

namespace strata::bridges::influx {
namespace {

LineBatch batch_of(std::initializer_list<std::string_view> lines) {
  LineBatch b;
  std::uint64_t off = 100;
  for (auto l : lines) b.add(l, off++);
  return b;
}

const LineBatch kFour = batch_of({"temp,site=a value=1 1", "temp,site=b value=\"x\" 2", "hum,site=a value=3 3",
                              "temp,site=c value=\"y\" 4"});

TEST(WriteAnswer, Success) {
  EXPECT_EQ(classify({204, "", ""}, kFour).action, WriteAction::ack);
  EXPECT_EQ(classify({200, "{}", ""}, kFour).action, WriteAction::ack);
}

TEST(WriteAnswer, TooLargeSplitsThenRejectsOneLine) {
  WriteAnswer a{413, "{\"error\":\"Request Entity Too Large\"}", ""};
  EXPECT_EQ(classify(a, kFour).action, WriteAction::split);
  WriteVerdict one = classify(a, kFour.part(0, 1));
  EXPECT_EQ(one.action, WriteAction::reject);
  EXPECT_EQ(one.rejected, (std::vector<std::size_t>{0}));
}

TEST(WriteAnswer, TypeConflictRejectsJustThoseLines) {
  // InfluxDB 1.6, "value" of temp first written as a float.
  WriteAnswer a{400,
                "{\"error\":\"partial write: field type conflict: input field \\\"value\\\" on measurement "
                "\\\"temp\\\" is type string, already exists as type float dropped=2\"}\n",
                ""};
  WriteVerdict v = classify(a, kFour);
  EXPECT_EQ(v.action, WriteAction::reject);
  EXPECT_EQ(v.rejected, (std::vector<std::size_t>{1, 3}));
  EXPECT_NE(v.reason.find("field type conflict"), std::string::npos);
}

TEST(WriteAnswer, TypeConflictV2) {
  // InfluxDB 2.x, 422.
  WriteAnswer a{422,
                R"({"code":"unprocessable entity","message":"failure writing points to database: partial write: field type conflict: input field \"value\" on measurement \"temp\" is type string, already exists as type float dropped=2"})",
                ""};
  WriteVerdict v = classify(a, kFour);
  EXPECT_EQ(v.action, WriteAction::reject);
  EXPECT_EQ(v.rejected, (std::vector<std::size_t>{1, 3}));
}

TEST(WriteAnswer, FewerNamedThanDroppedBisects) {
  WriteAnswer a{400,
                "{\"error\":\"partial write: field type conflict: input field \\\"value\\\" on measurement "
                "\\\"temp\\\" is type string, already exists as type float dropped=3\"}",
                ""};
  EXPECT_EQ(classify(a, kFour).action, WriteAction::bisect);
}

TEST(WriteAnswer, ParseErrorNamesTheLine) {
  // InfluxDB 1.6: dropped=0 counts points refused after parsing.
  LineBatch b = batch_of({"ok value=1 1", "bad value= 2", "ok value=3 3"});
  WriteAnswer a{400, "{\"error\":\"partial write: unable to parse 'bad value= 2': missing field value dropped=0\"}", ""};
  WriteVerdict v = classify(a, b);
  EXPECT_EQ(v.action, WriteAction::reject);
  EXPECT_EQ(v.rejected, (std::vector<std::size_t>{1}));
}

TEST(WriteAnswer, ConflictInsideOneWriteBisects) {
  // InfluxDB 1.6 when a new field gets two types in the same write.
  EXPECT_EQ(classify({400, "{\"error\":\"field type conflict\"}", ""}, kFour).action, WriteAction::bisect);
}

TEST(WriteAnswer, UnexplainedBadRequestBisectsDownToOneLine) {
  WriteAnswer a{400, "cannot parse line protocol", ""};  // a plain-text body
  EXPECT_EQ(classify(a, kFour).action, WriteAction::bisect);
  WriteVerdict one = classify(a, kFour.part(2, 3));
  EXPECT_EQ(one.action, WriteAction::reject);
  EXPECT_EQ(one.rejected, (std::vector<std::size_t>{0}));
  EXPECT_EQ(one.reason, "HTTP 400: cannot parse line protocol");
}

TEST(WriteAnswer, AuthAndMissingDatabasePause) {
  EXPECT_EQ(classify({401, "{\"error\":\"authorization failed\"}", ""}, kFour).action, WriteAction::pause);
  EXPECT_EQ(classify({403, "", ""}, kFour).action, WriteAction::pause);
  WriteVerdict v = classify({404, "{\"error\":\"database not found: \\\"plant\\\"\"}", ""}, kFour);
  EXPECT_EQ(v.action, WriteAction::pause);
  EXPECT_EQ(v.reason, "HTTP 404: database not found: \"plant\"");
}

TEST(WriteAnswer, RetryHonoursRetryAfter) {
  WriteVerdict v = classify({429, "", "7"}, kFour);
  EXPECT_EQ(v.action, WriteAction::retry);
  EXPECT_EQ(v.retry_after, std::chrono::milliseconds(7000));
  v = classify({503, "{\"error\":\"engine: cache maximum memory size exceeded\"}", "Wed, 21 Oct 2026 07:28:00 GMT"},
               kFour);
  EXPECT_EQ(v.action, WriteAction::retry);
  EXPECT_FALSE(v.retry_after);
  EXPECT_EQ(classify({500, "{\"error\":\"timeout\"}", ""}, kFour).action, WriteAction::retry);
  EXPECT_EQ(classify({0, "connection refused", ""}, kFour).action, WriteAction::retry);
}

TEST(WriteAnswer, LineShape) {
  LineShape s = line_shape("m\\ x,tag=a\\ b f\\=1=1i,s=\"a,b \\\" c\",b=t,fl=2.5 123");
  EXPECT_EQ(s.measurement, "m x");
  ASSERT_EQ(s.fields.size(), 4u);
  EXPECT_EQ(s.fields[0].first, "f=1");
  EXPECT_EQ(s.fields[0].second, "integer");
  EXPECT_EQ(s.fields[1].first, "s");
  EXPECT_EQ(s.fields[1].second, "string");
  EXPECT_EQ(s.fields[2].second, "boolean");
  EXPECT_EQ(s.fields[3].second, "float");
}

TEST(WriteAnswer, Backoff) {
  Backoff b(std::chrono::milliseconds(100), std::chrono::milliseconds(1000));
  EXPECT_EQ(b.next(0), std::chrono::milliseconds(100));
  EXPECT_EQ(b.next(0), std::chrono::milliseconds(200));
  EXPECT_EQ(b.next(0.5), std::chrono::milliseconds(350));
  EXPECT_EQ(b.next(0), std::chrono::milliseconds(800));
  EXPECT_EQ(b.next(0), std::chrono::milliseconds(1000));
  b.reset();
  EXPECT_EQ(b.next(0), std::chrono::milliseconds(100));
}

}  // namespace
}  // namespace strata::bridges::influx
