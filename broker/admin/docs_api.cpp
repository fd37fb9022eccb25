// GET /api/v1/openapi.json and GET /api/v1/routes: what the API is.
//
// openapi.json is docs/openapi.json, compiled in at build time
// (cmake/embed_file.cmake), so the document in the repository is the one
// served. /routes lists the live route table: every route a module added
// with Api::add, whatever module it is. tests/integration/
// test_22_admin_openapi.py compares the two, so a route added without its
// entry in docs/openapi.json (or the other way round) fails the tests.
#include <string_view>

#include "broker/admin/endpoints.hpp"
#include "broker/admin/server.hpp"

namespace strata::admin {

extern const std::string_view openapi_json;  // generated from docs/openapi.json

namespace {
std::string_view access_name(Access a) {
  switch (a) {
    case Access::open: return "open";
    case Access::viewer: return "viewer";
    case Access::admin: return "admin";
  }
  return "admin";
}
}  // namespace

void add_docs_api(Server& server) {
  Api& api = server.api();
  api.add(http::verb::get, "/api/v1/openapi.json", Access::open,
          [](const Request&, Reply reply) { reply.json(std::string(openapi_json)); },
          "This API as an OpenAPI 3.1 document");

  api.add(http::verb::get, "/api/v1/routes", Access::viewer,
          [&api](const Request&, Reply reply) {
            // Read at request time: modules add routes after the built-in
            // ones, and the table never changes once the server runs.
            reply.json(json_of([&](JsonWriter& w) {
              w.StartObject();
              w.Key("data");
              w.StartArray();
              for (const Route& r : api.router().routes()) {
                w.StartObject();
                w.Key("method");
                write_string(w, method_name(r.method));
                w.Key("path");
                write_string(w, r.pattern);
                w.Key("access");
                write_string(w, access_name(r.access));
                w.Key("summary");
                write_string(w, r.summary);
                w.EndObject();
              }
              w.EndArray();
              w.EndObject();
            }));
          },
          "The routes the server has: method, path pattern, access, summary");
}

}  // namespace strata::admin
