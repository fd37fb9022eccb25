// Helpers for the codec tests: byte vectors, and the checks every wire
// example goes through (exact bytes, encoded_size, decode back, need_more on
// every truncation).
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

#include "broker/protocol/codec.hpp"

namespace strata::protocol::test {

using Bytes = std::vector<std::uint8_t>;

inline constexpr std::uint32_t kMax = 1u << 20;

inline Bytes encode_bytes(const Packet& p, Version v) {
  std::string s;
  encode(p, v, s);
  return Bytes(s.begin(), s.end());
}

inline DecodeResult decode_bytes(const Bytes& b, Version v, std::uint32_t max = kMax) {
  return decode(std::span<const std::uint8_t>(b.data(), b.size()), v, max);
}

// Every strict prefix of a whole packet asks for more bytes.
inline void expect_need_more_on_prefixes(const Bytes& bytes, Version v) {
  for (std::size_t n = 0; n < bytes.size(); ++n) {
    const Bytes prefix(bytes.begin(), bytes.begin() + static_cast<std::ptrdiff_t>(n));
    const DecodeResult r = decode_bytes(prefix, v);
    EXPECT_EQ(r.status, DecodeStatus::need_more) << "prefix of " << n << " bytes";
  }
}

// `p` encodes to exactly `bytes` in `v`, and `bytes` decodes back to `p`.
inline void expect_wire(const Packet& p, Version v, const Bytes& bytes) {
  EXPECT_EQ(encode_bytes(p, v), bytes);
  EXPECT_EQ(encoded_size(p, v), bytes.size());
  const DecodeResult r = decode_bytes(bytes, v);
  ASSERT_EQ(r.status, DecodeStatus::ok) << r.error_text;
  EXPECT_EQ(r.consumed, bytes.size());
  EXPECT_TRUE(r.packet == p);
  expect_need_more_on_prefixes(bytes, v);
}

// `bytes` decodes to `p` (used where encoding would choose other bytes).
inline void expect_decodes_to(const Bytes& bytes, Version v, const Packet& p) {
  const DecodeResult r = decode_bytes(bytes, v);
  ASSERT_EQ(r.status, DecodeStatus::ok) << r.error_text;
  EXPECT_EQ(r.consumed, bytes.size());
  EXPECT_TRUE(r.packet == p);
}

// `bytes` is rejected with `rc`, and a text says why.
inline void expect_error(const Bytes& bytes, Version v, ReasonCode rc) {
  const DecodeResult r = decode_bytes(bytes, v);
  ASSERT_EQ(r.status, DecodeStatus::error);
  EXPECT_EQ(r.error, rc) << "got 0x" << std::hex << static_cast<int>(r.error) << ": "
                         << r.error_text;
  EXPECT_FALSE(r.error_text.empty());
}

}  // namespace strata::protocol::test
