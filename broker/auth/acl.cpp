#include "broker/auth/acl.hpp"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "broker/router/topic.hpp"

namespace strata::auth {
namespace {

// Splits off the next level of `s` (which becomes the rest, or ends).
struct Levels {
  std::string_view rest;
  bool done = false;
  std::string_view next() {
    auto slash = rest.find('/');
    std::string_view level = rest.substr(0, slash);
    if (slash == std::string_view::npos) {
      done = true;
      rest = {};
    } else {
      rest.remove_prefix(slash + 1);
    }
    return level;
  }
};

bool dollar_mismatch(std::string_view a, std::string_view b) {
  // A topic starting with '$' is not matched by a filter starting with a
  // wildcard (spec 4.7.2): a literal "$..." first level against + or #.
  auto wild = [](std::string_view f) { return f.starts_with('+') || f.starts_with('#'); };
  return (a.starts_with('$') && wild(b)) || (b.starts_with('$') && wild(a));
}

thread_local std::string substituted;

// `filter` with %u and %c replaced; nullptr when a substitution is
// impossible or unsafe (see acl.hpp).
const std::string* substitute(std::string_view filter, std::string_view username, std::string_view client_id) {
  auto safe = [](std::string_view v) { return v.find_first_of("/+#") == std::string_view::npos; };
  substituted.clear();
  for (std::size_t i = 0; i < filter.size(); ++i) {
    if (filter[i] == '%' && i + 1 < filter.size() && (filter[i + 1] == 'u' || filter[i + 1] == 'c')) {
      std::string_view v = filter[i + 1] == 'u' ? username : client_id;
      if (v.empty() || !safe(v)) return nullptr;
      substituted += v;
      ++i;
    } else {
      substituted += filter[i];
    }
  }
  return &substituted;
}

}  // namespace

bool filter_covers(std::string_view rule, std::string_view filter) noexcept {
  if (dollar_mismatch(rule, filter) && !rule.starts_with('$')) return false;
  Levels r{rule}, f{filter};
  while (true) {
    std::string_view rl = r.next();
    if (rl == "#") return true;
    std::string_view fl = f.next();
    if (fl == "#") return false;
    if (rl != "+" && (fl == "+" || rl != fl)) return false;
    if (r.done || f.done) {
      if (r.done && f.done) return true;
      // "a/#" covers "a" (# matches the parent level too)
      return f.done && r.rest == "#";
    }
  }
}

bool filters_overlap(std::string_view a, std::string_view b) noexcept {
  if (dollar_mismatch(a, b)) return false;
  Levels x{a}, y{b};
  while (true) {
    std::string_view xl = x.next();
    std::string_view yl = y.next();
    if (xl == "#" || yl == "#") return true;
    if (xl != "+" && yl != "+" && xl != yl) return false;
    if (x.done || y.done) {
      if (x.done && y.done) return true;
      return (x.done && y.rest == "#") || (y.done && x.rest == "#");
    }
  }
}

Acl Acl::load(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw AclError(path + ": cannot open: " + std::strerror(errno));
  std::ostringstream text;
  text << in.rdbuf();
  return parse(text.str(), path);
}

Acl Acl::parse(std::string_view text, const std::string& name) {
  Acl acl;
  std::vector<Rule>* section = &acl.defaults_;
  std::size_t line_no = 0;
  while (!text.empty()) {
    ++line_no;
    auto nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
    if (auto hash = line.find(" #"); hash != std::string_view::npos) line = line.substr(0, hash);
    std::vector<std::string_view> words;
    std::size_t i = 0;
    while (i < line.size()) {
      while (i < line.size() && (line[i] == ' ' || line[i] == '\t' || line[i] == '\r')) ++i;
      std::size_t start = i;
      while (i < line.size() && line[i] != ' ' && line[i] != '\t' && line[i] != '\r') ++i;
      if (i > start) words.push_back(line.substr(start, i - start));
    }
    if (words.empty() || words[0].starts_with('#')) continue;
    auto fail = [&](const std::string& what) {
      return AclError(name + ":" + std::to_string(line_no) + ": " + what);
    };
    if (words[0] == "user" || words[0] == "client") {
      if (words.size() != 2) throw fail("expected '" + std::string(words[0]) + " NAME'");
      auto& map = words[0] == "user" ? acl.users_ : acl.clients_;
      section = &map[std::string(words[1])];
      continue;
    }
    if (words[0] != "allow" && words[0] != "deny") {
      throw fail("unknown keyword '" + std::string(words[0]) + "'; expected allow, deny, user or client");
    }
    if (words.size() != 3) throw fail("expected '" + std::string(words[0]) + " read|write|readwrite FILTER'");
    Rule rule;
    rule.allow = words[0] == "allow";
    if (words[1] == "read") {
      rule.read = true;
    } else if (words[1] == "write") {
      rule.write = true;
    } else if (words[1] == "readwrite") {
      rule.read = rule.write = true;
    } else {
      throw fail("access '" + std::string(words[1]) + "' is not read, write or readwrite");
    }
    rule.filter = std::string(words[2]);
    if (!router::is_valid_topic_filter(rule.filter)) throw fail("'" + rule.filter + "' is not a valid topic filter");
    rule.substitutes = rule.filter.find("%u") != std::string::npos || rule.filter.find("%c") != std::string::npos;
    section->push_back(std::move(rule));
  }
  return acl;
}

std::size_t Acl::rule_count() const noexcept {
  std::size_t n = defaults_.size();
  for (const auto& [k, v] : users_) n += v.size();
  for (const auto& [k, v] : clients_) n += v.size();
  return n;
}

bool Acl::can_publish(std::string_view username, std::string_view client_id, std::string_view topic) const {
  return decide(username, client_id, topic, Check::publish);
}

bool Acl::can_subscribe(std::string_view username, std::string_view client_id, std::string_view filter) const {
  bool valid = true;
  if (auto shared = router::parse_shared_filter(filter, valid)) filter = shared->filter;
  return decide(username, client_id, filter, Check::subscribe);
}

bool Acl::decide(std::string_view username, std::string_view client_id, std::string_view what, Check kind) const {
  bool allowed = false;
  auto apply = [&](const std::vector<Rule>& rules) {
    for (const Rule& r : rules) {
      if (kind == Check::publish ? !r.write : !r.read) continue;
      std::string_view filter = r.filter;
      if (r.substitutes) {
        const std::string* s = substitute(r.filter, username, client_id);
        if (s == nullptr) continue;
        filter = *s;
      }
      bool hit;
      if (kind == Check::publish) {
        hit = router::topic_matches(filter, what);
      } else {
        hit = r.allow ? filter_covers(filter, what) : filters_overlap(filter, what);
      }
      if (!hit) continue;
      if (!r.allow) return false;  // deny overrides allow
      allowed = true;
    }
    return true;
  };
  if (!apply(defaults_)) return false;
  if (!username.empty()) {
    if (auto it = users_.find(std::string(username)); it != users_.end() && !apply(it->second)) return false;
  }
  if (auto it = clients_.find(std::string(client_id)); it != clients_.end() && !apply(it->second)) return false;
  return allowed;
}

}  // namespace strata::auth
