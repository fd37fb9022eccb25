#include "bridges/topic_template.hpp"

#include <vector>

namespace strata::bridges {

namespace {

std::vector<std::string_view> levels(std::string_view topic) {
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

// The part of `topic` a trailing '#' of `filter` matched ("" if none).
std::string_view hash_part(std::string_view topic, std::string_view filter) {
  if (filter != "#" && !filter.ends_with("/#")) return {};
  std::size_t before = levels(filter).size() - 1;  // levels ahead of '#'
  std::size_t pos = 0;
  for (std::size_t i = 0; i < before; ++i) {
    std::size_t slash = topic.find('/', pos);
    if (slash == std::string_view::npos) return {};
    pos = slash + 1;
  }
  return topic.substr(pos);
}

}  // namespace

std::string apply_template(std::string_view tmpl, std::string_view topic, std::string_view filter) {
  if (tmpl == "{topic}") return std::string(topic);
  std::string out;
  std::vector<std::string_view> parts;
  for (std::size_t i = 0; i < tmpl.size(); ++i) {
    if (tmpl[i] != '{') {
      out.push_back(tmpl[i]);
      continue;
    }
    std::size_t end = tmpl.find('}', i);
    if (end == std::string_view::npos) {
      out.append(tmpl.substr(i));
      break;
    }
    std::string_view name = tmpl.substr(i + 1, end - i - 1);
    if (name == "topic") {
      out.append(topic);
    } else if (name == "#") {
      out.append(hash_part(topic, filter));
    } else if (!name.empty() && name.find_first_not_of("0123456789") == std::string_view::npos) {
      if (parts.empty()) parts = levels(topic);
      std::size_t n = std::stoul(std::string(name));
      if (n >= 1 && n <= parts.size()) out.append(parts[n - 1]);
    } else {
      out.append(tmpl.substr(i, end - i + 1));  // {uns.*}: kept until the namespace fills it
    }
    i = end;
  }
  return out;
}

}  // namespace strata::bridges
