// What strata-bench measures on the receiving side.
//
// LatencyHistogram: log-linear buckets over nanoseconds (128 linear
// sub-buckets per power of two, so a percentile is within 1% of the true
// value), constant memory, O(1) record; the maximum is kept exactly.
//
// SeqTracker: one bit per sequence number of one publisher as seen by one
// receiver (or by the whole $share group), grown on demand. A bit already
// set is a duplicate; a number below the highest seen is a reordering;
// lost = sent - distinct numbers seen.
//
// The payload header every benchmark message carries (little endian):
//   bytes 0..3   publisher index
//   bytes 4..11  sequence number, from 0 per publisher
//   bytes 12..19 send time, steady_clock nanoseconds
// The rest of the payload is filler up to --size.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace strata::bench {

inline constexpr std::size_t header_size = 20;

struct PayloadHeader {
  std::uint32_t publisher = 0;
  std::uint64_t seq = 0;
  std::uint64_t sent_ns = 0;
};

void write_header(std::string& payload, const PayloadHeader& h);
// False when the payload is too short to carry a header.
bool read_header(const std::string& payload, PayloadHeader& h);

class LatencyHistogram {
 public:
  void record(std::uint64_t ns) noexcept;
  std::uint64_t count() const noexcept { return count_; }
  std::uint64_t max() const noexcept { return max_; }
  // The value at quantile q (0..1), as the lower bound of its bucket; 0 when empty.
  std::uint64_t quantile(double q) const noexcept;

 private:
  static constexpr std::size_t sub_buckets = 128;
  static constexpr std::size_t buckets = sub_buckets * 58;
  static std::size_t index_of(std::uint64_t ns) noexcept;
  static std::uint64_t value_of(std::size_t index) noexcept;

  std::vector<std::uint64_t> counts_ = std::vector<std::uint64_t>(buckets);
  std::uint64_t count_ = 0;
  std::uint64_t max_ = 0;
};

class SeqTracker {
 public:
  // Records one sequence number.
  void record(std::uint64_t seq);
  std::uint64_t distinct() const noexcept { return distinct_; }
  std::uint64_t duplicates() const noexcept { return duplicates_; }
  std::uint64_t reordered() const noexcept { return reordered_; }
  // One past the highest number seen (0 when nothing was seen).
  std::uint64_t end() const noexcept { return end_; }

 private:
  std::vector<std::uint64_t> bits_;
  std::uint64_t distinct_ = 0;
  std::uint64_t duplicates_ = 0;
  std::uint64_t reordered_ = 0;
  std::uint64_t end_ = 0;
};

}  // namespace strata::bench
