// Who is calling the admin API, and may they.
//
// auth = "open": every caller is "anonymous" with the admin role (allowed
// on loopback only, see admin_config.hpp). auth = "login":
// - POST /api/v1/login {"username","password"} checks the users file
//   (strata-passwd --admin) and hands out a random bearer token valid
//   for token_ttl; POST /api/v1/logout revokes it.
// - "Authorization: Bearer TOKEN" on every other request, or
//   "Authorization: Basic base64(name:secret)" with an API key.
// Failed logins and bad credentials count against the source address in
// the broker's login limiter ([auth] max_failed_logins per
// failed_login_window): once over, that address gets 429 without its
// credentials being checked.
//
// Used on the admin thread only (no lock). Tokens live in memory: a
// restart logs everyone out.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "broker/admin/admin_config.hpp"
#include "broker/admin/http.hpp"
#include "broker/auth/admin_users.hpp"
#include "broker/auth/login_limiter.hpp"

namespace strata::admin {

class Auth {
 public:
  using Clock = std::chrono::system_clock;
  // Loads the users and API keys files; throws std::runtime_error naming
  // file:line.
  Auth(const AdminConfig& config, const config::Auth& limiter);

  struct Identity {
    std::string user;
    Role role = Role::none;
  };
  // The caller of a request with this Authorization header (may be empty)
  // from `remote`. Throws Error 401 (no or bad credentials, expired or
  // revoked token) or 429 (the address is blocked).
  Identity identify(std::string_view authorization, std::string_view remote, Clock::time_point now = Clock::now());

  struct Token {
    std::string token;
    Role role = Role::none;
    Clock::time_point expires;
  };
  // Throws Error 401 (wrong user or password) or 429.
  Token login(std::string_view user, std::string_view password, std::string_view remote,
              Clock::time_point now = Clock::now());
  // Revokes `token`; false if it was not valid.
  bool logout(std::string_view token);

  // Re-reads the files and settings; throws (keeping the running ones) when
  // a file does not load.
  void reload(const AdminConfig& config);

  bool open() const noexcept { return mode_ == AuthMode::open; }
  // Counters for /metrics.
  std::uint64_t failures() const noexcept { return failures_; }
  std::size_t token_count() const noexcept { return tokens_.size(); }

 private:
  struct Session {
    std::string user;
    Role role;
    Clock::time_point expires;
  };
  [[noreturn]] void fail(std::string_view remote, const std::string& message);
  void prune(Clock::time_point now);

  AuthMode mode_;
  std::chrono::seconds ttl_;
  auth::AdminUserMap users_;
  auth::ApiKeyMap keys_;
  auth::LoginLimiter limiter_;
  std::unordered_map<std::string, Session> tokens_;
  std::uint64_t failures_ = 0;
};

}  // namespace strata::admin
