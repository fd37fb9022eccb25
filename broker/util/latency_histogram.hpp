// A log-linear histogram of durations, written from many threads without a
// lock: exact below 8 units, then 4 buckets per power of two, so a quantile
// read from it is within 25 % of the true value. Rules time their calls
// with it in µs; bridges their delivery latency in ms.
//
// The unit is the caller's: record() takes the value in nanoseconds of the
// µs scale (value / 1000 picks the bucket), so a caller that measures in ms
// records ms × 1000 and reads quantile_us() as ms. Counts are relaxed
// atomics written by one thread each (or summed over per-core copies).
#pragma once

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>

namespace strata::util {

class LatencyHistogram {
 public:
  static constexpr std::size_t kBuckets = 100;
  void record(std::uint64_t ns) noexcept;
  void add_to(std::array<std::uint64_t, kBuckets>& sum) const noexcept;
  // Total time recorded, in ns (for /metrics' histogram _sum).
  std::uint64_t sum_ns() const noexcept { return sum_ns_.load(std::memory_order_relaxed); }
  // The upper bound, in µs, of the bucket holding quantile q of `counts`.
  static std::uint64_t quantile_us(const std::array<std::uint64_t, kBuckets>& counts, double q) noexcept;
  static std::size_t bucket_of(std::uint64_t us) noexcept;
  static std::uint64_t upper_bound_us(std::size_t bucket) noexcept;

 private:
  std::array<std::atomic<std::uint32_t>, kBuckets> buckets_{};
  std::atomic<std::uint64_t> sum_ns_{0};
};

}  // namespace strata::util
