// The bridges on the admin API (broker/admin/api.hpp):
//
//   GET  /api/v1/bridges                 every bridge: state, outbox depth, lag, counters (paged list)
//   GET  /api/v1/bridges/{name}          one bridge: the same plus its [[bridge]] table (secrets masked)
//   POST /api/v1/bridges/{name}/pause    admin: keep queueing, send nothing new
//   POST /api/v1/bridges/{name}/resume   admin: go on in outbox order
//
// and the strata_bridge_*{bridge="name"} families on /metrics. Handlers run
// on the admin thread and read only atomics and mutex-guarded figures of
// the bridges (Bridge, Outbox); pause/resume are safe from any thread.
#pragma once

#include <string>

#include <toml++/toml.h>

#include "broker/admin/api.hpp"

namespace strata::bridges {

class BridgeManager;
class BridgeSessions;

void add_bridge_api(admin::Api& api, BridgeManager& bridges);

// The bridge sessions' logs ([[bridge_session]]) on /metrics, labelled
// client_id: strata_bridge_session_queued_messages, _queued_bytes (gauges),
// _appended_total, _acknowledged_total and _dropped_total{reason}.
void add_bridge_session_metrics(admin::Api& api, BridgeSessions& sessions);

// A TOML value as JSON, the values of keys that name secrets (password,
// token, secret ...) replaced by "***". Pure (unit-tested).
void write_masked(admin::JsonWriter& w, const toml::node& node, bool secret = false);
bool is_secret_key(std::string_view key);

}  // namespace strata::bridges
