// The admin API's base URL and the percent-encoding of path segments and
// query values (pure).
//
//   http://127.0.0.1:8080          https://broker.example:8443/prefix
//
// The port defaults to 80/443; a path after the authority is a prefix put
// before /api/v1/... (a reverse proxy's mount point). IPv6 hosts in [].
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace strata::ctl {

struct Url {
  bool tls = false;
  std::string host;  // without [] for IPv6
  std::string port;
  std::string prefix;  // "" or "/prefix" (no trailing slash)

  // "host:port" as the Host header wants it.
  std::string authority() const;
  std::string text() const;  // the URL again, for messages
};

// The URL, or nullopt with `why` set.
std::optional<Url> parse_url(std::string_view text, std::string& why);

// Every byte but the unreserved ones (RFC 3986: ALPHA DIGIT - . _ ~) as %XX:
// one path segment ("a/b" -> "a%2Fb") or one query value.
std::string percent_encode(std::string_view s);

// "?k=v&k2=v2" of the pairs with a value (an empty list gives "").
std::string query_string(const std::vector<std::pair<std::string, std::string>>& params);

}  // namespace strata::ctl
