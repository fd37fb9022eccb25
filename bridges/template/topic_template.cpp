#include "bridges/template/topic_template.hpp"

#include <algorithm>
#include <charconv>

#include "broker/uns/model.hpp"

namespace strata::bridges {

std::vector<std::string_view> split_levels(std::string_view topic) {
  std::vector<std::string_view> out;
  std::size_t start = 0;
  for (;;) {
    std::size_t slash = topic.find('/', start);
    if (slash == std::string_view::npos) {
      out.push_back(topic.substr(start));
      return out;
    }
    out.push_back(topic.substr(start, slash - start));
    start = slash + 1;
  }
}

namespace {

// Level `n` of `topic` (1-based; negative counts from the end), or empty.
std::string_view level_of(std::string_view topic, int n) {
  if (n > 0) {
    std::size_t start = 0;
    for (int i = 1; i < n; ++i) {
      std::size_t slash = topic.find('/', start);
      if (slash == std::string_view::npos) return {};
      start = slash + 1;
    }
    std::size_t end = topic.find('/', start);
    return topic.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start);
  }
  std::size_t end = topic.size();
  for (int i = -1;; --i) {
    std::size_t slash = end == 0 ? std::string_view::npos : topic.rfind('/', end - 1);
    std::size_t start = slash == std::string_view::npos ? 0 : slash + 1;
    if (i == n) return topic.substr(start, end - start);
    if (slash == std::string_view::npos) return {};
    end = slash;
  }
}

// The levels from `level` (1-based) on, or empty when the topic is shorter.
std::string_view levels_from(std::string_view topic, int level) {
  std::size_t start = 0;
  for (int i = 1; i < level; ++i) {
    std::size_t slash = topic.find('/', start);
    if (slash == std::string_view::npos) return {};
    start = slash + 1;
  }
  return topic.substr(start);
}

}  // namespace

TopicTemplate TopicTemplate::compile(std::string_view text, std::string_view filter,
                                     std::span<const std::string> level_names, Namespaces namespaces) {
  TopicTemplate t;
  t.text_ = std::string(text);
  if (!filter.empty()) {
    auto levels = split_levels(filter);
    if (levels.back() == "#") t.hash_level_ = static_cast<int>(levels.size());
  }
  auto add_literal = [&](std::string_view s) {
    if (s.empty()) return;
    if (t.parts_.empty() || t.parts_.back().kind != Kind::literal) t.parts_.push_back(Part{});
    t.parts_.back().literal.append(s);
  };
  std::size_t i = 0;
  while (i < text.size()) {
    char c = text[i];
    if (c == '}') {
      if (i + 1 < text.size() && text[i + 1] == '}') {
        add_literal("}");
        i += 2;
        continue;
      }
      throw TemplateError("template '" + t.text_ + "': '}' without '{' (write '}}' for a brace)");
    }
    if (c != '{') {
      std::size_t next = text.find_first_of("{}", i);
      if (next == std::string_view::npos) next = text.size();
      add_literal(text.substr(i, next - i));
      i = next;
      continue;
    }
    if (i + 1 < text.size() && text[i + 1] == '{') {
      add_literal("{");
      i += 2;
      continue;
    }
    std::size_t close = text.find('}', i);
    if (close == std::string_view::npos) throw TemplateError("template '" + t.text_ + "': '{' is not closed");
    std::string_view name = text.substr(i + 1, close - i - 1);
    i = close + 1;
    Part p;
    if (name == "topic") {
      p.kind = Kind::topic;
    } else if (name == "#") {
      p.kind = Kind::hash;
    } else if (!name.empty() && (name[0] == '-' || (name[0] >= '0' && name[0] <= '9'))) {
      int n = 0;
      auto [end, ec] = std::from_chars(name.data(), name.data() + name.size(), n);
      if (ec != std::errc() || end != name.data() + name.size() || n == 0 || n > 1000 || n < -1000) {
        throw TemplateError("template '" + t.text_ + "': {" + std::string(name) +
                            "} is not a level; levels count from {1} (or from the end: {-1})");
      }
      p.kind = Kind::level;
      p.level = n;
    } else if (name.starts_with("uns.")) {
      std::string key(name.substr(4));
      if (!namespaces || namespaces->empty()) {
        throw TemplateError("template '" + t.text_ + "': {" + std::string(name) +
                            "} needs the unified namespace ([uns] enabled = true with a [[uns.namespace]])");
      }
      bool known = key == "tag";
      for (const uns::NamespaceModel& ns : *namespaces) {
        known = known || std::find(ns.levels.begin(), ns.levels.end(), key) != ns.levels.end();
      }
      if (!known) {
        std::string names;
        for (const std::string& l : namespaces->front().levels) names += "{uns." + l + "}, ";
        throw TemplateError("template '" + t.text_ + "': {" + std::string(name) +
                            "} is not a level of the namespace; expected one of " + names + "{uns.tag}");
      }
      p.kind = Kind::uns;
      p.literal = std::move(key);
      t.namespaces_ = namespaces;
    } else {
      int found = 0;
      for (std::size_t k = 0; k < level_names.size(); ++k) {
        if (level_names[k] == name) found = static_cast<int>(k) + 1;
      }
      if (found == 0) {
        throw TemplateError("template '" + t.text_ + "': unknown placeholder {" + std::string(name) +
                            "}; expected {topic}, {#}, {N}, {-N}" +
                            (level_names.empty() ? std::string() : std::string(" or a level name")));
      }
      p.kind = Kind::level;
      p.level = found;
    }
    t.parts_.push_back(std::move(p));
  }
  return t;
}

bool TopicTemplate::is_whole_topic() const noexcept {
  return parts_.size() == 1 && parts_[0].kind == Kind::topic;
}

void TopicTemplate::expand(std::string_view topic, std::string& out) const {
  std::shared_ptr<const uns::Placement> place;  // the topic's place, found at its first {uns.*}
  bool placed = false;
  for (const Part& p : parts_) {
    switch (p.kind) {
      case Kind::literal: out.append(p.literal); break;
      case Kind::topic: out.append(topic); break;
      case Kind::level: out.append(level_of(topic, p.level)); break;
      case Kind::hash: out.append(hash_level_ == 0 ? topic : levels_from(topic, hash_level_)); break;
      case Kind::uns:
        if (!placed) {
          place = uns::place_topic(*namespaces_, topic).place;
          placed = true;
        }
        if (!place) break;
        if (p.literal == "tag") {
          out.append(place->tag);
          break;
        }
        for (const auto& [level, value] : place->levels) {
          if (level == p.literal) {
            out.append(value);
            break;
          }
        }
        break;
    }
  }
}

}  // namespace strata::bridges
