#include "broker/historian/block_codec.hpp"

#include <bit>
#include <cmath>
#include <cstring>

namespace strata::historian {

namespace {

constexpr double pow10[] = {1, 10, 100, 1000, 10000, 100000, 1000000};
constexpr unsigned max_scale = 6;
constexpr std::int64_t max_exact = std::int64_t{1} << 53;

std::uint64_t bits_of(double v) { return std::bit_cast<std::uint64_t>(v); }
double double_of(std::uint64_t b) { return std::bit_cast<double>(b); }

std::uint64_t zigzag(std::int64_t v) {
  return (static_cast<std::uint64_t>(v) << 1) ^ static_cast<std::uint64_t>(v >> 63);
}
std::int64_t unzigzag(std::uint64_t u) { return static_cast<std::int64_t>((u >> 1) ^ (~(u & 1) + 1)); }

void put_varint(std::string& out, std::uint64_t v) {
  while (v >= 0x80) {
    out.push_back(static_cast<char>((v & 0x7f) | 0x80));
    v >>= 7;
  }
  out.push_back(static_cast<char>(v));
}

// Reads the header and then the bit stream; every read is bounds-checked.
class Reader {
 public:
  explicit Reader(std::string_view in) : in_(in) {}

  bool byte(std::uint8_t& b) {
    if (pos_ >= in_.size()) return false;
    b = static_cast<std::uint8_t>(in_[pos_++]);
    return true;
  }
  bool varint(std::uint64_t& v) {
    v = 0;
    for (unsigned shift = 0; shift < 64; shift += 7) {
      std::uint8_t b;
      if (!byte(b)) return false;
      if (shift == 63 && (b & 0x7e) != 0) return false;  // beyond 64 bits
      v |= static_cast<std::uint64_t>(b & 0x7f) << shift;
      if ((b & 0x80) == 0) return true;
    }
    return false;
  }
  bool u64(std::uint64_t& v) {
    if (in_.size() - pos_ < 8) return false;
    v = 0;
    for (int i = 0; i < 8; ++i) v = (v << 8) | static_cast<std::uint8_t>(in_[pos_++]);
    return true;
  }
  // Bits, MSB first, from the current byte position on.
  bool bits(unsigned n, std::uint64_t& v) {
    v = 0;
    while (n > 0) {
      if (pos_ >= in_.size()) return false;
      unsigned avail = 8 - bit_;
      unsigned k = n < avail ? n : avail;
      auto byte = static_cast<std::uint8_t>(in_[pos_]);
      std::uint64_t chunk = (byte >> (avail - k)) & ((1u << k) - 1);
      v = (v << k) | chunk;
      bit_ += k;
      n -= k;
      if (bit_ == 8) {
        bit_ = 0;
        ++pos_;
      }
    }
    return true;
  }
  // Counts leading 1 bits, up to `max` (stops at the first 0 or at max).
  bool ones(unsigned max, unsigned& n) {
    n = 0;
    while (n < max) {
      std::uint64_t b;
      if (!bits(1, b)) return false;
      if (b == 0) return true;
      ++n;
    }
    return true;
  }
  // Nothing left but zero padding in the current byte.
  bool at_end() const {
    if (bit_ == 0) return pos_ == in_.size();
    if (pos_ + 1 != in_.size()) return false;
    auto byte = static_cast<std::uint8_t>(in_[pos_]);
    return (byte & ((1u << (8 - bit_)) - 1)) == 0;
  }

