#include "bridges/influx/write_endpoint.hpp"

#include <charconv>

#include "broker/util/base64.hpp"

namespace strata::bridges::influx {

HttpUrl parse_http_url(std::string_view url) {
  HttpUrl u;
  std::string_view rest;
  if (url.starts_with("http://")) {
    rest = url.substr(7);
  } else if (url.starts_with("https://")) {
    u.tls = true;
    u.port = 443;
    rest = url.substr(8);
  } else {
    throw UrlError("url '" + std::string(url) + "' must start with http:// or https://");
  }
  std::size_t slash = rest.find('/');
  std::string_view authority = rest.substr(0, slash);
  std::string_view path = slash == std::string_view::npos ? std::string_view() : rest.substr(slash);
  if (path.find_first_of("?#") != std::string_view::npos) {
    throw UrlError("url '" + std::string(url) + "' must not have a query or fragment: the database goes in its own key");
  }
  if (authority.find('@') != std::string_view::npos) {
    throw UrlError("url '" + std::string(url) + "': give credentials with username/password or token, not in the url");
  }
  std::string_view host = authority, port;
  if (authority.starts_with("[")) {
    std::size_t close = authority.find(']');
    if (close == std::string_view::npos) throw UrlError("url '" + std::string(url) + "': ']' missing");
    host = authority.substr(1, close - 1);
    std::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after[0] != ':') throw UrlError("url '" + std::string(url) + "': bad port");
      port = after.substr(1);
    }
  } else if (std::size_t colon = authority.rfind(':'); colon != std::string_view::npos) {
    host = authority.substr(0, colon);
    port = authority.substr(colon + 1);
  }
  if (host.empty()) throw UrlError("url '" + std::string(url) + "' has no host");
  u.host = std::string(host);
  if (!port.empty() || authority.ends_with(":")) {
    unsigned p = 0;
    auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), p);
    if (port.empty() || ec != std::errc() || end != port.data() + port.size() || p == 0 || p > 65535) {
      throw UrlError("url '" + std::string(url) + "': port '" + std::string(port) + "' is not 1-65535");
    }
    u.port = static_cast<std::uint16_t>(p);
  }
  while (!path.empty() && path.back() == '/') path.remove_suffix(1);
  u.base = std::string(path);
  return u;
}

std::string percent_encode(std::string_view s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
        c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

std::string write_path(const HttpUrl& url, const WriteTarget& t) {
  std::string p = url.base;
  if (t.api == Api::v1) {
    static constexpr std::string_view kV1[] = {"s", "ms", "u", "n"};
    p += "/write?db=" + percent_encode(t.database);
    if (!t.retention_policy.empty()) p += "&rp=" + percent_encode(t.retention_policy);
    p += "&precision=";
    p += kV1[static_cast<int>(t.precision)];
  } else {
    p += "/api/v2/write?org=" + percent_encode(t.org) + "&bucket=" + percent_encode(t.bucket) + "&precision=";
    p += to_string(t.precision);
  }
  return p;
}

std::string authorization(const WriteTarget& t) {
  if (t.api == Api::v2) return t.token.empty() ? std::string() : "Token " + t.token;
  if (t.username.empty()) return {};
  return "Basic " + util::base64_encode(t.username + ":" + t.password);
}

}  // namespace strata::bridges::influx
