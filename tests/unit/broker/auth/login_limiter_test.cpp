#include "broker/auth/login_limiter.hpp"

#include <gtest/gtest.h>

namespace strata::auth {
namespace {

using namespace std::chrono_literals;

TEST(LoginLimiter, BlocksAfterMaxFailuresUntilTheWindowPasses) {
  LoginLimiter l(3, 60s);
  auto t0 = LoginLimiter::Clock::time_point{} + 1000s;
  EXPECT_TRUE(l.allowed("10.0.0.1", t0));
  EXPECT_FALSE(l.failed("10.0.0.1", t0));
  EXPECT_FALSE(l.failed("10.0.0.1", t0 + 1s));
  EXPECT_TRUE(l.allowed("10.0.0.1", t0 + 2s));
  EXPECT_TRUE(l.failed("10.0.0.1", t0 + 2s));  // starts the block
  EXPECT_FALSE(l.allowed("10.0.0.1", t0 + 3s));
  EXPECT_TRUE(l.allowed("10.0.0.2", t0 + 3s));  // per address
  EXPECT_FALSE(l.allowed("10.0.0.1", t0 + 59s));
  EXPECT_TRUE(l.allowed("10.0.0.1", t0 + 60s));
}

TEST(LoginLimiter, ZeroMeansNoLimit) {
  LoginLimiter l(0, 60s);
  for (int i = 0; i < 100; ++i) EXPECT_FALSE(l.failed("a"));
  EXPECT_TRUE(l.allowed("a"));
}

TEST(LoginLimiter, HostOf) {
  EXPECT_EQ(LoginLimiter::host_of("127.0.0.1:5000"), "127.0.0.1");
  EXPECT_EQ(LoginLimiter::host_of("[::1]:5000"), "::1");
}

}  // namespace
}  // namespace strata::auth
