#include "tools/strata_ctl/token_file.hpp"

#include <sys/stat.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>

#include <gtest/gtest.h>

#include "tools/strata_ctl/context.hpp"

namespace strata::ctl {
namespace {

namespace fs = std::filesystem;

class TokenFile : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (fs::temp_directory_path() / "ctl-token-XXXXXX").string();
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { fs::remove_all(dir_); }
  fs::path dir_;
};

TEST_F(TokenFile, PathFollowsXdgThenHome) {
  const char* home = std::getenv("HOME");
  const char* xdg = std::getenv("XDG_CONFIG_HOME");
  std::optional<std::string> saved_home = home ? std::optional<std::string>(home) : std::nullopt;
  std::optional<std::string> saved_xdg = xdg ? std::optional<std::string>(xdg) : std::nullopt;
  ::setenv("XDG_CONFIG_HOME", "/x/cfg", 1);
  ::setenv("HOME", "/home/u", 1);
  EXPECT_EQ(token_path(), "/x/cfg/strata/token");
  ::setenv("XDG_CONFIG_HOME", "", 1);
  EXPECT_EQ(token_path(), "/home/u/.config/strata/token");
  ::unsetenv("XDG_CONFIG_HOME");
  ::unsetenv("HOME");
  EXPECT_EQ(token_path(), "");
  if (saved_home) ::setenv("HOME", saved_home->c_str(), 1);
  if (saved_xdg) ::setenv("XDG_CONFIG_HOME", saved_xdg->c_str(), 1);
}

TEST_F(TokenFile, WritesPrivatelyReadsTrimmedRemoves) {
  std::string path = (dir_ / "a" / "strata" / "token").string();
  EXPECT_EQ(read_token(path), std::nullopt);
  write_token(path, "abc123");
  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  ASSERT_EQ(::stat((dir_ / "a" / "strata").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0700u);
  EXPECT_EQ(read_token(path), "abc123");
  write_token(path, "second");  // replaces
  EXPECT_EQ(read_token(path), "second");
  EXPECT_TRUE(remove_token(path));
  EXPECT_FALSE(remove_token(path));
  std::ofstream(path) << "  \n";
  EXPECT_EQ(read_token(path), std::nullopt);
  EXPECT_THROW(write_token("", "x"), CtlError);
}

}  // namespace
}  // namespace strata::ctl
