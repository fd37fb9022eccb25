// HistorySampler: takes a StatsReading every StatsHistory::kInterval on the
// admin thread and keeps the last hour (stats_history.hpp) for
// GET /api/v1/stats/history. The broker's counters are relaxed atomics read
// from here; the retained count is asked of core 0; the modules add their
// part through Api::add_history_source() (the bridges: lag and depth).
//
// Lifetime: owned by the Server, started by Server::start() (nothing is
// sampled while the admin server is off), destroyed before the admin
// io_context.
#pragma once

#include <boost/asio/steady_timer.hpp>

#include "broker/admin/api.hpp"
#include "broker/admin/stats_history.hpp"

namespace strata::admin {

class HistorySampler {
 public:
  explicit HistorySampler(Api& api) : api_(api), timer_(api.io()) {}
  // Takes the first reading now (on the admin thread), then one every interval.
  void start();
  // Admin thread only.
  const StatsHistory& history() const noexcept { return history_; }

 private:
  void sample();
  void schedule();

  Api& api_;
  StatsHistory history_;
  boost::asio::steady_timer timer_;
};

}  // namespace strata::admin
