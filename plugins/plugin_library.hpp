// One plugin's shared library: dlopen, the three exported functions, and
// the ABI version negotiation (include/strata/plugin.h).
//
// The plugin lists the versions it supports; the broker takes the highest
// one it also knows (kKnownAbiVersions). No common version, a missing
// function or a library that does not load is a LoadError naming the path
// and the reason, which stops start-up.
#pragma once

#include <span>
#include <stdexcept>
#include <string>
#include <vector>

#include "strata/plugin.h"

namespace strata::plugins {

// The ABI versions this broker can serve, oldest first.
inline constexpr int kKnownAbiVersions[] = {1, 2};

class LoadError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// The highest version in both lists, or 0 when there is none.
int choose_abi_version(std::span<const int> offered, std::span<const int> known);

// "1, 2" — for the log.
std::string version_list(std::span<const int> versions);

class PluginLibrary {
 public:
  // Loads `path` (RTLD_NOW | RTLD_LOCAL) and negotiates the version.
  explicit PluginLibrary(const std::string& path);
  ~PluginLibrary();  // dlclose
  PluginLibrary(const PluginLibrary&) = delete;
  PluginLibrary& operator=(const PluginLibrary&) = delete;

  const std::string& path() const noexcept { return path_; }
  int abi_version() const noexcept { return abi_version_; }
  const std::vector<int>& offered() const noexcept { return offered_; }
  strata_plugin_init_fn init() const noexcept { return init_; }
  strata_plugin_cleanup_fn cleanup() const noexcept { return cleanup_; }

 private:
  std::string path_;
  void* handle_ = nullptr;
  std::vector<int> offered_;
  int abi_version_ = 0;
  strata_plugin_init_fn init_ = nullptr;
  strata_plugin_cleanup_fn cleanup_ = nullptr;
};

}  // namespace strata::plugins
