#include "plugins/plugin_config.hpp"

#include <gtest/gtest.h>

#include "broker/config/config.hpp"

namespace strata::plugins {
namespace {

config::Config parse(const std::string& text) { return config::load_string(text, "/etc/strata/strata.toml"); }

TEST(PluginConfig, NoTablesNoPlugins) {
  EXPECT_TRUE(read_plugin_config(parse("[broker]\n"), "/opt/strata/lib/strata/plugins").empty());
  EXPECT_TRUE(read_plugin_config(config::Config{}, "/x").empty());  // built-in defaults: no document
}

TEST(PluginConfig, TablesInOrderWithOptionsAndResolvedPaths) {
  auto plugins = read_plugin_config(parse(R"(
[[plugin]]
path = "auth_file"
[plugin.options]
file = "users.txt"
async = "true"

[[plugin]]
path = "/usr/lib/x/stamp.so"
enabled = false

[[plugin]]
path = "local/audit.so"
)"),
                                    "/opt/strata/lib/strata/plugins");
  ASSERT_EQ(plugins.size(), 3u);
  EXPECT_EQ(plugins[0].path, "auth_file");
  EXPECT_EQ(plugins[0].resolved, "/opt/strata/lib/strata/plugins/auth_file.so");
  using Options = std::vector<std::pair<std::string, std::string>>;
  EXPECT_EQ(plugins[0].options, (Options{{"async", "true"}, {"file", "users.txt"}}));
  EXPECT_TRUE(plugins[0].enabled);
  EXPECT_EQ(plugins[0].where, "/etc/strata/strata.toml:2:1");
  EXPECT_EQ(plugins[1].resolved, "/usr/lib/x/stamp.so");
  EXPECT_FALSE(plugins[1].enabled);
  EXPECT_EQ(plugins[2].resolved, "/etc/strata/local/audit.so");  // relative to the config file
}

void expect_error(const std::string& text, const std::string& expected) {
  try {
    read_plugin_config(parse(text), "/p");
    FAIL() << "no error for: " << text;
  } catch (const config::ConfigError& e) {
    EXPECT_EQ(std::string(e.what()), expected);
  }
}

TEST(PluginConfig, ErrorsNameFileLineAndWhat) {
  expect_error("[[plugin]]\nenabled = true\n",
               "/etc/strata/strata.toml:1:1: [[plugin]] needs a path (the plugin's shared library)");
  expect_error("[[plugin]]\npath = \"\"\n", "/etc/strata/strata.toml:2:8: plugin.path is empty; expected a shared library");
  expect_error("[[plugin]]\npath = \"a\"\nfile = \"x\"\n",
               "/etc/strata/strata.toml:3:1: unknown key 'file' in [[plugin]]; expected one of: path, options, enabled");
  expect_error("[[plugin]]\npath = \"a\"\noptions = { n = 3 }\n",
               "/etc/strata/strata.toml:3:17: plugin.options.n must be a string, got an integer");
  expect_error("[[plugin]]\npath = 3\n", "/etc/strata/strata.toml:2:8: plugin.path must be a string, got an integer");
}

}  // namespace
}  // namespace strata::plugins
