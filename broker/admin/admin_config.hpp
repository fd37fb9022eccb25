// [admin]: the admin HTTP server's settings, read by this module from
// Config::document (see broker/config/table_reader.hpp). etc/strata.toml
// documents every key.
//
//   [admin]
//   url = "http://127.0.0.1:8080"   # https://... with cert_file/key_file; "" turns the server off
//   auth = "open"                   # or "login"; open is refused off loopback
//   users_file = "etc/admin_users"  # strata-passwd --admin
//   api_keys_file = ""              # lines name:secret:role
//   token_ttl = 3600                # seconds a login token lives
//   cors_origins = []               # origins allowed to call the API from a browser
//   metrics_auth = false            # true: /metrics needs credentials too
//
// `strata --admin URL` replaces url.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "broker/config/config.hpp"

namespace strata::admin {

enum class AuthMode : std::uint8_t { open, login };

struct AdminConfig {
  std::string url = "http://127.0.0.1:8080";  // empty: no admin server
  // From url: the listener (scheme tcp for http://, tls for https://,
  // with the TLS keys below when https).
  config::Listener listener;
  AuthMode auth = AuthMode::open;
  std::string users_file;
  std::string api_keys_file;
  std::chrono::seconds token_ttl{3600};
  std::vector<std::string> cors_origins;
  bool metrics_auth = false;
  std::uint32_t max_body_size = 1024 * 1024;  // bytes; larger requests get 413
  std::chrono::seconds idle_timeout{60};      // a connection idle (or a request unfinished) this long is closed
  std::uint32_t max_connections = 256;        // concurrent HTTP connections

  bool enabled() const { return !url.empty(); }
  bool https() const { return listener.scheme == "tls"; }
  bool loopback() const { return listener.host == "localhost" || listener.host == "::1" || listener.host.starts_with("127."); }
  bool operator==(const AdminConfig&) const = default;
};

// Reads [admin] of `config` (defaults when absent or when the config has
// no document), applying `url_override` (--admin). Throws ConfigError with
// file:line for a bad key, and when auth = "open" on a non-loopback
// address, or https without cert_file/key_file.
AdminConfig read_admin_config(const config::Config& config, const std::optional<std::string>& url_override = {});

// Every [admin] key, as "admin.key" (for the etc/strata.toml completeness test).
std::vector<std::string> admin_keys();

}  // namespace strata::admin
