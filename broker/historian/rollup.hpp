// A rollup: what the points of one series in one time bucket (a minute or
// an hour) add up to — count, sum, min, max, first and last, each of the
// last four with its time. Merging is associative and commutative (first
// is the point with the smallest time, last the one with the largest; of
// two at the same time, first keeps the earlier arrival and last takes the
// later one; min and max keep the earlier arrival), so late and out-of-order points are
// merged into the stored record exactly as if they had come in order.
//
// Stored layout (60 bytes, big-endian): u32 count, f64 sum, f64 min,
// f64 max, f64 first, f64 last, then u32 offsets from the bucket start
// (ms) of min, max, first and last.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace strata::historian {

struct Rollup {
  std::uint32_t count = 0;
  double sum = 0, min = 0, max = 0, first = 0, last = 0;
  std::int64_t min_t = 0, max_t = 0, first_t = 0, last_t = 0;  // unix ms

  void add(std::int64_t t, double v);
  void merge(const Rollup& o);
  bool empty() const noexcept { return count == 0; }
};

inline constexpr std::int64_t minute_ms = 60'000;
inline constexpr std::int64_t hour_ms = 3'600'000;
inline constexpr std::size_t rollup_size = 60;

std::string encode_rollup(const Rollup& r, std::int64_t bucket_start);
// false when `bytes` is not a rollup record.
bool decode_rollup(std::string_view bytes, std::int64_t bucket_start, Rollup& out);

}  // namespace strata::historian
