#include "broker/util/latency_histogram.hpp"

#include <bit>

namespace strata::util {

std::size_t LatencyHistogram::bucket_of(std::uint64_t us) noexcept {
  if (us < 8) return static_cast<std::size_t>(us);
  unsigned msb = 63u - static_cast<unsigned>(std::countl_zero(us));  // >= 3
  std::size_t b = 8 + (msb - 3) * 4 + ((us >> (msb - 2)) & 3);
  return b < kBuckets ? b : kBuckets - 1;
}

std::uint64_t LatencyHistogram::upper_bound_us(std::size_t bucket) noexcept {
  if (bucket < 8) return bucket + 1;
  std::size_t msb = 3 + (bucket - 8) / 4;
  std::uint64_t quarter = (bucket - 8) % 4;
  if (msb >= 62) return UINT64_MAX;
  return (std::uint64_t{1} << msb) + (quarter + 1) * (std::uint64_t{1} << (msb - 2));
}

void LatencyHistogram::record(std::uint64_t ns) noexcept {
  auto& b = buckets_[bucket_of(ns / 1000)];
  b.store(b.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
  sum_ns_.store(sum_ns_.load(std::memory_order_relaxed) + ns, std::memory_order_relaxed);
}

void LatencyHistogram::add_to(std::array<std::uint64_t, kBuckets>& sum) const noexcept {
  for (std::size_t i = 0; i < kBuckets; ++i) sum[i] += buckets_[i].load(std::memory_order_relaxed);
}

std::uint64_t LatencyHistogram::quantile_us(const std::array<std::uint64_t, kBuckets>& counts, double q) noexcept {
  std::uint64_t total = 0;
  for (auto c : counts) total += c;
  if (total == 0) return 0;
  auto rank = static_cast<std::uint64_t>(q * static_cast<double>(total - 1)) + 1;
  std::uint64_t seen = 0;
  for (std::size_t i = 0; i < kBuckets; ++i) {
    seen += counts[i];
    if (seen >= rank) return upper_bound_us(i);
  }
  return upper_bound_us(kBuckets - 1);
}

}  // namespace strata::util
