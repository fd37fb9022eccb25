// Fields of the records Strata stores (sessions and messages in the store,
// the bridges' outbox logs): big-endian integers and byte strings with a
// four-byte length, wider than MQTT's two-byte strings. Read through
// WireReader, so a damaged record fails as malformed instead of being
// misread.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "broker/protocol/wire.hpp"

namespace strata::protocol::wire {

inline WireReader record_reader(std::string_view v) noexcept {
  return WireReader({reinterpret_cast<const std::uint8_t*>(v.data()), v.size()});
}

inline void put_u64(std::string& out, std::uint64_t v) {
  put_u32(out, static_cast<std::uint32_t>(v >> 32));
  put_u32(out, static_cast<std::uint32_t>(v));
}

inline void put_bytes32(std::string& out, std::string_view s) {
  put_u32(out, static_cast<std::uint32_t>(s.size()));
  out.append(s);
}

inline std::uint64_t get_u64(WireReader& r) noexcept {
  const std::uint64_t hi = r.u32();
  return (hi << 32) | r.u32();
}

// A view of the reader's bytes (valid as long as they are).
inline std::string_view get_bytes32_view(WireReader& r) noexcept {
  const std::uint32_t n = r.u32();
  if (!r.ok()) return {};
  if (n > r.remaining()) {
    r.fail(ReasonCode::malformed_packet, "length beyond record");
    return {};
  }
  return r.sub(n).rest_view();
}

inline std::string get_bytes32(WireReader& r) { return std::string(get_bytes32_view(r)); }

}  // namespace strata::protocol::wire
