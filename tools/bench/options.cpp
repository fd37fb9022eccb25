// Command line of strata-bench (see options.hpp).
#include "tools/bench/options.hpp"

#include <charconv>
#include <cmath>
#include <cstdlib>
#include <string_view>

namespace strata::bench {

namespace {

bool parse_uint(std::string_view s, std::uint64_t max, std::uint64_t& out) {
  std::uint64_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc{} || p != s.data() + s.size() || v > max) return false;
  out = v;
  return true;
}

bool parse_number(const std::string& s, double max, double& out) {
  char* end = nullptr;
  const double v = std::strtod(s.c_str(), &end);
  if (s.empty() || end != s.c_str() + s.size() || !std::isfinite(v) || v < 0 || v > max) {
    return false;
  }
  out = v;
  return true;
}

bool parse_seconds(const std::string& s, double& out) { return parse_number(s, 86400, out); }
bool parse_rate(const std::string& s, double& out) { return parse_number(s, 1e9, out); }

// SCHEME://host:port, with /path for ws and wss (default /mqtt).
bool parse_url(const std::string& url, Options& o, std::string& error) {
  const std::string_view u(url);
  const auto sep = u.find("://");
  const std::string expected = "--url " + url + ": expected tcp|tls://HOST:PORT or ws|wss://HOST:PORT[/PATH]";
  if (sep == std::string_view::npos) {
    error = expected;
    return false;
  }
  const std::string_view scheme = u.substr(0, sep);
  if (scheme == "tcp") o.transport = Transport::tcp;
  else if (scheme == "tls") o.transport = Transport::tls;
  else if (scheme == "ws") o.transport = Transport::ws;
  else if (scheme == "wss") o.transport = Transport::wss;
  else {
    error = "--url " + url + ": unknown scheme " + std::string(scheme) + " (tcp, tls, ws, wss)";
    return false;
  }
  std::string_view rest = u.substr(sep + 3);
  if (const auto slash = rest.find('/'); slash != std::string_view::npos) {
    if (o.transport != Transport::ws && o.transport != Transport::wss) {
      error = expected;
      return false;
    }
    o.path = std::string(rest.substr(slash));
    rest = rest.substr(0, slash);
  }
  const auto colon = rest.rfind(':');
  std::uint64_t port = 0;
  if (colon == std::string_view::npos || colon == 0 ||
      !parse_uint(rest.substr(colon + 1), 65535, port) || port == 0) {
    error = expected;
    return false;
  }
  std::string_view host = rest.substr(0, colon);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  o.host = std::string(host);
  o.port = static_cast<std::uint16_t>(port);
  return true;
}

std::vector<std::string> split_commas(const std::string& s) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start <= s.size()) {
    const auto comma = s.find(',', start);
    const auto end = comma == std::string::npos ? s.size() : comma;
    if (end > start) out.push_back(s.substr(start, end - start));
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return out;
}

}  // namespace

const char* scenario_name(Scenario s) {
  switch (s) {
    case Scenario::conn: return "conn";
    case Scenario::pub: return "pub";
    case Scenario::sub: return "sub";
    case Scenario::fanin: return "fanin";
    case Scenario::fanout: return "fanout";
    case Scenario::relay: return "relay";
  }
  return "?";
}

