// The block codec: exact round trips in both value modes, the switch from
// decimal to xor mode, refused appends, every kind of damaged block the
// decoder must refuse, and bytes per point on realistic sensor data.
#include "broker/historian/block_codec.hpp"

#include <bit>
#include <cmath>
#include <cstdio>
#include <limits>
#include <random>

#include <gtest/gtest.h>

namespace strata::historian {
namespace {

std::vector<Point> round_trip(const std::vector<Point>& in, std::string* bytes = nullptr) {
  BlockEncoder enc;
  for (const Point& p : in) EXPECT_TRUE(enc.append(p.t, p.v)) << p.t << " " << p.v;
  std::string b = enc.bytes();
  if (bytes) *bytes = b;
  std::vector<Point> out;
  std::string why;
  EXPECT_TRUE(decode_block(b, out, &why)) << why;
  return out;
}

TEST(BlockCodec, DecimalValuesRoundTripExactly) {
  std::vector<Point> in = {{1000, 21.5}, {2000, 21.52}, {3000, 21.49}, {4000, 0}, {4000, -3.25}, {9000, 1013.2}};
  EXPECT_EQ(round_trip(in), in);
}

TEST(BlockCodec, AnyDoubleRoundTripsBitForBit) {
  std::vector<Point> in = {{0, 0.1 + 0.2},
                           {1, std::numeric_limits<double>::quiet_NaN()},
                           {2, -0.0},
                           {3, std::numeric_limits<double>::infinity()},
                           {4, -std::numeric_limits<double>::infinity()},
                           {5, std::numeric_limits<double>::denorm_min()},
                           {6, std::numeric_limits<double>::max()},
                           {7, 1e300},
                           {7, 1e300},
                           {max_time, 42}};
  EXPECT_EQ(round_trip(in), in);
}

TEST(BlockCodec, SwitchesToXorWhenAValueHasNoShortDecimal) {
  // Decimal at first, then a value with more digits, then one with none.
  std::vector<Point> in = {{10, 1}, {20, 2}, {30, 2.5}, {40, 2.125}, {50, 1.0 / 3}, {60, 4}};
  std::string bytes;
  EXPECT_EQ(round_trip(in, &bytes), in);
  EXPECT_EQ(static_cast<unsigned char>(bytes[0]) & 0x0f, 0u) << "xor mode";
}

TEST(BlockCodec, RaisesTheScaleWithoutLoss) {
  std::vector<Point> in = {{10, 1}, {20, 2.5}, {30, 2.25}, {40, 2.125}};
  std::string bytes;
  EXPECT_EQ(round_trip(in, &bytes), in);
  EXPECT_EQ(static_cast<unsigned char>(bytes[0]), 0x31) << "decimal mode, scale 3";
}

TEST(BlockCodec, TimeBucketsAtTheirEdges) {
  // Deltas of delta at each bucket boundary, both signs.
  std::vector<std::int64_t> dods = {0, 31, -32, 32, -33, 2047, -2048, 2048, -2049, (1 << 19) - 1, -(1 << 19),
                                    1 << 19, -(1 << 19) - 1, 1LL << 40};
  std::vector<Point> in;
  std::int64_t t = 1'700'000'000'000, delta = 5'000'000;
  in.push_back({t, 1});
  for (std::int64_t d : dods) {
    delta += d;
    t += delta;
    in.push_back({t, 1});
  }
  EXPECT_EQ(round_trip(in), in);
}

TEST(BlockCodec, DecimalDeltaBucketsAtTheirEdges) {
  std::vector<Point> in;
  std::int64_t n = 0;
  std::int64_t t = 0;
  in.push_back({t, 0});
  for (std::int64_t d : {0LL, 7LL, -8LL, 8LL, 127LL, -128LL, 128LL, 32767LL, -32768LL, 32768LL, 2147483647LL,
                         -2147483648LL, 2147483648LL, 1LL << 50, -(1LL << 51)}) {
    n += d;
    in.push_back({++t, static_cast<double>(n)});
  }
  EXPECT_EQ(round_trip(in), in);
}

TEST(BlockCodec, RefusesOutOfOrderAndOutOfRangeTimes) {
  BlockEncoder enc;
  EXPECT_FALSE(enc.append(-1, 1));
  EXPECT_FALSE(enc.append(max_time + 1, 1));
  EXPECT_TRUE(enc.append(100, 1));
  EXPECT_FALSE(enc.append(99, 1));
  EXPECT_TRUE(enc.append(100, 2));
  EXPECT_EQ(enc.count(), 2u);
  EXPECT_EQ(enc.first_time(), 100);
  EXPECT_EQ(enc.last_time(), 100);
}

TEST(BlockCodec, ResumeContinuesAStoredBlock) {
  BlockEncoder a;
  for (int i = 0; i < 50; ++i) a.append(i * 1000, i * 0.5);
  BlockEncoder b;
  ASSERT_TRUE(b.resume(a.bytes()));
  a.append(50'000, 99.9);
  b.append(50'000, 99.9);
  EXPECT_EQ(a.bytes(), b.bytes());
  EXPECT_FALSE(b.resume("garbage"));
}

TEST(BlockCodec, HeaderReadsWithoutDecoding) {
  BlockEncoder enc;
  enc.append(5000, 1);
  enc.append(7000, 2);
  enc.append(9500, 3);
  BlockInfo info;
  ASSERT_TRUE(read_block_info(enc.bytes(), info));
  EXPECT_EQ(info.count, 3u);
  EXPECT_EQ(info.first, 5000);
  EXPECT_EQ(info.last, 9500);
}

TEST(BlockCodec, RefusesDamagedBlocks) {
  BlockEncoder enc;
  for (int i = 0; i < 20; ++i) enc.append(1000 * i + (i % 3), 20 + (i % 7) * 0.1);
  const std::string good = enc.bytes();
  std::vector<Point> out;
  ASSERT_TRUE(decode_block(good, out));
  out.clear();
  std::string why;
  // Every truncation is refused, and `out` is left as it was.
  for (std::size_t n = 0; n < good.size(); ++n) {
    EXPECT_FALSE(decode_block(good.substr(0, n), out, &why)) << n;
    EXPECT_TRUE(out.empty());
  }
  EXPECT_FALSE(decode_block(good + '\0', out, &why));
  EXPECT_EQ(why, "bytes after the last point");
  std::string bad = good;
  bad[0] = 0x02;
  EXPECT_FALSE(decode_block(bad, out, &why));
  EXPECT_EQ(why, "unknown value mode");
  bad = good;
  bad[0] = 0x71;
  EXPECT_FALSE(decode_block(bad, out, &why));
  EXPECT_EQ(why, "decimal scale above 6");
  // count 0
  EXPECT_FALSE(decode_block(std::string("\x01\x00\x00\x00\x00", 5), out, &why));
  EXPECT_EQ(why, "point count out of range");
  // Two points whose times go backwards: dod -32 after a first delta 0.
  // format 1, count 2, first 100, span 0, value 0, then '10' + 100000 (=-32) + value '0'.
  EXPECT_FALSE(decode_block(std::string("\x01\x02\x64\x00\x00\xa0\x00", 7), out, &why));
  EXPECT_EQ(why, "time out of order or out of range");
  // The header's last time must match the points.
  bad = good;
  bad[3] = static_cast<char>(bad[3] + 1);  // span (one byte varint here)
  EXPECT_FALSE(decode_block(bad, out, &why));
  EXPECT_TRUE(out.empty());
}

// Realistic sensor data: 1 Hz, receive times with a few ms of jitter, and
// the same with exact device timestamps; a temperature with two decimals
// drifting with noise, a pressure with one, a boolean state.
double bytes_per_point(bool jitter, int kind) {
  std::mt19937_64 rng(42 + kind);
  std::normal_distribution<double> noise(0, 1);
  std::uniform_int_distribution<int> jit(-3, 3);
  BlockEncoder enc;
  std::size_t bytes = 0, points = 0;
  std::int64_t t = 1'796'542'520'000;
  double level = kind == 0 ? 21.5 : 1013.2;
  bool state = false;
  for (int i = 0; i < 86'400; ++i) {
    std::int64_t at = t + i * 1000 + (jitter ? jit(rng) : 0);
    double v;
    if (kind == 2) {
      if (i % 600 == 0) state = !state;
      v = state ? 1 : 0;
    } else {
      level += noise(rng) * (kind == 0 ? 0.01 : 0.05);
      v = kind == 0 ? std::round(level * 100) / 100 : std::round(level * 10) / 10;
    }
    if (enc.count() >= 1024) {
      bytes += enc.bytes().size();
      points += enc.count();
      enc.clear();
    }
    EXPECT_TRUE(enc.append(at, v));
  }
  bytes += enc.bytes().size();
  points += enc.count();
  return static_cast<double>(bytes) / static_cast<double>(points);
}

TEST(BlockCodec, BytesPerPointOnSensorData) {
  const char* kinds[] = {"temperature 0.01", "pressure 0.1", "boolean state"};
  for (int kind = 0; kind < 3; ++kind) {
    for (bool jitter : {false, true}) {
      double bpp = bytes_per_point(jitter, kind);
      std::printf("%-18s %-16s %.2f bytes/point\n", kinds[kind], jitter ? "receive times" : "device times", bpp);
      EXPECT_LE(bpp, 3.0) << kinds[kind];
    }
  }
}

}  // namespace
}  // namespace strata::historian
