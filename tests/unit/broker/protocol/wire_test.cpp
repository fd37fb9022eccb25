// The MQTT data representations: UTF-8 validation, variable byte integers,
// and a reader that never reads past its bytes.
#include "broker/protocol/wire.hpp"

#include <gtest/gtest.h>

#include <vector>

namespace strata::protocol::wire {
namespace {

using Bytes = std::vector<std::uint8_t>;

std::string str(const Bytes& b) { return std::string(b.begin(), b.end()); }

TEST(Wire, ValidUtf8) {
  EXPECT_TRUE(valid_utf8(""));
  EXPECT_TRUE(valid_utf8("a/b/c"));
  EXPECT_TRUE(valid_utf8(str({0xC2, 0x80})));              // U+0080, smallest two byte
  EXPECT_TRUE(valid_utf8(str({0xDF, 0xBF})));              // U+07FF
  EXPECT_TRUE(valid_utf8(str({0xE0, 0xA0, 0x80})));        // U+0800, smallest three byte
  EXPECT_TRUE(valid_utf8(str({0xED, 0x9F, 0xBF})));        // U+D7FF, below the surrogates
  EXPECT_TRUE(valid_utf8(str({0xEE, 0x80, 0x80})));        // U+E000, above them
  EXPECT_TRUE(valid_utf8(str({0xF0, 0x90, 0x80, 0x80})));  // U+10000, smallest four byte
  EXPECT_TRUE(valid_utf8(str({0xF4, 0x8F, 0xBF, 0xBF})));  // U+10FFFF
}

TEST(Wire, InvalidUtf8) {
  EXPECT_FALSE(valid_utf8(std::string("a\0b", 3)));          // U+0000
  EXPECT_FALSE(valid_utf8(str({0xC2})));                     // cut
  EXPECT_FALSE(valid_utf8(str({0xC2, 0x41})));               // not a continuation
  EXPECT_FALSE(valid_utf8(str({0xC0, 0x80})));               // overlong U+0000
  EXPECT_FALSE(valid_utf8(str({0xE0, 0x9F, 0xBF})));         // overlong U+07FF
  EXPECT_FALSE(valid_utf8(str({0xF0, 0x8F, 0xBF, 0xBF})));   // overlong U+FFFF
  EXPECT_FALSE(valid_utf8(str({0xED, 0xA0, 0x80})));         // U+D800
  EXPECT_FALSE(valid_utf8(str({0xF4, 0x90, 0x80, 0x80})));   // U+110000
  EXPECT_FALSE(valid_utf8(str({0xF5, 0x80, 0x80, 0x80})));
  EXPECT_FALSE(valid_utf8(str({0xBF})));
  EXPECT_FALSE(valid_utf8(str({0xFE})));
}

TEST(Wire, VarintBoundaries) {
  const std::pair<std::uint32_t, Bytes> cases[] = {
      {0, {0x00}},
      {127, {0x7F}},
      {128, {0x80, 0x01}},
      {16'383, {0xFF, 0x7F}},
      {16'384, {0x80, 0x80, 0x01}},
      {2'097'151, {0xFF, 0xFF, 0x7F}},
      {2'097'152, {0x80, 0x80, 0x80, 0x01}},
      {268'435'455, {0xFF, 0xFF, 0xFF, 0x7F}},
  };
  for (const auto& [value, bytes] : cases) {
    std::string out;
    put_varint(out, value);
    EXPECT_EQ(out, str(bytes)) << value;
    EXPECT_EQ(varint_size(value), bytes.size()) << value;
    const VarintRead r = read_varint(bytes);
    ASSERT_EQ(r.status, VarintStatus::ok) << value;
    EXPECT_EQ(r.value, value);
    EXPECT_EQ(r.length, bytes.size());
  }
}

TEST(Wire, VarintErrors) {
  EXPECT_EQ(read_varint(Bytes{}).status, VarintStatus::need_more);
  EXPECT_EQ(read_varint(Bytes{0x80}).status, VarintStatus::need_more);
  EXPECT_EQ(read_varint(Bytes{0xFF, 0xFF, 0xFF}).status, VarintStatus::need_more);
  EXPECT_EQ(read_varint(Bytes{0xFF, 0xFF, 0xFF, 0xFF}).status, VarintStatus::malformed);
  EXPECT_EQ(read_varint(Bytes{0x80, 0x00}).status, VarintStatus::malformed);  // not shortest
  EXPECT_EQ(read_varint(Bytes{0xFF, 0x80, 0x00}).status, VarintStatus::malformed);
}

TEST(Wire, ReaderReadsBigEndianFields) {
  const Bytes b = {0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x00, 0x02, 'h', 'i', 0x55};
  WireReader in(b);
  EXPECT_EQ(in.u8(), 0x01);
  EXPECT_EQ(in.u16(), 0x0203);
  EXPECT_EQ(in.u32(), 0x04050607u);
  EXPECT_EQ(in.utf8(), "hi");
  EXPECT_EQ(in.rest(), "\x55");
  EXPECT_TRUE(in.ok());
  EXPECT_TRUE(in.at_end());
}

TEST(Wire, ReaderStopsAtItsEndAndKeepsTheFirstError) {
  const Bytes b = {0x00, 0x09, 'a'};  // a string claiming nine bytes
  WireReader in(b);
  EXPECT_EQ(in.binary(), "");
  EXPECT_FALSE(in.ok());
  EXPECT_EQ(in.error(), ReasonCode::malformed_packet);
  in.fail(ReasonCode::protocol_error, "later");
  EXPECT_EQ(in.error(), ReasonCode::malformed_packet);
  EXPECT_EQ(in.u32(), 0u);  // reads after an error return defaults
  EXPECT_EQ(in.remaining(), 0u);
}

TEST(Wire, SubReaderCoversExactlyItsBytes) {
  const Bytes b = {0x01, 0x02, 0x03};
  WireReader in(b);
  WireReader block = in.sub(2);
  EXPECT_EQ(block.u16(), 0x0102);
  EXPECT_TRUE(block.at_end());
  EXPECT_EQ(block.u8(), 0);
  EXPECT_FALSE(block.ok());
  EXPECT_EQ(in.u8(), 0x03);
  EXPECT_TRUE(in.ok());
}

TEST(Wire, PutStringCutsAt65535) {
  std::string out;
  put_string(out, std::string(70'000, 'x'));
  EXPECT_EQ(out.size(), 2u + 65'535u);
  EXPECT_EQ(string_size(std::string(70'000, 'x')), out.size());
  EXPECT_EQ(static_cast<unsigned char>(out[0]), 0xFF);
  EXPECT_EQ(static_cast<unsigned char>(out[1]), 0xFF);
}

}  // namespace
}  // namespace strata::protocol::wire
