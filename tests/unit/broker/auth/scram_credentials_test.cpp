#include "broker/auth/scram_credentials.hpp"

#include <gtest/gtest.h>

#include "broker/util/base64.hpp"

namespace strata::auth {
namespace {

std::string b64(std::string_view s) { return util::base64_encode(s); }

TEST(ScramCredentials, Rfc7677Keys) {
  // RFC 7677 section 3: user "user", password "pencil", this salt, 4096
  // iterations. The RFC prints only the messages, not the keys; these were
  // computed independently (Python's hashlib.pbkdf2_hmac and hmac), and
  // scram_sha256_test checks the RFC's proof and server signature with them.
  ScramCredentials c = make_scram_credentials("pencil", 4096, *util::base64_decode("W22ZaJ0SNY7soEsUEjb6gQ=="));
  EXPECT_EQ(c.iterations, 4096u);
  EXPECT_EQ(b64(c.salt), "W22ZaJ0SNY7soEsUEjb6gQ==");
  EXPECT_EQ(c.stored_key.size(), 32u);
  EXPECT_EQ(c.server_key.size(), 32u);
  EXPECT_EQ(b64(c.stored_key), "WG5d8oPm3OtcPnkdi4Uo7BkeZkBFzpcXkuLmtbsT4qY=");
  EXPECT_EQ(b64(c.server_key), "wfPLwcE6nTWhTAmQ7tl2KeoiWGPlZqQxSrmfPwDl2dU=");
}

TEST(ScramCredentials, RandomSalt) {
  ScramCredentials a = make_scram_credentials("pw");
  ScramCredentials b = make_scram_credentials("pw");
  EXPECT_EQ(a.iterations, default_scram_iterations);
  EXPECT_EQ(a.salt.size(), 16u);
  EXPECT_NE(a.salt, b.salt);
  EXPECT_NE(a.stored_key, b.stored_key);
}

TEST(ScramCredentials, Primitives) {
  // FIPS 180-2 "abc"; RFC 4231 test case 2.
  EXPECT_EQ(b64(sha256("abc")), "ungWv48Bz+pBQUDeXa4iI7ADYaOWF3qctBD/YfIAFa0=");
  EXPECT_EQ(b64(hmac_sha256("Jefe", "what do ya want for nothing?")),
            "W9zBRr9gdU5qBCQmCJV1x1oAPwidJzmDnexYuWTsOEM=");
}

TEST(ScramCredentials, EncodeDecode) {
  ScramCredentials c = make_scram_credentials("pencil", 4096, *util::base64_decode("W22ZaJ0SNY7soEsUEjb6gQ=="));
  std::string text = encode_scram_credentials(c);
  EXPECT_EQ(text,
            "$scram-sha-256$4096$W22ZaJ0SNY7soEsUEjb6gQ==$WG5d8oPm3OtcPnkdi4Uo7BkeZkBFzpcXkuLmtbsT4qY=$"
            "wfPLwcE6nTWhTAmQ7tl2KeoiWGPlZqQxSrmfPwDl2dU=");
  EXPECT_EQ(decode_scram_credentials(text), std::optional<ScramCredentials>(c));
}

TEST(ScramCredentials, DecodeRejects) {
  const std::string salt = "W22ZaJ0SNY7soEsUEjb6gQ==";
  const std::string key = "WG5d8oPm3OtcPnkdi4Uo7BkeZkBFzpcXkuLmtbsT4qY=";
  auto ok = [&](const std::string& it, const std::string& s, const std::string& k1, const std::string& k2) {
    return decode_scram_credentials("$scram-sha-256$" + it + "$" + s + "$" + k1 + "$" + k2).has_value();
  };
  EXPECT_TRUE(ok("4096", salt, key, key));
  EXPECT_FALSE(ok("4095", salt, key, key));      // below RFC 7677's minimum
  EXPECT_FALSE(ok("10000001", salt, key, key));  // above the maximum
  EXPECT_FALSE(ok("40x6", salt, key, key));
  EXPECT_FALSE(ok("", salt, key, key));
  EXPECT_FALSE(ok("4096", "AAAA", key, key));        // salt of 3 bytes
  EXPECT_FALSE(ok("4096", salt, salt, key));         // stored key of 16 bytes
  EXPECT_FALSE(ok("4096", salt, key, key + "$"));    // a fifth field
  EXPECT_FALSE(ok("4096", salt, key, "not base64"));
  EXPECT_FALSE(decode_scram_credentials("$scram-sha-1$4096$" + salt + "$" + key + "$" + key));
  EXPECT_FALSE(decode_scram_credentials("$scram-sha-256$4096$" + salt + "$" + key));
}

}  // namespace
}  // namespace strata::auth
