// The [uns] section: the namespace model, the contracts and the catalog's
// bounds (etc/strata.toml documents every key). Read from the parsed
// config file with the shared helpers (file:line errors); a contract's
// schema file is read and compiled here, so a bad one fails start-up,
// --check-config and a reload with its own file:line.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <regex>
#include <string>
#include <vector>

#include "broker/config/table_reader.hpp"
#include "broker/uns/contract.hpp"

namespace strata::uns {

// One [[uns.namespace]]: topics under `prefix` must fit `levels`.
struct NamespaceModel {
  std::string prefix;  // one or more topic levels, e.g. "acme"
  // false: the prefix's levels are the first model levels' values ("acme"
  // is the enterprise); true: a fixed root the model levels follow.
  bool prefix_is_root = false;
  std::vector<std::string> levels{"enterprise", "site", "area", "line", "cell"};
  std::string allowed = "A-Za-z0-9_-";  // characters of a level value, as ranges
  std::vector<bool> allowed_set;          // 256 entries, from `allowed`
  // Optional regex per level (ECMAScript, whole value), same order as levels.
  std::vector<std::optional<std::regex>> patterns;
  std::vector<std::string> pattern_texts;
  Action action = Action::reject;
  std::string redirect_topic = "$uns/quarantine/{topic}";
  bool reject_disconnect = false;
};

struct UnsConfig {
  bool enabled = false;
  std::vector<NamespaceModel> namespaces;
  std::vector<std::shared_ptr<const Contract>> contracts;  // config order
  std::uint64_t catalog_max_topics = 1'000'000;             // per core
  std::uint32_t catalog_value_bytes = 1024;
  std::uint32_t violations_kept = 1000;                     // per core, latest
  std::uint32_t violation_sample_bytes = 256;
  bool drift_events = true;                                 // publish $uns/drift/{topic}
  std::uint32_t snapshot_interval_s = 60;                   // catalog to the store; 0: only at stop
};

// Reads [uns] of `doc` (absent: disabled). Throws config::ConfigError with
// file:line on a bad key, a bad regex or a bad schema file.
UnsConfig read_uns_config(const config::Document& doc);

// Checks a topic level against a namespace's naming rules; empty when fine,
// else what is wrong.
std::string check_level(const NamespaceModel& ns, std::size_t level, std::string_view value);

}  // namespace strata::uns
