#include "broker/uns/snapshot_record.hpp"

#include <bit>

namespace strata::uns {

namespace {

template <class T>
void put(std::string& out, T v) {
  for (std::size_t i = 0; i < sizeof(T); ++i) out += static_cast<char>((static_cast<std::uint64_t>(v) >> (8 * i)) & 0xFF);
}

class Reader {
 public:
  explicit Reader(std::string_view b) : b_(b) {}
  template <class T>
  bool get(T& v) {
    if (b_.size() - at_ < sizeof(T)) return false;
    std::uint64_t x = 0;
    for (std::size_t i = 0; i < sizeof(T); ++i) x |= static_cast<std::uint64_t>(static_cast<unsigned char>(b_[at_ + i])) << (8 * i);
    at_ += sizeof(T);
    v = static_cast<T>(x);
    return true;
  }
  bool text(std::string& s) {
    std::uint32_t n = 0;
    if (!get(n) || b_.size() - at_ < n) return false;
    s.assign(b_.substr(at_, n));
    at_ += n;
    return true;
  }
  bool real(double& d) {
    std::uint64_t bits = 0;
    if (!get(bits)) return false;
    d = std::bit_cast<double>(bits);
    return true;
  }
  // A count of items of at least `min_bytes` each that the rest can hold.
  bool count(std::uint32_t& n, std::size_t min_bytes) { return get(n) && n <= (b_.size() - at_) / min_bytes; }
  bool done() const { return at_ == b_.size(); }

 private:
  std::string_view b_;
  std::size_t at_ = 0;
};

}  // namespace

std::string encode_snapshot_record(const SnapshotTopic& t) {
  std::string out;
  out.reserve(48 + t.value.size() + t.publisher.size());
  put(out, kSnapshotVersion);
  put(out, t.first_ms);
  put(out, t.last_ms);
  put(out, t.count);
  put(out, t.violations);
  put(out, t.size);
  put(out, t.qos);
  put(out, t.kind);
  put(out, static_cast<std::uint8_t>((t.retain ? 1 : 0) | (t.truncated ? 2 : 0)));
  put(out, static_cast<std::uint32_t>(t.value.size()));
  out += t.value;
  put(out, static_cast<std::uint32_t>(t.publisher.size()));
  out += t.publisher;
  put(out, t.taken_ms);
  put(out, std::bit_cast<std::uint64_t>(t.rate_per_s));
  put(out, std::bit_cast<std::uint64_t>(t.rate_per_min));
  auto text = [&out](const std::string& s) {
    put(out, static_cast<std::uint32_t>(s.size()));
    out += s;
  };
  put(out, static_cast<std::uint32_t>(t.user_properties.size()));
  for (const auto& [k, v] : t.user_properties) {
    text(k);
    text(v);
  }
  put(out, t.current);
  put(out, static_cast<std::uint32_t>(t.versions.size()));
  for (const SnapshotVersion& v : t.versions) {
    put(out, v.first_ms);
    put(out, v.last_ms);
    put(out, v.count);
    put(out, v.hash);
    put(out, static_cast<std::uint32_t>(v.fields.size()));
    for (const SnapshotField& f : v.fields) {
      text(f.path);
      put(out, f.types);
    }
  }
  return out;
}

std::optional<SnapshotTopic> decode_snapshot_record(std::string_view bytes) {
  Reader r(bytes);
  SnapshotTopic t;
  std::uint8_t version = 0, flags = 0;
  if (!r.get(version) || (version != 1 && version != kSnapshotVersion)) return std::nullopt;
  if (!r.get(t.first_ms) || !r.get(t.last_ms) || !r.get(t.count) || !r.get(t.violations) || !r.get(t.size) ||
      !r.get(t.qos) || !r.get(t.kind) || !r.get(flags) || !r.text(t.value) || !r.text(t.publisher)) {
    return std::nullopt;
  }
  if (t.qos > 2 || (flags & ~3u) != 0 || t.first_ms > t.last_ms) return std::nullopt;
  t.retain = (flags & 1) != 0;
  t.truncated = (flags & 2) != 0;
  if (version == 1) return r.done() ? std::optional<SnapshotTopic>(std::move(t)) : std::nullopt;

  std::uint32_t n = 0;
  if (!r.get(t.taken_ms) || !r.real(t.rate_per_s) || !r.real(t.rate_per_min) || !r.count(n, 8)) return std::nullopt;
  t.user_properties.resize(n);
  for (auto& [k, v] : t.user_properties) {
    if (!r.text(k) || !r.text(v)) return std::nullopt;
  }
  if (!r.get(t.current) || !r.count(n, 36) || n > kSnapshotMaxVersions) return std::nullopt;
  if (n == 0 ? t.current != 0 : t.current >= n) return std::nullopt;
  t.versions.resize(n);
  for (SnapshotVersion& v : t.versions) {
    std::uint32_t fields = 0;
    if (!r.get(v.first_ms) || !r.get(v.last_ms) || !r.get(v.count) || !r.get(v.hash) || !r.count(fields, 5)) {
      return std::nullopt;
    }
    if (v.first_ms > v.last_ms) return std::nullopt;
    v.fields.resize(fields);
    for (SnapshotField& f : v.fields) {
      if (!r.text(f.path) || !r.get(f.types)) return std::nullopt;
    }
  }
  if (!r.done()) return std::nullopt;
  return t;
}

}  // namespace strata::uns
