#include "broker/util/byte_scan.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <random>
#include <string>

#include "broker/protocol/wire.hpp"
#include "broker/router/topic.hpp"

namespace strata::util {
namespace {

// Every byte value at every position, among neighbours that are equal to
// the target, one below and one above it (where a borrow or a carry
// between bytes would show), against the byte-by-byte answer.
TEST(ByteScanTest, EqualBytesMarksExactlyTheEqualBytes) {
  for (unsigned c : {0u, 1u, unsigned{'#'}, unsigned{'+'}, unsigned{'/'}, 0x7Fu, 0x80u, 0xFFu}) {
    for (unsigned b = 0; b < 256; ++b) {
      for (int pos = 0; pos < 8; ++pos) {
        for (unsigned fill : {c, (c + 255) % 256, (c + 1) % 256}) {
          unsigned char bytes[8];
          for (auto& x : bytes) x = static_cast<unsigned char>(fill);
          bytes[pos] = static_cast<unsigned char>(b);
          const std::uint64_t w = load_word(reinterpret_cast<const char*>(bytes));
          const std::uint64_t mask = equal_bytes(w, static_cast<unsigned char>(c));
          int expected = 0;
          for (int i = 0; i < 8; ++i) {
            const bool eq = bytes[i] == c;
            expected += eq ? 1 : 0;
            const std::uint64_t byte_of_mask = (mask >> (8 * i)) & 0xFF;  // little-endian load
            ASSERT_EQ(byte_of_mask, eq ? 0x80u : 0u) << "c=" << c << " b=" << b << " pos=" << pos;
          }
          ASSERT_EQ(marked_bytes(mask), expected);
          bool ascii = true;
          for (unsigned char x : bytes) ascii = ascii && x < 0x80;
          ASSERT_EQ(ascii_word(w), ascii);
        }
      }
    }
  }
}

bool topic_name_by_byte(const std::string& t) {
  if (t.empty() || t.size() > 65535) return false;
  for (char c : t) {
    if (c == '+' || c == '#' || c == '\0') return false;
  }
  return true;
}

std::size_t levels_by_byte(const std::string& t) {
  std::size_t n = 1;
  for (char c : t) n += c == '/' ? 1 : 0;
  return n;
}

// The word-at-a-time topic checks against the byte-at-a-time ones, on
// random strings of 0 to 40 bytes (every split into words and a tail).
TEST(ByteScanTest, TopicChecksAgreeWithByteByByte) {
  std::mt19937 rng(17);
  const std::string alphabet = std::string("ab/+#\x7f\x80\xff", 8) + std::string(1, '\0');
  for (int round = 0; round < 20000; ++round) {
    std::string t(rng() % 41, 'a');
    for (char& c : t) c = rng() % 4 == 0 ? alphabet[rng() % alphabet.size()] : 'x';
    ASSERT_EQ(router::is_valid_topic_name(t), topic_name_by_byte(t)) << round;
    ASSERT_EQ(router::topic_levels(t), levels_by_byte(t)) << round;
  }
}

// valid_utf8 skips eight clean ASCII bytes at a time: a NUL, a stray
// continuation byte or a bad lead byte is still found at every position,
// and a valid multi-byte character across a word boundary still passes.
TEST(ByteScanTest, Utf8FindsABadByteAtEveryPosition) {
  for (std::size_t len = 1; len <= 33; ++len) {
    for (std::size_t at = 0; at < len; ++at) {
      for (char bad : {'\0', '\x80', '\xff', '\xc0'}) {
        std::string s(len, 'a');
        s[at] = bad;
        EXPECT_FALSE(protocol::wire::valid_utf8(s)) << len << " " << at << " " << int(bad);
      }
      std::string ok(len, 'a');
      ok.insert(at, "\xc3\xa9\xe2\x82\xac");  // é €
      EXPECT_TRUE(protocol::wire::valid_utf8(ok)) << len << " " << at;
    }
  }
}

}  // namespace
}  // namespace strata::util
