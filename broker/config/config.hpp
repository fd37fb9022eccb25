// Strata's configuration: every setting with its default. Loaded from a TOML
// file (etc/strata.toml is the commented reference) and the command line.
// Loading validates everything: an unknown key, a wrong type or an
// out-of-range value is a ConfigError carrying file:line and what was
// expected.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "broker/util/log.hpp"

namespace strata::config {

using LogLevel = log::Level;

// Client certificates on a tls:// or wss:// listener.
enum class ClientCerts : std::uint8_t { none, optional, required };
// Which part of a verified client certificate becomes the MQTT username.
enum class CertUsername : std::uint8_t { none, cn, san };
// A PROXY protocol header the listener expects before anything else
// (broker/transport/proxy_header.hpp): none, version 1, 2, or either.
enum class ProxyProtocol : std::uint8_t { none, v1, v2, any };

struct Limits {
  std::uint32_t max_connections = 100000;
  std::uint32_t max_packet_size = 1024 * 1024;     // bytes, incoming and advertised
  std::uint16_t receive_maximum = 1024;            // inflight QoS 1/2 we accept from a client
  std::uint16_t topic_alias_maximum = 64;          // aliases a client may set towards us
  std::uint16_t max_keep_alive = 0;                // 0: accept the client's; else cap (server keep alive)
  std::uint32_t session_expiry_max = 7 * 24 * 3600;  // seconds; cap on what clients ask
  // Unacknowledged QoS 1/2 we send per session: the window is the smaller
  // of this and the client's Receive Maximum (MQTT 5; 65535 when it
  // announces none). MQTT 3.1.1 clients announce nothing and get
  // max_inflight_messages_mqtt311 instead (capped by this too). The
  // topic + payload bytes in the window are bounded by max_inflight_bytes
  // (a message always enters an empty window). 0: no byte limit.
  std::uint16_t max_inflight_messages = 65535;
  std::uint16_t max_inflight_messages_mqtt311 = 64;
  std::uint64_t max_inflight_bytes = 16 * 1024 * 1024;
  std::uint32_t max_queued_messages = 10000;       // per session, beyond inflight
  std::uint64_t max_queued_bytes = 0;              // per session, topic + payload bytes; 0: no limit
  bool queue_qos0_offline = false;                 // queue QoS 0 for offline persistent sessions
  std::uint32_t max_topic_length = 65535;          // bytes
  std::uint32_t max_topic_levels = 128;
  std::uint8_t maximum_qos = 2;
  bool retain_available = true;
  bool wildcard_subscriptions = true;
  bool shared_subscriptions = true;
  bool subscription_identifiers = true;
  std::uint16_t max_client_id_length = 256;
  bool allow_empty_client_id = true;               // assign one (v5 always; 3.1.1 with clean session)
  std::chrono::seconds connect_timeout{10};        // time to send CONNECT after accept
  // Per connection, output not yet taken by the socket: when full, QoS 0
  // messages for it are dropped (and counted). Bounds a slow consumer.
  std::uint32_t max_outgoing_bytes = 4 * 1024 * 1024;
  std::uint32_t max_outgoing_messages = 10000;
  // Per client, PUBLISH packets and bytes (topic + payload) per second it
  // may send, with a burst of one second's worth; beyond, the broker stops
  // reading its socket until it is within budget (TCP back-pressure, no
  // loss). 0: no limit.
  std::uint32_t max_publish_rate = 0;
  std::uint32_t max_publish_bytes_rate = 0;
  // Per client, subscriptions (topic filters) its session may hold; a
  // SUBSCRIBE beyond gets 0x97 quota exceeded (3.1.1: 0x80). 0: no limit.
  std::uint32_t max_subscriptions = 0;
  // Publisher back-pressure: a publisher whose QoS 1/2 messages fill an
  // online subscriber's queue to half of max_queued_messages is not read
  // until it drains to a quarter; a subscriber that takes nothing for this
  // long no longer holds publishers. 0: off (a full queue drops).
  std::chrono::seconds backpressure_timeout{10};
  bool operator==(const Limits&) const = default;
};

struct Listener {
  std::string scheme = "tcp";  // tcp, tls, ws, wss
  std::string host = "127.0.0.1";
  std::uint16_t port = 1883;
  std::string path;  // ws, wss: the HTTP path of the upgrade ("/mqtt")
  std::uint32_t max_connections = 0;  // 0: only the broker-wide limit applies
  // New connections per second accepted (burst: one second's worth);
  // beyond, a connection is closed at accept. 0: no limit.
  std::uint32_t max_connect_rate = 0;
  // Behind a load balancer: every connection starts with its PROXY header,
  // whose source address then stands for the client everywhere.
  ProxyProtocol proxy_protocol = ProxyProtocol::none;
  // The [limits] that apply to this listener's connections: the broker's,
  // with the listener's own [listener.limits] values on top (only the
  // per-connection keys, see listener_limit_keys()).
  Limits limits;
  // TLS (tls, wss). Files are PEM.
  std::string cert_file;
  std::string key_file;
  std::string ca_file;  // CAs that client certificates must chain to
  ClientCerts client_certs = ClientCerts::none;
  CertUsername cert_username = CertUsername::none;
  std::string ciphers;            // OpenSSL cipher list for TLS 1.2; empty: OpenSSL's default
  std::string tls_min_version = "1.2";  // "1.2" or "1.3"
  // Clients without a username (or certificate identity) may connect.
  // Unset: only on loopback listeners (127.0.0.0/8, ::1, localhost).
  std::optional<bool> allow_anonymous;
  bool anonymous_allowed() const {
    if (allow_anonymous) return *allow_anonymous;
    return host == "localhost" || host == "::1" || host.starts_with("127.");
  }
  bool tls() const { return scheme == "tls" || scheme == "wss"; }
  bool websocket() const { return scheme == "ws" || scheme == "wss"; }
  std::string name() const {
    bool v6 = host.find(':') != std::string::npos;  // an IPv6 literal is bracketed
    return scheme + "://" + (v6 ? "[" + host + "]" : host) + ":" + std::to_string(port) + path;
  }
  bool operator==(const Listener&) const = default;
};

// The MQTT 5 enhanced authentication methods Strata implements
// (broker/auth: one Authenticator each).
inline constexpr std::string_view auth_methods[] = {"SCRAM-SHA-256"};

struct Auth {
  std::string password_file;  // empty: no password file
  std::string acl_file;       // empty: no ACL, everything allowed
  std::uint32_t max_failed_logins = 10;           // per address per window; 0: no limit
  std::chrono::seconds failed_login_window{60};
  // Enhanced authentication methods a client may name in CONNECT; each one
  // of auth_methods, no repeats. Empty: CONNECT with a method gets 0x8C.
  std::vector<std::string> methods{"SCRAM-SHA-256"};
  bool operator==(const Auth&) const = default;
};

struct Sys {
  std::chrono::seconds interval{10};  // $SYS update period; 0 disables
  bool operator==(const Sys&) const = default;
};

// [store]: the LMDB environment under data_dir (broker/store).
enum class Durability : std::uint8_t {
  sync,   // each write transaction is fsynced before QoS 1/2 is acknowledged
  batch,  // fsync at most every flush_interval
  none,   // never fsync while running (the OS writes back when it likes)
};

struct Store {
  Durability durability = Durability::batch;
  std::chrono::milliseconds flush_interval{100};  // batch: longest time between fsyncs
  std::uint64_t map_size = 64ull << 20;           // initial LMDB map size, bytes
  std::uint64_t max_map_size = 16ull << 30;       // the map doubles up to this, bytes
  // Bytes of writes queued for the writer at which publishers to bridges are
  // held until it has caught up (store/writer.hpp); 0: no limit.
  std::uint64_t write_queue_bytes = 64ull << 20;
  bool operator==(const Store&) const = default;
};

// [rules]: the Lua rule engine (rules/, docs/rules.md).
struct Rules {
  bool enabled = true;
  std::string dir = "etc/rules";                 // *.lua rules and their context files
  std::chrono::seconds reload_interval{1};       // rescan period of `dir`; 0: load once
  std::uint32_t instruction_limit = 1000000;     // Lua VM instructions per call of a rule
  std::uint32_t memory_limit_kb = 16384;         // memory one rule may hold, per core
  std::uint32_t publish_limit = 1000;            // publish()/emit() per call of on_message
  std::uint32_t fault_limit = 5;                 // faults within fault_window disable a rule
  std::chrono::seconds fault_window{60};
  std::uint32_t hop_limit = 8;                   // republish depth before a loop is stopped
  bool operator==(const Rules&) const = default;
};

struct Document;  // the parsed file (table_reader.hpp)

struct Config {
  std::string source;  // file it was loaded from, empty for defaults
  // The whole parsed file: modules that own a section ([admin], [uns],
  // [[bridge]], ...) read it from here. Null for built-in defaults.
  std::shared_ptr<const Document> document;
  std::vector<Listener> listeners{Listener{}};
  std::string data_dir = "./data";
  LogLevel log_level = LogLevel::info;
  unsigned threads = 0;  // 0: one per core
  Limits limits;
  Auth auth;
  Sys sys;
  Store store;
  Rules rules;
  bool operator==(const Config&) const = default;
};

class ConfigError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;  // message is "file:line: what"
};

// Loads and validates a TOML file; throws ConfigError.
Config load_file(const std::string& path);

// Validates TOML text (`name` is used as the file name in errors).
Config load_string(const std::string& text, const std::string& name);

// Parses "tcp://host:port", "tls://host:port", "ws://host:port/path" or
// "wss://host:port/path" (path default "/mqtt") into a Listener; throws
// ConfigError naming `where`.
// The host is a name, an IPv4 address or a bracketed IPv6 address
// ("tcp://[::1]:1883"; Listener::host holds it without brackets).
Listener parse_listen_url(const std::string& url, const std::string& where);

// Every key the file may hold, as "section.key" ("limits.max_packet_size",
// "listener.url"). Tests use it to keep etc/strata.toml complete.
std::vector<std::string> known_keys();

// The [limits] keys a [[listener]] may override in its [listener.limits]
// table: those a connection applies. Session-wide ones (queues, expiry)
// and the broker's capabilities stay broker-wide.
std::vector<std::string> listener_limit_keys();

}  // namespace strata::config