const char* usage() {
  return R"(usage: strata-bench SCENARIO [options]

scenarios:
  conn     open --conns idle connections, hold them for --duration seconds
  pub      --pubs publishers on their own topics, no subscribers
  sub      --subs subscribers on TOPIC/+ (or $share/--share/TOPIC/+), counting
           what other publishers (e.g. another strata-bench pub) send
  fanin    --pubs publishers on TOPIC/p<i> -> --subs subscribers on TOPIC/+
           (with --share GROUP each message goes to one of them)
  fanout   --pubs publishers on TOPIC/all -> --subs subscribers on it
  relay    not a load: serve as a do-nothing MQTT relay on --url for
           --duration seconds (every PUBLISH copied to every subscriber,
           no matching), the latency floor to compare a broker with

options:
  --url URL               broker: tcp://HOST:PORT, tls://HOST:PORT,
                          ws://HOST:PORT[/PATH] or wss://HOST:PORT[/PATH]
                          (path default /mqtt; default tcp://127.0.0.1:1883)
  --cafile FILE           tls/wss: verify the broker's certificate against
                          this CA (default: the system's CAs)
  --insecure              tls/wss: do not verify the broker's certificate
  --cert FILE --key FILE  tls/wss: client certificate and its key (PEM)
  --mqtt 3.1.1|5          protocol version (default 5)
  --qos 0|1|2             QoS of publishes and subscriptions (default 0)
  --pubs N --subs N       publishers and subscribers (default 1 and 1)
  --share GROUP           fanin/sub: subscribe through $share/GROUP/
  --size BYTES            payload size, at least 20 (default 64)
  --rate MSG_PER_S        total fixed publish rate; 0 = closed loop (default 0)
  --window N              messages in flight per publisher (default 100; in
                          closed loop a message is done when acknowledged
                          (QoS 1/2) or received by every subscriber (QoS 0))
  --duration S            measured seconds (default 10)
  --warmup S              seconds of load before measuring (default 1)
  --drain S               longest wait for in-flight messages at the end (default 3)
  --count N               pub/fanin/fanout: publish N messages in all, then
                          stop; sub: stop after N messages; the measured
                          window is the whole run, at most --duration
  --payload json          publish {"ts":UNIX_MS,"value":SEQ.5} (for bridges
                          to time-series databases) instead of the binary
                          header; what receives them cannot check them
  --conns N               conn: connections (default 1000)
  --conn-rate N           conn: connections per second; 0 = as fast as possible
  --conn-window N         conn: connects in flight (default 100)
  --keepalive S           keep alive of every connection (default 60)
  --session-expiry S      persistent sessions that live S seconds after
                          disconnect (3.1.1: clean session 0); each run starts
                          them clean (default 0: clean, non-persistent)
  --source A[,B...]       local addresses to bind, round robin (e.g. 127.0.0.2)
  --topic PREFIX          topic prefix (default strata-bench)
  --broker-pid PID        also report the broker's CPU time and VmRSS

The last line of the output is one JSON object with every figure.
)";
}

std::optional<Options> parse_options(int argc, char** argv, std::string& error) {
  Options o;
  if (argc < 2) {
    error = "missing scenario";
    return std::nullopt;
  }
  const std::string scen = argv[1];
  if (scen == "-h" || scen == "--help") return std::nullopt;
  if (scen == "conn") o.scenario = Scenario::conn;
  else if (scen == "pub") o.scenario = Scenario::pub;
  else if (scen == "sub") o.scenario = Scenario::sub;
  else if (scen == "fanin") o.scenario = Scenario::fanin;
  else if (scen == "fanout") o.scenario = Scenario::fanout;
  else if (scen == "relay") o.scenario = Scenario::relay;
  else {
    error = "unknown scenario " + scen + " (conn, pub, sub, fanin, fanout, relay)";
    return std::nullopt;
  }
  for (int i = 2; i < argc; ++i) {
    std::string flag = argv[i];
    std::string value;
    if (flag == "-h" || flag == "--help") {
      error.clear();
      return std::nullopt;
    }
    if (flag == "--insecure") {
      o.insecure = true;
      continue;
    }
    if (auto eq = flag.find('='); eq != std::string::npos) {
      value = flag.substr(eq + 1);
      flag.resize(eq);
    } else {
      if (i + 1 >= argc) {
        error = flag + ": missing value";
        return std::nullopt;
      }
      value = argv[++i];
    }
    std::uint64_t n = 0;
    auto bad = [&](const char* expected) {
      error = flag + " " + value + ": expected " + expected;
      return std::nullopt;
    };
    if (flag == "--url") {
      if (!parse_url(value, o, error)) return std::nullopt;
    } else if (flag == "--cafile" || flag == "--cert" || flag == "--key") {
      if (value.empty()) return bad("a file");
      (flag == "--cafile" ? o.cafile : flag == "--cert" ? o.cert : o.key) = value;
    } else if (flag == "--mqtt") {
      if (value == "3.1.1" || value == "311" || value == "4") o.version = protocol::Version::v311;
      else if (value == "5" || value == "5.0") o.version = protocol::Version::v5;
      else return bad("3.1.1 or 5");
    } else if (flag == "--qos") {
      if (!parse_uint(value, 2, n)) return bad("0, 1 or 2");
      o.qos = static_cast<protocol::QoS>(n);
    } else if (flag == "--pubs") {
      if (!parse_uint(value, 100000, n) || n == 0) return bad("1..100000");
      o.pubs = static_cast<std::uint32_t>(n);
    } else if (flag == "--subs") {
      if (!parse_uint(value, 100000, n)) return bad("0..100000");
      o.subs = static_cast<std::uint32_t>(n);
    } else if (flag == "--share") {
      if (value.empty() || value.find_first_of("/+#") != std::string::npos) {
        return bad("a group name without / + #");
      }
      o.share = value;
    } else if (flag == "--size") {
      if (!parse_uint(value, 16 * 1024 * 1024, n) || n < 20) return bad("20..16777216");
      o.size = static_cast<std::uint32_t>(n);
    } else if (flag == "--rate") {
      if (!parse_rate(value, o.rate)) return bad("a rate >= 0");
      if (o.rate > 0 && o.rate < 1) return bad("0 or at least 1 msg/s");
    } else if (flag == "--window") {
      if (!parse_uint(value, 65535, n) || n == 0) return bad("1..65535");
      o.window = static_cast<std::uint32_t>(n);
    } else if (flag == "--duration") {
      if (!parse_seconds(value, o.duration)) return bad("seconds >= 0");
    } else if (flag == "--warmup") {
      if (!parse_seconds(value, o.warmup)) return bad("seconds >= 0");
    } else if (flag == "--drain") {
      if (!parse_seconds(value, o.drain)) return bad("seconds >= 0");
    } else if (flag == "--count") {
      if (!parse_uint(value, 1'000'000'000'000ULL, n) || n == 0) return bad("1..10^12");
      o.count = n;
    } else if (flag == "--payload") {
      if (value != "json" && value != "header") return bad("json or header");
      o.json_payload = value == "json";
    } else if (flag == "--conns") {
      if (!parse_uint(value, 1000000, n) || n == 0) return bad("1..1000000");
      o.conns = static_cast<std::uint32_t>(n);
    } else if (flag == "--conn-rate") {
      if (!parse_rate(value, o.conn_rate)) return bad("a rate >= 0");
    } else if (flag == "--conn-window") {
      if (!parse_uint(value, 100000, n) || n == 0) return bad("1..100000");
      o.conn_window = static_cast<std::uint32_t>(n);
    } else if (flag == "--keepalive") {
      if (!parse_uint(value, 65535, n)) return bad("0..65535");
      o.keepalive = static_cast<std::uint16_t>(n);
    } else if (flag == "--session-expiry") {
      if (!parse_uint(value, 0xFFFFFFFF, n)) return bad("seconds 0..4294967295");
      o.session_expiry = static_cast<std::uint32_t>(n);
    } else if (flag == "--source") {
      o.sources = split_commas(value);
      if (o.sources.empty()) return bad("addresses separated by commas");
    } else if (flag == "--topic") {
      if (value.empty() || value.find_first_of("+#") != std::string::npos) {
        return bad("a topic prefix without + #");
      }
      o.topic = value;
    } else if (flag == "--broker-pid") {
      if (!parse_uint(value, 4194304, n) || n == 0) return bad("a process id");
      o.broker_pid = static_cast<int>(n);
    } else {
      error = "unknown option " + flag;
      return std::nullopt;
    }
  }
  const bool tls = o.transport == Transport::tls || o.transport == Transport::wss;
  if (!tls && (o.insecure || !o.cafile.empty() || !o.cert.empty() || !o.key.empty())) {
    error = "--cafile, --insecure, --cert and --key need a tls:// or wss:// --url";
    return std::nullopt;
  }
  if (o.insecure && !o.cafile.empty()) {
    error = "--insecure and --cafile exclude each other";
    return std::nullopt;
  }
  if (o.cert.empty() != o.key.empty()) {
    error = "--cert and --key go together";
    return std::nullopt;
  }
  if (o.scenario == Scenario::relay && o.transport != Transport::tcp) {
    error = "relay: serves tcp:// only";
    return std::nullopt;
  }
  if (o.window == 0) o.window = 100;
  if (o.scenario == Scenario::pub) o.subs = 0;
  if (o.scenario == Scenario::sub) o.pubs = 0;
  if ((o.scenario == Scenario::fanin || o.scenario == Scenario::fanout) && o.subs == 0) {
    error = "--subs: " + std::string(scenario_name(o.scenario)) + " needs at least one subscriber";
    return std::nullopt;
  }
  return o;
}

}  // namespace strata::bench
