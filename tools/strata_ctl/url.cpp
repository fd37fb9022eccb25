#include "tools/strata_ctl/url.hpp"

#include <charconv>

namespace strata::ctl {

std::string Url::authority() const {
  std::string h = host.find(':') != std::string::npos ? "[" + host + "]" : host;
  return h + ":" + port;
}

std::string Url::text() const { return std::string(tls ? "https://" : "http://") + authority() + prefix; }

std::optional<Url> parse_url(std::string_view text, std::string& why) {
  Url u;
  if (text.substr(0, 7) == "http://") {
    text.remove_prefix(7);
  } else if (text.substr(0, 8) == "https://") {
    u.tls = true;
    text.remove_prefix(8);
  } else {
    why = "the URL must start with http:// or https://";
    return std::nullopt;
  }
  std::size_t slash = text.find('/');
  std::string_view auth = text.substr(0, slash);
  std::string_view path = slash == std::string_view::npos ? std::string_view{} : text.substr(slash);
  if (path.find_first_of("?# ") != std::string_view::npos) {
    why = "the URL may have a path prefix but no query, fragment or blank";
    return std::nullopt;
  }
  while (!path.empty() && path.back() == '/') path.remove_suffix(1);
  u.prefix = std::string(path);
  if (auth.find('@') != std::string_view::npos) {
    why = "credentials do not go in the URL: use --token or --api-key";
    return std::nullopt;
  }
  std::string_view port;
  if (!auth.empty() && auth.front() == '[') {
    std::size_t end = auth.find(']');
    if (end == std::string_view::npos) {
      why = "unclosed [ in the host";
      return std::nullopt;
    }
    u.host = std::string(auth.substr(1, end - 1));
    std::string_view rest = auth.substr(end + 1);
    if (!rest.empty()) {
      if (rest.front() != ':') {
        why = "expected :PORT after ]";
        return std::nullopt;
      }
      port = rest.substr(1);
    }
  } else {
    std::size_t colon = auth.find(':');
    u.host = std::string(auth.substr(0, colon));
    if (colon != std::string_view::npos) port = auth.substr(colon + 1);
  }
  if (u.host.empty()) {
    why = "the URL has no host";
    return std::nullopt;
  }
  if (port.empty()) {
    u.port = u.tls ? "443" : "80";
  } else {
    unsigned n = 0;
    auto [p, ec] = std::from_chars(port.data(), port.data() + port.size(), n);
    if (ec != std::errc{} || p != port.data() + port.size() || n == 0 || n > 65535) {
      why = "bad port '" + std::string(port) + "'";
      return std::nullopt;
    }
    u.port = std::to_string(n);
  }
  return u;
}

std::string percent_encode(std::string_view s) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  for (char ch : s) {
    auto c = static_cast<unsigned char>(ch);
    if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
        c == '_' || c == '~') {
      out += ch;
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 0xF];
    }
  }
  return out;
}

std::string query_string(const std::vector<std::pair<std::string, std::string>>& params) {
  std::string out;
  for (const auto& [k, v] : params) {
    out += out.empty() ? "?" : "&";
    out += percent_encode(k) + "=" + percent_encode(v);
  }
  return out;
}

}  // namespace strata::ctl
