#include "broker/config/config.hpp"

#include <algorithm>
#include <fstream>
#include <sstream>
#include <string>

#include <gtest/gtest.h>

namespace strata::config {
namespace {

using namespace std::chrono_literals;

const std::string kDefaultFile = std::string(STRATA_SOURCE_DIR) + "/etc/strata.toml";

// The message of the ConfigError that loading `text` as "t.toml" throws.
std::string error_of(const std::string& text) {
  try {
    load_string(text, "t.toml");
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "(no error)";
}

std::string url_error_of(const std::string& url) {
  try {
    parse_listen_url(url, "--listen");
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "(no error)";
}

TEST(ConfigDefaults, BuiltInValues) {
  Config c;
  ASSERT_EQ(c.listeners.size(), 1u);
  EXPECT_EQ(c.listeners[0].name(), "tcp://127.0.0.1:1883");
  EXPECT_EQ(c.data_dir, "./data");
  EXPECT_EQ(c.log_level, LogLevel::info);
  EXPECT_EQ(c.threads, 0u);
  EXPECT_EQ(c.limits.max_packet_size, 1024u * 1024u);
  EXPECT_EQ(c.limits.receive_maximum, 1024);
  EXPECT_EQ(c.limits.maximum_qos, 2);
  EXPECT_EQ(c.limits.connect_timeout, 10s);
  EXPECT_EQ(c.limits.backpressure_timeout, 10s);
  EXPECT_EQ(c.sys.interval, 10s);
}

// The parsed values, without the parsed file the modules read their sections from.
Config values_of(Config c) {
  EXPECT_NE(c.document, nullptr);
  c.document.reset();
  return c;
}

TEST(ConfigDefaults, EmptyFileGivesDefaults) {
  EXPECT_EQ(values_of(load_string("", "t.toml")), Config{});
  EXPECT_EQ(values_of(load_string("# nothing\n[broker]\n[limits]\n[sys]\n", "t.toml")), Config{});
}

TEST(ConfigDefaults, ShippedFileEqualsBuiltInDefaults) {
  Config loaded = load_file(kDefaultFile);
  EXPECT_EQ(loaded.source, kDefaultFile);
  ASSERT_EQ(loaded.listeners.size(), 1u);
  EXPECT_EQ(loaded.listeners[0].host, "0.0.0.0");  // the one intended difference
  loaded.source.clear();
  ASSERT_NE(loaded.document, nullptr);
  loaded.document.reset();  // the parsed file, for the modules' own sections
  loaded.listeners[0].host = Listener{}.host;
  // and it allows anonymous clients explicitly (its comment says why)
  EXPECT_EQ(loaded.listeners[0].allow_anonymous, true);
  loaded.listeners[0].allow_anonymous.reset();
  EXPECT_EQ(loaded, Config{});
}

TEST(ConfigDefaults, ShippedFileSetsEveryKey) {
  std::ifstream in(kDefaultFile);
  std::stringstream text;
  text << in.rdbuf();
  std::string body = text.str();
  for (const std::string& key : known_keys()) {
    std::string section = key.substr(0, key.find('.'));
    std::string name = key.substr(key.find('.') + 1);
    std::string header = section == "listener" ? "[[listener]]" : "[" + section + "]";
    auto at = body.find("\n" + header + "\n");
    ASSERT_NE(at, std::string::npos) << header;
    auto end = body.find("\n[", at + 1);
    std::string table = body.substr(at, end == std::string::npos ? std::string::npos : end - at);
    // TLS keys cannot go on the shipped tcp:// listener; a commented
    // example listener documents them.
    bool found = table.find("\n" + name + " = ") != std::string::npos ||
                 (section == "listener" && body.find("\n# " + name + " = ") != std::string::npos) ||
                 (key == "listener.limits" && table.find("\n# [listener.limits]\n") != std::string::npos);
    EXPECT_TRUE(found) << key << " missing from etc/strata.toml";
  }
}

TEST(ConfigLoad, EveryKeyIsRead) {
  Config c = load_string(R"(
[broker]
threads = 4
data_dir = "/var/lib/strata"
log_level = "debug"

[[listener]]
url = "tcp://127.0.0.1:1884"
max_connections = 10

[[listener]]
url = "tcp://[::1]:1885"

[[listener]]
url = "wss://0.0.0.0:8443/ws"
cert_file = "server.crt"
key_file = "server.key"
ca_file = "ca.crt"
client_certs = "required"
cert_username = "san"
ciphers = "ECDHE-ECDSA-AES128-GCM-SHA256"
tls_min_version = "1.3"
allow_anonymous = false

[limits]
max_connections = 5000
max_packet_size = 65536
receive_maximum = 100
topic_alias_maximum = 0
max_keep_alive = 600
session_expiry_max = 3600
max_inflight_messages = 20
max_queued_messages = 0
queue_qos0_offline = true
max_topic_length = 1024
max_topic_levels = 16
maximum_qos = 1
retain_available = false
wildcard_subscriptions = false
shared_subscriptions = false
subscription_identifiers = false
max_client_id_length = 23
allow_empty_client_id = false
connect_timeout = 30
max_outgoing_bytes = 65536
max_outgoing_messages = 100
max_publish_rate = 500
max_publish_bytes_rate = 100000
max_subscriptions = 50
backpressure_timeout = 0

[sys]
interval = 0

[auth]
password_file = "/etc/strata/passwd"
acl_file = "/etc/strata/acl"
max_failed_logins = 3
failed_login_window = 600
methods = []
)",
                         "t.toml");
  EXPECT_EQ(c.threads, 4u);
  EXPECT_EQ(c.data_dir, "/var/lib/strata");
  EXPECT_EQ(c.log_level, LogLevel::debug);
  ASSERT_EQ(c.listeners.size(), 3u);
  const Listener& wss = c.listeners[2];
  EXPECT_EQ(wss.name(), "wss://0.0.0.0:8443/ws");
  EXPECT_EQ(wss.cert_file, "server.crt");
  EXPECT_EQ(wss.key_file, "server.key");
  EXPECT_EQ(wss.ca_file, "ca.crt");
  EXPECT_EQ(wss.client_certs, ClientCerts::required);
  EXPECT_EQ(wss.cert_username, CertUsername::san);
  EXPECT_EQ(wss.ciphers, "ECDHE-ECDSA-AES128-GCM-SHA256");
  EXPECT_EQ(wss.tls_min_version, "1.3");
  EXPECT_EQ(wss.allow_anonymous, false);
  EXPECT_FALSE(wss.anonymous_allowed());
  EXPECT_TRUE(c.listeners[0].anonymous_allowed());  // unset on 127.0.0.1
  EXPECT_EQ(c.auth.password_file, "/etc/strata/passwd");
  EXPECT_EQ(c.auth.acl_file, "/etc/strata/acl");
  EXPECT_EQ(c.auth.max_failed_logins, 3u);
  EXPECT_EQ(c.auth.failed_login_window, std::chrono::seconds(600));
  EXPECT_TRUE(c.auth.methods.empty());
  EXPECT_EQ(c.listeners[0].name(), "tcp://127.0.0.1:1884");
  EXPECT_EQ(c.listeners[0].max_connections, 10u);
  EXPECT_EQ(c.listeners[1].host, "::1");
  EXPECT_EQ(c.listeners[1].port, 1885);
  EXPECT_EQ(c.listeners[1].max_connections, 0u);
  const Limits& l = c.limits;
  EXPECT_EQ(l.max_connections, 5000u);
  EXPECT_EQ(l.max_packet_size, 65536u);
  EXPECT_EQ(l.receive_maximum, 100);
  EXPECT_EQ(l.topic_alias_maximum, 0);
  EXPECT_EQ(l.max_keep_alive, 600);
  EXPECT_EQ(l.session_expiry_max, 3600u);
  EXPECT_EQ(l.max_inflight_messages, 20);
  EXPECT_EQ(l.max_queued_messages, 0u);
  EXPECT_TRUE(l.queue_qos0_offline);
  EXPECT_EQ(l.max_topic_length, 1024u);
  EXPECT_EQ(l.max_topic_levels, 16u);
  EXPECT_EQ(l.maximum_qos, 1);
  EXPECT_FALSE(l.retain_available);
  EXPECT_FALSE(l.wildcard_subscriptions);
  EXPECT_FALSE(l.shared_subscriptions);
  EXPECT_FALSE(l.subscription_identifiers);
  EXPECT_EQ(l.max_client_id_length, 23);
  EXPECT_FALSE(l.allow_empty_client_id);
  EXPECT_EQ(l.connect_timeout, 30s);
  EXPECT_EQ(l.max_outgoing_bytes, 65536u);
  EXPECT_EQ(l.max_outgoing_messages, 100u);
  EXPECT_EQ(l.max_publish_rate, 500u);
  EXPECT_EQ(l.max_publish_bytes_rate, 100000u);
  EXPECT_EQ(l.max_subscriptions, 50u);
  EXPECT_EQ(l.backpressure_timeout, 0s);
  EXPECT_EQ(c.sys.interval, 0s);
  // Listeners without their own [listener.limits] take [limits] as it is,
  // even though [limits] comes after them in the file.
  for (const Listener& listener : c.listeners) EXPECT_EQ(listener.limits, l);
}

TEST(ConfigLoad, ListenerProxyRateAndLimits) {
  Config c = load_string(R"(
[[listener]]
url = "tcp://0.0.0.0:1883"
max_connect_rate = 200
proxy_protocol = "v2"
[listener.limits]
max_packet_size = 4096
max_publish_rate = 10
max_subscriptions = 3
connect_timeout = 2

[[listener]]
url = "ws://0.0.0.0:8080/mqtt"
proxy_protocol = "any"
limits = { max_topic_levels = 4 }

[[listener]]
url = "tcp://127.0.0.1:1884"

[limits]
max_packet_size = 65536
max_topic_levels = 10
max_queued_messages = 7
)",
                         "t.toml");
  ASSERT_EQ(c.listeners.size(), 3u);
  const Listener& lb = c.listeners[0];
  EXPECT_EQ(lb.max_connect_rate, 200u);
  EXPECT_EQ(lb.proxy_protocol, ProxyProtocol::v2);
  EXPECT_EQ(lb.limits.max_packet_size, 4096u);
  EXPECT_EQ(lb.limits.max_publish_rate, 10u);
  EXPECT_EQ(lb.limits.max_subscriptions, 3u);
  EXPECT_EQ(lb.limits.connect_timeout, 2s);
  EXPECT_EQ(lb.limits.max_topic_levels, 10u);    // from [limits]
  EXPECT_EQ(lb.limits.max_queued_messages, 7u);  // broker-wide
  EXPECT_EQ(c.listeners[1].proxy_protocol, ProxyProtocol::any);
  EXPECT_EQ(c.listeners[1].limits.max_topic_levels, 4u);
  EXPECT_EQ(c.listeners[1].limits.max_packet_size, 65536u);
  EXPECT_EQ(c.listeners[2].proxy_protocol, ProxyProtocol::none);
  EXPECT_EQ(c.listeners[2].max_connect_rate, 0u);
  EXPECT_EQ(c.listeners[2].limits, c.limits);
  // Without [[listener]], the default listener takes [limits] too.
  Config d = load_string("[limits]\nmax_packet_size = 100\n", "t.toml");
  EXPECT_EQ(d.listeners[0].limits.max_packet_size, 100u);
  // Every key listener_limit_keys() names is a [limits] key.
  for (const std::string& key : listener_limit_keys()) {
    auto all = known_keys();
    EXPECT_NE(std::find(all.begin(), all.end(), "limits." + key), all.end()) << key;
  }
}

TEST(ConfigLoad, RangeBoundsAreAccepted) {
  Config c = load_string(
      "[limits]\nmax_packet_size = 268435455\nreceive_maximum = 65535\n"
      "session_expiry_max = 4294967295\nmaximum_qos = 0\n",
      "t.toml");
  EXPECT_EQ(c.limits.max_packet_size, 268435455u);
  EXPECT_EQ(c.limits.receive_maximum, 65535);
  EXPECT_EQ(c.limits.session_expiry_max, 4294967295u);
  EXPECT_EQ(c.limits.maximum_qos, 0);
  EXPECT_EQ(load_string("[limits]\nmax_packet_size = 16\n", "t.toml").limits.max_packet_size, 16u);
  EXPECT_EQ(load_string("[[listener]]\nurl = \"tcp://h:65535\"\n", "t.toml").listeners[0].port, 65535);
  EXPECT_EQ(load_string("[[listener]]\nurl = \"tcp://h:1\"\n", "t.toml").listeners[0].port, 1);
}

TEST(ConfigLoad, MissingFileNamesIt) {
  try {
    load_file("no-such-dir/strata.toml");
    FAIL() << "no error";
  } catch (const ConfigError& e) {
    EXPECT_EQ(std::string(e.what()), "no-such-dir/strata.toml: cannot open: No such file or directory");
  }
}

TEST(ConfigErrors, SyntaxErrorHasFileAndLine) {
  std::string e = error_of("[broker]\nthreads = 4\nlog_level = \"info\n");
  EXPECT_TRUE(e.starts_with("t.toml:3:")) << e;
  EXPECT_NE(e.find("TOML syntax error: "), std::string::npos) << e;
  e = error_of("[limits]\nmax_packet_size = 1\nmax_packet_size = 2\n");
  EXPECT_TRUE(e.starts_with("t.toml:3:")) << e;
}

TEST(ConfigErrors, UnknownTopLevelKey) {
  EXPECT_EQ(error_of("\nthreads = 4\n"),
            "t.toml:2:1: unknown key 'threads' at top level; expected the tables [broker], [[listener]], "
            "[limits], [sys], [store], [rules], [auth], [admin], [uns], [historian], [[bridge]], "
            "[[bridge_session]], [[plugin]]");
  EXPECT_EQ(error_of("[broker]\n[limit]\n"),
            "t.toml:2:2: unknown key 'limit' at top level; expected the tables [broker], [[listener]], "
            "[limits], [sys], [store], [rules], [auth], [admin], [uns], [historian], [[bridge]], "
            "[[bridge_session]], [[plugin]]");
}

TEST(ConfigErrors, UnknownKeyNamesItAndTheTable) {
  EXPECT_EQ(error_of("[broker]\nthreads = 2\n  data_directory = \"x\"\n"),
            "t.toml:3:3: unknown key 'data_directory' in [broker]; expected one of: threads, data_dir, "
            "log_level");
  std::string e = error_of("[limits]\nmax_packet_size = 100\nmax_packets = 5\n");
  EXPECT_TRUE(e.starts_with("t.toml:3:1: unknown key 'max_packets' in [limits]; expected one of: "
                            "max_connections, max_packet_size, "))
      << e;
  EXPECT_EQ(error_of("[[listener]]\nurl = \"tcp://h:1\"\nport = 1\n"),
            "t.toml:3:1: unknown key 'port' in [[listener]]; expected one of: url, max_connections, cert_file, "
            "key_file, ca_file, client_certs, cert_username, ciphers, tls_min_version, allow_anonymous, "
            "max_connect_rate, proxy_protocol, limits");
  EXPECT_EQ(error_of("[sys]\ninterval = 5\nenabled = true\n"),
            "t.toml:3:1: unknown key 'enabled' in [sys]; expected one of: interval");
}

TEST(ConfigErrors, WrongType) {
  EXPECT_EQ(error_of("[limits]\nmax_packet_size = \"1MB\"\n"),
            "t.toml:2:19: limits.max_packet_size must be an integer in 16..268435455, got a string");
  EXPECT_EQ(error_of("[limits]\nconnect_timeout = 1.5\n"),
            "t.toml:2:19: limits.connect_timeout must be an integer in 1..3600, got a floating-point number");
  EXPECT_EQ(error_of("[limits]\nretain_available = 1\n"),
            "t.toml:2:20: limits.retain_available must be true or false, got an integer");
  EXPECT_EQ(error_of("[broker]\ndata_dir = 5\n"), "t.toml:2:12: broker.data_dir must be a string, got an integer");
  EXPECT_EQ(error_of("[broker]\nlog_level = [\"info\"]\n"),
            "t.toml:2:13: broker.log_level must be a string, got an array");
  EXPECT_EQ(error_of("[[listener]]\nurl = \"tcp://h:1\"\nmax_connections = true\n"),
            "t.toml:3:19: listener.max_connections must be an integer in 0..4294967295, got a boolean");
  EXPECT_EQ(error_of("limits = 5\n"), "t.toml:1:10: 'limits' must be a table ([limits]), got an integer");
}

TEST(ConfigErrors, OutOfRange) {
  EXPECT_EQ(error_of("[limits]\nmax_packet_size = 15\n"),
            "t.toml:2:19: limits.max_packet_size = 15 is out of range; expected an integer in 16..268435455");
  EXPECT_EQ(error_of("[limits]\nmax_packet_size = 268435456\n"),
            "t.toml:2:19: limits.max_packet_size = 268435456 is out of range; expected an integer in "
            "16..268435455");
  EXPECT_EQ(error_of("[limits]\nreceive_maximum = 0\n"),
            "t.toml:2:19: limits.receive_maximum = 0 is out of range; expected an integer in 1..65535");
  EXPECT_EQ(error_of("[limits]\nreceive_maximum = 65536\n"),
            "t.toml:2:19: limits.receive_maximum = 65536 is out of range; expected an integer in 1..65535");
  EXPECT_EQ(error_of("[limits]\nmaximum_qos = 3\n"),
            "t.toml:2:15: limits.maximum_qos = 3 is out of range; expected an integer in 0..2");
  EXPECT_EQ(error_of("[limits]\nmaximum_qos = -1\n"),
            "t.toml:2:15: limits.maximum_qos = -1 is out of range; expected an integer in 0..2");
  EXPECT_EQ(error_of("[limits]\nmax_client_id_length = 22\n"),
            "t.toml:2:24: limits.max_client_id_length = 22 is out of range; expected an integer in 23..65535");
  EXPECT_EQ(error_of("[limits]\nsession_expiry_max = 4294967296\n"),
            "t.toml:2:22: limits.session_expiry_max = 4294967296 is out of range; expected an integer in "
            "0..4294967295");
  EXPECT_EQ(error_of("[broker]\nthreads = -1\n"),
            "t.toml:2:11: broker.threads = -1 is out of range; expected an integer in 0..1024");
  EXPECT_EQ(error_of("[sys]\ninterval = 86401\n"),
            "t.toml:2:12: sys.interval = 86401 is out of range; expected an integer in 0..86400");
}

TEST(ConfigErrors, BadValues) {
  EXPECT_EQ(error_of("[broker]\nlog_level = \"verbose\"\n"),
            "t.toml:2:13: broker.log_level 'verbose' is not a log level; expected trace, debug, info, warn or "
            "error");
  EXPECT_EQ(error_of("[broker]\ndata_dir = \"\"\n"),
            "t.toml:2:12: broker.data_dir is empty; expected a directory path");
}

TEST(ConfigErrors, AuthMethods) {
  EXPECT_EQ(load_string("[auth]\nmethods = [\"SCRAM-SHA-256\"]\n", "t.toml").auth.methods,
            std::vector<std::string>{"SCRAM-SHA-256"});
  EXPECT_EQ(error_of("[auth]\nmethods = \"SCRAM-SHA-256\"\n"),
            "t.toml:2:11: auth.methods must be an array, got a string; expected an array of method names from: "
            "SCRAM-SHA-256");
  EXPECT_EQ(error_of("[auth]\nmethods = [\"SCRAM-SHA-1\"]\n"),
            "t.toml:2:12: auth.methods: unknown method 'SCRAM-SHA-1'; expected an array of method names from: "
            "SCRAM-SHA-256");
  EXPECT_EQ(error_of("[auth]\nmethods = [1]\n"),
            "t.toml:2:12: auth.methods holds an integer; expected an array of method names from: SCRAM-SHA-256");
  EXPECT_EQ(error_of("[auth]\nmethods = [\"SCRAM-SHA-256\", \"SCRAM-SHA-256\"]\n"),
            "t.toml:2:29: auth.methods lists 'SCRAM-SHA-256' twice");
}

TEST(ConfigErrors, Listeners) {
  EXPECT_EQ(error_of("[[listener]]\nurl = \"tcp://0.0.0.0:0\"\n"),
            "t.toml:2:7: invalid listener URL 'tcp://0.0.0.0:0': port '0' is not a number in 1..65535; expected "
            "tcp://host:port (or tls://, ws://, wss://)");
  EXPECT_EQ(error_of("[[listener]]\nurl = \"tcp://0.0.0.0:65536\"\n"),
            "t.toml:2:7: invalid listener URL 'tcp://0.0.0.0:65536': port '65536' is not a number in 1..65535; "
            "expected tcp://host:port (or tls://, ws://, wss://)");
  EXPECT_EQ(error_of("[[listener]]\nurl = \"tls://0.0.0.0:8883\"\n"),
            "t.toml:1:1: listener tls://0.0.0.0:8883 needs cert_file and key_file");
  EXPECT_EQ(error_of("[[listener]]\nurl = \"tcp://0.0.0.0:1\"\ncert_file = \"a\"\n"),
            "t.toml:3:13: listener.cert_file is only for tls:// and wss:// listeners");
  EXPECT_EQ(error_of("[[listener]]\nurl = \"tls://h:1\"\ncert_file = \"c\"\nkey_file = \"k\"\n"
                     "client_certs = \"required\"\n"),
            "t.toml:5:16: listener.client_certs needs ca_file to verify them");
  EXPECT_EQ(error_of("[[listener]]\nurl = \"tls://h:1\"\ncert_file = \"c\"\nkey_file = \"k\"\n"
                     "client_certs = \"maybe\"\n"),
            "t.toml:5:16: listener.client_certs 'maybe' is not valid; expected none, optional or required");
  EXPECT_EQ(error_of("[[listener]]\nurl = \"tls://h:1\"\ncert_file = \"c\"\nkey_file = \"k\"\n"
                     "cert_username = \"cn\"\n"),
            "t.toml:5:17: listener.cert_username needs client_certs optional or required");
  EXPECT_EQ(error_of("[[listener]]\nurl = \"tls://h:1\"\ncert_file = \"c\"\nkey_file = \"k\"\n"
                     "tls_min_version = \"1.0\"\n"),
            "t.toml:5:19: listener.tls_min_version '1.0' is not valid; expected 1.2 or 1.3");
  EXPECT_EQ(error_of("[[listener]]\nurl = \"tcp://h:1/mqtt\"\n"),
            "t.toml:2:7: invalid listener URL 'tcp://h:1/mqtt': a path is only for ws:// and wss://; expected "
            "tcp://host:port (or tls://, ws://, wss://)");
  EXPECT_EQ(error_of("[[listener]]\nmax_connections = 5\n"),
            "t.toml:1:1: [[listener]] has no url; expected url = \"tcp://host:port\"");
  EXPECT_EQ(error_of("[[listener]]\nurl = \"tcp://a:1\"\n\n[[listener]]\nurl = \"tcp://a:1\"\n"),
            "t.toml:5:7: listener tcp://a:1 is defined twice (first at line 2); expected distinct host:port");
  EXPECT_EQ(error_of("[listener]\nurl = \"tcp://a:1\"\n"),
            "t.toml:1:1: 'listener' must be an array of tables, written [[listener]]; got a table");
  EXPECT_EQ(error_of("listener = []\n"), "t.toml:1:12: no listener; expected at least one [[listener]]");
  EXPECT_EQ(error_of("listener = [1]\n"), "t.toml:1:13: a listener must be a table ([[listener]]), got an integer");
  EXPECT_EQ(error_of("[[listener]]\nurl = \"tcp://h:1\"\nproxy_protocol = \"v3\"\n"),
            "t.toml:3:18: listener.proxy_protocol 'v3' is not valid; expected none, v1, v2 or any");
  EXPECT_EQ(error_of("[[listener]]\nurl = \"tcp://h:1\"\nmax_connect_rate = 1000001\n"),
            "t.toml:3:20: listener.max_connect_rate = 1000001 is out of range; expected an integer in 0..1000000");
  EXPECT_EQ(error_of("[[listener]]\nurl = \"tcp://h:1\"\nlimits = 5\n"),
            "t.toml:3:10: listener.limits must be a table ([listener.limits] after its [[listener]]), got an "
            "integer");
  EXPECT_EQ(error_of("[[listener]]\nurl = \"tcp://h:1\"\n[listener.limits]\nmax_packet_size = 8\n"),
            "t.toml:4:19: listener.limits.max_packet_size = 8 is out of range; expected an integer in 16..268435455");
  std::string wide = error_of("[[listener]]\nurl = \"tcp://h:1\"\n[listener.limits]\nmax_queued_messages = 8\n");
  EXPECT_TRUE(wide.starts_with("t.toml:4:1: limits.max_queued_messages applies broker-wide")) << wide;
  std::string unknown = error_of("[[listener]]\nurl = \"tcp://h:1\"\n[listener.limits]\nmax_fun = 8\n");
  EXPECT_TRUE(unknown.starts_with("t.toml:4:1: unknown key 'max_fun' in [listener.limits]; expected one of: "
                                  "max_packet_size, "))
      << unknown;
}

TEST(ListenUrl, Parses) {
  Listener l = parse_listen_url("tcp://0.0.0.0:1883", "x");
  EXPECT_EQ(l.scheme, "tcp");
  EXPECT_EQ(l.host, "0.0.0.0");
  EXPECT_EQ(l.port, 1883);
  EXPECT_EQ(l.max_connections, 0u);
  EXPECT_EQ(parse_listen_url("tcp://localhost:1", "x").host, "localhost");
  EXPECT_EQ(parse_listen_url("tcp://broker-1.plant.example:65535", "x").port, 65535);
  Listener v6 = parse_listen_url("tcp://[::1]:1883", "x");
  EXPECT_EQ(v6.host, "::1");
  EXPECT_EQ(v6.name(), "tcp://[::1]:1883");
  EXPECT_EQ(parse_listen_url("tcp://[::]:1883", "x").host, "::");
}

TEST(ListenUrl, ParsesSecureAndWebSocket) {
  Listener ws = parse_listen_url("ws://0.0.0.0:8080", "x");
  EXPECT_EQ(ws.path, "/mqtt");
  EXPECT_EQ(ws.name(), "ws://0.0.0.0:8080/mqtt");
  EXPECT_TRUE(ws.websocket());
  EXPECT_FALSE(ws.tls());
  Listener wss = parse_listen_url("wss://h:443/a/b", "x");
  EXPECT_EQ(wss.path, "/a/b");
  EXPECT_TRUE(wss.tls());
  EXPECT_EQ(parse_listen_url("tls://h:8883", "x").name(), "tls://h:8883");
}

TEST(ListenUrl, RejectsOtherSchemes) {
  EXPECT_EQ(url_error_of("mqtt://h:1"),
            "--listen: invalid listener URL 'mqtt://h:1': unknown scheme 'mqtt'; expected tcp://host:port (or tls://, ws://, wss://)");
  EXPECT_EQ(url_error_of("h:1"), "--listen: invalid listener URL 'h:1': no scheme; expected tcp://host:port (or tls://, ws://, wss://)");
}

TEST(ListenUrl, RejectsBadHostsAndPorts) {
  auto reason = [](const std::string& url) {
    std::string e = url_error_of(url);
    auto start = e.find("': ");
    auto end = e.rfind("; expected");
    return start == std::string::npos ? e : e.substr(start + 3, end - start - 3);
  };
  EXPECT_EQ(reason("tcp://h"), "no port");
  EXPECT_EQ(reason("tcp://h:"), "port '' is not a number in 1..65535");
  EXPECT_EQ(reason("tcp://h:http"), "port 'http' is not a number in 1..65535");
  EXPECT_EQ(reason("tcp://h:1883/"), "a path is only for ws:// and wss://");
  EXPECT_EQ(reason("tcp://h:-1"), "port '-1' is not a number in 1..65535");
  EXPECT_EQ(reason("tcp://h:0"), "port '0' is not a number in 1..65535");
  EXPECT_EQ(reason("tcp://h:99999999"), "port '99999999' is not a number in 1..65535");
  EXPECT_EQ(reason("tcp://:1883"), "no host");
  EXPECT_EQ(reason("tcp://::1:1883"), "an IPv6 address must be in brackets, [::1]");
  EXPECT_EQ(reason("tcp://[::1:1883"), "'[' without ']'");
  EXPECT_EQ(reason("tcp://[::1]"), "no port");
  EXPECT_EQ(reason("tcp://[host]:1"), "'host' is not an IPv6 address");
  EXPECT_EQ(reason("tcp://user@h:1"), "'user@h' is not a host name or address");
  EXPECT_EQ(reason("tcp://h h:1"), "'h h' is not a host name or address");
}

}  // namespace
}  // namespace strata::config

