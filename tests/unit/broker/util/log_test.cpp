#include "broker/util/log.hpp"

#include <unistd.h>

#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

namespace strata::log {
namespace {

using namespace std::chrono;

// 2026-11-22T11:20:05.123Z
const system_clock::time_point kWhen = system_clock::time_point(seconds(1795346405)) + milliseconds(123);

TEST(LogLevel, ParsesEveryName) {
  EXPECT_EQ(parse_level("trace"), Level::trace);
  EXPECT_EQ(parse_level("debug"), Level::debug);
  EXPECT_EQ(parse_level("info"), Level::info);
  EXPECT_EQ(parse_level("warn"), Level::warn);
  EXPECT_EQ(parse_level("error"), Level::error);
}

TEST(LogLevel, RejectsOtherNames) {
  EXPECT_EQ(parse_level(""), std::nullopt);
  EXPECT_EQ(parse_level("INFO"), std::nullopt);
  EXPECT_EQ(parse_level("warning"), std::nullopt);
  EXPECT_EQ(parse_level("info "), std::nullopt);
}

TEST(LogLevel, NamesRoundTrip) {
  for (Level l : {Level::trace, Level::debug, Level::info, Level::warn, Level::error}) {
    EXPECT_EQ(parse_level(to_string(l)), l);
  }
}

TEST(LogLevel, EnabledFollowsSetLevel) {
  Level saved = level();
  set_level(Level::warn);
  EXPECT_EQ(level(), Level::warn);
  EXPECT_FALSE(enabled(Level::info));
  EXPECT_TRUE(enabled(Level::warn));
  EXPECT_TRUE(enabled(Level::error));
  set_level(Level::trace);
  EXPECT_TRUE(enabled(Level::trace));
  set_level(saved);
}

TEST(LogFormat, LineHasUtcTimeMillisPaddedLevelAndComponent) {
  EXPECT_EQ(format_line(Level::info, "core", "text", kWhen), "2026-11-22T11:20:05.123Z INFO  core: text\n");
  EXPECT_EQ(format_line(Level::error, "config", "x", kWhen), "2026-11-22T11:20:05.123Z ERROR config: x\n");
  EXPECT_EQ(format_line(Level::warn, "c", "", kWhen), "2026-11-22T11:20:05.123Z WARN  c: \n");
}

TEST(LogFormat, MillisecondsKeepLeadingZeros) {
  auto when = system_clock::time_point(seconds(1795346405)) + milliseconds(7);
  EXPECT_EQ(format_line(Level::debug, "a", "b", when), "2026-11-22T11:20:05.007Z DEBUG a: b\n");
}

TEST(LogFormat, ControlCharactersAreEscapedSoOneEventIsOneLine) {
  EXPECT_EQ(format_line(Level::trace, "net", "client \"a\nb\"\r\x01", kWhen),
            "2026-11-22T11:20:05.123Z TRACE net: client \"a\\x0ab\"\\x0d\\x01\n");
}

// Captures what the macros write through a pipe.
class LogCapture : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(::pipe(fds_), 0);
    saved_ = level();
    set_output_fd(fds_[1]);
  }
  void TearDown() override {
    set_output_fd(2);
    set_level(saved_);
    ::close(fds_[0]);
    ::close(fds_[1]);
  }
  std::string drain() {
    ::close(fds_[1]);
    fds_[1] = -1;
    set_output_fd(2);
    std::string out;
    char buf[4096];
    ssize_t n;
    while ((n = ::read(fds_[0], buf, sizeof buf)) > 0) out.append(buf, static_cast<std::size_t>(n));
    return out;
  }
  int fds_[2] = {-1, -1};
  Level saved_ = Level::info;
};

TEST_F(LogCapture, MacroWritesOnlyEnabledLevelsAndSkipsTheExpression) {
  set_level(Level::info);
  int evaluated = 0;
  STRATA_DEBUG("core") << "hidden " << ++evaluated;
  STRATA_INFO("core") << "shown " << 42;
  STRATA_ERROR("router") << "bad";
  std::string out = drain();
  EXPECT_EQ(evaluated, 0);
  EXPECT_EQ(out.find("hidden"), std::string::npos);
  auto first = out.find(" INFO  core: shown 42\n");
  auto second = out.find(" ERROR router: bad\n");
  ASSERT_NE(first, std::string::npos) << out;
  ASSERT_NE(second, std::string::npos) << out;
  EXPECT_LT(first, second);
}

TEST_F(LogCapture, LinesFromManyThreadsDoNotInterleave) {
  set_level(Level::info);
  constexpr int kThreads = 4;
  constexpr int kLines = 100;  // stays well under the 64 KiB pipe buffer
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([t] {
      for (int i = 0; i < kLines; ++i) STRATA_INFO("t") << std::string(40, static_cast<char>('a' + t));
    });
  }
  for (auto& th : threads) th.join();
  std::string out = drain();
  std::size_t lines = 0;
  std::size_t start = 0;
  while (start < out.size()) {
    auto end = out.find('\n', start);
    ASSERT_NE(end, std::string::npos);
    std::string line = out.substr(start, end - start);
    auto colon = line.find(" INFO  t: ");
    ASSERT_NE(colon, std::string::npos) << line;
    std::string body = line.substr(colon + 10);
    EXPECT_EQ(body, std::string(40, body[0])) << line;
    ++lines;
    start = end + 1;
  }
  EXPECT_EQ(lines, static_cast<std::size_t>(kThreads * kLines));
}

}  // namespace
}  // namespace strata::log
