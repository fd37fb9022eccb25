#include "broker/admin/stats_history.hpp"

#include <algorithm>

namespace strata::admin {

namespace {

// Per second from two readings of a counter; 0 when time or the counter
// did not move forward.
double per_second(std::uint64_t before, std::uint64_t now, std::uint64_t dt_ms) {
  if (dt_ms == 0 || now < before) return 0;
  return static_cast<double>(now - before) * 1000.0 / static_cast<double>(dt_ms);
}

}  // namespace

void StatsHistory::record(const StatsReading& r) {
  StatsSample s;
  s.time_ms = r.time_ms;
  s.connections = r.connections;
  s.dropped = r.dropped;
  s.retained = r.retained;
  s.sessions = r.sessions;
  s.bridges = r.bridges;
  if (last_ && r.time_ms > last_->time_ms) {
    const std::uint64_t dt = r.time_ms - last_->time_ms;
    s.messages_in_per_second = per_second(last_->received, r.received, dt);
    s.messages_out_per_second = per_second(last_->sent, r.sent, dt);
  }
  last_ = r;
  last_->bridges.clear();  // only the counters are needed next time
  samples_.push_back(std::move(s));
  while (samples_.size() > capacity_) samples_.pop_front();
}

std::vector<StatsSample> StatsHistory::since(std::uint64_t after_ms) const {
  // Times only grow (a clock stepped back may break that; then the
  // answer is every sample after the first one later than after_ms).
  auto first = std::find_if(samples_.begin(), samples_.end(),
                            [after_ms](const StatsSample& s) { return s.time_ms > after_ms; });
  return {first, samples_.end()};
}

}  // namespace strata::admin
