#include "broker/historian/samples.hpp"

#include <charconv>
#include <cmath>

#include <rapidjson/document.h>

#include "broker/historian/time_format.hpp"

namespace strata::historian {

namespace {

constexpr unsigned max_depth = 16;

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\r' || s.front() == '\n')) {
    s.remove_prefix(1);
  }
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r' || s.back() == '\n')) {
    s.remove_suffix(1);
  }
  return s;
}

bool plain_value(std::string_view s, double& v) {
  if (s == "true") {
    v = 1;
    return true;
  }
  if (s == "false") {
    v = 0;
    return true;
  }
  if (s.empty()) return false;
  if (s.front() == '+') s.remove_prefix(1);
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  return ec == std::errc{} && p == s.data() + s.size() && std::isfinite(v);
}

void walk(const rapidjson::Value& obj, std::string& path, std::string_view skip, unsigned depth,
          std::vector<Sample>& out, std::int64_t t) {
  if (depth > max_depth) return;
  for (auto it = obj.MemberBegin(); it != obj.MemberEnd(); ++it) {
    const std::size_t mark = path.size();
    if (!path.empty() && path.back() != '#') path += '.';
    path.append(it->name.GetString(), it->name.GetStringLength());
    const rapidjson::Value& v = it->value;
    std::string_view rel(path);
    rel.remove_prefix(rel.find('#') + 1);
    if (rel != skip) {
      if (v.IsNumber()) {
        double d = v.GetDouble();
        if (std::isfinite(d)) out.push_back({path, t, d});
      } else if (v.IsBool()) {
        out.push_back({path, t, v.GetBool() ? 1.0 : 0.0});
      } else if (v.IsObject()) {
        walk(v, path, skip, depth + 1, out, t);
      }
    }
    path.resize(mark);
  }
}

const rapidjson::Value* find_path(const rapidjson::Value& root, std::string_view path) {
  const rapidjson::Value* v = &root;
  while (!path.empty()) {
    std::size_t dot = path.find('.');
    std::string_view name = path.substr(0, dot);
    if (!v->IsObject()) return nullptr;
    auto it = v->FindMember(rapidjson::Value(rapidjson::StringRef(name.data(), name.size())));
    if (it == v->MemberEnd()) return nullptr;
    v = &it->value;
    path = dot == std::string_view::npos ? std::string_view{} : path.substr(dot + 1);
  }
  return v;
}

bool timestamp_of(const rapidjson::Value& v, std::int64_t& t) {
  if (v.IsNumber()) {
    double d = v.GetDouble();
    if (!std::isfinite(d) || d < 0 || d > 9.0e15) return false;
    t = d < 1e11 ? static_cast<std::int64_t>(std::floor(d * 1000)) : static_cast<std::int64_t>(d);
    return true;
  }
  if (v.IsString()) {
    auto p = parse_time(std::string_view(v.GetString(), v.GetStringLength()));
    if (!p || *p < 0) return false;
    t = *p;
    return true;
  }
  return false;
}

}  // namespace

std::int64_t extract_samples(std::string_view topic, std::string_view payload, std::int64_t received_ms,
                             std::string_view timestamp_field, std::vector<Sample>& out) {
  std::string_view body = trim(payload);
  double v;
  if (plain_value(body, v)) {
    out.push_back({std::string(topic), received_ms, v});
    return received_ms;
  }
  if (body.empty() || body.front() != '{') return received_ms;
  rapidjson::Document doc;
  doc.Parse<rapidjson::kParseIterativeFlag>(body.data(), body.size());
  if (doc.HasParseError() || !doc.IsObject()) return received_ms;
  std::int64_t t = received_ms;
  if (!timestamp_field.empty()) {
    if (const rapidjson::Value* ts = find_path(doc, timestamp_field)) {
      std::int64_t parsed;
      if (timestamp_of(*ts, parsed)) t = parsed;
    }
  }
  std::string path(topic);
  path += '#';
  walk(doc, path, timestamp_field, 0, out, t);
  return t;
}

}  // namespace strata::historian
