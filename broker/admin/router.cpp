#include "broker/admin/router.hpp"

#include <stdexcept>

namespace strata::admin {

namespace {

std::vector<std::string_view> split_path(std::string_view path) {
  std::vector<std::string_view> out;
  // path starts with '/'; "/a/b" -> a, b; "/" -> one empty segment
  std::size_t i = 1;
  while (true) {
    std::size_t slash = path.find('/', i);
    out.push_back(path.substr(i, slash == std::string_view::npos ? std::string_view::npos : slash - i));
    if (slash == std::string_view::npos) break;
    i = slash + 1;
  }
  return out;
}

bool is_param(std::string_view seg) { return seg.size() > 2 && seg.front() == '{' && seg.back() == '}'; }

// Literal segments count for more the earlier they are: a route with a
// literal where another has {name} wins.
bool better(const Route& a, const Route& b) {
  for (std::size_t i = 0; i < a.segments.size(); ++i) {
    bool pa = is_param(a.segments[i]), pb = is_param(b.segments[i]);
    if (pa != pb) return !pa;
  }
  return false;
}

}  // namespace

std::string_view method_name(http::verb v) noexcept {
  auto s = http::to_string(v);
  return {s.data(), s.size()};
}

void Router::add(http::verb method, std::string pattern, Access access, Handler handler, std::string summary) {
  if (pattern.empty() || pattern.front() != '/') throw std::logic_error("route pattern must start with '/': " + pattern);
  Route r{method, pattern, access, std::move(handler), std::move(summary), {}};
  for (std::string_view seg : split_path(pattern)) {
    if (seg.empty()) throw std::logic_error("route pattern has an empty segment: " + pattern);
    bool brace = seg.find('{') != std::string_view::npos || seg.find('}') != std::string_view::npos;
    if (brace && !is_param(seg)) throw std::logic_error("route pattern has a malformed {name}: " + pattern);
    r.segments.emplace_back(seg);
  }
  for (const Route& other : routes_) {
    if (other.method == method && other.segments.size() == r.segments.size()) {
      bool same = true;
      for (std::size_t i = 0; i < r.segments.size() && same; ++i) {
        bool pa = is_param(other.segments[i]), pb = is_param(r.segments[i]);
        same = pa == pb && (pa || other.segments[i] == r.segments[i]);
      }
      if (same) throw std::logic_error("route added twice: " + std::string(method_name(method)) + " " + pattern);
    }
  }
  routes_.push_back(std::move(r));
}

Router::Match Router::match(http::verb method, std::string_view path) const {
  Match m;
  if (path.empty() || path.front() != '/') return m;
  std::vector<std::string_view> segs = split_path(path);
  const Route* best = nullptr;
  std::vector<std::string_view> allowed;
  for (const Route& r : routes_) {
    if (r.segments.size() != segs.size()) continue;
    bool ok = true;
    for (std::size_t i = 0; i < segs.size() && ok; ++i) {
      ok = is_param(r.segments[i]) ? !segs[i].empty() : r.segments[i] == segs[i];
    }
    if (!ok) continue;
    if (r.method != method) {
      std::string_view name = method_name(r.method);
      bool seen = false;
      for (auto a : allowed) seen = seen || a == name;
      if (!seen) allowed.push_back(name);
      continue;
    }
    if (!best || better(r, *best)) best = &r;
  }
  if (!best) {
    if (!allowed.empty()) {
      m.error = http::status::method_not_allowed;
      for (std::size_t i = 0; i < allowed.size(); ++i) {
        if (i) m.allow += ", ";
        m.allow += allowed[i];
      }
    }
    return m;
  }
  for (std::size_t i = 0; i < segs.size(); ++i) {
    const std::string& seg = best->segments[i];
    if (!is_param(seg)) continue;
    auto value = percent_decode(segs[i], false);
    if (!value) {
      m.error = http::status::bad_request;
      m.params.clear();
      return m;
    }
    m.params[seg.substr(1, seg.size() - 2)] = std::move(*value);
  }
  m.route = best;
  return m;
}

}  // namespace strata::admin
