// The history block codec: a series' points (unix ms time, double value)
// packed into one compressed, self-describing block. Pure: bytes in,
// points out; no I/O. history_store.cpp keeps one block per LMDB record.
//
// Block layout (all of it is the LMDB value):
//
//   u8      format: bits 0-3 value mode (0 xor, 1 decimal), bits 4-7 the
//           decimal scale d (decimal mode: values are integers / 10^d)
//   varint  count (>= 1)
//   varint  first time (unix ms, < 2^62)
//   varint  last time - first time
//   first value: xor mode: u64 IEEE 754 bits, big-endian;
//                decimal mode: zigzag varint of the integer
//   bits    count - 1 points, MSB first, each a time then a value:
//
// Time: delta-of-delta of the ms timestamps (the first delta is taken
// against a previous delta of 0), zigzag-free signed buckets:
//   0                      dod == 0
//   10   + 6 bits          dod in [-32, 31]
//   110  + 12 bits         dod in [-2048, 2047]
//   1110 + 20 bits         dod in [-2^19, 2^19 - 1]
//   1111 + 64 bits         any dod
// Millisecond receive times of a 1 Hz sensor jitter by a few ms: 8 bits; a
// device clock's exact period: 1 bit.
//
// Value, xor mode (the Gorilla paper's floating point encoding): x = bits
// of value XOR bits of the previous value;
//   0                              x == 0
//   10 + meaningful bits           x fits the previous leading/trailing window
//   11 + 5 bits leading zeros + 6 bits length - 1 + meaningful bits
// Value, decimal mode: most sensor values are decimals with a few digits
// (21.37, 1013.2, 0/1 for booleans), for which XOR of doubles leaves ~20-30
// meaningful bits. Such a value is kept as the integer n = value * 10^d
// (exact: n / 10^d gives back the same double, |n| < 2^53) and the
// delta n - previous n is written zigzag-encoded in buckets:
//   0                   delta 0
//   10    + 4 bits      zigzag < 2^4
//   110   + 8 bits      zigzag < 2^8
//   1110  + 16 bits     zigzag < 2^16
//   11110 + 32 bits     zigzag < 2^32
//   11111 + 64 bits     any
// The encoder starts in decimal mode with the smallest scale (<= 6) that
// fits the first value; a later value that needs a larger scale re-encodes
// the block at that scale, one that fits no scale (NaN, 0.1 + 0.2, -0.0)
// re-encodes it in xor mode, which holds any double bit for bit.
//
// Points are in time order; equal times are allowed (two points at one
// ms are both kept). decode_block() validates everything it reads (it is
// fuzzed): a block that is truncated, has trailing garbage beyond the
// padding of its last byte, decreasing times, a last time that does not
// match, or a count beyond max_block_points is refused.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace strata::historian {

struct Point {
  std::int64_t t = 0;  // unix ms
  double v = 0;
  bool operator==(const Point& o) const noexcept;  // times equal and values bit for bit
};

// Times a block can hold: [0, max_time].
inline constexpr std::int64_t max_time = (std::int64_t{1} << 62) - 1;
// A block never holds more points than this (the decoder refuses more).
inline constexpr std::uint32_t max_block_points = 1u << 16;

// What a block's header says, without decoding its points.
struct BlockInfo {
  std::uint32_t count = 0;
  std::int64_t first = 0, last = 0;
};

class BlockEncoder {
 public:
  // Appends a point; false (nothing changed) when t is before the last
  // point's time, outside [0, max_time], or the block is full.
  bool append(std::int64_t t, double v);
  bool empty() const noexcept { return count_ == 0; }
  std::uint32_t count() const noexcept { return count_; }
  std::int64_t first_time() const noexcept { return first_t_; }
  std::int64_t last_time() const noexcept { return last_t_; }
  // The block as stored (header + bits).
  std::string bytes() const;
  // Approximate size of bytes(), cheap.
  std::size_t size() const noexcept { return bits_.size() + 24; }
  // Continues a stored block: false when `block` does not decode.
  bool resume(std::string_view block);
  void clear();

 private:
  enum class Mode : std::uint8_t { xor_bits = 0, decimal = 1 };
  void put_bits(std::uint64_t value, unsigned n);
  void put_time(std::int64_t t);
  void put_value(double v);
  void reencode(Mode mode, unsigned scale, std::int64_t t, double v);

  Mode mode_ = Mode::decimal;
  unsigned scale_ = 0;
  std::uint32_t count_ = 0;
  std::int64_t first_t_ = 0, last_t_ = 0, last_delta_ = 0;
  std::uint64_t first_bits_ = 0;   // xor: bits of the first value; decimal: the integer
  std::uint64_t prev_bits_ = 0;    // xor: bits of the previous value
  std::int64_t prev_int_ = 0;      // decimal: previous integer
  unsigned leading_ = 0xff, trailing_ = 0;  // xor window (0xff: none yet)
  std::string bits_;               // the bit stream, MSB first
  unsigned bit_fill_ = 8;          // bits used in bits_.back() (8: start a new byte)
};

// Decodes a whole block, appending its points to `out`. false (with `out`
// as it was) when the block is invalid; `error` says why when given.
bool decode_block(std::string_view block, std::vector<Point>& out, std::string* error = nullptr);
// The header alone; false when it is invalid.
bool read_block_info(std::string_view block, BlockInfo& info);

// The integer n with n / 10^scale == v exactly, for the smallest scale in
// [0, 6]; false if none (NaN, infinities, -0.0, |n| >= 2^53, more digits).
bool decimal_scale(double v, unsigned& scale, std::int64_t& n);

}  // namespace strata::historian