namespace strata::config {
namespace {

TEST(ConfigRules, EveryKeyIsRead) {
  Config c = load_string(R"([rules]
enabled = false
dir = "/srv/rules"
reload_interval = 0
instruction_limit = 5000
memory_limit_kb = 1024
publish_limit = 7
fault_limit = 2
fault_window = 10
hop_limit = 3
)",
                         "t.toml");
  EXPECT_FALSE(c.rules.enabled);
  EXPECT_EQ(c.rules.dir, "/srv/rules");
  EXPECT_EQ(c.rules.reload_interval, std::chrono::seconds(0));
  EXPECT_EQ(c.rules.instruction_limit, 5000u);
  EXPECT_EQ(c.rules.memory_limit_kb, 1024u);
  EXPECT_EQ(c.rules.publish_limit, 7u);
  EXPECT_EQ(c.rules.fault_limit, 2u);
  EXPECT_EQ(c.rules.fault_window, std::chrono::seconds(10));
  EXPECT_EQ(c.rules.hop_limit, 3u);
}

TEST(ConfigRules, Errors) {
  auto error_of = [](const std::string& text) {
    try {
      load_string(text, "t.toml");
    } catch (const ConfigError& e) {
      return std::string(e.what());
    }
    return std::string();
  };
  EXPECT_EQ(error_of("[rules]\nhop_limit = 0\n"),
            "t.toml:2:13: rules.hop_limit = 0 is out of range; expected an integer in 1..64");
  EXPECT_EQ(error_of("[rules]\nmemory_limit_kb = 64\n"),
            "t.toml:2:19: rules.memory_limit_kb = 64 is out of range; expected an integer in 256..4194304");
  EXPECT_EQ(error_of("[rules]\ndir = \"\"\n"), "t.toml:2:7: rules.dir is empty; expected a directory path");
  EXPECT_EQ(error_of("[rules]\nenabled = 1\n"), "t.toml:2:11: rules.enabled must be true or false, got an integer");
  EXPECT_EQ(error_of("[rules]\nwatch = true\n"),
            "t.toml:2:1: unknown key 'watch' in [rules]; expected one of: enabled, dir, reload_interval, "
            "instruction_limit, memory_limit_kb, publish_limit, fault_limit, fault_window, hop_limit");
}

TEST(ConfigLoad, StoreWriteQueueBytes) {
  EXPECT_EQ(load_string("", "t.toml").store.write_queue_bytes, 64ull << 20);
  EXPECT_EQ(load_string("[store]\nwrite_queue_bytes = 0\n", "t.toml").store.write_queue_bytes, 0u);
  EXPECT_EQ(load_string("[store]\nwrite_queue_bytes = 1048576\n", "t.toml").store.write_queue_bytes, 1048576u);
  EXPECT_EQ(error_of("[store]\nwrite_queue_bytes = 1000\n"),
            "t.toml:2:21: store.write_queue_bytes (1000) is below 1048576; expected 0 (no limit) or "
            "1048576..68719476736");
  const std::string negative = error_of("[store]\nwrite_queue_bytes = -1\n");
  EXPECT_TRUE(negative.starts_with("t.toml:2:21: ")) << negative;
}

}  // namespace
}  // namespace strata::config
