#include "tools/strata_ctl/url.hpp"

#include <gtest/gtest.h>

namespace strata::ctl {
namespace {

std::string bad(const char* text) {
  std::string why;
  EXPECT_FALSE(parse_url(text, why)) << text;
  return why;
}

TEST(CtlUrl, Parses) {
  std::string why;
  auto u = parse_url("http://127.0.0.1:8080", why);
  ASSERT_TRUE(u);
  EXPECT_FALSE(u->tls);
  EXPECT_EQ(u->host, "127.0.0.1");
  EXPECT_EQ(u->port, "8080");
  EXPECT_EQ(u->prefix, "");
  u = parse_url("https://broker.example/strata/", why);
  ASSERT_TRUE(u);
  EXPECT_TRUE(u->tls);
  EXPECT_EQ(u->port, "443");
  EXPECT_EQ(u->prefix, "/strata");
  EXPECT_EQ(u->text(), "https://broker.example:443/strata");
  u = parse_url("http://[::1]:9", why);
  ASSERT_TRUE(u);
  EXPECT_EQ(u->host, "::1");
  EXPECT_EQ(u->authority(), "[::1]:9");
  u = parse_url("http://h", why);
  ASSERT_TRUE(u);
  EXPECT_EQ(u->port, "80");
}

TEST(CtlUrl, Rejects) {
  EXPECT_EQ(bad("127.0.0.1:8080"), "the URL must start with http:// or https://");
  EXPECT_EQ(bad("http://"), "the URL has no host");
  EXPECT_EQ(bad("http://h:0"), "bad port '0'");
  EXPECT_EQ(bad("http://h:99999"), "bad port '99999'");
  EXPECT_EQ(bad("http://h:x"), "bad port 'x'");
  EXPECT_EQ(bad("http://u:p@h"), "credentials do not go in the URL: use --token or --api-key");
  EXPECT_EQ(bad("http://h/a?b"), "the URL may have a path prefix but no query, fragment or blank");
  EXPECT_EQ(bad("http://[::1"), "unclosed [ in the host");
}

TEST(CtlUrl, PercentEncoding) {
  EXPECT_EQ(percent_encode("plant/line 1/#"), "plant%2Fline%201%2F%23");
  EXPECT_EQ(percent_encode("a-b_c.d~"), "a-b_c.d~");
  EXPECT_EQ(percent_encode("\xC3\xA4"), "%C3%A4");
  EXPECT_EQ(query_string({}), "");
  EXPECT_EQ(query_string({{"filter", "a/+"}, {"qos", "1"}}), "?filter=a%2F%2B&qos=1");
}

}  // namespace
}  // namespace strata::ctl
