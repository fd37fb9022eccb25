// Where an installed strata finds its files: relative to its own prefix,
// the parent of the directory of the running executable (bin/..), so an
// installed tree works under any prefix (CMakeLists.txt, install layout).
//
//   <prefix>/etc/strata/strata.toml   the default configuration
//   <prefix>/lib/strata/plugins/      plugins named without a path
//   <prefix>/share/strata/            web assets, plugin sources, the unit file
//
// A build tree has the same shape (build/<preset>/bin, .../lib/strata/plugins).
#pragma once

#include <string>

namespace strata::util {

// The prefix of the running executable ("" when /proc/self/exe is unreadable).
std::string install_prefix();

// <prefix>/etc/strata/strata.toml (/etc/strata/strata.toml for the prefix
// /usr) when that file exists, else "".
std::string installed_config_file();

}  // namespace strata::util
