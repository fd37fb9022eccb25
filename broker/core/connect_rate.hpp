// New connections per second on one listener (listener.max_connect_rate),
// shared by the acceptors of all cores. A generic cell rate algorithm: a
// virtual clock advances by 1/rate per admitted connection and may run at
// most one second ahead of real time, so a burst of `rate` connections
// passes at once and the long-run rate is `rate` per second. Admission is
// one compare-and-swap; no lock, no timer.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>

namespace strata::core {

class ConnectRate {
 public:
  using Clock = std::chrono::steady_clock;

  // 0: unlimited.
  explicit ConnectRate(std::uint32_t per_second)
      : interval_ns_(per_second == 0 ? 0 : 1'000'000'000 / std::int64_t{per_second}) {}

  bool admit(Clock::time_point now = Clock::now()) noexcept {
    if (interval_ns_ == 0) return true;
    const std::int64_t t = std::chrono::duration_cast<std::chrono::nanoseconds>(now.time_since_epoch()).count();
    std::int64_t clock = clock_ns_.load(std::memory_order_relaxed);
    while (true) {
      const std::int64_t next = (clock > t ? clock : t) + interval_ns_;
      if (next - t > window_ns) {
        refused_.fetch_add(1, std::memory_order_relaxed);
        return false;
      }
      if (clock_ns_.compare_exchange_weak(clock, next, std::memory_order_relaxed)) return true;
    }
  }

  // After a refusal: the connections refused since the last report when a
  // report is due (at most one a second, so a connection storm does not
  // flood the log), else 0.
  std::uint64_t report(Clock::time_point now = Clock::now()) noexcept {
    const std::int64_t t = std::chrono::duration_cast<std::chrono::nanoseconds>(now.time_since_epoch()).count();
    std::int64_t last = last_report_ns_.load(std::memory_order_relaxed);
    if (last != 0 && t - last < window_ns) return 0;
    if (!last_report_ns_.compare_exchange_strong(last, t, std::memory_order_relaxed)) return 0;
    return refused_.exchange(0, std::memory_order_relaxed);
  }

 private:
  static constexpr std::int64_t window_ns = 1'000'000'000;  // the burst: one second's worth
  const std::int64_t interval_ns_;
  std::atomic<std::int64_t> clock_ns_{0};
  std::atomic<std::uint64_t> refused_{0};
  std::atomic<std::int64_t> last_report_ns_{0};
};

}  // namespace strata::core
