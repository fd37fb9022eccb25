// The admin API's route table, as data.
//
// A route is a method, a path pattern, who may call it, a handler and a
// one-line summary. Patterns are literal segments and {name} segments:
//
//   /api/v1/clients/{id}/subscriptions
//
// A {name} segment matches one non-empty path segment; its value is
// percent-decoded, so a topic "a/b" travels as "a%2Fb" and arrives as
// "a/b". Literal segments win over {name} segments at the same place
// ("/rules/test" before "/rules/{name}"). Matching is exact: no trailing
// slash, no prefix matches.
//
// The table is what tests compare with docs/openapi.json, and what the
// fuzz target drives. Routes are added before the server starts and never
// change afterwards (no lock: read-only once serving).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "broker/admin/http.hpp"
#include "broker/admin/reply.hpp"

namespace strata::admin {

struct Route {
  http::verb method;
  std::string pattern;
  Access access;
  Handler handler;
  std::string summary;
  std::vector<std::string> segments;  // the pattern split at '/'; "{name}" kept as is
};

class Router {
 public:
  // Throws std::logic_error on a malformed pattern (not starting with
  // '/', an empty segment, a bad {name}) or a duplicate method + pattern.
  void add(http::verb method, std::string pattern, Access access, Handler handler, std::string summary);

  struct Match {
    const Route* route = nullptr;  // null: see `error`
    std::map<std::string, std::string, std::less<>> params;
    // When route is null: 404 (no such path), 405 (the path exists for
    // other methods; `allow` lists them) or 400 (a bad percent escape).
    http::status error = http::status::not_found;
    std::string allow;  // "GET, DELETE"
  };
  // The route for `method` on the raw (still percent-encoded) `path`.
  Match match(http::verb method, std::string_view path) const;

  const std::vector<Route>& routes() const noexcept { return routes_; }

 private:
  // Which routes' patterns match `segments` (ignoring the method), best first.
  std::vector<Route> routes_;
};

// "GET", "POST", ...
std::string_view method_name(http::verb v) noexcept;

}  // namespace strata::admin
