// Times and durations as users write them.
#include "broker/historian/time_format.hpp"

#include <gtest/gtest.h>

namespace strata::historian {
namespace {

TEST(TimeFormat, Rfc3339) {
  EXPECT_EQ(parse_rfc3339("1970-01-01T00:00:00Z"), 0);
  EXPECT_EQ(parse_rfc3339("2026-12-06T07:35:20Z"), 1796542520000);
  EXPECT_EQ(parse_rfc3339("2026-12-06T08:35:20.5+01:00"), 1796542520500);
  EXPECT_EQ(parse_rfc3339("2026-12-06 07:35:20.123456789z"), 1796542520123);
  EXPECT_EQ(parse_rfc3339("2024-02-29T00:00:00Z"), 1709164800000);
  for (const char* bad : {"", "2026-12-06", "2026-13-01T00:00:00Z", "2026-02-29T00:00:00Z", "2026-12-06T24:00:00Z",
                          "2026-12-06T07:35:20", "2026-12-06T07:35:20+0100", "2026-12-06T07:35:20.Z",
                          "2026-12-06T07:35:20Zjunk"}) {
    EXPECT_FALSE(parse_rfc3339(bad)) << bad;
  }
}

TEST(TimeFormat, UnixMsOrRfc3339) {
  EXPECT_EQ(parse_time("1796542520000"), 1796542520000);
  EXPECT_EQ(parse_time("2026-12-06T07:35:20Z"), 1796542520000);
  EXPECT_FALSE(parse_time("12abc"));
  EXPECT_FALSE(parse_time(""));
}

TEST(TimeFormat, FormatsUtcWithMilliseconds) {
  EXPECT_EQ(format_rfc3339(0), "1970-01-01T00:00:00.000Z");
  EXPECT_EQ(format_rfc3339(1796542520123), "2026-12-06T07:35:20.123Z");
  EXPECT_EQ(format_rfc3339(1709164800000), "2024-02-29T00:00:00.000Z");
  for (std::int64_t t : {1LL, 951782400000LL, 4102444799999LL}) EXPECT_EQ(parse_rfc3339(format_rfc3339(t)), t);
}

TEST(TimeFormat, Durations) {
  EXPECT_EQ(parse_duration("500ms"), 500);
  EXPECT_EQ(parse_duration("10s"), 10'000);
  EXPECT_EQ(parse_duration("1m"), 60'000);
  EXPECT_EQ(parse_duration("2h"), 7'200'000);
  EXPECT_EQ(parse_duration("7d"), 604'800'000);
  EXPECT_EQ(parse_duration("1w"), 604'800'000);
  EXPECT_EQ(parse_duration("5y"), 5 * 365 * 86'400'000LL);
  for (const char* bad : {"", "0s", "-1s", "10", "1x", "s", "1.5h"}) EXPECT_FALSE(parse_duration(bad)) << bad;
}

}  // namespace
}  // namespace strata::historian
