#include "rules/rule_dir.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

namespace strata::rules {
namespace {

namespace fs = std::filesystem;

struct RuleDirTest : ::testing::Test {
  RuleDirTest() {
    dir = fs::temp_directory_path() / ("strata_rule_dir_" + std::to_string(::getpid()));
    fs::remove_all(dir);
  }
  ~RuleDirTest() override { fs::remove_all(dir); }
  void write(const std::string& name, const std::string& text) {
    std::ofstream(dir / name) << text;
    // A new mtime even within the filesystem's time resolution.
    fs::last_write_time(dir / name, fs::last_write_time(dir / name) + std::chrono::seconds(++bump));
  }
  fs::path dir;
  int bump = 0;
};

TEST_F(RuleDirTest, ReportsAddedChangedAndDeletedFiles) {
  RuleDir rd(dir.string());
  EXPECT_TRUE(rd.scan().changes.empty());  // missing directory
  fs::create_directories(dir);
  write("a.lua", "A");
  write("assets.json", "{}");
  write("bad name.lua", "x");
  write("notes.txt", "x");
  RuleDir::Scan s = rd.scan();
  // Every *.lua file is reported: a rule may declare a name its file name is not.
  ASSERT_EQ(s.changes.size(), 2u);
  EXPECT_EQ(s.changes[0].path, (dir / "a.lua").string());
  EXPECT_EQ(*s.changes[0].source, "A");
  EXPECT_EQ(s.changes[1].path, (dir / "bad name.lua").string());
  EXPECT_TRUE(s.contexts_changed);

  s = rd.scan();
  EXPECT_TRUE(s.changes.empty());
  EXPECT_FALSE(s.contexts_changed);

  write("a.lua", "AA");
  write("b.lua", "B");
  s = rd.scan();
  ASSERT_EQ(s.changes.size(), 2u);
  EXPECT_EQ(*s.changes[0].source, "AA");
  EXPECT_EQ(s.changes[1].path, (dir / "b.lua").string());

  fs::remove(dir / "a.lua");
  fs::remove(dir / "assets.json");
  s = rd.scan();
  ASSERT_EQ(s.changes.size(), 1u);
  EXPECT_EQ(s.changes[0].path, (dir / "a.lua").string());
  EXPECT_FALSE(s.changes[0].source.has_value());
  EXPECT_TRUE(s.contexts_changed);
}

}  // namespace
}  // namespace strata::rules
