// GET /api/v1/plugins on the admin server: the loaded plugins, their ABI
// versions and the events they registered for (no options: they may hold
// secrets).
#pragma once

#include "broker/admin/api.hpp"
#include "plugins/plugin_host.hpp"

namespace strata::plugins {

// `host` may be null (no [[plugin]] tables): the list is then empty.
void add_plugin_api(admin::Api& api, const PluginHost* host);

}  // namespace strata::plugins
