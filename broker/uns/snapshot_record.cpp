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
  put(out, static_cast<std::uint32_t>(t.properties.user.size()));
  for (const auto& [k, v] : t.properties.user) {
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
  const LastProperties& p = t.properties;
  put(out, static_cast<std::uint8_t>((p.payload_format_indicator ? 1 : 0) | (p.message_expiry_interval ? 2 : 0) |
                                     (p.content_type ? 4 : 0) | (p.response_topic ? 8 : 0) |
                                     (p.correlation_data ? 16 : 0)));
  if (p.payload_format_indicator) put(out, *p.payload_format_indicator);
  if (p.message_expiry_interval) put(out, *p.message_expiry_interval);
  if (p.content_type) text(*p.content_type);
  if (p.response_topic) text(*p.response_topic);
  if (p.correlation_data) text(*p.correlation_data);
  put(out, static_cast<std::uint8_t>(t.last_violation ? 1 : 0));
  if (const auto& v = t.last_violation) {
    put(out, v->at_ms);
    text(v->client_id);
    text(v->contract);
    text(v->version);
    text(v->pointer);
    put(out, v->kind);
    text(v->detail);
    text(v->sample);
    put(out, v->action);
  }
  return out;
}

std::optional<SnapshotTopic> decode_snapshot_record(std::string_view bytes) {
  Reader r(bytes);
  SnapshotTopic t;
  std::uint8_t version = 0, flags = 0;
  if (!r.get(version) || version < 1 || version > kSnapshotVersion) return std::nullopt;
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
  t.properties.user.resize(n);
  for (auto& [k, v] : t.properties.user) {
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
  if (version == 2) return r.done() ? std::optional<SnapshotTopic>(std::move(t)) : std::nullopt;

  std::uint8_t flags3 = 0, has_violation = 0;
  if (!r.get(flags3) || (flags3 & ~31u) != 0) return std::nullopt;
  LastProperties& p = t.properties;
  auto opt_u8 = [&](std::optional<std::uint8_t>& o) { return r.get(o.emplace()); };
  auto opt_u32 = [&](std::optional<std::uint32_t>& o) { return r.get(o.emplace()); };
  auto opt_text = [&](std::optional<std::string>& o) { return r.text(o.emplace()); };
  if (((flags3 & 1) && !opt_u8(p.payload_format_indicator)) || ((flags3 & 2) && !opt_u32(p.message_expiry_interval)) ||
      ((flags3 & 4) && !opt_text(p.content_type)) || ((flags3 & 8) && !opt_text(p.response_topic)) ||
      ((flags3 & 16) && !opt_text(p.correlation_data))) {
    return std::nullopt;
  }
  if (!r.get(has_violation) || has_violation > 1) return std::nullopt;
  if (has_violation == 1) {
    SnapshotViolation& v = t.last_violation.emplace();
    if (!r.get(v.at_ms) || !r.text(v.client_id) || !r.text(v.contract) || !r.text(v.version) || !r.text(v.pointer) ||
        !r.get(v.kind) || !r.text(v.detail) || !r.text(v.sample) || !r.get(v.action)) {
      return std::nullopt;
    }
    if (v.kind >= kSnapshotKinds || v.action >= kSnapshotActions) return std::nullopt;
  }
  if (!r.done()) return std::nullopt;
  return t;
}

}  // namespace strata::uns
