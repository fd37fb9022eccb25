#include "broker/uns/snapshot_record.hpp"

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
  return out;
}

std::optional<SnapshotTopic> decode_snapshot_record(std::string_view bytes) {
  Reader r(bytes);
  SnapshotTopic t;
  std::uint8_t version = 0, flags = 0;
  if (!r.get(version) || version != kSnapshotVersion) return std::nullopt;
  if (!r.get(t.first_ms) || !r.get(t.last_ms) || !r.get(t.count) || !r.get(t.violations) || !r.get(t.size) ||
      !r.get(t.qos) || !r.get(t.kind) || !r.get(flags) || !r.text(t.value) || !r.text(t.publisher) || !r.done()) {
    return std::nullopt;
  }
  if (t.qos > 2 || (flags & ~3u) != 0 || t.first_ms > t.last_ms) return std::nullopt;
  t.retain = (flags & 1) != 0;
  t.truncated = (flags & 2) != 0;
  return t;
}

}  // namespace strata::uns
