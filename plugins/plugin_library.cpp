#include "plugins/plugin_library.hpp"

#include <dlfcn.h>

namespace strata::plugins {

int choose_abi_version(std::span<const int> offered, std::span<const int> known) {
  int best = 0;
  for (int v : offered) {
    for (int k : known) {
      if (v == k && v > best) best = v;
    }
  }
  return best;
}

std::string version_list(std::span<const int> versions) {
  std::string s;
  for (int v : versions) {
    if (!s.empty()) s += ", ";
    s += std::to_string(v);
  }
  return s.empty() ? "none" : s;
}

namespace {
template <class Fn>
Fn symbol(void* handle, const char* name, const std::string& path) {
  dlerror();
  void* p = dlsym(handle, name);
  if (p == nullptr) throw LoadError("plugin " + path + ": does not export " + name);
  // POSIX guarantees a function pointer round-trips through void*.
  return reinterpret_cast<Fn>(p);
}
}  // namespace

PluginLibrary::PluginLibrary(const std::string& path) : path_(path) {
  handle_ = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (handle_ == nullptr) {
    const char* why = dlerror();
    throw LoadError("plugin " + path + ": cannot load: " + (why ? why : "unknown error"));
  }
  try {
    auto versions = symbol<strata_plugin_versions_fn>(handle_, "strata_plugin_versions", path);
    init_ = symbol<strata_plugin_init_fn>(handle_, "strata_plugin_init", path);
    cleanup_ = symbol<strata_plugin_cleanup_fn>(handle_, "strata_plugin_cleanup", path);
    const int* list = nullptr;
    int n = versions(&list);
    if (n < 0 || (n > 0 && list == nullptr) || n > 64) {
      throw LoadError("plugin " + path + ": strata_plugin_versions returned no valid list");
    }
    offered_.assign(list, list + n);
    abi_version_ = choose_abi_version(offered_, kKnownAbiVersions);
    if (abi_version_ == 0) {
      throw LoadError("plugin " + path + ": no common ABI version (plugin supports " + version_list(offered_) +
                      ", broker " + version_list(kKnownAbiVersions) + ")");
    }
  } catch (...) {
    dlclose(handle_);
    throw;
  }
}

PluginLibrary::~PluginLibrary() {
  if (handle_ != nullptr) dlclose(handle_);
}

}  // namespace strata::plugins
