#include "plugins/plugin_config.hpp"

#include <filesystem>

#include "broker/config/table_reader.hpp"
#include "broker/util/install_paths.hpp"

namespace strata::plugins {

namespace fs = std::filesystem;

namespace {

constexpr std::string_view kKeys[] = {"path", "options", "enabled"};
constexpr config::Section kSection{"plugin", kKeys, true};

std::string resolve_path(const std::string& path, const std::string& config_file, const std::string& plugin_dir) {
  if (path.find('/') == std::string::npos) {
    fs::path p = fs::path(plugin_dir) / path;
    if (!p.has_extension()) p += ".so";
    return p.string();
  }
  fs::path p(path);
  if (p.is_absolute()) return path;
  fs::path base = fs::path(config_file).parent_path();
  return (base / p).lexically_normal().string();
}

}  // namespace

std::vector<PluginConfig> read_plugin_config(const config::Config& config, const std::string& plugin_dir) {
  std::vector<PluginConfig> out;
  if (!config.document) return out;
  const config::Document& doc = *config.document;
  for (const toml::table* t : config::section_tables(doc.name, doc.root, "plugin")) {
    config::TableReader r(doc.name, *t, "plugin.");
    r.reject_unknown_keys(kSection);
    PluginConfig pc;
    pc.where = config::position(doc.name, t->source());
    const auto* path = r.string("path");
    if (!path) {
      r.fail(t->source(), "[[plugin]] needs a path (the plugin's shared library)");
    }
    if (path->get().empty()) r.fail(path->source(), "plugin.path is empty; expected a shared library");
    pc.path = path->get();
    pc.resolved = resolve_path(pc.path, doc.name, plugin_dir);
    r.boolean("enabled", pc.enabled);
    if (const toml::table* options = r.subtable("options")) {
      for (const auto& [key, node] : *options) {
        const auto* value = node.as_string();
        if (!value) {
          r.fail(node.source(), "plugin.options." + std::string(key.str()) + " must be a string, got " +
                                    std::string(config::type_name(node.type())));
        }
        pc.options.emplace_back(std::string(key.str()), value->get());
      }
    }
    out.push_back(std::move(pc));
  }
  return out;
}

std::string default_plugin_dir() {
  std::string prefix = util::install_prefix();
  if (prefix.empty()) return "lib/strata/plugins";
  return (fs::path(prefix) / "lib" / "strata" / "plugins").string();
}

}  // namespace strata::plugins
