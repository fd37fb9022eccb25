// libFuzzer target for the MQTT codec (broker/protocol/codec.hpp).
//
// The input is read as a stream of packets, once as MQTT 5.0 and once as
// 3.1.1, the way a connection reads its socket. For each packet that
// decodes, the target re-encodes it and requires that the bytes decode to
// the same packet and that encoded_size() matches. Errors must carry an
// error reason code and a text. A third pass with a small size limit
// exercises packet_too_large. Decoding a PUBLISH in place must agree with
// decode(). Any broken property traps, which libFuzzer
// reports as a crash; sanitizers catch out-of-bounds reads and UB.
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

#include "broker/protocol/codec.hpp"

namespace {

using namespace strata::protocol;

void require(bool ok) {
  if (!ok) __builtin_trap();
}

void check_round_trip(const DecodeResult& r, Version connection) {
  // A CONNECT carries its own version; other packets the connection's.
  const Version v = std::holds_alternative<Connect>(r.packet) ? r.version : connection;
  std::string bytes;
  encode(r.packet, v, bytes);
  require(bytes.size() == encoded_size(r.packet, v));
  const auto* data = reinterpret_cast<const std::uint8_t*>(bytes.data());
  const DecodeResult again = decode(std::span(data, bytes.size()), v, UINT32_MAX);
  require(again.status == DecodeStatus::ok);
  require(again.consumed == bytes.size());
  require(again.packet == r.packet);
  require(again.version == r.version || !std::holds_alternative<Connect>(r.packet));
}

// Decoding in place (the broker's read loop) agrees with decode().
void check_in_place(std::span<const std::uint8_t> input, Version v, std::uint32_t max, const DecodeResult& r) {
  PublishIn in;
  const DecodeResult p = decode(input, v, max, &in);
  require(p.status == r.status && p.consumed == r.consumed && p.error == r.error);
  const bool publish = r.status == DecodeStatus::ok && std::holds_alternative<Publish>(r.packet);
  require(p.in_place == publish);
  if (publish) {
    require(in.to_publish() == std::get<Publish>(r.packet));
  } else if (p.status == DecodeStatus::ok) {
    require(p.packet == r.packet);
  }
}

void run_stream(std::span<const std::uint8_t> input, Version v, std::uint32_t max) {
  while (true) {
    const DecodeResult r = decode(input, v, max);
    check_in_place(input, v, max, r);
    if (r.status == DecodeStatus::need_more) return;
    if (r.status == DecodeStatus::error) {
      require(is_error(r.error));
      require(!r.error_text.empty());
      return;
    }
    require(r.consumed >= 2 && r.consumed <= input.size() && r.consumed <= max);
    check_round_trip(r, v);
    input = input.subspan(r.consumed);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::span<const std::uint8_t> input(data, size);
  run_stream(input, Version::v5, 1u << 20);
  run_stream(input, Version::v311, 1u << 20);
  run_stream(input, Version::v5, 24);
  return 0;
}
