// Fuzzes the admin server's request path without sockets: Beast's request
// parser with the server's limits, the target split and percent-decoding,
// routing (404/405/400 and {param} decoding), and the helpers handlers use
// on untrusted input (paging arguments, JSON bodies and their members).
#include <cstddef>
#include <cstdint>

#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>

#include "broker/admin/http.hpp"
#include "broker/admin/json.hpp"
#include "broker/admin/router.hpp"

namespace {

using namespace strata::admin;

void exercise(const Request& req, Reply reply) {
  try {
    Paging p = Paging::from(req);
    (void)p.begin(1000);
    (void)req.bool_arg("connected");
    if (!req.body.empty()) {
      rapidjson::Document d = parse_body(req);
      (void)body_string(d, "topic", false);
      (void)body_int(d, "qos", 0, 0, 2);
      (void)body_bool(d, "retain", false);
    }
    reply.json(page_json(p, 3, [](JsonWriter& w, std::size_t i) { w.Uint64(i); }));
  } catch (const Error& e) {
    reply.error(e);
  }
}

const Router& table() {
  static const Router r = [] {
    Router t;
    for (const char* p : {"/api/v1/status", "/api/v1/clients", "/api/v1/clients/{id}", "/api/v1/sessions/{id}",
                          "/api/v1/retained", "/api/v1/retained/{topic}", "/api/v1/rules/{name}",
                          "/api/v1/rules/test", "/api/v1/rules/{name}/enable", "/metrics"}) {
      t.add(http::verb::get, p, Access::viewer, exercise, "");
    }
    t.add(http::verb::post, "/api/v1/publish", Access::admin, exercise, "");
    t.add(http::verb::delete_, "/api/v1/clients/{id}", Access::admin, exercise, "");
    return t;
  }();
  return r;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  namespace bh = boost::beast::http;
  boost::beast::flat_buffer buffer;
  auto n = boost::asio::buffer_copy(buffer.prepare(size), boost::asio::buffer(data, size));
  buffer.commit(n);
  // Pipelined requests: parse as many as the input holds.
  for (int round = 0; round < 4 && buffer.size() > 0; ++round) {
    bh::request_parser<bh::string_body> parser;
    parser.header_limit(16 * 1024);
    parser.body_limit(64 * 1024);
    parser.eager(true);
    boost::beast::error_code ec;
    std::size_t used = parser.put(buffer.data(), ec);
    if (!ec && !parser.is_done()) {
      parser.put_eof(ec);
    }
    if (ec || !parser.is_done()) return 0;
    buffer.consume(used);
    auto req = parser.release();
    Request r;
    r.method = req.method();
    r.target = std::string(req.target());
    r.body = req.body();
    if (r.target.empty() || r.target.front() != '/' || !split_target(r.target, r.path, r.query)) continue;
    Router::Match m = table().match(r.method, r.path);
    if (!m.route) continue;
    r.params = std::move(m.params);
    m.route->handler(r, Reply([](Response) {}));
  }
  return 0;
}
