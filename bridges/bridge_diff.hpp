// What a reload changes among the [[bridge]] tables: each bridge of the
// fresh file is added (a name not running), changed (a running name whose
// table differs in any key, its routes included) or unchanged (the same
// table, whatever its place in the file); each running name missing from
// the fresh file is removed. Tables are compared by value: a reordered
// file, comments or whitespace change nothing, and the contents of files
// a table names (password_file, certificates) are not looked at.
//
// Pure: the bridge manager applies the diff (bridge_manager.cpp).
#pragma once

#include <string>
#include <utility>
#include <vector>

#include <toml++/toml.h>

namespace strata::bridges {

// A [[bridge]] table and its name, in config order.
using NamedTable = std::pair<std::string, const toml::table*>;

struct BridgeDiff {
  std::vector<std::string> added, changed, unchanged;  // in the fresh file's order
  std::vector<std::string> removed;                    // in the running order
  bool empty() const noexcept { return added.empty() && changed.empty() && removed.empty(); }
};

BridgeDiff diff_bridges(const std::vector<NamedTable>& running, const std::vector<NamedTable>& fresh);

// The [[bridge]] tables of a config root that have a string name (the
// others are refused by read_bridges before a diff is made).
std::vector<NamedTable> bridge_tables(const toml::table& root);

}  // namespace strata::bridges
