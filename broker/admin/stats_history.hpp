// StatsHistory: the last hour of the broker's headline numbers, kept in
// memory on the admin thread for the dashboard's charts
// (GET /api/v1/stats/history).
//
// The model. Every kInterval (10 s) the admin server takes a Reading: the
// broker's cumulative counters (messages received and sent, dropped) and
// its gauges (connections, retained, sessions), and each bridge's lag and
// outbox depth. record() turns two successive readings into a Sample:
// gauges as read, messages in/out as the per-second rate since the reading
// before (0 for the first one, or when a counter went backwards, which a
// counter only does across a restart). The ring holds kCapacity samples
// (360: one hour); the oldest goes when a new one comes. Nothing is
// stored: a restart starts an empty hour.
//
// since(t) answers the samples taken strictly after t (unix ms), oldest
// first, so a page that asked once asks again with the time of the last
// sample it has and gets only what is new.
//
// Pure and single-threaded (the admin thread owns it); tested without
// sockets in tests/unit/broker/admin/stats_history_test.cpp.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <vector>

namespace strata::admin {

// One bridge at one instant (a gauge each).
struct BridgeReading {
  std::string name;
  std::uint64_t lag_ms = 0;           // age of the oldest unacknowledged message
  std::uint64_t queued_messages = 0;  // in the outbox, not yet confirmed
  std::uint64_t queued_bytes = 0;
};

// What the sampler reads; `received`, `sent` and `dropped` are cumulative.
struct StatsReading {
  std::uint64_t time_ms = 0;  // unix ms
  std::int64_t connections = 0;
  std::uint64_t received = 0, sent = 0, dropped = 0;
  std::uint64_t retained = 0, sessions = 0;
  std::vector<BridgeReading> bridges;
};

struct StatsSample {
  std::uint64_t time_ms = 0;
  std::int64_t connections = 0;
  double messages_in_per_second = 0;
  double messages_out_per_second = 0;
  std::uint64_t dropped = 0;  // cumulative since start
  std::uint64_t retained = 0, sessions = 0;
  std::vector<BridgeReading> bridges;
};

class StatsHistory {
 public:
  static constexpr std::chrono::seconds kInterval{10};
  static constexpr std::size_t kCapacity = 360;  // one hour of kInterval

  explicit StatsHistory(std::size_t capacity = kCapacity) : capacity_(capacity == 0 ? 1 : capacity) {}

  // Appends the sample of `r` (rates against the previous reading).
  void record(const StatsReading& r);
  // Samples with time_ms > after_ms, oldest first.
  std::vector<StatsSample> since(std::uint64_t after_ms) const;
  std::size_t size() const noexcept { return samples_.size(); }
  std::size_t capacity() const noexcept { return capacity_; }

 private:
  std::size_t capacity_;
  std::deque<StatsSample> samples_;
  std::optional<StatsReading> last_;
};

}  // namespace strata::admin
