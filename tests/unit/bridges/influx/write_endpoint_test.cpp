#include "bridges/influx/write_endpoint.hpp"

#include <gtest/gtest.h>

namespace strata::bridges::influx {
namespace {

TEST(WriteEndpoint, ParseUrl) {
  HttpUrl u = parse_http_url("http://127.0.0.1:8086");
  EXPECT_FALSE(u.tls);
  EXPECT_EQ(u.host, "127.0.0.1");
  EXPECT_EQ(u.port, 8086);
  EXPECT_EQ(u.base, "");
  u = parse_http_url("https://tsdb.example/influx/");
  EXPECT_TRUE(u.tls);
  EXPECT_EQ(u.port, 443);
  EXPECT_EQ(u.base, "/influx");
  u = parse_http_url("http://[::1]:8428/");
  EXPECT_EQ(u.host, "::1");
  EXPECT_EQ(u.port, 8428);
  EXPECT_THROW(parse_http_url("tcp://x"), UrlError);
  EXPECT_THROW(parse_http_url("http://:80"), UrlError);
  EXPECT_THROW(parse_http_url("http://x:0"), UrlError);
  EXPECT_THROW(parse_http_url("http://x:"), UrlError);
  EXPECT_THROW(parse_http_url("http://x/write?db=a"), UrlError);
  EXPECT_THROW(parse_http_url("http://u:p@x"), UrlError);
}

TEST(WriteEndpoint, V1) {
  WriteTarget t;
  t.database = "plant data";
  t.retention_policy = "one_year";
  t.precision = Precision::ns;
  EXPECT_EQ(write_path(parse_http_url("http://h:8086"), t), "/write?db=plant%20data&rp=one_year&precision=n");
  t.retention_policy.clear();
  t.precision = Precision::ms;
  EXPECT_EQ(write_path(parse_http_url("http://h/vm"), t), "/vm/write?db=plant%20data&precision=ms");
  EXPECT_EQ(authorization(t), "");
  t.username = "writer";
  t.password = "s3cret";
  EXPECT_EQ(authorization(t), "Basic d3JpdGVyOnMzY3JldA==");
}

TEST(WriteEndpoint, V2) {
  WriteTarget t;
  t.api = Api::v2;
  t.org = "acme&co";
  t.bucket = "plant";
  t.token = "tok";
  t.precision = Precision::us;
  EXPECT_EQ(write_path(parse_http_url("http://h:8086"), t), "/api/v2/write?org=acme%26co&bucket=plant&precision=us");
  EXPECT_EQ(authorization(t), "Token tok");
}

}  // namespace
}  // namespace strata::bridges::influx
