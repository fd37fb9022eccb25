// The admin API's users file: one user per line,
//
//   username:role:$pbkdf2-sha512$ITERATIONS$SALT$HASH
//
// role is "admin" (may change state) or "viewer" (read-only); the hash is
// the password file's (password_file.hpp). `strata-passwd --admin` writes
// it; blank lines and lines starting with '#' are ignored.
//
// The API keys file: one key per line, `name:secret:role`, for scripts
// calling the API with HTTP Basic (name as user, secret as password).
// Secrets are at least 16 characters. Both files should be mode 0600.
#pragma once

#include <map>
#include <string>
#include <string_view>

#include "broker/auth/password_file.hpp"

namespace strata::auth {

enum class AdminRole : unsigned char { viewer, admin };
// "admin" / "viewer" -> role; false when neither.
bool parse_admin_role(std::string_view text, AdminRole& out);
std::string_view admin_role_name(AdminRole r) noexcept;

struct AdminUser {
  AdminRole role = AdminRole::viewer;
  std::string hash;  // "$pbkdf2-sha512$..."
  bool operator==(const AdminUser&) const = default;
};
using AdminUserMap = std::map<std::string, AdminUser, std::less<>>;

// Throws PasswordError naming file:line.
AdminUserMap parse_admin_users(std::string_view text, const std::string& name);
AdminUserMap load_admin_users(const std::string& path);
void save_admin_users(const std::string& path, const AdminUserMap& users);

struct ApiKey {
  std::string secret;
  AdminRole role = AdminRole::viewer;
  bool operator==(const ApiKey&) const = default;
};
using ApiKeyMap = std::map<std::string, ApiKey, std::less<>>;
ApiKeyMap parse_api_keys(std::string_view text, const std::string& name);
ApiKeyMap load_api_keys(const std::string& path);

}  // namespace strata::auth
