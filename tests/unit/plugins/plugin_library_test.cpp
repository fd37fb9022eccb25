#include "plugins/plugin_library.hpp"

#include <gtest/gtest.h>

extern "C" int strata_header_c99_check(void);
extern "C" int strata_header_cxx_check(void);

namespace strata::plugins {
namespace {

const std::string dir = STRATA_TEST_PLUGIN_DIR;

TEST(PluginHeader, CompilesAsC99AndCxx11) {
  // Both translation units were compiled with -Werror in their language.
  EXPECT_GT(strata_header_c99_check(), STRATA_PLUGIN_ABI_VERSION);
  EXPECT_EQ(strata_header_cxx_check(), 2 + STRATA_PLUGIN_ABI_VERSION);
}

TEST(PluginLibrary, ChoosesTheHighestCommonVersion) {
  const int known[] = {1, 2};
  const int a[] = {1, 2, 7};
  const int b[] = {1};
  const int c[] = {3, 99};
  EXPECT_EQ(choose_abi_version(a, known), 2);
  EXPECT_EQ(choose_abi_version(b, known), 1);
  EXPECT_EQ(choose_abi_version(c, known), 0);
  EXPECT_EQ(choose_abi_version({}, known), 0);
  EXPECT_EQ(version_list(a), "1, 2, 7");
  EXPECT_EQ(version_list({}), "none");
}

TEST(PluginLibrary, LoadsAPluginBuiltAgainstTheVersion1Header) {
  PluginLibrary lib(dir + "/test_plugin_v1.so");
  EXPECT_EQ(lib.abi_version(), 1);
  EXPECT_EQ(lib.offered(), std::vector<int>{1});
  EXPECT_NE(lib.init(), nullptr);
  EXPECT_NE(lib.cleanup(), nullptr);
}

TEST(PluginLibrary, NegotiatesTheCurrentVersion) {
  PluginLibrary lib(dir + "/test_plugin_v2.so");
  EXPECT_EQ(lib.abi_version(), 2);
  EXPECT_EQ(lib.offered(), (std::vector<int>{1, 2, 7}));
}

void expect_load_error(const std::string& path, const std::string& expected_start) {
  try {
    PluginLibrary lib(path);
    FAIL() << path << " loaded";
  } catch (const LoadError& e) {
    EXPECT_EQ(std::string(e.what()).rfind(expected_start, 0), 0u) << e.what();
  }
}

TEST(PluginLibrary, FailuresNameThePathAndTheReason) {
  expect_load_error(dir + "/missing.so", "plugin " + dir + "/missing.so: cannot load: ");
  expect_load_error(dir + "/test_plugin_bad_version.so",
                    "plugin " + dir + "/test_plugin_bad_version.so: no common ABI version (plugin supports 99, broker 1, 2)");
}

}  // namespace
}  // namespace strata::plugins
