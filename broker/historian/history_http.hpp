// The history endpoints on the admin server (broker/admin/api.hpp): the
// request handlers of history_api.hpp behind GET /api/v1/history,
// POST /api/v1/history/query, GET /api/v1/history/last and
// GET /api/v1/history/series, viewer access, answered on the admin thread
// from a read transaction (they never wait for the store's writer).
#pragma once

#include "broker/admin/api.hpp"
#include "broker/historian/historian.hpp"

namespace strata::historian {

void add_history_api(admin::Api& api, const Historian& historian);

}  // namespace strata::historian
