#include "broker/transport/proxy_header.hpp"

#include <arpa/inet.h>
#include <sys/socket.h>

#include <algorithm>
#include <array>
#include <string_view>
#include <vector>

namespace strata::transport::proxy {
namespace {

constexpr std::string_view v1_prefix = "PROXY ";
constexpr std::array<std::uint8_t, 12> v2_signature = {0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D,
                                                       0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A};
constexpr std::size_t v2_fixed = 16;          // signature, version/command, family, length
constexpr std::size_t v1_min = 15;            // "PROXY UNKNOWN\r\n"
constexpr std::size_t unix_path_length = 108;  // per address, NUL-padded

Result need(std::size_t n) { return Result{Status::need_more, n, 0, {}, {}}; }
Result done(std::size_t length, std::string source) { return Result{Status::done, 0, length, std::move(source), {}}; }
Result error(std::string what) { return Result{Status::error, 0, 0, {}, std::move(what)}; }

// "host:port" as Stream::remote_address() writes it.
std::string endpoint(int family, const void* address, std::uint16_t port) {
  char text[INET6_ADDRSTRLEN];
  if (::inet_ntop(family, address, text, sizeof text) == nullptr) return {};
  std::string host = text;
  if (family == AF_INET6) host = "[" + host + "]";
  return host + ":" + std::to_string(port);
}

// --- version 1 --------------------------------------------------------------

bool parse_port(std::string_view s, std::uint16_t& out) {
  if (s.empty() || s.size() > 5 || !std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    return false;
  }
  if (s.size() > 1 && s.front() == '0') return false;  // the format has no leading zeros
  unsigned long n = std::stoul(std::string(s));
  if (n > 65535) return false;
  out = static_cast<std::uint16_t>(n);
  return true;
}

std::vector<std::string_view> split_spaces(std::string_view line) {
  std::vector<std::string_view> out;
  while (true) {
    auto space = line.find(' ');
    out.push_back(line.substr(0, space));
    if (space == std::string_view::npos) return out;
    line.remove_prefix(space + 1);
  }
}

// `line`: the header without its CRLF; `length`: with it.
Result parse_v1_line(std::string_view line, std::size_t length) {
  std::vector<std::string_view> words = split_spaces(line);
  // words[0] is "PROXY" (checked as the prefix).
  if (words.size() >= 2 && words[1] == "UNKNOWN") return done(length, {});
  if (words.size() < 2 || (words[1] != "TCP4" && words[1] != "TCP6")) {
    return error("version 1: protocol must be TCP4, TCP6 or UNKNOWN");
  }
  if (words.size() != 6) return error("version 1: expected source, destination and two ports after " + std::string(words[1]));
  const int family = words[1] == "TCP4" ? AF_INET : AF_INET6;
  std::array<std::uint8_t, 16> source{}, destination{};
  if (::inet_pton(family, std::string(words[2]).c_str(), source.data()) != 1 ||
      ::inet_pton(family, std::string(words[3]).c_str(), destination.data()) != 1) {
    return error("version 1: invalid " + std::string(family == AF_INET ? "IPv4" : "IPv6") + " address");
  }
  std::uint16_t source_port = 0, destination_port = 0;
  if (!parse_port(words[4], source_port) || !parse_port(words[5], destination_port)) {
    return error("version 1: invalid port");
  }
  return done(length, endpoint(family, source.data(), source_port));
}

Result parse_v1(std::span<const std::uint8_t> data) {
  const std::size_t prefix = std::min(data.size(), v1_prefix.size());
  if (!std::equal(data.begin(), data.begin() + static_cast<std::ptrdiff_t>(prefix), v1_prefix.begin())) {
    return error("not a PROXY protocol header");
  }
  for (std::size_t i = 0; i < data.size(); ++i) {
    const std::uint8_t c = data[i];
    if (c == '\r') {
      if (i + 1 == data.size()) return need(1);
      if (data[i + 1] != '\n') return error("version 1: CR not followed by LF");
      if (i + 2 < v1_min) return error("version 1: header too short");
      return parse_v1_line(std::string_view(reinterpret_cast<const char*>(data.data()), i), i + 2);
    }
    if (c < 0x20 || c > 0x7E) return error("version 1: non-printable byte before CRLF");
    // This byte, then CR LF at the earliest.
    if (i + 3 > max_v1_length) return error("version 1: no CRLF within 107 bytes");
  }
  // The header ends in CRLF, so at least two more bytes belong to it.
  return need(std::max<std::size_t>(2, v1_min - std::min(v1_min, data.size())));
}

// --- version 2 --------------------------------------------------------------

std::uint16_t be16(const std::uint8_t* p) { return static_cast<std::uint16_t>(p[0] << 8 | p[1]); }

Result parse_v2(std::span<const std::uint8_t> data) {
  const std::size_t prefix = std::min(data.size(), v2_signature.size());
  if (!std::equal(data.begin(), data.begin() + static_cast<std::ptrdiff_t>(prefix), v2_signature.begin())) {
    return error("not a PROXY protocol header");
  }
  if (data.size() > 12 && (data[12] >> 4) != 2) return error("version 2: unsupported version " + std::to_string(data[12] >> 4));
  if (data.size() > 12 && (data[12] & 0x0F) > 1) return error("version 2: unknown command " + std::to_string(data[12] & 0x0F));
  if (data.size() < v2_fixed) return need(v2_fixed - data.size());
  const std::size_t payload = be16(&data[14]);
  if (payload > max_v2_payload) {
    return error("version 2: " + std::to_string(payload) + " bytes of addresses and TLVs; at most " +
                 std::to_string(max_v2_payload) + " are accepted");
  }
  const std::size_t length = v2_fixed + payload;
  if (data.size() < length) return need(length - data.size());

  const bool local = (data[12] & 0x0F) == 0;
  const std::uint8_t family = data[13] >> 4;
  const std::uint8_t transport = data[13] & 0x0F;
  if (family > 3) return error("version 2: unknown address family " + std::to_string(family));
  if (transport > 2) return error("version 2: unknown transport protocol " + std::to_string(transport));
  // LOCAL: the balancer speaks for itself (health checks); the address
  // block, if any, is ignored (spec 2.2).
  if (local || family == 0) return done(length, {});
  if (transport == 2) return error("version 2: a datagram (UDP) address on a stream connection");
  const std::uint8_t* a = &data[v2_fixed];
  switch (family) {
    case 1:  // IPv4: source, destination (4 bytes each), source port, destination port
      if (payload < 12) return error("version 2: " + std::to_string(payload) + " bytes for an IPv4 address block of 12");
      return done(length, endpoint(AF_INET, a, be16(a + 8)));
    case 2:  // IPv6: 16 + 16 + 2 + 2
      if (payload < 36) return error("version 2: " + std::to_string(payload) + " bytes for an IPv6 address block of 36");
      return done(length, endpoint(AF_INET6, a, be16(a + 32)));
    default: {  // 3, UNIX: two NUL-padded paths of 108 bytes
      if (payload < 2 * unix_path_length) {
        return error("version 2: " + std::to_string(payload) + " bytes for a UNIX address block of 216");
      }
      const char* path = reinterpret_cast<const char*>(a);
      std::string_view source(path, std::find(path, path + unix_path_length, '\0') - path);
      return done(length, "unix:" + std::string(source));
    }
  }
}

}  // namespace

Result parse(std::span<const std::uint8_t> data, config::ProxyProtocol versions) {
  using config::ProxyProtocol;
  if (versions == ProxyProtocol::v1) return parse_v1(data);
  if (versions == ProxyProtocol::v2) return parse_v2(data);
  // Either: the first byte tells ('P' or CR); until it came, read no more
  // than the shorter minimum (version 1's).
  if (data.empty()) return need(v1_min);
  return data[0] == v2_signature[0] ? parse_v2(data) : parse_v1(data);
}

}  // namespace strata::transport::proxy
