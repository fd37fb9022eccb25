#include "broker/admin/router.hpp"

#include <gtest/gtest.h>

namespace strata::admin {
namespace {

Handler noop() {
  return [](const Request&, Reply) {};
}

Router table() {
  Router r;
  r.add(http::verb::get, "/api/v1/status", Access::viewer, noop(), "status");
  r.add(http::verb::get, "/api/v1/rules/{name}", Access::viewer, noop(), "rule");
  r.add(http::verb::put, "/api/v1/rules/{name}", Access::admin, noop(), "write rule");
  r.add(http::verb::post, "/api/v1/rules/test", Access::admin, noop(), "dry run");
  r.add(http::verb::post, "/api/v1/rules/{name}/enable", Access::admin, noop(), "enable");
  r.add(http::verb::get, "/api/v1/retained/{topic}", Access::viewer, noop(), "retained");
  return r;
}

TEST(Router, LiteralPath) {
  Router r = table();
  auto m = r.match(http::verb::get, "/api/v1/status");
  ASSERT_NE(m.route, nullptr);
  EXPECT_EQ(m.route->summary, "status");
  EXPECT_TRUE(m.params.empty());
}

TEST(Router, ParamIsPercentDecoded) {
  Router r = table();
  auto m = r.match(http::verb::get, "/api/v1/retained/plant%2Fline%201%2F%23");
  ASSERT_NE(m.route, nullptr);
  EXPECT_EQ(m.params.at("topic"), "plant/line 1/#");
}

TEST(Router, LiteralWinsOverParam) {
  Router r = table();
  auto m = r.match(http::verb::post, "/api/v1/rules/test");
  ASSERT_NE(m.route, nullptr);
  EXPECT_EQ(m.route->summary, "dry run");
  auto g = r.match(http::verb::get, "/api/v1/rules/test");
  ASSERT_NE(g.route, nullptr);
  EXPECT_EQ(g.route->summary, "rule");
  EXPECT_EQ(g.params.at("name"), "test");
}

TEST(Router, UnknownPathIs404) {
  Router r = table();
  for (const char* p : {"/api/v1/nothing", "/api/v1/status/", "/api/v1", "/", "", "api/v1/status",
                        "/api/v1/rules//enable", "/api/v1/rules/"}) {
    auto m = r.match(http::verb::get, p);
    EXPECT_EQ(m.route, nullptr) << p;
    EXPECT_EQ(m.error, http::status::not_found) << p;
  }
}

TEST(Router, OtherMethodIs405WithAllow) {
  Router r = table();
  auto m = r.match(http::verb::delete_, "/api/v1/rules/x");
  EXPECT_EQ(m.route, nullptr);
  EXPECT_EQ(m.error, http::status::method_not_allowed);
  EXPECT_EQ(m.allow, "GET, PUT");
}

TEST(Router, BadEscapeInParamIs400) {
  Router r = table();
  for (const char* p : {"/api/v1/retained/a%2", "/api/v1/retained/a%zz", "/api/v1/retained/%"}) {
    auto m = r.match(http::verb::get, p);
    EXPECT_EQ(m.route, nullptr) << p;
    EXPECT_EQ(m.error, http::status::bad_request) << p;
  }
}

TEST(Router, RejectsBadAndDuplicatePatterns) {
  Router r = table();
  EXPECT_THROW(r.add(http::verb::get, "api/v1/x", Access::viewer, noop(), ""), std::logic_error);
  EXPECT_THROW(r.add(http::verb::get, "/api//x", Access::viewer, noop(), ""), std::logic_error);
  EXPECT_THROW(r.add(http::verb::get, "/api/{x", Access::viewer, noop(), ""), std::logic_error);
  EXPECT_THROW(r.add(http::verb::get, "/api/v1/rules/{other}", Access::viewer, noop(), ""), std::logic_error);
  EXPECT_NO_THROW(r.add(http::verb::delete_, "/api/v1/rules/{name}", Access::admin, noop(), ""));
}

}  // namespace
}  // namespace strata::admin
