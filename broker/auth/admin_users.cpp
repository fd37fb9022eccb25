#include "broker/auth/admin_users.hpp"

#include <fstream>
#include <sstream>

namespace strata::auth {

namespace {

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw PasswordError(path + ": cannot open");
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// Calls fn(fields[3], line number) for each non-comment line split at the
// first two ':' (the third field keeps any further ':').
template <class Fn>
void for_each_line(std::string_view text, const std::string& name, const char* what, Fn fn) {
  std::size_t line_no = 0;
  while (!text.empty()) {
    ++line_no;
    std::size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view{} : text.substr(nl + 1);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty() || line.front() == '#') continue;
    std::size_t a = line.find(':');
    std::size_t b = a == std::string_view::npos ? a : line.find(':', a + 1);
    auto where = name + ":" + std::to_string(line_no) + ": ";
    if (b == std::string_view::npos) throw PasswordError(where + "expected " + what);
    fn(line.substr(0, a), line.substr(a + 1, b - a - 1), line.substr(b + 1), where);
  }
}

}  // namespace

bool parse_admin_role(std::string_view text, AdminRole& out) {
  if (text == "admin") {
    out = AdminRole::admin;
  } else if (text == "viewer") {
    out = AdminRole::viewer;
  } else {
    return false;
  }
  return true;
}

std::string_view admin_role_name(AdminRole r) noexcept { return r == AdminRole::admin ? "admin" : "viewer"; }

AdminUserMap parse_admin_users(std::string_view text, const std::string& name) {
  AdminUserMap users;
  for_each_line(text, name, "username:role:hash",
                [&](std::string_view user, std::string_view role, std::string_view hash, const std::string& where) {
                  AdminUser u;
                  if (!valid_username(user)) throw PasswordError(where + "invalid username");
                  if (!parse_admin_role(role, u.role)) {
                    throw PasswordError(where + "role '" + std::string(role) + "' is not admin or viewer");
                  }
                  if (!hash.starts_with("$pbkdf2-sha512$")) throw PasswordError(where + "expected a $pbkdf2-sha512$ hash");
                  u.hash = hash;
                  if (!users.emplace(std::string(user), std::move(u)).second) {
                    throw PasswordError(where + "user '" + std::string(user) + "' is listed twice");
                  }
                });
  return users;
}

AdminUserMap load_admin_users(const std::string& path) { return parse_admin_users(read_file(path), path); }

void save_admin_users(const std::string& path, const AdminUserMap& users) {
  std::string text;
  for (const auto& [name, u] : users) text += name + ":" + std::string(admin_role_name(u.role)) + ":" + u.hash + "\n";
  save_text_file(path, text);
}

ApiKeyMap parse_api_keys(std::string_view text, const std::string& name) {
  ApiKeyMap keys;
  for_each_line(text, name, "name:secret:role",
                [&](std::string_view key, std::string_view secret, std::string_view role, const std::string& where) {
                  ApiKey k;
                  if (!valid_username(key)) throw PasswordError(where + "invalid key name");
                  if (secret.size() < 16) throw PasswordError(where + "the secret must be at least 16 characters");
                  if (!parse_admin_role(role, k.role)) {
                    throw PasswordError(where + "role '" + std::string(role) + "' is not admin or viewer");
                  }
                  k.secret = secret;
                  if (!keys.emplace(std::string(key), std::move(k)).second) {
                    throw PasswordError(where + "key '" + std::string(key) + "' is listed twice");
                  }
                });
  return keys;
}

ApiKeyMap load_api_keys(const std::string& path) { return parse_api_keys(read_file(path), path); }

}  // namespace strata::auth
