// The PROXY protocol header (HAProxy's "PROXY protocol" versions 1 and 2)
// that a load balancer sends before the client's own bytes, so the broker
// learns the address of the client behind it. Pure: a function of the bytes
// received so far, no I/O, so it is unit-tested byte by byte and fuzzed.
//
// Version 1 is one text line of at most 107 bytes:
//   "PROXY TCP4 192.0.2.1 198.51.100.7 56324 1883\r\n"
//   "PROXY TCP6 2001:db8::1 2001:db8::2 56324 1883\r\n"
//   "PROXY UNKNOWN ...\r\n"            (the rest of the line is ignored)
// Version 2 is binary: a 12-byte signature, a version/command byte (0x20
// LOCAL, 0x21 PROXY), an address family/transport byte (0x11 TCP over
// IPv4, 0x21 TCP over IPv6, 0x31 UNIX stream, 0x00 unspecified), a 16-bit
// big-endian length and that many bytes of addresses followed by TLVs
// (which are skipped). LOCAL (health checks from the balancer itself),
// UNKNOWN and an unspecified family keep the connection's own address.
//
// The caller reads exactly `need` more bytes each time parse() asks for
// them: `need` never reaches past the end of the header, so the bytes that
// follow it (a TLS ClientHello, an HTTP upgrade, MQTT CONNECT) stay in the
// socket for the next layer.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

#include "broker/config/config.hpp"

namespace strata::transport::proxy {

// Longest header accepted: version 1's own bound, and for version 2 the
// 16-byte fixed part plus this many bytes of addresses and TLVs.
constexpr std::size_t max_v1_length = 107;
constexpr std::size_t max_v2_payload = 2048;

enum class Status : std::uint8_t { need_more, done, error };

struct Result {
  Status status = Status::need_more;
  // need_more: how many more bytes may be read without reading past the
  // header (at least 1).
  std::size_t need = 0;
  // done: the header's length in bytes.
  std::size_t length = 0;
  // done: the original client as "192.0.2.1:56324", "[2001:db8::1]:56324"
  // or "unix:/path"; empty when the connection's own address stands
  // (LOCAL, UNKNOWN, unspecified family).
  std::string source;
  // error: what is wrong, for the log.
  std::string error;
};

// Parses the start of a connection on a listener that expects `versions`
// (v1, v2 or any; not none).
Result parse(std::span<const std::uint8_t> data, config::ProxyProtocol versions);

}  // namespace strata::transport::proxy
