#include "broker/admin/auth.hpp"

#include <unistd.h>

#include <cstdio>
#include <fstream>

#include <gtest/gtest.h>

#include "broker/util/base64.hpp"

namespace strata::admin {
namespace {

class AuthTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/strata-admin-auth-XXXXXX";
    dir_ = ::mkdtemp(tmpl);
    users_ = dir_ + "/users";
    keys_ = dir_ + "/keys";
    auth::AdminUserMap users;
    users["alice"] = {auth::AdminRole::admin, auth::hash_password("secret-a", 1000)};
    users["victor"] = {auth::AdminRole::viewer, auth::hash_password("secret-v", 1000)};
    auth::save_admin_users(users_, users);
    std::ofstream(keys_) << "# scripts\nci:0123456789abcdef:viewer\nops:fedcba9876543210:admin\n";
    config_.auth = AuthMode::login;
    config_.users_file = users_;
    config_.api_keys_file = keys_;
    config_.token_ttl = std::chrono::seconds(60);
    limits_.max_failed_logins = 3;
  }
  void TearDown() override {
    std::remove(users_.c_str());
    std::remove(keys_.c_str());
    ::rmdir(dir_.c_str());
  }
  static http::status status_of(const std::function<void()>& fn) {
    try {
      fn();
    } catch (const Error& e) {
      return e.status();
    }
    return http::status::ok;
  }
  std::string dir_, users_, keys_;
  AdminConfig config_;
  config::Auth limits_;
};

TEST_F(AuthTest, OpenModeIsAnonymousAdmin) {
  AdminConfig open;
  Auth a(open, limits_);
  auto id = a.identify("", "127.0.0.1:5");
  EXPECT_EQ(id.user, "anonymous");
  EXPECT_EQ(id.role, Role::admin);
}

TEST_F(AuthTest, LoginTokenExpiryAndLogout) {
  Auth a(config_, limits_);
  auto now = Auth::Clock::now();
  Auth::Token t = a.login("alice", "secret-a", "127.0.0.1:1", now);
  EXPECT_EQ(t.role, Role::admin);
  EXPECT_EQ(t.token.size(), 64u);
  auto id = a.identify("Bearer " + t.token, "127.0.0.1:1", now);
  EXPECT_EQ(id.user, "alice");
  EXPECT_EQ(id.role, Role::admin);
  EXPECT_EQ(status_of([&] { a.identify("Bearer " + t.token, "127.0.0.1:1", now + std::chrono::seconds(61)); }),
            http::status::unauthorized);
  Auth::Token v = a.login("victor", "secret-v", "127.0.0.1:1", now);
  EXPECT_EQ(v.role, Role::viewer);
  EXPECT_TRUE(a.logout(v.token));
  EXPECT_EQ(status_of([&] { a.identify("Bearer " + v.token, "127.0.0.1:1", now); }), http::status::unauthorized);
}

TEST_F(AuthTest, ApiKeys) {
  Auth a(config_, limits_);
  auto id = a.identify("Basic " + util::base64_encode("ops:fedcba9876543210"), "127.0.0.1:1");
  EXPECT_EQ(id.user, "key:ops");
  EXPECT_EQ(id.role, Role::admin);
  EXPECT_EQ(a.identify("Basic " + util::base64_encode("ci:0123456789abcdef"), "127.0.0.1:1").role, Role::viewer);
  EXPECT_EQ(status_of([&] { a.identify("Basic " + util::base64_encode("ci:wrong"), "127.0.0.1:2"); }),
            http::status::unauthorized);
  EXPECT_EQ(status_of([&] { a.identify("Basic !!", "127.0.0.1:2"); }), http::status::unauthorized);
  EXPECT_EQ(status_of([&] { a.identify("Digest x", "127.0.0.1:2"); }), http::status::unauthorized);
  EXPECT_EQ(status_of([&] { a.identify("", "127.0.0.1:2"); }), http::status::unauthorized);
}

TEST_F(AuthTest, FailedLoginsAreLimitedPerAddress) {
  Auth a(config_, limits_);
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(status_of([&] { a.login("alice", "wrong", "10.0.0.1:1"); }), http::status::unauthorized);
  }
  // Blocked now, even with the right password; another address is not.
  EXPECT_EQ(status_of([&] { a.login("alice", "secret-a", "10.0.0.1:2"); }), http::status::too_many_requests);
  EXPECT_EQ(status_of([&] { a.login("alice", "secret-a", "10.0.0.2:1"); }), http::status::ok);
  EXPECT_EQ(a.failures(), 3u);
}

TEST_F(AuthTest, BadFilesNameTheLine) {
  std::ofstream(keys_) << "ci:short:viewer\n";
  try {
    Auth a(config_, limits_);
    FAIL();
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find(keys_ + ":1: the secret must be at least 16 characters"), std::string::npos)
        << e.what();
  }
}

TEST_F(AuthTest, ReloadDropsTokensOfRemovedUsers) {
  Auth a(config_, limits_);
  Auth::Token t = a.login("victor", "secret-v", "127.0.0.1:1");
  Auth::Token u = a.login("alice", "secret-a", "127.0.0.1:1");
  auth::AdminUserMap users = auth::load_admin_users(users_);
  users.erase("victor");
  auth::save_admin_users(users_, users);
  a.reload(config_);
  EXPECT_EQ(status_of([&] { a.identify("Bearer " + t.token, "127.0.0.1:1"); }), http::status::unauthorized);
  EXPECT_EQ(a.identify("Bearer " + u.token, "127.0.0.1:1").user, "alice");
}

}  // namespace
}  // namespace strata::admin
