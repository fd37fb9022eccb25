#include "bridges/mqtt/mqtt_settings.hpp"

#include <fstream>

namespace strata::bridges::mqtt {

const std::vector<std::string_view>& keys() {
  static const std::vector<std::string_view> k = {
      "url",       "protocol",  "client_id",   "username",   "password",       "password_file",
      "ca_file",   "cert_file", "key_file",    "verify_host", "keep_alive",    "session_expiry",
      "clean_start", "inflight", "reconnect_min", "reconnect_max"};
  return k;
}

Settings read_settings(const BridgeConfig& bridge, const config::TableReader& r) {
  Settings s;
  s.client_id = "strata-bridge-" + bridge.name;
  const auto* url = r.string("url");
  if (!url) r.fail(r.table().source(), "[[bridge]] '" + bridge.name + "' of type mqtt has no url; expected url = \"tcp://host:1883\"");
  std::string u = url->get();
  auto sep = u.find("://");
  std::string scheme = sep == std::string::npos ? "" : u.substr(0, sep);
  if (scheme != "tcp" && scheme != "tls" && scheme != "ws" && scheme != "wss") {
    r.fail(url->source(), "bridge.url '" + u + "' is not valid; expected tcp://, tls://, ws:// or wss:// host:port");
  }
  s.scheme = scheme;
  std::string rest = u.substr(sep + 3);
  if (auto slash = rest.find('/'); slash != std::string::npos) {
    s.path = rest.substr(slash);
    rest = rest.substr(0, slash);
  }
  std::string port;
  if (!rest.empty() && rest[0] == '[') {
    auto close = rest.find(']');
    if (close == std::string::npos) r.fail(url->source(), "bridge.url '" + u + "': unclosed [");
    s.host = rest.substr(1, close - 1);
    if (close + 1 < rest.size() && rest[close + 1] == ':') port = rest.substr(close + 2);
  } else if (auto colon = rest.rfind(':'); colon != std::string::npos) {
    s.host = rest.substr(0, colon);
    port = rest.substr(colon + 1);
  } else {
    s.host = rest;
  }
  if (s.host.empty()) r.fail(url->source(), "bridge.url '" + u + "' has no host");
  if (port.empty()) {
    s.port = scheme == "tcp" ? 1883 : scheme == "tls" ? 8883 : scheme == "ws" ? 80 : 443;
  } else {
    unsigned long n = 0;
    try {
      n = std::stoul(port);
    } catch (...) {
      n = 0;
    }
    if (n == 0 || n > 65535 || port.find_first_not_of("0123456789") != std::string::npos) {
      r.fail(url->source(), "bridge.url '" + u + "' has no valid port; expected 1..65535");
    }
    s.port = static_cast<std::uint16_t>(n);
  }
  constexpr std::string_view versions[] = {"5", "3.1.1"};
  s.version = config::choice(r, "protocol", versions, 0) == 0 ? protocol::Version::v5 : protocol::Version::v311;
  r.text("client_id", s.client_id);
  if (const auto* v = r.string("username")) s.username = v->get();
  if (const auto* v = r.string("password")) s.password = v->get();
  if (const auto* v = r.string("password_file")) {
    if (s.password) r.fail(v->source(), "bridge.password_file and bridge.password are both set; keep one");
    std::ifstream in(v->get());
    std::string line;
    if (!in || !std::getline(in, line)) r.fail(v->source(), "bridge.password_file '" + v->get() + "' cannot be read");
    s.password = line;
  }
  r.text("ca_file", s.ca_file);
  r.text("cert_file", s.cert_file);
  r.text("key_file", s.key_file);
  if (s.cert_file.empty() != s.key_file.empty()) {
    r.fail(r.table().source(), "bridge.cert_file and bridge.key_file go together; set both or neither");
  }
  r.boolean("verify_host", s.verify_host);
  r.integer("keep_alive", 1, 65535, s.keep_alive);
  r.integer("session_expiry", 0, 0xFFFFFFFFll, s.session_expiry);
  r.boolean("clean_start", s.clean_start);
  r.integer("inflight", 0, 65535, s.inflight);
  long long lo = 1000, hi = 60000;
  r.integer("reconnect_min", 1, 3600000, lo);
  r.integer("reconnect_max", 1, 3600000, hi);
  if (hi < lo) r.fail(r.table().source(), "bridge.reconnect_max is below reconnect_min");
  s.reconnect_min = std::chrono::milliseconds(lo);
  s.reconnect_max = std::chrono::milliseconds(hi);
  return s;
}

}  // namespace strata::bridges::mqtt
