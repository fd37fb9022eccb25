// The replay endpoints on the admin server (replayer.hpp runs the jobs):
//
//   POST   /api/v1/history/replay         {"filter","from","to","bridge","rate"?} -> 202 + the job
//   GET    /api/v1/history/replays        every job, newest last: {"data":[job...]}
//   GET    /api/v1/history/replays/{id}   one job
//   DELETE /api/v1/history/replays/{id}   cancels a running job -> 200 + the job
//                                         (409 when it is no longer running)
//
// A job as JSON: {"id","state":"running|done|cancelled|failed","filter",
// "bridge","from","to" (RFC 3339),"from_ms","to_ms","rate_limit" (null: line
// rate),"sent","skipped","total","total_exact","progress" (0..1),"rate"
// (messages/s),"eta_s" (null: unknown),"position" (receive time of the last
// message passed, or null),"created","updated","error" (null unless failed)}.
//
// With the historian off (`replayer` null) every route answers 404 saying
// so. Starting and cancelling need the admin role; reading, viewer.
#pragma once

#include "broker/admin/api.hpp"
#include "broker/historian/replayer.hpp"

namespace strata::historian {

void add_replay_api(admin::Api& api, Replayer* replayer);

// The JSON of one job (for tests).
std::string replay_json(const ReplayStatus& s);

}  // namespace strata::historian
