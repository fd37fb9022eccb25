#include "broker/transport/proxy_header.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace strata::transport::proxy {
namespace {

using config::ProxyProtocol;
using Bytes = std::vector<std::uint8_t>;

Bytes text(std::string_view s) { return Bytes(s.begin(), s.end()); }

Bytes cat(Bytes a, const Bytes& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

const Bytes kSignature = {0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A};

// A version 2 header: signature, version/command, family/transport, length, body.
Bytes v2(std::uint8_t command, std::uint8_t family, const Bytes& body) {
  Bytes b = kSignature;
  b.push_back(command);
  b.push_back(family);
  b.push_back(static_cast<std::uint8_t>(body.size() >> 8));
  b.push_back(static_cast<std::uint8_t>(body.size() & 0xFF));
  return cat(b, body);
}

const Bytes kInet = {
    192, 0,   2,   1,     // source 192.0.2.1
    198, 51,  100, 7,     // destination 198.51.100.7
    0xDC, 0x04,           // source port 56324
    0x07, 0x5B,           // destination port 1883
};

// Feeds `header` the way ProxyStream reads it: exactly `need` bytes at a
// time; the header must complete exactly at its end, never asking for a
// byte past it.
Result feed(const Bytes& header, ProxyProtocol versions) {
  Bytes have;
  while (true) {
    Result r = parse(have, versions);
    if (r.status != Status::need_more) return r;
    EXPECT_GE(r.need, 1u);
    EXPECT_LE(have.size() + r.need, header.size()) << "asked past the header";
    if (have.size() + r.need > header.size()) return r;
    have.insert(have.end(), header.begin() + static_cast<std::ptrdiff_t>(have.size()),
                header.begin() + static_cast<std::ptrdiff_t>(have.size() + r.need));
  }
}

TEST(ProxyHeaderV1, Tcp4) {
  const Bytes h = text("PROXY TCP4 192.0.2.1 198.51.100.7 56324 1883\r\n");
  Result r = feed(h, ProxyProtocol::v1);
  ASSERT_EQ(r.status, Status::done) << r.error;
  EXPECT_EQ(r.length, h.size());
  EXPECT_EQ(r.source, "192.0.2.1:56324");
  // The same header in one buffer followed by an MQTT CONNECT.
  r = parse(cat(h, Bytes{0x10, 0x0C}), ProxyProtocol::any);
  ASSERT_EQ(r.status, Status::done);
  EXPECT_EQ(r.length, h.size());
}

TEST(ProxyHeaderV1, Tcp6IsNormalised) {
  const Bytes h = text("PROXY TCP6 2001:DB8:0::1 2001:db8::2 65535 8883\r\n");
  Result r = feed(h, ProxyProtocol::any);
  ASSERT_EQ(r.status, Status::done) << r.error;
  EXPECT_EQ(r.source, "[2001:db8::1]:65535");
}

TEST(ProxyHeaderV1, UnknownKeepsTheConnectionAddress) {
  for (std::string_view line : {"PROXY UNKNOWN\r\n", "PROXY UNKNOWN ffff:f...f:ffff 1 2 3\r\n"}) {
    Result r = feed(text(line), ProxyProtocol::v1);
    ASSERT_EQ(r.status, Status::done) << line;
    EXPECT_EQ(r.length, line.size());
    EXPECT_EQ(r.source, "");
  }
}

TEST(ProxyHeaderV1, NeverReadsPastTheShortestHeader) {
  // Nothing read yet: 15 bytes ("PROXY UNKNOWN\r\n") are safe, one more is not.
  EXPECT_EQ(parse({}, ProxyProtocol::v1).need, 15u);
  EXPECT_EQ(parse({}, ProxyProtocol::any).need, 15u);
  EXPECT_EQ(parse({}, ProxyProtocol::v2).need, 16u);
  // After a CR only its LF may follow.
  EXPECT_EQ(parse(text("PROXY UNKNOWN\r"), ProxyProtocol::v1).need, 1u);
  EXPECT_EQ(parse(text("PROXY TCP4 1.2.3"), ProxyProtocol::v1).need, 2u);
}

TEST(ProxyHeaderV1, Malformed) {
  const char* bad[] = {
      "PROXY TCP4 192.0.2.1 198.51.100.7 56324\r\n",        // a port missing
      "PROXY TCP4 192.0.2.1 198.51.100.7 56324 1883 9\r\n",  // one word too many
      "PROXY TCP4 2001:db8::1 198.51.100.7 1 2\r\n",         // IPv6 in TCP4
      "PROXY TCP6 192.0.2.1 2001:db8::2 1 2\r\n",            // IPv4 in TCP6
      "PROXY TCP4 192.0.2.256 198.51.100.7 1 2\r\n",         // octet out of range
      "PROXY TCP4 192.0.2.1 198.51.100.7 65536 1883\r\n",    // port out of range
      "PROXY TCP4 192.0.2.1 198.51.100.7 056 1883\r\n",      // leading zero
      "PROXY TCP4 192.0.2.1 198.51.100.7 -1 1883\r\n",       // sign
      "PROXY TCP4  192.0.2.1 198.51.100.7 1 1883\r\n",       // two spaces
      "PROXY UDP4 192.0.2.1 198.51.100.7 1 1883\r\n",        // not TCP
      "PROXY TCP4 192.0.2.1 198.51.100.7 1 1883\n",          // LF without CR
      "PROXY TCP4 192.0.2.1\r198.51.100.7 1 1883\r\n",       // CR without LF
      "proxy TCP4 192.0.2.1 198.51.100.7 1 1883\r\n",        // lower case
      "PROXY\tTCP4 192.0.2.1 198.51.100.7 1 1883\r\n",       // tab
      "GET /mqtt HTTP/1.1\r\n",                              // no header at all
  };
  for (const char* line : bad) {
    Result r = parse(text(line), ProxyProtocol::v1);
    EXPECT_EQ(r.status, Status::error) << line;
    EXPECT_FALSE(r.error.empty()) << line;
  }
}

TEST(ProxyHeaderV1, TooLongWithoutCrlf) {
  std::string line = "PROXY UNKNOWN " + std::string(91, 'x');  // 105 bytes
  EXPECT_EQ(parse(text(line), ProxyProtocol::v1).status, Status::need_more);
  EXPECT_EQ(parse(text(line + "\r"), ProxyProtocol::v1).need, 1u);  // 107 with the LF: the longest allowed
  EXPECT_EQ(parse(text(line + "\r\n"), ProxyProtocol::v1).status, Status::done);
  EXPECT_EQ(parse(text(line + "x"), ProxyProtocol::v1).status, Status::error);  // 108 at the least
  EXPECT_EQ(parse(text(line + "x\r\n"), ProxyProtocol::v1).status, Status::error);
}

TEST(ProxyHeaderV1, MqttConnectIsNotAHeader) {
  // What a client that bypasses the balancer sends first: CONNECT, 0x10.
  const Bytes connect = {0x10, 0x10, 0x00, 0x04, 'M', 'Q', 'T', 'T', 0x04, 0x02, 0x00, 0x3C};
  for (auto v : {ProxyProtocol::v1, ProxyProtocol::v2, ProxyProtocol::any}) {
    EXPECT_EQ(parse(Bytes{0x10}, v).status, Status::error);
    EXPECT_EQ(parse(connect, v).status, Status::error);
  }
}

TEST(ProxyHeaderV1, VersionsAreEnforced) {
  const Bytes one = text("PROXY TCP4 192.0.2.1 198.51.100.7 56324 1883\r\n");
  const Bytes two = v2(0x21, 0x11, kInet);
  EXPECT_EQ(parse(one, ProxyProtocol::v2).status, Status::error);
  EXPECT_EQ(parse(two, ProxyProtocol::v1).status, Status::error);
  EXPECT_EQ(parse(one, ProxyProtocol::any).status, Status::done);
  EXPECT_EQ(parse(two, ProxyProtocol::any).status, Status::done);
}

TEST(ProxyHeaderV2, Tcp4) {
  const Bytes h = v2(0x21, 0x11, kInet);
  ASSERT_EQ(h.size(), 28u);
  Result r = feed(h, ProxyProtocol::v2);
  ASSERT_EQ(r.status, Status::done) << r.error;
  EXPECT_EQ(r.length, 28u);
  EXPECT_EQ(r.source, "192.0.2.1:56324");
}

TEST(ProxyHeaderV2, Tcp6WithTlvsSkipped) {
  Bytes body = {0x20, 0x01, 0x0D, 0xB8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01,  // 2001:db8::1
                0x20, 0x01, 0x0D, 0xB8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x02,  // 2001:db8::2
                0x00, 0x50,   // source port 80
                0x22, 0xB3};  // destination port 8883
  body = cat(body, Bytes{0x04, 0x00, 0x03, 'a', 'b', 'c'});  // a TLV (type 4, NOOP), skipped
  Result r = feed(v2(0x21, 0x21, body), ProxyProtocol::any);
  ASSERT_EQ(r.status, Status::done) << r.error;
  EXPECT_EQ(r.length, 16u + body.size());
  EXPECT_EQ(r.source, "[2001:db8::1]:80");
}

TEST(ProxyHeaderV2, Unix) {
  Bytes body(216, 0);
  std::string path = "/run/lb.sock";
  std::copy(path.begin(), path.end(), body.begin());
  Result r = feed(v2(0x21, 0x31, body), ProxyProtocol::v2);
  ASSERT_EQ(r.status, Status::done) << r.error;
  EXPECT_EQ(r.source, "unix:/run/lb.sock");
}

TEST(ProxyHeaderV2, LocalAndUnspecifiedKeepTheConnectionAddress) {
  // LOCAL with an address block: the block is ignored.
  Result r = feed(v2(0x20, 0x11, kInet), ProxyProtocol::v2);
  ASSERT_EQ(r.status, Status::done);
  EXPECT_EQ(r.source, "");
  EXPECT_EQ(r.length, 28u);
  // LOCAL, no addresses (a health check).
  r = feed(v2(0x20, 0x00, {}), ProxyProtocol::v2);
  ASSERT_EQ(r.status, Status::done);
  EXPECT_EQ(r.length, 16u);
  // PROXY with the family unspecified.
  r = feed(v2(0x21, 0x00, {}), ProxyProtocol::v2);
  ASSERT_EQ(r.status, Status::done);
  EXPECT_EQ(r.source, "");
}

TEST(ProxyHeaderV2, AsksForTheAnnouncedLength) {
  const Bytes h = v2(0x21, 0x11, kInet);
  EXPECT_EQ(parse(Bytes(h.begin(), h.begin() + 13), ProxyProtocol::v2).need, 3u);
  EXPECT_EQ(parse(Bytes(h.begin(), h.begin() + 16), ProxyProtocol::v2).need, 12u);
  EXPECT_EQ(parse(Bytes(h.begin(), h.begin() + 27), ProxyProtocol::v2).need, 1u);
}

TEST(ProxyHeaderV2, Malformed) {
  struct Case {
    Bytes bytes;
    const char* why;
  };
  Bytes bad_signature = v2(0x21, 0x11, kInet);
  bad_signature[7] = 'q';
  const Case cases[] = {
      {bad_signature, "signature"},
      {v2(0x11, 0x11, kInet), "version 1 in the version nibble"},
      {v2(0x22, 0x11, kInet), "command 2"},
      {v2(0x21, 0x41, kInet), "family 4"},
      {v2(0x21, 0x13, kInet), "transport 3"},
      {v2(0x21, 0x12, kInet), "UDP"},
      {v2(0x21, 0x11, Bytes(kInet.begin(), kInet.begin() + 11)), "IPv4 block short"},
      {v2(0x21, 0x21, kInet), "IPv6 block short"},
      {v2(0x21, 0x31, Bytes(215, 0)), "UNIX block short"},
      {v2(0x21, 0x11, Bytes(max_v2_payload + 1, 0)), "over the size bound"},
  };
  for (const Case& c : cases) {
    Result r = parse(c.bytes, ProxyProtocol::v2);
    EXPECT_EQ(r.status, Status::error) << c.why;
    EXPECT_FALSE(r.error.empty()) << c.why;
  }
  // The size bound is checked on the fixed part alone, before the body is read.
  Bytes fixed = kSignature;
  fixed.insert(fixed.end(), {0x21, 0x11, 0x08, 0x01});  // 2049 bytes announced
  EXPECT_EQ(parse(fixed, ProxyProtocol::v2).status, Status::error);
  fixed[14] = 0x08;
  fixed[15] = 0x00;  // 2048: accepted
  EXPECT_EQ(parse(fixed, ProxyProtocol::v2).need, 2048u);
  // A bad version is seen at byte 13, before the rest.
  Bytes early = kSignature;
  early.push_back(0x31);
  EXPECT_EQ(parse(early, ProxyProtocol::v2).status, Status::error);
}

}  // namespace
}  // namespace strata::transport::proxy
