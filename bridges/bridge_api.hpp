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

void add_bridge_api(admin::Api& api, BridgeManager& bridges);

// A TOML value as JSON, the values of keys that name secrets (password,
// token, secret ...) replaced by "***". Pure (unit-tested).
void write_masked(admin::JsonWriter& w, const toml::node& node, bool secret = false);
bool is_secret_key(std::string_view key);

}  // namespace strata::bridges
