// Eight bytes at a time: which bytes of a 64-bit word equal a given byte,
// which are not ASCII.
//
// Every PUBLISH's topic is scanned three times before it is routed (valid
// UTF-8, no wildcard or NUL, how many levels), one byte and a few branches
// at a time: ~400 instructions for a 16-byte topic, a tenth of the cost of
// a message at everyday rates. Word at a time, each scan is a handful of
// instructions per eight bytes.
//
// The masks are exact (no false positives from borrows between bytes, as
// the shorter "has a zero byte" trick gives), so they can be counted.
#pragma once

#include <cstdint>
#include <cstring>

namespace strata::util {

constexpr std::uint64_t kByteOnes = 0x0101010101010101ULL;
constexpr std::uint64_t kByteLow7 = 0x7F7F7F7F7F7F7F7FULL;
constexpr std::uint64_t kByteHigh = 0x8080808080808080ULL;

// The eight bytes at `p`, in memory order from the low byte (the order
// does not matter to the masks below, only to which bit is whose).
inline std::uint64_t load_word(const char* p) noexcept {
  std::uint64_t w;
  std::memcpy(&w, p, sizeof w);
  return w;
}

// The four bytes at `p` in the low half of a word.
inline std::uint64_t load_half_word(const char* p) noexcept {
  std::uint32_t w;
  std::memcpy(&w, p, sizeof w);
  return w;
}

// 0x80 in every byte of `w` that equals `c`, 0 in the others.
constexpr std::uint64_t equal_bytes(std::uint64_t w, unsigned char c) noexcept {
  const std::uint64_t t = w ^ (kByteOnes * c);  // zero bytes where equal
  // A byte's low seven bits plus 0x7F carries into its high bit unless
  // they are zero, and never into the next byte.
  return ~(((t & kByteLow7) + kByteLow7) | t | kByteLow7);
}

// Whether every byte of `w` is ASCII (below 0x80).
constexpr bool ascii_word(std::uint64_t w) noexcept { return (w & kByteHigh) == 0; }

// How many bytes a mask from equal_bytes() marks: the 0/1 of each byte
// summed into the top byte by one multiplication (std::popcount is a
// dozen instructions without the POPCNT instruction, which the default
// x86-64 target does not assume).
constexpr int marked_bytes(std::uint64_t mask) noexcept {
  return static_cast<int>((((mask >> 7) * kByteOnes) >> 56) & 0xFF);
}

}  // namespace strata::util
