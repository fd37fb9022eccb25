// libFuzzer target for history replay jobs (broker/historian/replay_job.hpp):
// the request body of POST /api/v1/history/replay comes from any admin API
// client, and the job records come back from the store when the broker
// starts (a restart resumes its jobs). The same input is read both ways.
// A request that parses must be one the replayer can run (a valid filter, a
// non-empty range, a bounded rate); one that does not must say why. A job
// record that decodes must be exactly its own encoding (the layout has one
// spelling per job), and a job key must be the key of the id it gives.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "broker/historian/replay_job.hpp"
#include "broker/router/topic.hpp"

namespace {

using namespace strata::historian;

void require(bool ok) {
  if (!ok) __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);

  std::string error;
  if (auto req = parse_replay_request(in, error)) {
    require(strata::router::is_valid_topic_filter(req->filter));
    require(req->from < req->to);
    require(req->rate <= 1'000'000);
    require(!req->bridge.empty());
  } else {
    require(!error.empty());
  }

  ReplayJob job;
  if (decode_job(7, in, job)) {
    require(job.id == 7);
    require(encode_job(job) == in);
  }

  if (auto id = job_id_of_key(in)) require(job_key(*id) == in);
  return 0;
}
