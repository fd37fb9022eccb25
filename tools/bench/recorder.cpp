// Latency histogram, sequence tracking and the payload header (see recorder.hpp).
#include "tools/bench/recorder.hpp"

#include <bit>
#include <cmath>

namespace strata::bench {

namespace {

void put_le(std::string& s, std::size_t at, std::uint64_t v, int bytes) {
  for (int i = 0; i < bytes; ++i) s[at + static_cast<std::size_t>(i)] = static_cast<char>(v >> (8 * i));
}

std::uint64_t get_le(const std::string& s, std::size_t at, int bytes) {
  std::uint64_t v = 0;
  for (int i = 0; i < bytes; ++i) {
    v |= static_cast<std::uint64_t>(static_cast<unsigned char>(s[at + static_cast<std::size_t>(i)]))
         << (8 * i);
  }
  return v;
}

}  // namespace

void write_header(std::string& payload, const PayloadHeader& h) {
  put_le(payload, 0, h.publisher, 4);
  put_le(payload, 4, h.seq, 8);
  put_le(payload, 12, h.sent_ns, 8);
}

bool read_header(const std::string& payload, PayloadHeader& h) {
  if (payload.size() < header_size) return false;
  h.publisher = static_cast<std::uint32_t>(get_le(payload, 0, 4));
  h.seq = get_le(payload, 4, 8);
  h.sent_ns = get_le(payload, 12, 8);
  return true;
}

// Values below 128 have a bucket each; above, a value v with bit width w
// (w >= 8) falls in group w - 7, sub-bucket (v >> (w - 8)) - 128.
std::size_t LatencyHistogram::index_of(std::uint64_t ns) noexcept {
  if (ns < sub_buckets) return static_cast<std::size_t>(ns);
  const int shift = std::bit_width(ns) - 8;
  const auto mant = static_cast<std::size_t>(ns >> shift);
  return sub_buckets * static_cast<std::size_t>(shift + 1) + (mant - sub_buckets);
}

std::uint64_t LatencyHistogram::value_of(std::size_t index) noexcept {
  if (index < sub_buckets) return index;
  const std::size_t shift = index / sub_buckets - 1;
  const std::size_t mant = index % sub_buckets + sub_buckets;
  return static_cast<std::uint64_t>(mant) << shift;
}

void LatencyHistogram::record(std::uint64_t ns) noexcept {
  const std::size_t i = index_of(ns);
  if (i < counts_.size()) ++counts_[i];
  else ++counts_.back();
  ++count_;
  if (ns > max_) max_ = ns;
}

std::uint64_t LatencyHistogram::quantile(double q) const noexcept {
  if (count_ == 0) return 0;
  auto rank = static_cast<std::uint64_t>(std::ceil(q * static_cast<double>(count_)));
  if (rank == 0) rank = 1;
  std::uint64_t seen = 0;
  for (std::size_t i = 0; i < counts_.size(); ++i) {
    seen += counts_[i];
    if (seen >= rank) return value_of(i) < max_ ? value_of(i) : max_;
  }
  return max_;
}

void SeqTracker::record(std::uint64_t seq) {
  const std::size_t word = static_cast<std::size_t>(seq / 64);
  if (word >= bits_.size()) bits_.resize(word + 1 + bits_.size() / 2);
  const std::uint64_t bit = std::uint64_t{1} << (seq % 64);
  if (bits_[word] & bit) {
    ++duplicates_;
    return;
  }
  bits_[word] |= bit;
  ++distinct_;
  if (seq + 1 < end_) ++reordered_;
  else end_ = seq + 1;
}

}  // namespace strata::bench
