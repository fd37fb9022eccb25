// The [[plugin]] tables: which plugins to load, in which order, with which
// options.
//
//   [[plugin]]
//   path = "auth_file"          # a file name: <prefix>/lib/strata/plugins/auth_file.so
//   enabled = true              # default true; false keeps the table but loads nothing
//   [plugin.options]            # strings only, handed to strata_plugin_init
//   file = "/etc/strata/users.txt"
//
// `path` is either a file name without '/' (looked up in the plugin
// directory of the installation, with ".so" added when it has no
// extension) or a path (absolute, or relative to the configuration file's
// directory). Callbacks of one event run in the order of the tables.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "broker/config/config.hpp"

namespace strata::plugins {

struct PluginConfig {
  std::string path;      // as written
  std::string resolved;  // the file dlopen gets
  std::vector<std::pair<std::string, std::string>> options;  // sorted by key
  bool enabled = true;
  std::string where;  // "file:line:column" of the table, for messages
  bool operator==(const PluginConfig&) const = default;
};

// Reads every [[plugin]] table of `config.document` (none without one).
// `plugin_dir`: where bare file names are looked up. Throws
// config::ConfigError with file:line:column.
std::vector<PluginConfig> read_plugin_config(const config::Config& config, const std::string& plugin_dir);

// The directory an installed strata loads plugins from by name:
// <prefix>/lib/strata/plugins, where <prefix> is the parent of the
// directory of the running executable.
std::string default_plugin_dir();

}  // namespace strata::plugins
