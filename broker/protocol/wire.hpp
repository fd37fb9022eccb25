// The MQTT data representations (spec 5.0 section 1.5, 3.1.1 section 1.5):
// big-endian two and four byte integers, variable byte integers, UTF-8
// strings and binary data with a two byte length prefix.
//
// WireReader is a cursor over one packet's bytes. It never reads past its
// span: the first read that would, or the first value that breaks a rule,
// records an error (reason code + short text) and every later read returns
// a default value, so decoders read field after field and check ok() at the
// points where a bad value would change what they read next. Lengths come
// from the packet itself and are checked against the bytes left before
// anything is allocated, so a lying length prefix costs nothing.
//
// The writer functions append to a std::string; the *_size functions say how
// many bytes the matching writer appends.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "broker/protocol/reason_code.hpp"

namespace strata::protocol::wire {

// The largest value a variable byte integer can hold (four bytes).
inline constexpr std::uint32_t max_varint = 268'435'455;

// The longest string or binary field a two byte length can describe.
inline constexpr std::size_t max_string = 65'535;

// True when `s` is a well-formed MQTT UTF-8 string (spec 1.5.4): valid
// UTF-8 (no overlong forms, no surrogates U+D800..U+DFFF, nothing above
// U+10FFFF) without U+0000. Control characters and non-characters are
// allowed: the spec lets a receiver accept them.
bool valid_utf8(std::string_view s) noexcept;

// Result of reading a variable byte integer from the front of a buffer.
enum class VarintStatus : std::uint8_t { ok, need_more, malformed };
struct VarintRead {
  VarintStatus status = VarintStatus::need_more;
  std::uint32_t value = 0;
  std::size_t length = 0;  // bytes used, when ok
};

// Reads a variable byte integer of at most four bytes. A fifth byte, or a
// value not in its shortest form (spec 1.5.5: "MUST use the minimum number
// of bytes"), is malformed.
VarintRead read_varint(std::span<const std::uint8_t> data) noexcept;

class WireReader {
 public:
  explicit WireReader(std::span<const std::uint8_t> data) noexcept : data_(data) {}

  bool ok() const noexcept { return error_ == ReasonCode::success; }
  ReasonCode error() const noexcept { return error_; }
  const char* error_text() const noexcept { return error_text_; }
  std::size_t remaining() const noexcept { return ok() ? data_.size() - pos_ : 0; }
  bool at_end() const noexcept { return remaining() == 0; }

  // Records the first error; later calls keep the first one.
  void fail(ReasonCode code, const char* text) noexcept;

  std::uint8_t u8() noexcept;
  std::uint16_t u16() noexcept;
  std::uint32_t u32() noexcept;
  std::uint32_t varint() noexcept;
  std::string utf8();    // length-prefixed, validated UTF-8 string
  std::string binary();  // length-prefixed binary data
  std::string rest();    // every byte left (payloads)
  // The same, as views of the reader's bytes (valid as long as they are).
  std::string_view utf8_view() noexcept;
  std::string_view binary_view() noexcept;
  std::string_view rest_view() noexcept;
  // The next `n` bytes as a reader of their own (e.g. a property block).
  WireReader sub(std::size_t n) noexcept;

 private:
  bool need(std::size_t n) noexcept;

  std::span<const std::uint8_t> data_;
  std::size_t pos_ = 0;
  ReasonCode error_ = ReasonCode::success;
  const char* error_text_ = "";
};

std::size_t varint_size(std::uint32_t v) noexcept;
// Bytes of a string field: two length bytes plus the (clamped) content.
std::size_t string_size(std::string_view s) noexcept;

// Writes v (clamped to max_varint) as a variable byte integer at `p`,
// varint_size(v) bytes; returns the end. put_varint and the in-place
// PUBLISH encoder (encode_publish.cpp) both write through it.
inline char* write_varint(char* p, std::uint32_t v) noexcept {
  v = v < max_varint ? v : max_varint;
  do {
    auto b = static_cast<std::uint8_t>(v & 0x7F);
    v >>= 7;
    if (v != 0) b |= 0x80;
    *p++ = static_cast<char>(b);
  } while (v != 0);
  return p;
}

void put_u8(std::string& out, std::uint8_t v);
void put_u16(std::string& out, std::uint16_t v);
void put_u32(std::string& out, std::uint32_t v);
void put_varint(std::string& out, std::uint32_t v);
// Writes a length-prefixed string or binary field. Content past 65,535
// bytes cannot be described on the wire and is cut (callers keep fields
// shorter; string_size() agrees with what is written).
void put_string(std::string& out, std::string_view s);

}  // namespace strata::protocol::wire