 private:
  std::string_view in_;
  std::size_t pos_ = 0;
  unsigned bit_ = 0;  // bits of in_[pos_] already read
};

struct Header {
  unsigned mode = 0, scale = 0;
  BlockInfo info;
  std::uint64_t first_bits = 0;  // xor: value bits; decimal: the integer as u64
};

bool read_header(Reader& r, Header& h, std::string* error) {
  auto fail = [&](const char* why) {
    if (error) *error = why;
    return false;
  };
  std::uint8_t format;
  if (!r.byte(format)) return fail("empty block");
  h.mode = format & 0x0f;
  h.scale = format >> 4;
  if (h.mode > 1) return fail("unknown value mode");
  if (h.mode == 0 && h.scale != 0) return fail("scale in xor mode");
  if (h.scale > max_scale) return fail("decimal scale above 6");
  std::uint64_t count, first, span;
  if (!r.varint(count) || !r.varint(first) || !r.varint(span)) return fail("truncated header");
  if (count == 0 || count > max_block_points) return fail("point count out of range");
  if (first > static_cast<std::uint64_t>(max_time) || span > static_cast<std::uint64_t>(max_time) - first) {
    return fail("time out of range");
  }
  if (count == 1 && span != 0) return fail("one point with a time span");
  h.info.count = static_cast<std::uint32_t>(count);
  h.info.first = static_cast<std::int64_t>(first);
  h.info.last = static_cast<std::int64_t>(first + span);
  if (h.mode == 0) {
    if (!r.u64(h.first_bits)) return fail("truncated first value");
  } else {
    std::uint64_t z;
    if (!r.varint(z)) return fail("truncated first value");
    std::int64_t n = unzigzag(z);
    if (n <= -max_exact || n >= max_exact) return fail("decimal value out of range");
    h.first_bits = static_cast<std::uint64_t>(n);
  }
  return true;
}

}  // namespace

bool Point::operator==(const Point& o) const noexcept { return t == o.t && bits_of(v) == bits_of(o.v); }

bool decimal_scale(double v, unsigned& scale, std::int64_t& n) {
  if (!std::isfinite(v) || (v == 0 && std::signbit(v))) return false;
  for (unsigned d = 0; d <= max_scale; ++d) {
    double s = std::nearbyint(v * pow10[d]);
    if (std::fabs(s) >= static_cast<double>(max_exact)) return false;
    if (s / pow10[d] == v) {
      scale = d;
      n = static_cast<std::int64_t>(s);
      return true;
    }
  }
  return false;
}

namespace {

// v as an integer at exactly this scale, or false.
bool fits(double v, unsigned scale, std::int64_t& n) {
  if (!std::isfinite(v) || (v == 0 && std::signbit(v))) return false;
  double s = std::nearbyint(v * pow10[scale]);
  if (std::fabs(s) >= static_cast<double>(max_exact)) return false;
  if (s / pow10[scale] != v) return false;
  n = static_cast<std::int64_t>(s);
  return true;
}

}  // namespace

void BlockEncoder::clear() { *this = BlockEncoder{}; }

void BlockEncoder::put_bits(std::uint64_t value, unsigned n) {
  while (n > 0) {
    if (bit_fill_ == 8) {
      bits_.push_back('\0');
      bit_fill_ = 0;
    }
    unsigned k = std::min(n, 8 - bit_fill_);
    auto chunk = static_cast<unsigned>((value >> (n - k)) & ((1u << k) - 1));
    bits_.back() = static_cast<char>(static_cast<unsigned char>(bits_.back()) | (chunk << (8 - bit_fill_ - k)));
    bit_fill_ += k;
    n -= k;
  }
}

void BlockEncoder::put_time(std::int64_t t) {
  std::int64_t delta = t - last_t_;
  std::int64_t dod = delta - last_delta_;
  if (dod == 0) {
    put_bits(0, 1);
  } else if (dod >= -32 && dod <= 31) {
    put_bits(0b10, 2);
    put_bits(static_cast<std::uint64_t>(dod) & 0x3f, 6);
  } else if (dod >= -2048 && dod <= 2047) {
    put_bits(0b110, 3);
    put_bits(static_cast<std::uint64_t>(dod) & 0xfff, 12);
  } else if (dod >= -(1 << 19) && dod < (1 << 19)) {
    put_bits(0b1110, 4);
    put_bits(static_cast<std::uint64_t>(dod) & 0xfffff, 20);
  } else {
    put_bits(0b1111, 4);
    put_bits(static_cast<std::uint64_t>(dod), 64);
  }
  last_delta_ = delta;
  last_t_ = t;
}

void BlockEncoder::put_value(double v) {
  if (mode_ == Mode::decimal) {
    std::int64_t n = 0;
    fits(v, scale_, n);  // checked by the caller
    std::uint64_t z = zigzag(n - prev_int_);
    if (z == 0) {
      put_bits(0, 1);
    } else if (z < (1u << 4)) {
      put_bits(0b10, 2);
      put_bits(z, 4);
    } else if (z < (1u << 8)) {
      put_bits(0b110, 3);
      put_bits(z, 8);
    } else if (z < (1u << 16)) {
      put_bits(0b1110, 4);
      put_bits(z, 16);
    } else if (z < (std::uint64_t{1} << 32)) {
      put_bits(0b11110, 5);
      put_bits(z, 32);
    } else {
      put_bits(0b11111, 5);
      put_bits(z, 64);
    }
    prev_int_ = n;
    return;
  }
  std::uint64_t b = bits_of(v);
  std::uint64_t x = b ^ prev_bits_;
  prev_bits_ = b;
  if (x == 0) {
    put_bits(0, 1);
    return;
  }
  unsigned lz = std::min<unsigned>(static_cast<unsigned>(std::countl_zero(x)), 31);
  auto tz = static_cast<unsigned>(std::countr_zero(x));
  if (leading_ != 0xff && lz >= leading_ && tz >= trailing_) {
    put_bits(0b10, 2);
    put_bits(x >> trailing_, 64 - leading_ - trailing_);
    return;
  }
  unsigned len = 64 - lz - tz;
  put_bits(0b11, 2);
  put_bits(lz, 5);
  put_bits(len - 1, 6);
  put_bits(x >> tz, len);
  leading_ = lz;
  trailing_ = tz;
}

bool BlockEncoder::append(std::int64_t t, double v) {
  if (t < 0 || t > max_time || count_ >= max_block_points) return false;
  if (count_ == 0) {
    std::int64_t n = 0;
    if (decimal_scale(v, scale_, n)) {
      mode_ = Mode::decimal;
      first_bits_ = static_cast<std::uint64_t>(n);
      prev_int_ = n;
    } else {
      mode_ = Mode::xor_bits;
      scale_ = 0;
      first_bits_ = prev_bits_ = bits_of(v);
    }
    first_t_ = last_t_ = t;
    last_delta_ = 0;
    count_ = 1;
    return true;
  }
  if (t < last_t_) return false;
  std::int64_t n = 0;
  if (mode_ == Mode::decimal && !fits(v, scale_, n)) {
    unsigned scale = 0;
    if (decimal_scale(v, scale, n) && scale > scale_) {
      reencode(Mode::decimal, scale, t, v);
    } else {
      reencode(Mode::xor_bits, 0, t, v);
    }
    return true;
  }
  put_time(t);
  put_value(v);
  ++count_;
  return true;
}

void BlockEncoder::reencode(Mode mode, unsigned scale, std::int64_t t, double v) {
  std::vector<Point> points;
  decode_block(bytes(), points);
  points.push_back({t, v});
  if (mode == Mode::decimal) {
    std::int64_t n = 0;
    for (const Point& p : points) {
      if (!fits(p.v, scale, n)) {
        mode = Mode::xor_bits;
        break;
      }
    }
  }
  clear();
  mode_ = mode;
  scale_ = mode == Mode::decimal ? scale : 0;
  first_t_ = last_t_ = points[0].t;
  count_ = 1;
  if (mode_ == Mode::decimal) {
    std::int64_t n = 0;
    fits(points[0].v, scale_, n);
    first_bits_ = static_cast<std::uint64_t>(n);
    prev_int_ = n;
  } else {
    first_bits_ = prev_bits_ = bits_of(points[0].v);
  }
  for (std::size_t i = 1; i < points.size(); ++i) {
    put_time(points[i].t);
    put_value(points[i].v);
    ++count_;
  }
}

std::string BlockEncoder::bytes() const {
  std::string out;
  if (count_ == 0) return out;
  out.reserve(bits_.size() + 32);
  out.push_back(static_cast<char>(static_cast<unsigned>(mode_) | (scale_ << 4)));
  put_varint(out, count_);
  put_varint(out, static_cast<std::uint64_t>(first_t_));
  put_varint(out, static_cast<std::uint64_t>(last_t_ - first_t_));
  if (mode_ == Mode::xor_bits) {
    for (int i = 7; i >= 0; --i) out.push_back(static_cast<char>((first_bits_ >> (i * 8)) & 0xff));
  } else {
    put_varint(out, zigzag(static_cast<std::int64_t>(first_bits_)));
  }
  out += bits_;
  return out;
}

bool BlockEncoder::resume(std::string_view block) {
  std::vector<Point> points;
  if (!decode_block(block, points)) return false;
  clear();
  for (const Point& p : points) append(p.t, p.v);
  return true;
}

bool read_block_info(std::string_view block, BlockInfo& info) {
  Reader r(block);
  Header h;
  if (!read_header(r, h, nullptr)) return false;
  info = h.info;
  return true;
}

bool decode_block(std::string_view block, std::vector<Point>& out, std::string* error) {
  Reader r(block);
  Header h;
  if (!read_header(r, h, error)) return false;
  auto fail = [&](const char* why) {
    if (error) *error = why;
    return false;
  };
  std::vector<Point> points;
  points.reserve(h.info.count);
  std::int64_t t = h.info.first, delta = 0;
  std::uint64_t prev_bits = h.first_bits;
  auto prev_int = static_cast<std::int64_t>(h.first_bits);
  unsigned leading = 0xff, trailing = 0;
  const double p10 = pow10[h.scale];
  points.push_back({t, h.mode == 0 ? double_of(prev_bits) : static_cast<double>(prev_int) / p10});
  for (std::uint32_t i = 1; i < h.info.count; ++i) {
    unsigned ones;
    std::uint64_t raw;
    if (!r.ones(4, ones)) return fail("truncated time");
    static constexpr unsigned time_bits[] = {0, 6, 12, 20, 64};
    std::int64_t dod = 0;
    if (ones > 0) {
      unsigned n = time_bits[ones];
      if (!r.bits(n, raw)) return fail("truncated time");
      if (n < 64 && (raw >> (n - 1)) != 0) raw |= ~std::uint64_t{0} << n;  // sign-extend
      dod = static_cast<std::int64_t>(raw);
    }
    auto next_delta = static_cast<std::int64_t>(static_cast<std::uint64_t>(delta) + static_cast<std::uint64_t>(dod));
    if (next_delta < 0 || next_delta > max_time - t) return fail("time out of order or out of range");
    delta = next_delta;
    t += delta;
    double v;
    if (h.mode == 0) {
      std::uint64_t b;
      if (!r.bits(1, b)) return fail("truncated value");
      if (b == 1) {
        if (!r.bits(1, b)) return fail("truncated value");
        if (b == 0) {
          if (leading == 0xff) return fail("value reuses a window before one was set");
        } else {
          std::uint64_t lz, len;
          if (!r.bits(5, lz) || !r.bits(6, len)) return fail("truncated value");
          ++len;
          if (lz + len > 64) return fail("value window beyond 64 bits");
          leading = static_cast<unsigned>(lz);
          trailing = static_cast<unsigned>(64 - lz - len);
        }
        std::uint64_t x;
        if (!r.bits(64 - leading - trailing, x)) return fail("truncated value");
        prev_bits ^= x << trailing;
      }
      v = double_of(prev_bits);
    } else {
      unsigned ones_v;
      if (!r.ones(5, ones_v)) return fail("truncated value");
      static constexpr unsigned value_bits[] = {0, 4, 8, 16, 32, 64};
      std::uint64_t z = 0;
      if (ones_v > 0 && !r.bits(value_bits[ones_v], z)) return fail("truncated value");
      auto n = static_cast<std::int64_t>(static_cast<std::uint64_t>(prev_int) +
                                         static_cast<std::uint64_t>(unzigzag(z)));
      if (n <= -max_exact || n >= max_exact) return fail("decimal value out of range");
      prev_int = n;
      v = static_cast<double>(n) / p10;
    }
    points.push_back({t, v});
  }
  if (t != h.info.last) return fail("last time does not match the header");
  if (!r.at_end()) return fail("bytes after the last point");
  out.insert(out.end(), points.begin(), points.end());
  return true;
}

}  // namespace strata::historian
