// The password file: one user per line,
//
//   username:$pbkdf2-sha512$ITERATIONS$SALT$HASH
//
// SALT (16 random bytes) and HASH (64 bytes) in base64; HASH is
// PBKDF2-HMAC-SHA512(password, salt, ITERATIONS) from OpenSSL. Blank lines
// and lines starting with '#' are ignored. `strata-passwd` writes it; the
// broker reads it at start and on SIGHUP.
//
// Verifying costs ITERATIONS HMAC rounds on the connecting client's core
// (about 10 ms at the default); successful logins are not cached.
#pragma once

#include <map>
#include <stdexcept>
#include <string>
#include <string_view>

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

// username -> encoded hash. Throws PasswordError naming file:line.
using PasswordMap = std::map<std::string, std::string, std::less<>>;
PasswordMap load_password_file(const std::string& path);
PasswordMap parse_passwords(std::string_view text, const std::string& name);

// Writes `users` to `path` atomically (a temporary file renamed over it),
// mode 0600. Throws PasswordError.
void save_password_file(const std::string& path, const PasswordMap& users);

}  // namespace strata::auth
