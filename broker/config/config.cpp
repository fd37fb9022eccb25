// Loading and validating strata.toml.
//
// Layout (etc/strata.toml documents every key):
//   [broker]      threads, data_dir, log_level
//   [[listener]]  url, max_connections, TLS settings (one table per listener)
//   [limits]      one key per field of Limits; durations in integer seconds
//   [sys]         interval
//   [store]       durability, flush_interval (ms), map_size, max_map_size, write_queue_bytes
//   [rules]       enabled, dir, budgets of the Lua rule engine
//   [auth]        password_file, acl_file, failed-login limits, enhanced auth methods
// The other top-level tables (kModuleSections) belong to their modules,
// which read them from Config::document with the helpers of table_reader.hpp.
// Every error names the file, line and column of the offending key or value,
// what was wrong and what was expected.
#include "broker/config/config.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <limits>
#include <span>
#include <sstream>
#include <string_view>

#include <toml++/toml.h>

#include "broker/config/table_reader.hpp"

namespace strata::config {
namespace {

constexpr std::string_view kBrokerKeys[] = {"threads", "data_dir", "log_level"};
constexpr std::string_view kListenerKeys[] = {
    "url",          "max_connections", "cert_file", "key_file",       "ca_file",
    "client_certs", "cert_username",   "ciphers",   "tls_min_version", "allow_anonymous",
    "max_connect_rate", "proxy_protocol", "limits"};
constexpr std::string_view kLimitsKeys[] = {
    "max_connections",       "max_packet_size",        "receive_maximum",
    "topic_alias_maximum",   "max_keep_alive",         "session_expiry_max",
    "max_inflight_messages", "max_inflight_messages_mqtt311", "max_inflight_bytes",
    "max_queued_messages",    "max_queued_bytes", "queue_qos0_offline",
    "max_topic_length",      "max_topic_levels",       "maximum_qos",
    "retain_available",      "wildcard_subscriptions", "shared_subscriptions",
    "subscription_identifiers", "max_client_id_length", "allow_empty_client_id",
    "connect_timeout", "max_outgoing_bytes", "max_outgoing_messages", "max_publish_rate",
    "max_publish_bytes_rate", "max_subscriptions", "backpressure_timeout"};
// The subset a [listener.limits] table may set (see listener_limit_keys()).
constexpr std::string_view kListenerLimitsKeys[] = {
    "max_packet_size",      "receive_maximum",    "topic_alias_maximum", "max_keep_alive",
    "max_inflight_messages", "max_inflight_messages_mqtt311", "max_inflight_bytes",
    "max_subscriptions", "max_topic_length",    "max_topic_levels",
    "max_client_id_length", "connect_timeout",    "max_outgoing_bytes",  "max_outgoing_messages",
    "max_publish_rate",     "max_publish_bytes_rate"};
constexpr std::string_view kSysKeys[] = {"interval"};
constexpr std::string_view kStoreKeys[] = {"durability", "flush_interval", "map_size", "max_map_size",
                                           "write_queue_bytes"};
constexpr std::string_view kRulesKeys[] = {"enabled",         "dir",         "reload_interval",
                                           "instruction_limit", "memory_limit_kb", "publish_limit",
                                           "fault_limit",     "fault_window",    "hop_limit"};
constexpr std::string_view kAuthKeys[] = {"password_file", "acl_file", "max_failed_logins", "failed_login_window",
                                          "methods"};

constexpr Section kSections[] = {
    {"broker", kBrokerKeys}, {"listener", kListenerKeys, true}, {"limits", kLimitsKeys}, {"sys", kSysKeys},
    {"store", kStoreKeys}, {"rules", kRulesKeys}, {"auth", kAuthKeys}};
constexpr Section kListenerLimits{"listener.limits", kListenerLimitsKeys};

// Top-level tables owned by other modules: accepted here, read and
// validated by their module from Config::document (see table_reader.hpp),
// at start-up, by --check-config and on reload.
struct ModuleSection {
  std::string_view name;
  bool array;
};
constexpr ModuleSection kModuleSections[] = {
    {"admin", false},     {"uns", false},  {"historian", false},
    {"bridge", true},     {"bridge_session", true}, {"plugin", true}};

void read_broker(const std::string& file, const toml::table& root, Config& config) {
  TableReader r(file, section_table(file, root, "broker"), "broker.");
  r.reject_unknown_keys(kSections[0]);
  r.integer("threads", 0, 1024, config.threads);
  if (const auto* dir = r.string("data_dir")) {
    if (dir->get().empty()) r.fail(dir->source(), "broker.data_dir is empty; expected a directory path");
    config.data_dir = dir->get();
  }
  if (const auto* level = r.string("log_level")) {
    auto parsed = log::parse_level(level->get());
    if (!parsed) {
      r.fail(level->source(), "broker.log_level '" + level->get() +
                                  "' is not a log level; expected trace, debug, info, warn or error");
    }
    config.log_level = *parsed;
  }
}

// Reads whichever [limits] keys `r`'s table holds into `l`; the others keep
// their value. Shared by [limits] and [listener.limits].
void read_limit_values(const TableReader& r, Limits& l) {
  constexpr long long u16 = std::numeric_limits<std::uint16_t>::max();
  constexpr long long u32 = std::numeric_limits<std::uint32_t>::max();
  r.integer("max_connections", 1, u32, l.max_connections);
  r.integer("max_packet_size", 16, 268435455, l.max_packet_size);
  r.integer("receive_maximum", 1, u16, l.receive_maximum);
  r.integer("topic_alias_maximum", 0, u16, l.topic_alias_maximum);
  r.integer("max_keep_alive", 0, u16, l.max_keep_alive);
  r.integer("session_expiry_max", 0, u32, l.session_expiry_max);
  r.integer("max_inflight_messages", 1, u16, l.max_inflight_messages);
  r.integer("max_inflight_messages_mqtt311", 1, u16, l.max_inflight_messages_mqtt311);
  r.integer("max_inflight_bytes", 0, std::numeric_limits<std::int64_t>::max(), l.max_inflight_bytes);
  r.integer("max_queued_messages", 0, u32, l.max_queued_messages);
  r.integer("max_queued_bytes", 0, std::numeric_limits<std::int64_t>::max(), l.max_queued_bytes);
  r.boolean("queue_qos0_offline", l.queue_qos0_offline);
  r.integer("max_topic_length", 1, u16, l.max_topic_length);
  r.integer("max_topic_levels", 1, u16, l.max_topic_levels);
  r.integer("maximum_qos", 0, 2, l.maximum_qos);
  r.boolean("retain_available", l.retain_available);
  r.boolean("wildcard_subscriptions", l.wildcard_subscriptions);
  r.boolean("shared_subscriptions", l.shared_subscriptions);
  r.boolean("subscription_identifiers", l.subscription_identifiers);
  // MQTT 3.1.1 [MQTT-3.1.3-5]: a server must accept client ids of 1 to 23 bytes.
  r.integer("max_client_id_length", 23, u16, l.max_client_id_length);
  r.boolean("allow_empty_client_id", l.allow_empty_client_id);
  r.integer("connect_timeout", 1, 3600, l.connect_timeout);
  r.integer("max_outgoing_bytes", 1024, u32, l.max_outgoing_bytes);
  r.integer("max_outgoing_messages", 1, u32, l.max_outgoing_messages);
  r.integer("max_publish_rate", 0, u32, l.max_publish_rate);
  r.integer("max_publish_bytes_rate", 0, u32, l.max_publish_bytes_rate);
  r.integer("max_subscriptions", 0, u32, l.max_subscriptions);
  r.integer("backpressure_timeout", 0, 3600, l.backpressure_timeout);
}

void read_limits(const std::string& file, const toml::table& root, Limits& l) {
  TableReader r(file, section_table(file, root, "limits"), "limits.");
  r.reject_unknown_keys(kSections[2]);
  read_limit_values(r, l);
}

// A [[listener]]'s own [listener.limits]: `l.limits` starts as the
// broker's [limits] and takes the listener's values on top.
void read_listener_limits(const std::string& file, const TableReader& listener, Listener& l) {
  const toml::node* node = listener.find("limits");
  if (!node) return;
  const toml::table* t = node->as_table();
  if (!t) {
    listener.fail(node->source(), "listener.limits must be a table ([listener.limits] after its [[listener]]), got " +
                                      std::string(type_name(node->type())));
  }
  TableReader r(file, *t, "listener.limits.");
  for (auto&& [key, value] : *t) {
    bool per_listener = std::find(std::begin(kListenerLimitsKeys), std::end(kListenerLimitsKeys), key.str()) !=
                        std::end(kListenerLimitsKeys);
    bool broker_wide = std::find(std::begin(kLimitsKeys), std::end(kLimitsKeys), key.str()) != std::end(kLimitsKeys);
    if (!per_listener && broker_wide) {
      r.fail(key.source(), "limits." + std::string(key.str()) +
                               " applies broker-wide (sessions and capabilities outlive a connection) and cannot be "
                               "set per listener; expected one of: " + joined(kListenerLimitsKeys));
    }
  }
  r.reject_unknown_keys(kListenerLimits);
  read_limit_values(r, l.limits);
}

// The TLS keys of a [[listener]]: only on tls:// and wss://, where
// cert_file and key_file are required. Whether the files load is checked
// when the listener opens (the broker refuses to start).
void read_listener_tls(const TableReader& r, const toml::table& t, Listener& l) {
  constexpr std::string_view tls_keys[] = {"cert_file", "key_file", "ca_file", "client_certs",
                                           "cert_username", "ciphers", "tls_min_version"};
  if (!l.tls()) {
    for (auto key : tls_keys) {
      if (const toml::node* n = t.get(key)) {
        r.fail(n->source(), "listener." + std::string(key) + " is only for tls:// and wss:// listeners");
      }
    }
    return;
  }
  auto file = [&](std::string_view key, std::string& out) {
    if (const auto* v = r.string(key)) {
      if (v->get().empty()) r.fail(v->source(), "listener." + std::string(key) + " is empty; expected a file path");
      out = v->get();
    }
  };
  file("cert_file", l.cert_file);
  file("key_file", l.key_file);
  file("ca_file", l.ca_file);
  if (l.cert_file.empty() || l.key_file.empty()) {
    r.fail(t.source(), "listener " + l.name() + " needs cert_file and key_file");
  }
  constexpr std::string_view policies[] = {"none", "optional", "required"};
  l.client_certs = choice(r, "client_certs", policies, ClientCerts::none);
  constexpr std::string_view usernames[] = {"none", "cn", "san"};
  l.cert_username = choice(r, "cert_username", usernames, CertUsername::none);
  if (l.client_certs != ClientCerts::none && l.ca_file.empty()) {
    r.fail(t.get("client_certs")->source(), "listener.client_certs needs ca_file to verify them");
  }
  if (l.cert_username != CertUsername::none && l.client_certs == ClientCerts::none) {
    r.fail(t.get("cert_username")->source(), "listener.cert_username needs client_certs optional or required");
  }
  if (const auto* v = r.string("ciphers")) l.ciphers = v->get();
  constexpr std::string_view versions[] = {"1.2", "1.3"};
  l.tls_min_version = versions[static_cast<int>(choice(r, "tls_min_version", versions, 0))];
}

void read_listeners(const std::string& file, const toml::table& root, Config& config) {
  const toml::node* node = root.get("listener");
  if (!node) return;  // keep the default listener
  const toml::array* list = node->as_array();
  if (!list) {
    throw ConfigError(position(file, node->source()) +
                      ": 'listener' must be an array of tables, written [[listener]]; got " +
                      std::string(type_name(node->type())));
  }
  if (list->empty()) {
    throw ConfigError(position(file, node->source()) + ": no listener; expected at least one [[listener]]");
  }
  config.listeners.clear();
  std::vector<toml::source_region> seen_at;
  for (const toml::node& item : *list) {
    const toml::table* t = item.as_table();
    if (!t) {
      throw ConfigError(position(file, item.source()) + ": a listener must be a table ([[listener]]), got " +
                        std::string(type_name(item.type())));
    }
    TableReader r(file, *t, "listener.");
    r.reject_unknown_keys(kSections[1]);
    const auto* url = r.string("url");
    if (!url) r.fail(t->source(), "[[listener]] has no url; expected url = \"tcp://host:port\"");
    Listener listener = parse_listen_url(url->get(), position(file, url->source()));
    r.integer("max_connections", 0, std::numeric_limits<std::uint32_t>::max(), listener.max_connections);
    r.integer("max_connect_rate", 0, 1000000, listener.max_connect_rate);
    constexpr std::string_view proxy_versions[] = {"none", "v1", "v2", "any"};
    listener.proxy_protocol = choice(r, "proxy_protocol", proxy_versions, ProxyProtocol::none);
    listener.limits = config.limits;
    read_listener_limits(file, r, listener);
    read_listener_tls(r, *t, listener);
    if (t->get("allow_anonymous")) {
      bool anonymous = false;
      r.boolean("allow_anonymous", anonymous);
      listener.allow_anonymous = anonymous;
    }
    for (std::size_t i = 0; i < config.listeners.size(); ++i) {
      const Listener& other = config.listeners[i];
      if (other.host == listener.host && other.port == listener.port) {
        r.fail(url->source(), "listener " + listener.name() + " is defined twice (first at line " +
                                  std::to_string(seen_at[i].begin.line) + "); expected distinct host:port");
      }
    }
    config.listeners.push_back(std::move(listener));
    seen_at.push_back(url->source());
  }
}

void read_auth(const std::string& file, const toml::table& root, Auth& a) {
  TableReader r(file, section_table(file, root, "auth"), "auth.");
  r.reject_unknown_keys(kSections[6]);
  for (auto [key, out] : {std::pair{"password_file", &a.password_file}, std::pair{"acl_file", &a.acl_file}}) {
    if (const auto* v = r.string(key)) *out = v->get();  // empty: none
  }
  r.integer("max_failed_logins", 0, 1000000, a.max_failed_logins);
  r.integer("failed_login_window", 1, 86400, a.failed_login_window);
  if (const toml::node* node = r.find("methods")) {
    const std::string expected = "expected an array of method names from: " + joined(auth_methods);
    const toml::array* list = node->as_array();
    if (!list) r.fail(node->source(), "auth.methods must be an array, got " + std::string(type_name(node->type())) + "; " + expected);
    a.methods.clear();
    for (const toml::node& item : *list) {
      const auto* name = item.as_string();
      if (!name) r.fail(item.source(), "auth.methods holds " + std::string(type_name(item.type())) + "; " + expected);
      if (std::find(std::begin(auth_methods), std::end(auth_methods), name->get()) == std::end(auth_methods)) {
        r.fail(item.source(), "auth.methods: unknown method '" + name->get() + "'; " + expected);
      }
      if (std::find(a.methods.begin(), a.methods.end(), name->get()) != a.methods.end()) {
        r.fail(item.source(), "auth.methods lists '" + name->get() + "' twice");
      }
      a.methods.push_back(name->get());
    }
  }
}

void read_sys(const std::string& file, const toml::table& root, Sys& s) {
  TableReader r(file, section_table(file, root, "sys"), "sys.");
  r.reject_unknown_keys(kSections[3]);
  r.integer("interval", 0, 86400, s.interval);
}

void read_store(const std::string& file, const toml::table& root, Store& s) {
  TableReader r(file, section_table(file, root, "store"), "store.");
  r.reject_unknown_keys(kSections[4]);
  if (const auto* d = r.string("durability")) {
    if (d->get() == "sync") {
      s.durability = Durability::sync;
    } else if (d->get() == "batch") {
      s.durability = Durability::batch;
    } else if (d->get() == "none") {
      s.durability = Durability::none;
    } else {
      r.fail(d->source(), "store.durability '" + d->get() + "' is not a durability; expected sync, batch or none");
    }
  }
  long long interval = s.flush_interval.count();
  r.integer("flush_interval", 1, 60000, interval);
  s.flush_interval = std::chrono::milliseconds(interval);
  // LMDB needs at least a few pages; 1 TiB is far beyond any broker's state.
  constexpr long long min_map = 1 << 20, max_map = 1ll << 40;
  r.integer("map_size", min_map, max_map, s.map_size);
  r.integer("max_map_size", min_map, max_map, s.max_map_size);
  // 0: no limit; otherwise at least 1 MiB (one group commit of a busy
  // broker holds more than that) and at most 64 GiB.
  r.integer("write_queue_bytes", 0, 64ll << 30, s.write_queue_bytes);
  if (s.write_queue_bytes != 0 && s.write_queue_bytes < (1u << 20)) {
    r.fail(r.find("write_queue_bytes")->source(), "store.write_queue_bytes (" + std::to_string(s.write_queue_bytes) +
                                                      ") is below 1048576; expected 0 (no limit) or 1048576..68719476736");
  }
  if (s.max_map_size < s.map_size) {
    const toml::node* n = r.find("max_map_size");
    if (n == nullptr) n = r.find("map_size");
    r.fail(n->source(), "store.max_map_size (" + std::to_string(s.max_map_size) +
                            ") is smaller than store.map_size (" + std::to_string(s.map_size) +
                            "); expected max_map_size >= map_size");
  }
}

void read_rules(const std::string& file, const toml::table& root, Rules& rules) {
  TableReader r(file, section_table(file, root, "rules"), "rules.");
  r.reject_unknown_keys(kSections[5]);
  r.boolean("enabled", rules.enabled);
  if (const auto* dir = r.string("dir")) {
    if (dir->get().empty()) r.fail(dir->source(), "rules.dir is empty; expected a directory path");
    rules.dir = dir->get();
  }
  r.integer("reload_interval", 0, 3600, rules.reload_interval);
  r.integer("instruction_limit", 1000, 1000000000, rules.instruction_limit);
  r.integer("memory_limit_kb", 256, 4194304, rules.memory_limit_kb);
  r.integer("publish_limit", 1, 1000000, rules.publish_limit);
  r.integer("fault_limit", 1, 1000000, rules.fault_limit);
  r.integer("fault_window", 1, 86400, rules.fault_window);
  r.integer("hop_limit", 1, 64, rules.hop_limit);
}

bool valid_host_name(std::string_view host) {
  return !host.empty() && std::all_of(host.begin(), host.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '.' || c == '_';
  });
}

bool valid_ipv6_literal(std::string_view host) {
  return host.find(':') != std::string_view::npos && std::all_of(host.begin(), host.end(), [](char c) {
    return (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F') || (c >= '0' && c <= '9') || c == ':' ||
           c == '.';
  });
}

// "[broker], [[listener]], [limits], ..." from kSections.
std::string section_names() {
  std::string out;
  auto add = [&out](std::string_view name, bool array) {
    if (!out.empty()) out += ", ";
    out += (array ? "[[" : "[") + std::string(name) + (array ? "]]" : "]");
  };
  for (const Section& s : kSections) add(s.name, s.array);
  for (const ModuleSection& s : kModuleSections) add(s.name, s.array);
  return out;
}

}  // namespace

std::vector<std::string> listener_limit_keys() {
  return {std::begin(kListenerLimitsKeys), std::end(kListenerLimitsKeys)};
}

std::vector<std::string> known_keys() {
  std::vector<std::string> out;
  for (const Section& s : kSections) {
    for (auto key : s.keys) out.push_back(std::string(s.name) + "." + std::string(key));
  }
  return out;
}

Listener parse_listen_url(const std::string& url, const std::string& where) {
  auto fail = [&](const std::string& what) -> ConfigError {
    return ConfigError(where + ": invalid listener URL '" + url + "': " + what +
                       "; expected tcp://host:port (or tls://, ws://, wss://)");
  };
  auto sep = url.find("://");
  if (sep == std::string::npos) throw fail("no scheme");
  std::string scheme = url.substr(0, sep);
  if (scheme != "tcp" && scheme != "tls" && scheme != "ws" && scheme != "wss") {
    throw fail("unknown scheme '" + scheme + "'");
  }

  std::string_view rest(url);
  rest.remove_prefix(sep + 3);
  Listener listener;
  listener.scheme = scheme;
  if (auto slash = rest.find('/'); slash != std::string_view::npos) {
    if (!listener.websocket()) throw fail("a path is only for ws:// and wss://");
    listener.path = std::string(rest.substr(slash));
    rest = rest.substr(0, slash);
    bool ok = std::all_of(listener.path.begin(), listener.path.end(),
                          [](char c) { return c > ' ' && c < 0x7f && c != '?' && c != '#'; });
    if (!ok) throw fail("path '" + listener.path + "' has characters a URL path cannot hold");
  } else if (listener.websocket()) {
    listener.path = "/mqtt";
  }
  std::string_view host;
  std::string_view port;
  if (rest.starts_with('[')) {
    auto close = rest.find(']');
    if (close == std::string_view::npos) throw fail("'[' without ']'");
    host = rest.substr(1, close - 1);
    if (!valid_ipv6_literal(host)) throw fail("'" + std::string(host) + "' is not an IPv6 address");
    rest.remove_prefix(close + 1);
    if (!rest.starts_with(':')) throw fail("no port");
    port = rest.substr(1);
  } else {
    auto colon = rest.rfind(':');
    if (colon == std::string_view::npos) throw fail("no port");
    host = rest.substr(0, colon);
    port = rest.substr(colon + 1);
    if (host.empty()) throw fail("no host");
    if (host.find(':') != std::string_view::npos) throw fail("an IPv6 address must be in brackets, [::1]");
    if (!valid_host_name(host)) throw fail("'" + std::string(host) + "' is not a host name or address");
  }
  bool digits = !port.empty() && port.size() <= 5 &&
                std::all_of(port.begin(), port.end(), [](char c) { return c >= '0' && c <= '9'; });
  unsigned long number = digits ? std::stoul(std::string(port)) : 0;
  if (!digits || number < 1 || number > 65535) {
    throw fail("port '" + std::string(port) + "' is not a number in 1..65535");
  }
  listener.host = std::string(host);
  listener.port = static_cast<std::uint16_t>(number);
  return listener;
}

Config load_string(const std::string& text, const std::string& name) {
  auto document = std::make_shared<Document>();
  document->name = name;
  try {
    document->root = toml::parse(text, name);
  } catch (const toml::parse_error& e) {
    throw ConfigError(position(name, e.source()) + ": TOML syntax error: " + std::string(e.description()));
  }
  const toml::table& root = document->root;
  for (auto&& entry : root) {
    const toml::key& key = entry.first;  // a named reference: lambdas may capture it (clang 14)
    bool known = std::any_of(std::begin(kSections), std::end(kSections),
                             [&](const Section& s) { return s.name == key.str(); }) ||
                 std::any_of(std::begin(kModuleSections), std::end(kModuleSections),
                             [&](const ModuleSection& s) { return s.name == key.str(); });
    if (!known) {
      throw ConfigError(position(name, key.source()) + ": unknown key '" + std::string(key.str()) +
                        "' at top level; expected the tables " + section_names());
    }
  }
  Config config;
  read_broker(name, root, config);
  read_limits(name, root, config.limits);  // before the listeners, which start from it
  config.listeners[0].limits = config.limits;  // the default listener, if no [[listener]] replaces it
  read_listeners(name, root, config);
  read_sys(name, root, config.sys);
  read_store(name, root, config.store);
  read_rules(name, root, config.rules);
  read_auth(name, root, config.auth);
  config.document = std::move(document);
  return config;
}

Config load_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw ConfigError(path + ": cannot open: " + std::strerror(errno));
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) throw ConfigError(path + ": cannot read: " + std::strerror(errno));
  Config config = load_string(text.str(), path);
  config.source = path;
  return config;
}

}  // namespace strata::config
