#include "broker/historian/replay_job.hpp"

#include <rapidjson/document.h>

#include "broker/historian/time_format.hpp"
#include "broker/router/topic.hpp"

namespace strata::historian {

namespace {

constexpr std::uint8_t kVersion = 1;
constexpr std::uint32_t kMaxRate = 1'000'000;

void put_be(std::string& out, std::uint64_t v, int bytes) {
  for (int i = bytes - 1; i >= 0; --i) out.push_back(static_cast<char>((v >> (i * 8)) & 0xff));
}

void put_str(std::string& out, std::string_view s) {
  const std::size_t n = s.size() > 0xffff ? 0xffff : s.size();
  put_be(out, n, 2);
  out.append(s.data(), n);
}

// Reads big-endian fields off the front of a record; ok() turns false on
// the first read past the end.
struct Reader {
  std::string_view in;
  bool bad = false;
  std::uint64_t u(int bytes) {
    if (bad || in.size() < static_cast<std::size_t>(bytes)) {
      bad = true;
      return 0;
    }
    std::uint64_t v = 0;
    for (int i = 0; i < bytes; ++i) v = (v << 8) | static_cast<std::uint8_t>(in[static_cast<std::size_t>(i)]);
    in.remove_prefix(static_cast<std::size_t>(bytes));
    return v;
  }
  std::string str() {
    const auto n = static_cast<std::size_t>(u(2));
    if (bad || in.size() < n) {
      bad = true;
      return {};
    }
    std::string s(in.substr(0, n));
    in.remove_prefix(n);
    return s;
  }
  bool ok() const { return !bad && in.empty(); }
};

// A time member: an RFC 3339 string or an integer of unix ms.
bool read_time(const rapidjson::Value& v, const char* name, std::int64_t& out, std::string& error) {
  if (v.IsInt64()) {
    out = v.GetInt64();
    if (out >= 0) return true;
  } else if (v.IsString()) {
    if (auto t = parse_time(std::string_view(v.GetString(), v.GetStringLength()))) {
      out = *t;
      return true;
    }
  }
  error = std::string(name) + " must be an RFC 3339 time or unix ms";
  return false;
}

}  // namespace

std::string_view job_state_name(JobState s) noexcept {
  switch (s) {
    case JobState::running: return "running";
    case JobState::done: return "done";
    case JobState::cancelled: return "cancelled";
    case JobState::failed: return "failed";
  }
  return "unknown";
}

std::optional<ReplayRequest> parse_replay_request(std::string_view body, std::string& error) {
  rapidjson::Document doc;
  doc.Parse<rapidjson::kParseIterativeFlag>(body.data(), body.size());
  if (doc.HasParseError() || !doc.IsObject()) {
    error = "the body is not a JSON object";
    return std::nullopt;
  }
  ReplayRequest r;
  bool has_filter = false, has_from = false, has_to = false, has_bridge = false;
  // By index: comparing rapidjson's member iterators is ambiguous in C++20 (clang warns).
  for (rapidjson::SizeType i = 0; i < doc.MemberCount(); ++i) {
    const auto& member = doc.MemberBegin()[i];
    const std::string key(member.name.GetString(), member.name.GetStringLength());
    const rapidjson::Value& v = member.value;
    if (key == "filter" || key == "bridge") {
      if (!v.IsString() || v.GetStringLength() == 0) {
        error = key + " must be a non-empty string";
        return std::nullopt;
      }
      (key == "filter" ? r.filter : r.bridge).assign(v.GetString(), v.GetStringLength());
      (key == "filter" ? has_filter : has_bridge) = true;
    } else if (key == "from" || key == "to") {
      if (!read_time(v, key.c_str(), key == "from" ? r.from : r.to, error)) return std::nullopt;
      (key == "from" ? has_from : has_to) = true;
    } else if (key == "rate") {
      if (v.IsNull()) continue;
      if (!v.IsUint() || v.GetUint() > kMaxRate) {
        error = "rate must be an integer from 0 (line rate) to 1000000 messages/s";
        return std::nullopt;
      }
      r.rate = v.GetUint();
    } else {
      error = "unknown member '" + key + "' (expected filter, from, to, bridge, rate)";
      return std::nullopt;
    }
  }
  for (auto [has, name] : {std::pair{has_filter, "filter"}, std::pair{has_from, "from"}, std::pair{has_to, "to"},
                           std::pair{has_bridge, "bridge"}}) {
    if (!has) {
      error = std::string(name) + " is missing";
      return std::nullopt;
    }
  }
  if (!router::is_valid_topic_filter(r.filter)) {
    error = "filter '" + r.filter + "' is not a valid MQTT topic filter";
    return std::nullopt;
  }
  if (r.from >= r.to) {
    error = "from must be before to (the range is [from, to))";
    return std::nullopt;
  }
  return r;
}

std::string encode_job(const ReplayJob& j) {
  std::string out;
  out.reserve(80 + j.position.size() + j.request.filter.size() + j.request.bridge.size() + j.error.size());
  out.push_back(static_cast<char>(kVersion));
  out.push_back(static_cast<char>(j.state));
  put_be(out, static_cast<std::uint64_t>(j.request.from), 8);
  put_be(out, static_cast<std::uint64_t>(j.request.to), 8);
  put_be(out, j.request.rate, 4);
  put_be(out, static_cast<std::uint64_t>(j.created_ms), 8);
  put_be(out, static_cast<std::uint64_t>(j.updated_ms), 8);
  put_be(out, j.sent, 8);
  put_be(out, j.skipped, 8);
  put_str(out, j.position);
  put_str(out, j.request.filter);
  put_str(out, j.request.bridge);
  put_str(out, j.error);
  return out;
}

bool decode_job(std::uint64_t id, std::string_view bytes, ReplayJob& out) {
  Reader r{bytes};
  if (r.u(1) != kVersion) return false;
  ReplayJob j;
  j.id = id;
  const auto state = r.u(1);
  if (state > static_cast<std::uint64_t>(JobState::failed)) return false;
  j.state = static_cast<JobState>(state);
  j.request.from = static_cast<std::int64_t>(r.u(8));
  j.request.to = static_cast<std::int64_t>(r.u(8));
  j.request.rate = static_cast<std::uint32_t>(r.u(4));
  j.created_ms = static_cast<std::int64_t>(r.u(8));
  j.updated_ms = static_cast<std::int64_t>(r.u(8));
  j.sent = r.u(8);
  j.skipped = r.u(8);
  j.position = r.str();
  j.request.filter = r.str();
  j.request.bridge = r.str();
  j.error = r.str();
  if (!r.ok() || (!j.position.empty() && j.position.size() != 16)) return false;
  out = std::move(j);
  return true;
}

std::string job_key(std::uint64_t id) {
  std::string k;
  put_be(k, id, 8);
  return k;
}

std::optional<std::uint64_t> job_id_of_key(std::string_view key) {
  if (key.size() != 8) return std::nullopt;
  Reader r{key};
  return r.u(8);
}

std::optional<double> eta_seconds(std::uint64_t remaining, double rate_per_s) {
  if (remaining == 0) return 0.0;
  if (rate_per_s <= 0) return std::nullopt;
  return static_cast<double>(remaining) / rate_per_s;
}

}  // namespace strata::historian
