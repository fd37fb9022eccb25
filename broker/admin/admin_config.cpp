#include "broker/admin/admin_config.hpp"

#include "broker/config/table_reader.hpp"

namespace strata::admin {

namespace {

constexpr std::string_view kKeys[] = {
    "url",           "auth",        "users_file",      "api_keys_file", "token_ttl",     "cors_origins",
    "metrics_auth",  "cert_file",   "key_file",        "ciphers",       "tls_min_version", "max_body_size",
    "idle_timeout",  "max_connections"};
constexpr config::Section kSection{"admin", kKeys};

// "http://host:port" / "https://host:port" into a listener; throws
// ConfigError prefixed with `where`.
config::Listener parse_url(const std::string& url, const std::string& where) {
  auto fail = [&](const std::string& what) {
    return config::ConfigError(where + ": admin URL '" + url + "' is not valid: " + what +
                               "; expected http://host:port or https://host:port");
  };
  std::string mapped;
  if (url.starts_with("http://")) {
    mapped = "tcp://" + url.substr(7);
  } else if (url.starts_with("https://")) {
    mapped = "tls://" + url.substr(8);
  } else {
    throw fail("the scheme must be http or https");
  }
  if (!mapped.empty() && mapped.back() == '/') mapped.pop_back();
  try {
    return config::parse_listen_url(mapped, where);
  } catch (const config::ConfigError& e) {
    std::string m = e.what();
    // parse_listen_url: "where: invalid listener URL 'x': what; expected ..."
    auto a = m.find("': ");
    auto b = m.rfind("; expected");
    throw fail(a != std::string::npos && b != std::string::npos && b > a ? m.substr(a + 3, b - a - 3) : m);
  }
}

}  // namespace

std::vector<std::string> admin_keys() {
  std::vector<std::string> out;
  for (auto k : kKeys) out.push_back("admin." + std::string(k));
  return out;
}

AdminConfig read_admin_config(const config::Config& config, const std::optional<std::string>& url_override) {
  AdminConfig a;
  std::string url_where = "admin.url";
  if (config.document) {
    const std::string& file = config.document->name;
    const toml::table& t = config::section_table(file, config.document->root, "admin");
    config::TableReader r(file, t, "admin.");
    r.reject_unknown_keys(kSection);
    if (const auto* v = r.string("url")) {
      a.url = v->get();
      url_where = config::position(file, v->source());
    }
    constexpr std::string_view modes[] = {"open", "login"};
    a.auth = config::choice(r, "auth", modes, AuthMode::open);
    r.text("users_file", a.users_file, true);
    r.text("api_keys_file", a.api_keys_file, true);
    r.integer("token_ttl", 1, 365 * 86400, a.token_ttl);
    r.strings("cors_origins", a.cors_origins);
    r.boolean("metrics_auth", a.metrics_auth);
    r.text("cert_file", a.listener.cert_file, true);
    r.text("key_file", a.listener.key_file, true);
    r.text("ciphers", a.listener.ciphers, true);
    if (const auto* v = r.string("tls_min_version")) {
      if (v->get() != "1.2" && v->get() != "1.3") {
        r.fail(v->source(), "admin.tls_min_version '" + v->get() + "' is not valid; expected 1.2 or 1.3");
      }
      a.listener.tls_min_version = v->get();
    }
    r.integer("max_body_size", 1024, 256 * 1024 * 1024, a.max_body_size);
    r.integer("idle_timeout", 1, 86400, a.idle_timeout);
    r.integer("max_connections", 1, 100000, a.max_connections);
    if (a.auth == AuthMode::login && a.users_file.empty() && a.api_keys_file.empty()) {
      const toml::node* n = r.find("auth");
      r.fail(n->source(), "admin.auth = \"login\" needs users_file or api_keys_file (or both)");
    }
  }
  if (url_override) {
    a.url = *url_override;
    url_where = "--admin";
  }
  if (a.url.empty()) return a;
  config::Listener tls = a.listener;
  a.listener = parse_url(a.url, url_where);
  a.listener.cert_file = tls.cert_file;
  a.listener.key_file = tls.key_file;
  a.listener.ciphers = tls.ciphers;
  a.listener.tls_min_version = tls.tls_min_version;
  if (a.https() && (a.listener.cert_file.empty() || a.listener.key_file.empty())) {
    throw config::ConfigError(url_where + ": " + a.url + " needs admin.cert_file and admin.key_file");
  }
  if (a.auth == AuthMode::open && !a.loopback()) {
    throw config::ConfigError(url_where + ": admin.auth = \"open\" is only allowed on a loopback address, not " +
                              a.listener.host + "; set auth = \"login\" with users_file or api_keys_file");
  }
  return a;
}

}  // namespace strata::admin
