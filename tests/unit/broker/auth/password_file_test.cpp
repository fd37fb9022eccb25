#include "broker/auth/password_file.hpp"

#include <cstdio>
#include <fstream>

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
  EXPECT_TRUE(verify_password("a", m.at("alice").hash));
  EXPECT_TRUE(verify_password("b", m.at("bob").hash));
  // Files from before SCRAM support: one field, no SCRAM credentials.
  EXPECT_FALSE(m.at("alice").scram);
}

TEST(PasswordFile, ScramField) {
  const std::string scram =
      "$scram-sha-256$4096$W22ZaJ0SNY7soEsUEjb6gQ==$WG5d8oPm3OtcPnkdi4Uo7BkeZkBFzpcXkuLmtbsT4qY=$"
      "wfPLwcE6nTWhTAmQ7tl2KeoiWGPlZqQxSrmfPwDl2dU=";
  std::string h = hash_password("pencil", 1000);
  PasswordMap m = parse_passwords("user:" + h + ":" + scram + "\nold:" + h + "\n", "pw");
  ASSERT_EQ(m.size(), 2u);
  EXPECT_EQ(m.at("user").hash, h);
  ASSERT_TRUE(m.at("user").scram);
  EXPECT_EQ(encode_scram_credentials(*m.at("user").scram), scram);
  EXPECT_FALSE(m.at("old").scram);
}

TEST(PasswordFile, MakeEntry) {
  PasswordEntry e = make_password_entry("pencil", 1000, 4096);
  EXPECT_TRUE(verify_password("pencil", e.hash));
  ASSERT_TRUE(e.scram);
  EXPECT_EQ(e.scram->iterations, 4096u);
  EXPECT_EQ(*e.scram, make_scram_credentials("pencil", 4096, e.scram->salt));
}

TEST(PasswordFile, SaveWritesBothFieldsAndLoadReadsThem) {
  std::string path = ::testing::TempDir() + "strata_password_file_test";
  PasswordMap users;
  users["alice"] = make_password_entry("a", 1000);
  users["old"] = PasswordEntry{hash_password("o", 1000), std::nullopt};
  save_password_file(path, users);
  std::ifstream in(path);
  std::string line1, line2;
  std::getline(in, line1);
  std::getline(in, line2);
  EXPECT_EQ(line1, "alice:" + users["alice"].hash + ":" + encode_scram_credentials(*users["alice"].scram));
  EXPECT_EQ(line2, "old:" + users["old"].hash);  // stays one field
  EXPECT_EQ(load_password_file(path), users);
  std::remove(path.c_str());
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
  const std::string scram_error =
      "pw:1: SCRAM credentials of 'a' are not $scram-sha-256$ITERATIONS$SALT$STOREDKEY$SERVERKEY (use "
      "strata-passwd)";
  EXPECT_EQ(error_of("a:" + h + ":\n"), scram_error);
  EXPECT_EQ(error_of("a:" + h + ":$scram-sha-256$4096$x$y$z\n"), scram_error);
  EXPECT_EQ(error_of("a:" + h + ":" + encode_scram_credentials(make_scram_credentials("x")) + ":more\n"),
            scram_error);
}

}  // namespace
}  // namespace strata::auth
