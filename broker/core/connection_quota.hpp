// A connection count with a bound, shared by the cores: one for the whole
// broker (limits.max_connections) and one per listener that sets its own
// max_connections. Admission is a single atomic increment.
#pragma once

#include <atomic>
#include <cstdint>

namespace strata::core {

class ConnectionQuota {
 public:
  explicit ConnectionQuota(std::uint32_t max) : max_(max) {}
  // 0 means unlimited.
  bool admit() noexcept {
    std::uint32_t n = count_.fetch_add(1, std::memory_order_relaxed);
    if (max_ != 0 && n >= max_) {
      count_.fetch_sub(1, std::memory_order_relaxed);
      return false;
    }
    return true;
  }
  void release() noexcept { count_.fetch_sub(1, std::memory_order_relaxed); }
  std::uint32_t count() const noexcept { return count_.load(std::memory_order_relaxed); }

 private:
  const std::uint32_t max_;
  std::atomic<std::uint32_t> count_{0};
};

}  // namespace strata::core
