#include "broker/auth/acl.hpp"

#include <algorithm>
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

std::string filter_intersection(std::string_view a, std::string_view b) {
  if (dollar_mismatch(a, b)) return {};
  std::string out;
  Levels x{a}, y{b};
  auto rest_of = [](std::string_view level, const Levels& l) {
    return l.done ? std::string(level) : std::string(level) + "/" + std::string(l.rest);
  };
  while (true) {
    std::string_view xl = x.next();
    std::string_view yl = y.next();
    if (xl == "#") return out + rest_of(yl, y);
    if (yl == "#") return out + rest_of(xl, x);
    if (xl != "+" && yl != "+" && xl != yl) return {};
    out += xl == "+" ? yl : xl;
    if (x.done || y.done) {
      // "a" and "a/#": "a" (# matches the parent level too)
      if ((x.done && y.done) || (x.done && y.rest == "#") || (y.done && x.rest == "#")) return out;
      return {};
    }
    out += '/';
  }
}

bool filters_overlap(std::string_view a, std::string_view b) noexcept {
  if (dollar_mismatch(a, b)) return false;
  Levels x{a}, y{b};
  for (bool first = true;; first = false) {
    std::string_view xl = x.next();
    std::string_view yl = y.next();
    if (xl == "#" || yl == "#") return true;
    if (xl != "+" && yl != "+" && xl != yl) return false;
    if (x.done || y.done) {
      // "+" and "/#" share only the topic "", which is not a topic.
      if (first && (xl == "+" ? yl : xl).empty()) return false;
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
    std::vector<std::string_view> words;
    std::size_t i = 0;
    while (i < line.size()) {
      while (i < line.size() && (line[i] == ' ' || line[i] == '\t' || line[i] == '\r')) ++i;
      std::size_t start = i;
      while (i < line.size() && line[i] != ' ' && line[i] != '\t' && line[i] != '\r') ++i;
      if (i > start) words.push_back(line.substr(start, i - start));
    }
    // A comment starts the line, or is a word starting with '#' after the
    // last field of a rule (2 for user/client, 3 for allow/deny): so in
    // `allow read #  # everything` the first '#' is the filter.
    if (words.empty() || words[0].starts_with('#')) continue;
    const std::size_t fields = words[0] == "user" || words[0] == "client" ? 2 : 3;
    if (words.size() > fields && words[fields].starts_with('#')) words.resize(fields);
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

template <class Fn>
void Acl::for_each_rule(std::string_view username, std::string_view client_id, Fn&& fn) const {
  auto apply = [&](const std::vector<Rule>& rules) {
    for (const Rule& r : rules) {
      std::string_view filter = r.filter;
      if (r.substitutes) {
        const std::string* s = substitute(r.filter, username, client_id);
        if (s == nullptr) continue;
        filter = *s;
      }
      if (!fn(r, filter)) return false;
    }
    return true;
  };
  if (!apply(defaults_)) return;
  if (!username.empty()) {
    if (auto it = users_.find(std::string(username)); it != users_.end() && !apply(it->second)) return;
  }
  if (auto it = clients_.find(std::string(client_id)); it != clients_.end()) apply(it->second);
}

bool Acl::can_publish(std::string_view username, std::string_view client_id, std::string_view topic) const {
  return decide(username, client_id, topic, true);
}

bool Acl::can_read(std::string_view username, std::string_view client_id, std::string_view topic) const {
  return decide(username, client_id, topic, false);
}

bool Acl::decide(std::string_view username, std::string_view client_id, std::string_view topic, bool write) const {
  bool allowed = false;
  bool denied = false;
  for_each_rule(username, client_id, [&](const Rule& r, std::string_view filter) {
    if (!(write ? r.write : r.read) || !router::topic_matches(filter, topic)) return true;
    if (!r.allow) {
      denied = true;  // deny overrides allow
      return false;
    }
    allowed = true;
    return true;
  });
  return allowed && !denied;
}

ReadAccess Acl::read_access(std::string_view username, std::string_view client_id, std::string_view filter) const {
  bool valid = true;
  if (auto shared = router::parse_shared_filter(filter, valid)) filter = shared->filter;
  std::vector<std::string> allows;  // the filters of the read rules that apply
  std::vector<std::string> denies;
  for_each_rule(username, client_id, [&](const Rule& r, std::string_view f) {
    if (r.read) (r.allow ? allows : denies).emplace_back(f);
    return true;
  });
  auto covered_by_a_deny = [&](std::string_view f) {
    return std::any_of(denies.begin(), denies.end(), [&](const std::string& d) { return filter_covers(d, f); });
  };
  if (covered_by_a_deny(filter)) return ReadAccess::none;
  const bool deny_overlaps =
      std::any_of(denies.begin(), denies.end(), [&](const std::string& d) { return filters_overlap(d, filter); });
  const bool allow_covers =
      std::any_of(allows.begin(), allows.end(), [&](const std::string& a) { return filter_covers(a, filter); });
  if (allow_covers && !deny_overlaps) return ReadAccess::all;
  // Some topic is readable if what an allow rule shares with the filter is
  // not wholly denied.
  for (const std::string& a : allows) {
    std::string shared = filter_intersection(a, filter);
    if (!shared.empty() && !covered_by_a_deny(shared)) return ReadAccess::some;
  }
  return ReadAccess::none;
}

}  // namespace strata::auth
