// Random and mutated input never crashes or throws, and whatever decodes
// re-encodes to bytes that decode to the same packet. The libFuzzer target
// (tests/fuzz/codec_fuzz.cpp) does this at scale; this keeps a fixed-seed
// version in every unit test run.
#include <random>

#include "codec_test_util.hpp"

namespace strata::protocol::test {
namespace {

// Valid packets of every type to mutate.
std::vector<std::pair<Packet, Version>> samples() {
  std::vector<std::pair<Packet, Version>> out;
  for (Version v : {Version::v5, Version::v311}) {
    Connect c;
    c.client_id = "client";
    c.keep_alive = 30;
    c.will = Will{"will/t", "gone", QoS::at_least_once, false, {}};
    c.username = "user";
    c.password = "pw";
    if (v == Version::v5) {
      c.properties.session_expiry_interval = 60;
      c.properties.user_properties = {{"a", "b"}};
      c.will->properties.will_delay_interval = 1;
    }
    c.version = v;
    out.emplace_back(c, v);
    Connack ca;
    ca.session_present = true;
    if (v == Version::v5) ca.properties.maximum_qos = 1;
    out.emplace_back(ca, v);
    Publish p;
    p.topic = "plant/line1/temp";
    p.payload = "{\"v\":21.5}";
    p.qos = QoS::exactly_once;
    p.packet_id = 77;
    if (v == Version::v5) {
      p.properties.content_type = "application/json";
      p.properties.subscription_identifiers = {3};
    }
    out.emplace_back(p, v);
    for (PacketType t :
         {PacketType::puback, PacketType::pubrec, PacketType::pubrel, PacketType::pubcomp}) {
      out.emplace_back(Ack{t, 9, ReasonCode::success, {}}, v);
    }
    Subscribe s;
    s.packet_id = 5;
    s.entries = {{"a/+", {QoS::at_least_once, false, false, 0}}, {"b/#", {}}};
    out.emplace_back(s, v);
    out.emplace_back(Suback{5, {ReasonCode::granted_qos1, ReasonCode::success}, {}}, v);
    out.emplace_back(Unsubscribe{6, {"a/+"}, {}}, v);
    out.emplace_back(Unsuback{6, v == Version::v5 ? std::vector{ReasonCode::success}
                                                  : std::vector<ReasonCode>{},
                              {}},
                     v);
    out.emplace_back(Pingreq{}, v);
    out.emplace_back(Disconnect{}, v);
  }
  Auth a;
  a.reason = ReasonCode::continue_authentication;
  a.properties.authentication_method = "m";
  out.emplace_back(a, Version::v5);
  out.emplace_back(Disconnect{ReasonCode::server_shutting_down, {}}, Version::v5);
  return out;
}

// Decoding in place (the broker's read loop) gives what decode() gives:
// the same status, error and length, and for a PUBLISH the same fields.
void check_in_place(const Bytes& b, Version v, std::uint32_t max, const DecodeResult& r) {
  PublishIn in;
  const DecodeResult p = decode(std::span<const std::uint8_t>(b.data(), b.size()), v, max, &in);
  ASSERT_EQ(p.status, r.status);
  ASSERT_EQ(p.consumed, r.consumed);
  ASSERT_EQ(p.error, r.error);
  ASSERT_EQ(p.error_text, r.error_text);
  const bool publish = r.status == DecodeStatus::ok && std::holds_alternative<Publish>(r.packet);
  ASSERT_EQ(p.in_place, publish);
  if (publish) {
    const Publish& want = std::get<Publish>(r.packet);
    ASSERT_TRUE(in.to_publish() == want);
    ASSERT_EQ(in.properties.has_value(), !(want.properties == Properties{}));
    if (!in.topic.empty()) {  // views of the input
      ASSERT_GE(reinterpret_cast<const std::uint8_t*>(in.topic.data()), b.data());
      ASSERT_LE(reinterpret_cast<const std::uint8_t*>(in.topic.data() + in.topic.size()), b.data() + b.size());
    }
  } else if (p.status == DecodeStatus::ok) {
    ASSERT_TRUE(p.packet == r.packet);
  }
}

// Decodes `b`; checks the result is coherent and, if a packet came out,
// that its re-encoding decodes to the same packet.
void check_input(const Bytes& b, Version v, std::uint32_t max) {
  DecodeResult r;
  ASSERT_NO_THROW(r = decode_bytes(b, v, max));
  ASSERT_NO_FATAL_FAILURE(check_in_place(b, v, max, r));
  switch (r.status) {
    case DecodeStatus::need_more: break;
    case DecodeStatus::error:
      ASSERT_TRUE(is_error(r.error));
      ASSERT_FALSE(r.error_text.empty());
      break;
    case DecodeStatus::ok: {
      ASSERT_GE(r.consumed, 2u);
      ASSERT_LE(r.consumed, b.size());
      ASSERT_LE(r.consumed, max);
      // A CONNECT carries its own version; everything else the connection's.
      const Version again = std::holds_alternative<Connect>(r.packet) ? r.version : v;
      const Bytes re = encode_bytes(r.packet, again);
      ASSERT_EQ(re.size(), encoded_size(r.packet, again));
      const DecodeResult r2 = decode_bytes(re, again, kMax);
      ASSERT_EQ(r2.status, DecodeStatus::ok) << r2.error_text;
      ASSERT_EQ(r2.consumed, re.size());
      ASSERT_TRUE(r2.packet == r.packet);
      break;
    }
  }
}

TEST(CodecRandom, RandomBytesNeverCrash) {
  std::mt19937 rng(12345);
  std::uniform_int_distribution<int> byte(0, 255);
  std::uniform_int_distribution<int> len(0, 48);
  for (int i = 0; i < 20'000; ++i) {
    Bytes b(static_cast<std::size_t>(len(rng)));
    for (auto& x : b) x = static_cast<std::uint8_t>(byte(rng));
    // Make the remaining length plausible half of the time, to get past it.
    if (b.size() >= 2 && (i & 1)) b[1] = static_cast<std::uint8_t>((b.size() - 2) & 0x7F);
    check_input(b, Version::v5, kMax);
    check_input(b, Version::v311, kMax);
    check_input(b, Version::v5, 16);
  }
}

TEST(CodecRandom, MutatedValidPacketsNeverCrash) {
  std::mt19937 rng(777);
  const auto all = samples();
  for (const auto& [packet, v] : all) {
    const Bytes good = encode_bytes(packet, v);
    ASSERT_NO_FATAL_FAILURE(check_input(good, v, kMax));
    std::uniform_int_distribution<std::size_t> pos(0, good.size() - 1);
    std::uniform_int_distribution<int> byte(0, 255);
    for (int i = 0; i < 1'000; ++i) {
      Bytes b = good;
      const int edits = 1 + (i % 3);
      for (int e = 0; e < edits; ++e) b[pos(rng)] = static_cast<std::uint8_t>(byte(rng));
      if (i % 5 == 0) b.resize(pos(rng));                            // truncate
      if (i % 7 == 0) b.push_back(static_cast<std::uint8_t>(byte(rng)));  // extend
      check_input(b, v, kMax);
      check_input(b, v == Version::v5 ? Version::v311 : Version::v5, kMax);
    }
  }
}

TEST(CodecRandom, EverySampleTruncatesToNeedMore) {
  for (const auto& [packet, v] : samples()) {
    const Bytes b = encode_bytes(packet, v);
    expect_need_more_on_prefixes(b, v);
    expect_decodes_to(b, v, packet);
  }
}

}  // namespace
}  // namespace strata::protocol::test
