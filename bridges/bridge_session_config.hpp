// [[bridge_session]]: persistent sessions whose queue is an outbox log on
// disk (bridges/bridge_sessions.hpp, broker/session/session_log.hpp), for
// peers that pull from this broker: a factory whose bridge subscribes to
// this edge with a persistent session finds the whole time it was away.
//
//   [[bridge_session]]
//   client_id = "factory-*"     # exact, or a pattern: '*' stands for any run of characters
//   max_bytes = 1073741824      # the outbox bounds, as a [[bridge]]'s
//   max_messages = 10000000
//   max_age = 0
//   overflow = "block"          # "block" | "drop_oldest" | "drop_new"
//   block_timeout = 10
//
// A client id takes the first [[bridge_session]] (in file order) that
// matches it. Pure: no I/O, unit-tested.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "bridges/bridge_config.hpp"
#include "broker/config/config.hpp"

namespace strata::bridges {

struct BridgeSessionConfig {
  std::string client_id;  // exact, or a pattern with '*'
  OutboxBounds bounds;
  std::string where;      // "file:line:column" of the table
  bool operator==(const BridgeSessionConfig&) const = default;
};

// Every [[bridge_session]] of `doc`. Throws config::ConfigError with
// file:line on an unknown key, a missing or empty client_id, a client_id
// given twice, or a bound out of range.
std::vector<BridgeSessionConfig> read_bridge_sessions(const config::Document& doc);

// Whether `client_id` matches `pattern` ('*': any run of characters, none
// included; everything else literally).
bool client_id_matches(std::string_view pattern, std::string_view client_id);

// The first entry that matches `client_id`, or null.
const BridgeSessionConfig* find_bridge_session(const std::vector<BridgeSessionConfig>& all, std::string_view client_id);

// The outbox log name of `client_id`'s bridge session (outbox_log.hpp).
std::string session_log_name(std::string_view client_id);

}  // namespace strata::bridges
