#include "broker/util/base64.hpp"

#include <array>
#include <cstdint>

namespace strata::util {
namespace {

constexpr char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

// Value of each character, or -1.
constexpr std::array<std::int8_t, 256> values = [] {
  std::array<std::int8_t, 256> v{};
  v.fill(-1);
  for (int i = 0; i < 64; ++i) v[static_cast<unsigned char>(alphabet[i])] = static_cast<std::int8_t>(i);
  return v;
}();

}  // namespace

std::string base64_encode(std::string_view bytes) {
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  std::size_t i = 0;
  for (; i + 3 <= bytes.size(); i += 3) {
    std::uint32_t n = static_cast<std::uint32_t>(static_cast<unsigned char>(bytes[i])) << 16 |
                      static_cast<std::uint32_t>(static_cast<unsigned char>(bytes[i + 1])) << 8 |
                      static_cast<unsigned char>(bytes[i + 2]);
    out += alphabet[n >> 18];
    out += alphabet[(n >> 12) & 63];
    out += alphabet[(n >> 6) & 63];
    out += alphabet[n & 63];
  }
  std::size_t rest = bytes.size() - i;
  if (rest > 0) {
    std::uint32_t n = static_cast<std::uint32_t>(static_cast<unsigned char>(bytes[i])) << 16;
    if (rest == 2) n |= static_cast<std::uint32_t>(static_cast<unsigned char>(bytes[i + 1])) << 8;
    out += alphabet[n >> 18];
    out += alphabet[(n >> 12) & 63];
    out += rest == 2 ? alphabet[(n >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

std::optional<std::string> base64_decode(std::string_view text) {
  if (text.size() % 4 != 0) return std::nullopt;
  std::size_t pad = text.ends_with("==") ? 2 : text.ends_with('=') ? 1 : 0;
  std::string out;
  out.reserve(text.size() / 4 * 3);
  for (std::size_t i = 0; i < text.size(); i += 4) {
    const bool last = i + 4 == text.size();
    const std::size_t digits = last ? 4 - pad : 4;
    std::uint32_t n = 0;
    for (std::size_t k = 0; k < 4; ++k) {
      int v = 0;
      if (k < digits) {
        v = values[static_cast<unsigned char>(text[i + k])];
        if (v < 0) return std::nullopt;
      }
      n = n << 6 | static_cast<std::uint32_t>(v);
    }
    // Bits below the last full byte must be zero (one spelling per value).
    if ((digits == 3 && (n & 0xFF) != 0) || (digits == 2 && (n & 0xFFFF) != 0)) return std::nullopt;
    out += static_cast<char>(n >> 16);
    if (digits >= 3) out += static_cast<char>((n >> 8) & 0xFF);
    if (digits == 4) out += static_cast<char>(n & 0xFF);
  }
  return out;
}

}  // namespace strata::util
