#include "broker/uns/model.hpp"

namespace strata::uns {

ModelResult place_topic(const std::vector<NamespaceModel>& namespaces, std::string_view topic) {
  ModelResult r;
  for (const NamespaceModel& ns : namespaces) {
    std::string_view p = ns.prefix;
    if (!(topic == p || (topic.size() > p.size() && topic.starts_with(p) && topic[p.size()] == '/'))) continue;
    r.ns = &ns;
    std::string_view rest = topic;
    if (ns.prefix_is_root) rest = topic.size() > p.size() ? topic.substr(p.size() + 1) : std::string_view{};
    auto place = std::make_shared<Placement>();
    place->ns = ns.prefix;
    place->levels.reserve(ns.levels.size());
    for (std::size_t i = 0; i < ns.levels.size(); ++i) {
      if (rest.empty() && (i > 0 || ns.prefix_is_root)) {
        r.error = "too few levels: " + std::to_string(i) + " of " + std::to_string(ns.levels.size()) +
                  " (" + ns.levels[i] + " is missing)";
        return r;
      }
      auto slash = rest.find('/');
      std::string_view value = rest.substr(0, slash);
      if (std::string e = check_level(ns, i, value); !e.empty()) {
        r.error = std::move(e);
        return r;
      }
      place->levels.emplace_back(ns.levels[i], std::string(value));
      rest = slash == std::string_view::npos ? std::string_view{} : rest.substr(slash + 1);
      if (slash == std::string_view::npos && i + 1 < ns.levels.size()) {
        r.error = "too few levels: " + std::to_string(i + 1) + " of " + std::to_string(ns.levels.size()) + " (" +
                  ns.levels[i + 1] + " is missing)";
        return r;
      }
    }
    place->tag = std::string(rest);
    r.place = std::move(place);
    return r;
  }
  return r;
}

}  // namespace strata::uns
