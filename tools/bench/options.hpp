// strata-bench's command line: the scenario and its knobs as a plain struct.
//
// parse_options() reads argv strictly: an unknown flag, a missing value or
// a value out of range is an error with the flag's name, so a benchmark
// script never runs with a setting it did not mean.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "broker/protocol/packet.hpp"

namespace strata::bench {

enum class Scenario : std::uint8_t { conn, pub, sub, fanin, fanout, relay };
// The --url scheme: tcp://, tls://, ws:// or wss://.
enum class Transport : std::uint8_t { tcp, tls, ws, wss };

struct Options {
  Scenario scenario = Scenario::fanin;
  std::string host = "127.0.0.1";
  std::uint16_t port = 1883;
  Transport transport = Transport::tcp;
  std::string path = "/mqtt";       // ws/wss: the HTTP path of the upgrade request
  std::string cafile;               // tls/wss: verify the broker against this CA
  bool insecure = false;            // tls/wss: no certificate verification
  std::string cert, key;            // tls/wss: client certificate and its key
  protocol::Version version = protocol::Version::v5;
  protocol::QoS qos = protocol::QoS::at_most_once;
  std::uint32_t pubs = 1;           // publishers (pub, fanin, fanout)
  std::uint32_t subs = 1;           // subscribers (sub, fanin, fanout)
  std::string share;                // fanin/sub: subscribe as $share/<share>/...
  std::uint32_t size = 64;          // payload bytes, at least the 20-byte header
  double rate = 0;                  // total msg/s; 0 = as fast as the window allows
  std::uint32_t window = 0;         // per-publisher messages in flight; 0 = default
  double duration = 10;             // seconds of measured load (after warm-up)
  double warmup = 1;                // seconds of load before measuring
  double drain = 3;                 // seconds to wait for in-flight messages at the end
  // pub/fanin/fanout: messages to publish in all (split over the
  // publishers), then stop; sub: messages to receive, then stop. The
  // measured window is the whole run (no warm-up), at most --duration.
  std::uint64_t count = 0;
  // Payloads as JSON {"ts":<unix ms>,"value":<seq>.5} (for time-series
  // bridges) instead of the binary header; receivers cannot check them.
  bool json_payload = false;
  std::uint32_t conns = 1000;       // conn: connections to open
  double conn_rate = 0;             // conn: connections/s; 0 = as fast as conn_window allows
  std::uint32_t conn_window = 100;  // conn: connects in flight at once
  std::uint16_t keepalive = 60;
  std::uint32_t session_expiry = 0;  // > 0: persistent sessions (3.1.1: clean session 0)
  std::vector<std::string> sources;  // local addresses to bind, round robin
  std::string topic = "strata-bench";
  std::optional<int> broker_pid;     // read the broker's CPU time and VmRSS
};

// Parses argv; on error fills `error` and returns nothing. `--help` gives
// nothing and an empty error: the caller prints usage().
std::optional<Options> parse_options(int argc, char** argv, std::string& error);

const char* usage();
const char* scenario_name(Scenario s);

}  // namespace strata::bench
