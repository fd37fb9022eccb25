// A replay job: re-sending the raw log's messages of a filter and a time
// range through a bridge (replayer.hpp runs them). This file is the pure
// part: the request as POST /api/v1/history/replay takes it, the job's
// stored record, and the progress figures. No LMDB, no threads.
//
// Request body (JSON object; unknown members are refused):
//   {"filter": "plant/#", "from": "2026-12-01T00:00:00Z" | 1796083200000,
//    "to": ..., "bridge": "corporate", "rate": 500}
// from/to: RFC 3339 or unix ms (time_format.hpp), the range [from, to) of
// receive times; rate: messages per second, 0 or absent for line rate (as
// fast as the bridge's outbox drains).
//
// Stored record (hist_replay database, key: u64 job id big-endian; all
// integers big-endian):
//   u8  version (1)
//   u8  state (JobState)
//   i64 from, i64 to, u32 rate, i64 created_ms, i64 updated_ms
//   u64 sent, u64 skipped
//   u16 n + n bytes: position, the raw-log key (history_store.hpp: u64 t,
//       u64 seq) of the last record handed to the outbox (or passed over:
//       not matching, or refused by the bridge's loop guard); empty before
//       the first
//   u16 n + n bytes: filter
//   u16 n + n bytes: bridge
//   u16 n + n bytes: error (state failed)
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace strata::historian {

enum class JobState : std::uint8_t { running = 0, done = 1, cancelled = 2, failed = 3 };
std::string_view job_state_name(JobState s) noexcept;

struct ReplayRequest {
  std::string filter;
  std::int64_t from = 0, to = 0;  // unix ms, [from, to)
  std::string bridge;
  std::uint32_t rate = 0;  // messages/s; 0: line rate
};

// The request of a POST body; nullopt with `error` naming the member when
// it is not valid (not JSON, a missing or unknown member, a bad filter or
// time, from >= to, a rate out of 0..1,000,000). The bridge's existence is
// the caller's to check.
std::optional<ReplayRequest> parse_replay_request(std::string_view body, std::string& error);

struct ReplayJob {
  std::uint64_t id = 0;
  JobState state = JobState::running;
  ReplayRequest request;
  std::int64_t created_ms = 0, updated_ms = 0;
  std::uint64_t sent = 0;     // handed to the outbox (position included)
  std::uint64_t skipped = 0;  // in range and matching, refused by the bridge (loop guard, hops)
  std::string position;       // raw-log key of the last record passed; "" before the first
  std::string error;          // why it failed
};

std::string encode_job(const ReplayJob& job);
// False when `bytes` is not a version-1 record (truncated, trailing bytes).
bool decode_job(std::uint64_t id, std::string_view bytes, ReplayJob& out);
std::string job_key(std::uint64_t id);
std::optional<std::uint64_t> job_id_of_key(std::string_view key);

// Seconds left at `rate_per_s` for `remaining` messages; nullopt when the
// rate is not known yet (0).
std::optional<double> eta_seconds(std::uint64_t remaining, double rate_per_s);

}  // namespace strata::historian
