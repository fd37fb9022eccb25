// The admin API's request and answer types, without sockets.
//
// A Request is what a handler reads: the method, the decoded path, its
// {params} and query arguments (percent-decoded), the body, and who is
// asking (filled in by the server after authentication). A Response is
// what goes back: status, content type, body, extra headers.
//
// Errors have one shape everywhere: {"code":"NOT_FOUND","message":"..."}
// with the matching HTTP status. A handler may throw admin::Error (before
// or instead of answering); the server turns it into that body. Codes in
// use: BAD_REQUEST 400, UNAUTHORIZED 401, FORBIDDEN 403, NOT_FOUND 404,
// METHOD_NOT_ALLOWED 405, CONFLICT 409, PAYLOAD_TOO_LARGE 413,
// TOO_MANY_REQUESTS 429, INTERNAL_ERROR 500, SERVICE_UNAVAILABLE 503.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <ostream>

#include <boost/beast/http/status.hpp>
#include <boost/beast/http/verb.hpp>

namespace strata::admin {

namespace http = boost::beast::http;

// Who may call a route. open: anyone, no credentials (login, /metrics
// unless metrics_auth); viewer: any authenticated user (read-only
// endpoints); admin: users with the admin role (anything that changes
// state). With auth = "open" every caller is an admin.
enum class Access : std::uint8_t { open, viewer, admin };

enum class Role : std::uint8_t { none, viewer, admin };
std::string_view to_string(Role r) noexcept;

struct Request {
  http::verb method = http::verb::get;
  std::string target;  // as received: "/api/v1/clients?limit=10"
  std::string path;    // the raw path, without the query: "/api/v1/clients"
  // Query arguments, percent-decoded ('+' is a space); a repeated name keeps the last.
  std::map<std::string, std::string, std::less<>> query;
  // The route's {name} segments, percent-decoded ("%2F" becomes '/').
  std::map<std::string, std::string, std::less<>> params;
  std::string body;
  std::string content_type;
  // Filled in by the server.
  std::string user;     // the login name, API key name, or "anonymous" (auth = "open")
  Role role = Role::none;
  std::string token;    // the bearer token the request came with, if any
  std::string remote;   // "ip:port" of the peer

  // The {name} parameter (empty if the route has none of that name).
  const std::string& param(std::string_view name) const;
  // A query argument, if given.
  std::optional<std::string> arg(std::string_view name) const;
  // A query argument as an integer in [lo, hi]; `fallback` when absent.
  // Throws Error(400) when not a number or out of range.
  std::int64_t int_arg(std::string_view name, std::int64_t fallback, std::int64_t lo, std::int64_t hi) const;
  // A query argument "true"/"false"/"1"/"0"; nullopt when absent; 400 otherwise.
  std::optional<bool> bool_arg(std::string_view name) const;
  // "user (role) from ip": for the log line of every change.
  std::string who() const;
};

struct Response {
  http::status status = http::status::ok;
  std::string content_type = "application/json";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;  // extra headers (Allow, WWW-Authenticate, ...)
};

// A failed request: status, machine-readable code, human message.
class Error : public std::runtime_error {
 public:
  Error(http::status status, std::string code, const std::string& message)
      : std::runtime_error(message), status_(status), code_(std::move(code)) {}
  http::status status() const noexcept { return status_; }
  const std::string& code() const noexcept { return code_; }

  static Error bad_request(const std::string& m) { return {http::status::bad_request, "BAD_REQUEST", m}; }
  static Error not_found(const std::string& m) { return {http::status::not_found, "NOT_FOUND", m}; }
  static Error conflict(const std::string& m) { return {http::status::conflict, "CONFLICT", m}; }
  static Error forbidden(const std::string& m) { return {http::status::forbidden, "FORBIDDEN", m}; }
  static Error unauthorized(const std::string& m) { return {http::status::unauthorized, "UNAUTHORIZED", m}; }

 private:
  http::status status_;
  std::string code_;
};

// {"code":..., "message":...} with `status`.
Response error_response(http::status status, std::string_view code, std::string_view message);
inline Response error_response(const Error& e) { return error_response(e.status(), e.code(), e.what()); }

// A JSON string literal of `s` (quoted, escaped): for small hand-built bodies.
std::string json_quote(std::string_view s);

// Percent-decoding. `plus_is_space` for query strings. nullopt on a bad
// escape ("%G1", a truncated "%4").
std::optional<std::string> percent_decode(std::string_view s, bool plus_is_space);
// Percent-encoding of everything but unreserved characters (RFC 3986).
std::string percent_encode(std::string_view s);

// Splits "path?query" into `path` and decoded `query`. False on a bad
// percent escape in the query.
bool split_target(std::string_view target, std::string& path,
                  std::map<std::string, std::string, std::less<>>& query);

}  // namespace strata::admin
