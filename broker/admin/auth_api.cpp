// POST /api/v1/login and POST /api/v1/logout.
#include <chrono>

#include "broker/admin/endpoints.hpp"
#include "broker/admin/server.hpp"
#include "broker/util/log.hpp"

namespace strata::admin {

namespace {
std::string iso_time(std::chrono::system_clock::time_point t) {
  std::time_t s = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&s, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}
}  // namespace

void add_builtin_endpoints(Server& server) {
  add_auth_api(server);
  add_status_api(server);
  add_clients_api(server);
  add_retained_api(server);
  add_config_api(server);
  add_docs_api(server);
  add_history_api(server);
}

void add_auth_api(Server& server) {
  Api& api = server.api();
  Auth& auth = server.auth();
  api.add(http::verb::post, "/api/v1/login", Access::open,
          [&auth](const Request& req, Reply reply) {
            if (auth.open()) {
              throw Error::bad_request("admin.auth is \"open\": no login needed (or possible)");
            }
            rapidjson::Document body = parse_body(req);
            std::string user = body_string(body, "username", true);
            std::string password = body_string(body, "password", true);
            Auth::Token t = auth.login(user, password, req.remote);
            reply.json(json_of([&](JsonWriter& w) {
              w.StartObject();
              w.Key("token");
              write_string(w, t.token);
              w.Key("role");
              write_string(w, to_string(t.role));
              w.Key("expires_at");
              write_string(w, iso_time(t.expires));
              w.EndObject();
            }));
          },
          "Log in with a username and password: a bearer token, its role and expiry");
  api.add(http::verb::post, "/api/v1/logout", Access::viewer,
          [&auth](const Request& req, Reply reply) {
            if (req.token.empty()) throw Error::bad_request("logout revokes a bearer token; this request has none");
            auth.logout(req.token);
            STRATA_INFO("admin") << req.who() << ": logged out";
            reply.json("{}");
          },
          "Revoke the bearer token of this request");
}

}  // namespace strata::admin
