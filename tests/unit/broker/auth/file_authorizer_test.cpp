// FileAuthorizer's enhanced authentication: the methods of [auth] methods,
// SCRAM credentials from the password file, the failed-login limiter and the
// username check around each exchange.
#include "broker/auth/file_authorizer.hpp"

#include <cstdio>

#include <gtest/gtest.h>
#include <unistd.h>

#include "tests/unit/broker/auth/scram_test_client.hpp"

namespace strata::auth {
namespace {

using Outcome = AuthStep::Outcome;
using protocol::ReasonCode;
using testing::client_final_for;

class FileAuthorizerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // One file per test and process: ctest may run these tests in parallel.
    path_ = ::testing::TempDir() + "strata_file_authorizer_test_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name() + "_" + std::to_string(::getpid());
    PasswordMap users;
    users["alice"] = make_password_entry("wonderland", 1000);
    users["old"] = PasswordEntry{hash_password("plain", 1000), std::nullopt};
    save_password_file(path_, users);
    settings_.password_file = path_;
    settings_.max_failed_logins = 3;
  }
  void TearDown() override { std::remove(path_.c_str()); }

  // A whole SCRAM-SHA-256 login; the last step.
  AuthStep scram(FileAuthorizer& a, std::string_view user, std::string_view password,
                 std::optional<std::string_view> expected = std::nullopt, std::string_view remote = "10.0.0.1:5000") {
    ConnectContext ctx{remote, {}, true};
    auto x = a.begin_exchange("SCRAM-SHA-256", ctx, expected);
    EXPECT_NE(x, nullptr);
    if (!x) return {};
    std::string bare = "n=" + std::string(user) + ",r=nonce";
    AuthStep first = x->start("n,," + bare);
    if (first.outcome != Outcome::more) return first;
    return x->next(client_final_for(password, bare, first.data));
  }

  std::string path_;
  config::Auth settings_;
};

TEST_F(FileAuthorizerTest, ScramWithThePasswordFileCredentials) {
  FileAuthorizer a(settings_);
  AuthStep s = scram(a, "alice", "wonderland");
  EXPECT_EQ(s.outcome, Outcome::success) << s.why;
  EXPECT_EQ(s.username, "alice");
  EXPECT_TRUE(s.data.starts_with("v="));
  // The same user still logs in with a plain password.
  protocol::Connect c;
  c.username = "alice";
  c.password = "wonderland";
  EXPECT_EQ(a.authenticate(c, ConnectContext{"10.0.0.1:5001", {}, false}), ReasonCode::success);
}

TEST_F(FileAuthorizerTest, UnknownOrDisabledMethod) {
  FileAuthorizer a(settings_);
  ConnectContext ctx{"10.0.0.1:5000", {}, true};
  EXPECT_EQ(a.begin_exchange("SCRAM-SHA-1", ctx, std::nullopt), nullptr);
  EXPECT_EQ(a.begin_exchange("scram-sha-256", ctx, std::nullopt), nullptr);  // names are exact
  settings_.methods.clear();
  FileAuthorizer none(settings_);
  EXPECT_EQ(none.begin_exchange("SCRAM-SHA-256", ctx, std::nullopt), nullptr);
}

TEST_F(FileAuthorizerTest, FailuresAndTheirReasons) {
  FileAuthorizer a(settings_);
  EXPECT_EQ(scram(a, "alice", "nope", std::nullopt, "10.0.0.1:1").reason, ReasonCode::bad_user_name_or_password);
  EXPECT_EQ(scram(a, "old", "plain", std::nullopt, "10.0.0.2:1").reason, ReasonCode::bad_user_name_or_password);
  EXPECT_EQ(scram(a, "carol", "x", std::nullopt, "10.0.0.3:1").reason, ReasonCode::bad_user_name_or_password);
  // The proof is right, but CONNECT named another user.
  AuthStep s = scram(a, "alice", "wonderland", "bob", "10.0.0.4:1");
  EXPECT_EQ(s.outcome, Outcome::failure);
  EXPECT_EQ(s.reason, ReasonCode::not_authorized);
  EXPECT_EQ(s.why, "authenticated as 'alice', not as 'bob'");
  EXPECT_EQ(scram(a, "alice", "wonderland", "alice", "10.0.0.4:2").outcome, Outcome::success);
}

TEST_F(FileAuthorizerTest, ScramFailuresCountTowardTheLimiter) {
  FileAuthorizer a(settings_);
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(scram(a, "alice", "wrong", std::nullopt, "10.9.9.9:" + std::to_string(i)).reason,
              ReasonCode::bad_user_name_or_password);
  }
  // Blocked: refused at client-first, whatever the credentials, for SCRAM
  // and plain passwords alike; other addresses are not.
  AuthStep s = scram(a, "alice", "wonderland", std::nullopt, "10.9.9.9:10");
  EXPECT_EQ(s.outcome, Outcome::failure);
  EXPECT_EQ(s.reason, ReasonCode::banned);
  protocol::Connect c;
  c.username = "alice";
  c.password = "wonderland";
  EXPECT_EQ(a.authenticate(c, ConnectContext{"10.9.9.9:11", {}, false}), ReasonCode::banned);
  EXPECT_EQ(scram(a, "alice", "wonderland", std::nullopt, "10.9.9.8:1").outcome, Outcome::success);
}

TEST_F(FileAuthorizerTest, ReloadPicksUpNewScramCredentials) {
  FileAuthorizer a(settings_);
  PasswordMap users = load_password_file(path_);
  users["alice"] = make_password_entry("looking-glass", 1000);
  save_password_file(path_, users);
  ASSERT_TRUE(a.reload());
  EXPECT_EQ(scram(a, "alice", "looking-glass").outcome, Outcome::success);
  EXPECT_EQ(scram(a, "alice", "wonderland", std::nullopt, "10.0.0.7:1").outcome, Outcome::failure);
}

TEST_F(FileAuthorizerTest, NoPasswordFile) {
  settings_.password_file.clear();
  FileAuthorizer a(settings_);
  AuthStep s = scram(a, "alice", "wonderland");
  EXPECT_EQ(s.outcome, Outcome::failure);
  EXPECT_EQ(s.reason, ReasonCode::bad_user_name_or_password);
}

}  // namespace
}  // namespace strata::auth
