#include "broker/auth/password_file.hpp"

#include <gtest/gtest.h>

namespace strata::auth {
namespace {

TEST(PasswordFile, HashAndVerify) {
  std::string h = hash_password("s3cret", 1000);
  EXPECT_TRUE(h.starts_with("$pbkdf2-sha512$1000$"));
  EXPECT_TRUE(verify_password("s3cret", h));
  EXPECT_FALSE(verify_password("s3cret ", h));
  EXPECT_FALSE(verify_password("", h));
  EXPECT_NE(hash_password("s3cret", 1000), h);  // random salt
  EXPECT_FALSE(verify_password("s3cret", "$pbkdf2-sha512$1000$short$hash"));
  EXPECT_FALSE(verify_password("s3cret", "plain"));
}

TEST(PasswordFile, Parse) {
  std::string a = hash_password("a", 1000);
  PasswordMap m = parse_passwords("# users\n\nalice:" + a + "\r\nbob:" + hash_password("b", 1000) + "\n", "pw");
  ASSERT_EQ(m.size(), 2u);
  EXPECT_TRUE(verify_password("a", m.at("alice")));
  EXPECT_TRUE(verify_password("b", m.at("bob")));
}

TEST(PasswordFile, Errors) {
  auto error_of = [](const std::string& text) -> std::string {
    try {
      parse_passwords(text, "pw");
    } catch (const PasswordError& e) {
      return e.what();
    }
    return "(no error)";
  };
  std::string h = hash_password("x", 1000);
  EXPECT_EQ(error_of("alice\n"), "pw:1: expected username:hash");
  EXPECT_EQ(error_of("\nalice:plain\n"),
            "pw:2: hash of 'alice' is not $pbkdf2-sha512$ITERATIONS$SALT$HASH (use strata-passwd)");
  EXPECT_EQ(error_of("a:" + h + "\na:" + h + "\n"), "pw:2: user 'a' is listed twice");
  EXPECT_EQ(error_of(":" + h + "\n"), "pw:1: invalid username");
}

}  // namespace
}  // namespace strata::auth
