// What the broker stores to verify SCRAM-SHA-256 logins (RFC 5802 section
// 3, RFC 7677) without storing the password:
//
//   SaltedPassword = PBKDF2-HMAC-SHA-256(password, salt, iterations)
//   StoredKey      = SHA-256(HMAC-SHA-256(SaltedPassword, "Client Key"))
//   ServerKey      = HMAC-SHA-256(SaltedPassword, "Server Key")
//
// StoredKey lets the broker check a client's proof, ServerKey lets it prove
// that it knows the credentials too; neither is enough to log in as the
// user. In the password file they are written as
//
//   $scram-sha-256$ITERATIONS$SALT$STOREDKEY$SERVERKEY
//
// with SALT (16 random bytes when strata-passwd makes it) and both keys
// (32 bytes) in base64. The password is used as its UTF-8 bytes, without
// SASLprep normalisation (the same for ASCII passwords).
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace strata::auth {

// RFC 7677 section 4: at least 4096.
constexpr unsigned default_scram_iterations = 4096;
constexpr unsigned min_scram_iterations = 4096;
constexpr unsigned max_scram_iterations = 10'000'000;

struct ScramCredentials {
  unsigned iterations = 0;
  std::string salt;        // raw bytes
  std::string stored_key;  // 32 raw bytes
  std::string server_key;  // 32 raw bytes
  bool operator==(const ScramCredentials&) const = default;
};

// Credentials for `password`; `salt` empty: 16 random bytes. Throws
// std::runtime_error when OpenSSL fails.
ScramCredentials make_scram_credentials(std::string_view password, unsigned iterations = default_scram_iterations,
                                        std::string salt = {});

// "$scram-sha-256$..." and back; nullopt for anything malformed (iterations
// outside min..max, a salt not 8..64 bytes, keys not 32 bytes).
std::string encode_scram_credentials(const ScramCredentials& c);
std::optional<ScramCredentials> decode_scram_credentials(std::string_view text);

// The primitives SCRAM-SHA-256 is built from (OpenSSL).
std::string sha256(std::string_view data);
std::string hmac_sha256(std::string_view key, std::string_view data);

}  // namespace strata::auth
