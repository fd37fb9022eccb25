#include "broker/admin/http.hpp"

#include <gtest/gtest.h>

#include "broker/admin/json.hpp"
#include "broker/admin/reply.hpp"

namespace strata::admin {
namespace {

TEST(Http, PercentDecode) {
  EXPECT_EQ(percent_decode("a%2Fb%20c", false), "a/b c");
  EXPECT_EQ(percent_decode("a+b", false), "a+b");
  EXPECT_EQ(percent_decode("a+b", true), "a b");
  EXPECT_EQ(percent_decode("%41%6a", false), "Aj");
  EXPECT_EQ(percent_decode("%4", false), std::nullopt);
  EXPECT_EQ(percent_decode("%", false), std::nullopt);
  EXPECT_EQ(percent_decode("%g0", false), std::nullopt);
}

TEST(Http, PercentEncodeRoundTrips) {
  std::string all;
  for (int c = 0; c < 256; ++c) all += static_cast<char>(c);
  std::string enc = percent_encode(all);
  EXPECT_EQ(enc.find('/'), std::string::npos);
  EXPECT_EQ(percent_decode(enc, false), all);
}

TEST(Http, SplitTarget) {
  std::string path;
  std::map<std::string, std::string, std::less<>> q;
  ASSERT_TRUE(split_target("/api/v1/clients?clientid=a%26b&limit=10&&connected=true&x", path, q));
  EXPECT_EQ(path, "/api/v1/clients");
  EXPECT_EQ(q.at("clientid"), "a&b");
  EXPECT_EQ(q.at("limit"), "10");
  EXPECT_EQ(q.at("connected"), "true");
  EXPECT_EQ(q.at("x"), "");
  EXPECT_FALSE(split_target("/x?a=%zz", path, q));
}

TEST(Http, IntAndBoolArguments) {
  Request r;
  r.query = {{"limit", "10"}, {"page", "0"}, {"bad", "1x"}, {"on", "true"}, {"off", "0"}, {"what", "yes"}};
  EXPECT_EQ(r.int_arg("limit", 100, 1, 10000), 10);
  EXPECT_EQ(r.int_arg("absent", 100, 1, 10000), 100);
  EXPECT_THROW(r.int_arg("page", 1, 1, 100), Error);
  EXPECT_THROW(r.int_arg("bad", 1, 1, 100), Error);
  EXPECT_EQ(r.bool_arg("on"), true);
  EXPECT_EQ(r.bool_arg("off"), false);
  EXPECT_EQ(r.bool_arg("absent"), std::nullopt);
  EXPECT_THROW(r.bool_arg("what"), Error);
}

TEST(Http, ErrorBodyIsJson) {
  Response r = error_response(http::status::not_found, "NOT_FOUND", "no client \"a\\b\"\n");
  EXPECT_EQ(r.status, http::status::not_found);
  EXPECT_EQ(r.body, R"({"code":"NOT_FOUND","message":"no client \"a\\b\"\n"})");
}

TEST(Json, PageMeta) {
  Paging p;
  p.page = 2;
  p.limit = 3;
  std::string body = page_json(p, 7, [](JsonWriter& w, std::size_t i) { w.Uint64(i); });
  EXPECT_EQ(body, R"({"data":[3,4,5],"meta":{"page":2,"limit":3,"count":7,"hasnext":true}})");
  p.page = 3;
  EXPECT_EQ(page_json(p, 7, [](JsonWriter& w, std::size_t i) { w.Uint64(i); }),
            R"({"data":[6],"meta":{"page":3,"limit":3,"count":7,"hasnext":false}})");
  p.page = 9;
  EXPECT_EQ(page_json(p, 7, [](JsonWriter& w, std::size_t i) { w.Uint64(i); }),
            R"({"data":[],"meta":{"page":9,"limit":3,"count":7,"hasnext":false}})");
}

TEST(Json, ParseBodyErrors) {
  Request r;
  EXPECT_THROW(parse_body(r), Error);
  r.body = "{\"a\":";
  try {
    parse_body(r);
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.status(), http::status::bad_request);
    EXPECT_NE(std::string(e.what()).find("offset"), std::string::npos);
  }
  r.body = "[1]";
  EXPECT_THROW(parse_body(r), Error);
  r.body = R"({"topic":"t","qos":3,"retain":"no"})";
  auto d = parse_body(r);
  EXPECT_EQ(body_string(d, "topic", true), "t");
  EXPECT_THROW(body_string(d, "payload", true), Error);
  EXPECT_THROW(body_int(d, "qos", 0, 0, 2), Error);
  EXPECT_THROW(body_bool(d, "retain", false), Error);
}

TEST(Reply, AnswersOnceAnd500WhenDropped) {
  std::vector<Response> got;
  {
    Reply r([&](Response x) { got.push_back(std::move(x)); });
    Reply copy = r;
    copy.json("{}");
    r.json("{\"second\":1}");
  }
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].body, "{}");
  got.clear();
  { Reply r([&](Response x) { got.push_back(std::move(x)); }); }
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].status, http::status::internal_server_error);
}

}  // namespace
}  // namespace strata::admin
