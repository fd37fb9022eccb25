// The keys of a `type = "mqtt"` [[bridge]] (etc/strata.toml documents each):
// url (tcp:// tls:// ws:// wss://), protocol ("5" | "3.1.1"), client_id,
// username, password, password_file, ca_file, cert_file, key_file,
// verify_host, keep_alive, session_expiry, clean_start, inflight,
// reconnect_min, reconnect_max.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "bridges/bridge_config.hpp"
#include "broker/protocol/packet.hpp"

namespace strata::bridges::mqtt {

struct Settings {
  std::string scheme = "tcp";
  std::string host;
  std::uint16_t port = 1883;
  std::string path = "/mqtt";  // ws, wss
  protocol::Version version = protocol::Version::v5;
  std::string client_id;       // default: strata-bridge-<name>
  std::optional<std::string> username;
  std::optional<std::string> password;
  std::string ca_file, cert_file, key_file;
  bool verify_host = true;
  std::uint16_t keep_alive = 30;                     // seconds
  std::uint32_t session_expiry = 7 * 24 * 3600;      // seconds (v5); 3.1.1: clean session 0
  bool clean_start = false;
  std::uint16_t inflight = 0;                        // 0: the peer's Receive Maximum
  std::chrono::milliseconds reconnect_min{1000};
  std::chrono::milliseconds reconnect_max{60000};
};

const std::vector<std::string_view>& keys();
// Reads the keys above (throws config::ConfigError with file:line).
Settings read_settings(const BridgeConfig& bridge, const config::TableReader& r);

}  // namespace strata::bridges::mqtt
