#include "bridges/bridge_diff.hpp"

#include <algorithm>

namespace strata::bridges {

namespace {

const toml::table* find(const std::vector<NamedTable>& tables, const std::string& name) {
  auto it = std::find_if(tables.begin(), tables.end(), [&name](const NamedTable& t) { return t.first == name; });
  return it == tables.end() ? nullptr : it->second;
}

}  // namespace

BridgeDiff diff_bridges(const std::vector<NamedTable>& running, const std::vector<NamedTable>& fresh) {
  BridgeDiff d;
  for (const auto& [name, table] : fresh) {
    const toml::table* before = find(running, name);
    if (before == nullptr) {
      d.added.push_back(name);
    } else if (*before == *table) {
      d.unchanged.push_back(name);
    } else {
      d.changed.push_back(name);
    }
  }
  for (const auto& [name, table] : running) {
    if (find(fresh, name) == nullptr) d.removed.push_back(name);
  }
  return d;
}

std::vector<NamedTable> bridge_tables(const toml::table& root) {
  std::vector<NamedTable> out;
  const toml::array* bridges = root["bridge"].as_array();
  if (bridges == nullptr) return out;
  for (const toml::node& n : *bridges) {
    const toml::table* t = n.as_table();
    if (t == nullptr) continue;
    if (auto name = (*t)["name"].value_exact<std::string>()) out.emplace_back(*name, t);
  }
  return out;
}

}  // namespace strata::bridges
