// The namespace model (model.cpp) and the [uns] section (uns_config.cpp).
#include "broker/uns/model.hpp"

#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

#include "broker/config/config.hpp"

namespace strata::uns {
namespace {

UnsConfig load(const std::string& toml, const std::string& name = "test.toml") {
  config::Config c = config::load_string(toml, name);
  return read_uns_config(*c.document);
}

std::string error_of(const std::string& toml, const std::string& name = "test.toml") {
  try {
    load(toml, name);
  } catch (const config::ConfigError& e) {
    return e.what();
  }
  return "(no error)";
}

TEST(Model, PlacesATopic) {
  UnsConfig cfg = load("[uns]\nenabled = true\n[[uns.namespace]]\nprefix = \"acme\"\n");
  ModelResult r = place_topic(cfg.namespaces, "acme/berlin/press/line1/cell2/temperature/max");
  ASSERT_TRUE(r.place) << r.error;
  EXPECT_EQ(r.place->ns, "acme");
  std::vector<std::pair<std::string, std::string>> want{
      {"enterprise", "acme"}, {"site", "berlin"}, {"area", "press"}, {"line", "line1"}, {"cell", "cell2"}};
  EXPECT_EQ(r.place->levels, want);
  EXPECT_EQ(r.place->tag, "temperature/max");
  EXPECT_EQ(place_topic(cfg.namespaces, "acme/b/a/l/c").place->tag, "");
  EXPECT_EQ(place_topic(cfg.namespaces, "other/b/a/l/c").ns, nullptr);
  EXPECT_EQ(place_topic(cfg.namespaces, "acmex/b/a/l/c").ns, nullptr);
}

TEST(Model, Violations) {
  UnsConfig cfg = load(
      "[uns]\n[[uns.namespace]]\nprefix = \"acme\"\nlevel_patterns = { site = \"^[a-z]+$\" }\n");
  EXPECT_EQ(place_topic(cfg.namespaces, "acme/berlin/press").error, "too few levels: 3 of 5 (line is missing)");
  EXPECT_EQ(place_topic(cfg.namespaces, "acme").error, "too few levels: 1 of 5 (site is missing)");
  EXPECT_EQ(place_topic(cfg.namespaces, "acme/Berlin/a/l/c").error, "level site 'Berlin' does not match ^[a-z]+$");
  EXPECT_EQ(place_topic(cfg.namespaces, "acme/b/a b/l/c").error,
            "level area 'a b' has a character outside [A-Za-z0-9_-]");
  EXPECT_EQ(place_topic(cfg.namespaces, "acme/b//l/c").error, "level area is empty");
}

TEST(Model, FixedRootAndOwnLevels) {
  UnsConfig cfg = load(
      "[uns]\n[[uns.namespace]]\nprefix = \"plant/v1\"\nprefix_is_root = true\nlevels = [\"site\", \"line\"]\n"
      "allowed = \"a-z0-9.\"\n");
  ModelResult r = place_topic(cfg.namespaces, "plant/v1/berlin/l.1/speed");
  ASSERT_TRUE(r.place) << r.error;
  EXPECT_EQ(r.place->levels[0].second, "berlin");
  EXPECT_EQ(r.place->levels[1].second, "l.1");
  EXPECT_EQ(r.place->tag, "speed");
  EXPECT_EQ(place_topic(cfg.namespaces, "plant/v1").error, "too few levels: 0 of 2 (site is missing)");
  EXPECT_EQ(place_topic(cfg.namespaces, "plant/v1/Berlin/x").error,
            "level site 'Berlin' has a character outside [a-z0-9.]");
}

TEST(UnsConfig, DefaultsAndKeys) {
  UnsConfig cfg = load("");
  EXPECT_FALSE(cfg.enabled);
  EXPECT_EQ(cfg.catalog_max_topics, 1'000'000u);
  EXPECT_EQ(cfg.catalog_value_bytes, 1024u);
  cfg = load(
      "[uns]\nenabled = true\ncatalog_max_topics = 10\n[[uns.contract]]\nname = \"n\"\nfilter = \"a/#\"\n"
      "shape = \"number\"\naction = \"redirect\"\nredirect_topic = \"q/{topic}\"\nversion = \"2024-1\"\nall = true\n");
  ASSERT_EQ(cfg.contracts.size(), 1u);
  const Contract& c = *cfg.contracts[0];
  EXPECT_EQ(c.version(), "2024-1");
  EXPECT_EQ(c.action, Action::redirect);
  EXPECT_EQ(c.redirect_topic, "q/{topic}");
  EXPECT_TRUE(c.all);
}

TEST(UnsConfig, ErrorsSayFileAndLine) {
  EXPECT_EQ(error_of("[uns]\nenabeld = true\n").substr(0, 14), "test.toml:2:1:");
  EXPECT_NE(error_of("[uns]\n[[uns.contract]]\nname = \"n\"\nfilter = \"a/#\"\n").find(
                "has neither schema nor shape"),
            std::string::npos);
  EXPECT_NE(error_of("[uns]\n[[uns.contract]]\nname = \"n\"\nfilter = \"a/#/b\"\nshape = \"number\"\n")
                .find("test.toml:4:10: uns.contract[0].filter 'a/#/b' is not a valid topic filter"),
            std::string::npos);
  EXPECT_NE(error_of("[uns]\n[[uns.contract]]\nname = \"n\"\nfilter = \"a\"\nshape = \"cube\"\n").find("test.toml:5"),
            std::string::npos);
  EXPECT_NE(error_of("[uns]\n[[uns.namespace]]\nprefix = \"a\"\nlevel_patterns = { site = \"(\" }\n")
                .find("test.toml:4"),
            std::string::npos);
  EXPECT_NE(error_of("[uns]\n[[uns.contract]]\nname = \"n\"\nfilter = \"a\"\nshape = \"number\"\n"
                     "[[uns.contract]]\nname = \"n\"\nfilter = \"b\"\nshape = \"number\"\n")
                .find("already used"),
            std::string::npos);
}

TEST(UnsConfig, SchemaFileRelativeToTheConfigAndItsErrors) {
  auto dir = std::filesystem::temp_directory_path() / ("uns_cfg_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  std::ofstream(dir / "good.json") << R"({"type": "object"})";
  std::ofstream(dir / "bad.json") << "{\n  \"type\": \"object\",\n  \"required\": [\"a\"\n}\n";
  std::string config_name = (dir / "strata.toml").string();
  UnsConfig cfg = load("[uns]\n[[uns.contract]]\nname = \"n\"\nfilter = \"a\"\nschema = \"good.json\"\n", config_name);
  EXPECT_EQ(cfg.contracts[0]->schema_path(), (dir / "good.json").string());
  EXPECT_EQ(error_of("[uns]\n[[uns.contract]]\nname = \"n\"\nfilter = \"a\"\nschema = \"bad.json\"\n", config_name),
            (dir / "bad.json").string() +
                ":4:1: Missing a comma or ']' after an array element. (schema of contract n)");
  EXPECT_NE(error_of("[uns]\n[[uns.contract]]\nname = \"n\"\nfilter = \"a\"\nschema = \"none.json\"\n", config_name)
                .find(":5:10: uns.contract[0].schema: cannot read"),
            std::string::npos);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace strata::uns
