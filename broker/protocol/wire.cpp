// MQTT data representations: see wire.hpp for the model.
#include "broker/protocol/wire.hpp"

#include <algorithm>

#include "broker/util/byte_scan.hpp"

namespace strata::protocol::wire {

bool valid_utf8(std::string_view s) noexcept {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const std::size_t n = s.size();
  std::size_t i = 0;
  while (i < n) {
    // Eight ASCII bytes, none of them NUL, at a time (util/byte_scan.hpp):
    // topics and most strings are ASCII.
    if (n - i >= 8) {
      const std::uint64_t w = util::load_word(s.data() + i);
      if (util::ascii_word(w) && util::equal_bytes(w, 0) == 0) {
        i += 8;
        continue;
      }
    }
    const unsigned char c = p[i];
    if (c == 0x00) return false;  // U+0000 is not allowed (MQTT-1.5.4-2)
    if (c < 0x80) {
      ++i;
      continue;
    }
    std::size_t len = 0;
    std::uint32_t cp = 0;
    std::uint32_t min = 0;
    if ((c & 0xE0) == 0xC0) {
      len = 2, cp = c & 0x1F, min = 0x80;
    } else if ((c & 0xF0) == 0xE0) {
      len = 3, cp = c & 0x0F, min = 0x800;
    } else if ((c & 0xF8) == 0xF0) {
      len = 4, cp = c & 0x07, min = 0x10000;
    } else {
      return false;  // continuation byte first, or 0xF8..0xFF
    }
    if (n - i < len) return false;
    for (std::size_t k = 1; k < len; ++k) {
      const unsigned char cc = p[i + k];
      if ((cc & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (cc & 0x3F);
    }
    if (cp < min) return false;                      // overlong form
    if (cp >= 0xD800 && cp <= 0xDFFF) return false;  // surrogate (MQTT-1.5.4-1)
    if (cp > 0x10FFFF) return false;
    i += len;
  }
  return true;
}

VarintRead read_varint(std::span<const std::uint8_t> data) noexcept {
  VarintRead r;
  std::uint32_t value = 0;
  for (std::size_t i = 0; i < 4; ++i) {
    if (i >= data.size()) return r;  // need_more
    const std::uint8_t b = data[i];
    value |= static_cast<std::uint32_t>(b & 0x7F) << (7 * i);
    if ((b & 0x80) == 0) {
      // A last byte of zero after the first means a longer form than needed.
      if (i > 0 && b == 0) {
        r.status = VarintStatus::malformed;
        return r;
      }
      r.status = VarintStatus::ok;
      r.value = value;
      r.length = i + 1;
      return r;
    }
  }
  r.status = VarintStatus::malformed;  // a fifth byte would follow
  return r;
}

void WireReader::fail(ReasonCode code, const char* text) noexcept {
  if (ok()) {
    error_ = code;
    error_text_ = text;
  }
}

bool WireReader::need(std::size_t n) noexcept {
  if (!ok()) return false;
  if (data_.size() - pos_ < n) {
    fail(ReasonCode::malformed_packet, "packet shorter than its fields");
    return false;
  }
  return true;
}

std::uint8_t WireReader::u8() noexcept {
  if (!need(1)) return 0;
  return data_[pos_++];
}

std::uint16_t WireReader::u16() noexcept {
  if (!need(2)) return 0;
  const auto v = static_cast<std::uint16_t>((data_[pos_] << 8) | data_[pos_ + 1]);
  pos_ += 2;
  return v;
}

std::uint32_t WireReader::u32() noexcept {
  if (!need(4)) return 0;
  std::uint32_t v = 0;
  for (int i = 0; i < 4; ++i) v = (v << 8) | data_[pos_ + i];
  pos_ += 4;
  return v;
}

std::uint32_t WireReader::varint() noexcept {
  if (!ok()) return 0;
  const VarintRead r = read_varint(data_.subspan(pos_));
  if (r.status != VarintStatus::ok) {
    fail(ReasonCode::malformed_packet, r.status == VarintStatus::need_more
                                           ? "packet shorter than its fields"
                                           : "bad variable byte integer");
    return 0;
  }
  pos_ += r.length;
  return r.value;
}

std::string_view WireReader::binary_view() noexcept {
  const std::uint16_t len = u16();
  if (!need(len)) return {};
  std::string_view s(reinterpret_cast<const char*>(data_.data() + pos_), len);
  pos_ += len;
  return s;
}

std::string_view WireReader::utf8_view() noexcept {
  std::string_view s = binary_view();
  if (ok() && !valid_utf8(s)) {
    fail(ReasonCode::malformed_packet, "invalid UTF-8 string");
    return {};
  }
  return s;
}

std::string_view WireReader::rest_view() noexcept {
  if (!ok()) return {};
  std::string_view s(reinterpret_cast<const char*>(data_.data() + pos_), data_.size() - pos_);
  pos_ = data_.size();
  return s;
}

std::string WireReader::binary() { return std::string(binary_view()); }
std::string WireReader::utf8() { return std::string(utf8_view()); }
std::string WireReader::rest() { return std::string(rest_view()); }

WireReader WireReader::sub(std::size_t n) noexcept {
  if (!need(n)) return WireReader({});
  WireReader r(data_.subspan(pos_, n));
  pos_ += n;
  return r;
}

std::size_t varint_size(std::uint32_t v) noexcept {
  if (v < 128) return 1;
  if (v < 16'384) return 2;
  if (v < 2'097'152) return 3;
  return 4;
}

std::size_t string_size(std::string_view s) noexcept {
  return 2 + std::min(s.size(), max_string);
}

void put_u8(std::string& out, std::uint8_t v) { out.push_back(static_cast<char>(v)); }

void put_u16(std::string& out, std::uint16_t v) {
  out.push_back(static_cast<char>(v >> 8));
  out.push_back(static_cast<char>(v & 0xFF));
}

void put_u32(std::string& out, std::uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) {
    out.push_back(static_cast<char>((v >> shift) & 0xFF));
  }
}

void put_varint(std::string& out, std::uint32_t v) {
  char bytes[4];
  out.append(bytes, write_varint(bytes, v));
}

void put_string(std::string& out, std::string_view s) {
  const std::size_t len = std::min(s.size(), max_string);
  put_u16(out, static_cast<std::uint16_t>(len));
  out.append(s.data(), len);
}

}  // namespace strata::protocol::wire
