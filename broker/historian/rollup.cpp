#include "broker/historian/rollup.hpp"

#include <bit>

namespace strata::historian {

void Rollup::add(std::int64_t t, double v) {
  if (count == 0) {
    count = 1;
    sum = min = max = first = last = v;
    min_t = max_t = first_t = last_t = t;
    return;
  }
  ++count;
  sum += v;
  if (v < min) {
    min = v;
    min_t = t;
  }
  if (v > max) {
    max = v;
    max_t = t;
  }
  if (t < first_t) {
    first = v;
    first_t = t;
  }
  if (t >= last_t) {
    last = v;
    last_t = t;
  }
}

void Rollup::merge(const Rollup& o) {
  if (o.count == 0) return;
  if (count == 0) {
    *this = o;
    return;
  }
  count += o.count;
  sum += o.sum;
  if (o.min < min) {
    min = o.min;
    min_t = o.min_t;
  }
  if (o.max > max) {
    max = o.max;
    max_t = o.max_t;
  }
  if (o.first_t < first_t) {
    first = o.first;
    first_t = o.first_t;
  }
  if (o.last_t >= last_t) {
    last = o.last;
    last_t = o.last_t;
  }
}

namespace {

void put(std::string& out, std::uint64_t v, int bytes) {
  for (int i = bytes - 1; i >= 0; --i) out.push_back(static_cast<char>((v >> (i * 8)) & 0xff));
}
std::uint64_t get(std::string_view in, std::size_t& pos, int bytes) {
  std::uint64_t v = 0;
  for (int i = 0; i < bytes; ++i) v = (v << 8) | static_cast<std::uint8_t>(in[pos++]);
  return v;
}

}  // namespace

std::string encode_rollup(const Rollup& r, std::int64_t bucket_start) {
  std::string out;
  out.reserve(rollup_size);
  put(out, r.count, 4);
  for (double d : {r.sum, r.min, r.max, r.first, r.last}) put(out, std::bit_cast<std::uint64_t>(d), 8);
  for (std::int64_t t : {r.min_t, r.max_t, r.first_t, r.last_t}) {
    put(out, static_cast<std::uint64_t>(t - bucket_start), 4);
  }
  return out;
}

bool decode_rollup(std::string_view bytes, std::int64_t bucket_start, Rollup& out) {
  if (bytes.size() != rollup_size) return false;
  std::size_t pos = 0;
  Rollup r;
  r.count = static_cast<std::uint32_t>(get(bytes, pos, 4));
  double* d[] = {&r.sum, &r.min, &r.max, &r.first, &r.last};
  for (double* p : d) *p = std::bit_cast<double>(get(bytes, pos, 8));
  std::int64_t* t[] = {&r.min_t, &r.max_t, &r.first_t, &r.last_t};
  for (std::int64_t* p : t) *p = bucket_start + static_cast<std::int64_t>(get(bytes, pos, 4));
  if (r.count == 0) return false;
  out = r;
  return true;
}

}  // namespace strata::historian
