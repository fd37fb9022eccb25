// The password file: one user per line,
//
//   username:$pbkdf2-sha512$ITERATIONS$SALT$HASH[:$scram-sha-256$...]
//
// SALT (16 random bytes) and HASH (64 bytes) in base64; HASH is
// PBKDF2-HMAC-SHA512(password, salt, ITERATIONS) from OpenSSL. It verifies
// the password of CONNECT. The optional second field holds the user's
// SCRAM-SHA-256 credentials (scram_credentials.hpp), for MQTT 5 enhanced
// authentication; a user without it logs in with a password only. Files
// written before SCRAM support (one field) are read as they are.
// Blank lines and lines starting with '#' are ignored. `strata-passwd`
// writes it; the broker reads it at start and on SIGHUP.
//
// Verifying a password costs ITERATIONS HMAC rounds on the connecting
// client's core (about 10 ms at the default); successful logins are not
// cached. A SCRAM login costs the broker no PBKDF2 (the client does it).
#pragma once

#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

#include "broker/auth/scram_credentials.hpp"

namespace strata::auth {

class PasswordError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;  // "file:line: what"
};

constexpr unsigned default_pbkdf2_iterations = 10000;

// A new "$pbkdf2-sha512$..." string for `password` with a random salt.
std::string hash_password(std::string_view password, unsigned iterations = default_pbkdf2_iterations);

// True if `password` matches `encoded` (constant-time comparison). False
// for a malformed `encoded`.
bool verify_password(std::string_view password, std::string_view encoded);

// A username usable in the file: non-empty, no ':' and no control characters.
bool valid_username(std::string_view username);

struct PasswordEntry {
  std::string hash;                       // "$pbkdf2-sha512$..."
  std::optional<ScramCredentials> scram;  // none: no SCRAM-SHA-256 login
  bool operator==(const PasswordEntry&) const = default;
};

// A user's entry for `password`: a new hash and new SCRAM credentials.
PasswordEntry make_password_entry(std::string_view password, unsigned iterations = default_pbkdf2_iterations,
                                  unsigned scram_iterations = default_scram_iterations);

// username -> entry. Throws PasswordError naming file:line.
using PasswordMap = std::map<std::string, PasswordEntry, std::less<>>;
PasswordMap load_password_file(const std::string& path);
PasswordMap parse_passwords(std::string_view text, const std::string& name);

// Writes `users` to `path` atomically (a temporary file renamed over it),
// mode 0600. Throws PasswordError.
void save_password_file(const std::string& path, const PasswordMap& users);
// Writes `text` to `path` the same way (temporary file, fsync, rename, 0600).
void save_text_file(const std::string& path, const std::string& text);

}  // namespace strata::auth
