#include "broker/admin/auth.hpp"

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "broker/util/base64.hpp"
#include "broker/util/log.hpp"

namespace strata::admin {

namespace {

Role role_of(auth::AdminRole r) { return r == auth::AdminRole::admin ? Role::admin : Role::viewer; }

std::string random_token() {
  unsigned char bytes[32];
  if (RAND_bytes(bytes, sizeof bytes) != 1) throw std::runtime_error("no random bytes for a token");
  static const char hex[] = "0123456789abcdef";
  std::string out;
  for (unsigned char b : bytes) {
    out += hex[b >> 4];
    out += hex[b & 15];
  }
  return out;
}

bool same(std::string_view a, std::string_view b) {
  return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

}  // namespace

Auth::Auth(const AdminConfig& config, const config::Auth& limiter)
    : mode_(config.auth), ttl_(config.token_ttl), limiter_(limiter.max_failed_logins, limiter.failed_login_window) {
  try {
    if (!config.users_file.empty()) users_ = auth::load_admin_users(config.users_file);
    if (!config.api_keys_file.empty()) keys_ = auth::load_api_keys(config.api_keys_file);
  } catch (const auth::PasswordError& e) {
    throw std::runtime_error(std::string("admin: ") + e.what());
  }
}

void Auth::reload(const AdminConfig& config) {
  auth::AdminUserMap users;
  auth::ApiKeyMap keys;
  try {
    if (!config.users_file.empty()) users = auth::load_admin_users(config.users_file);
    if (!config.api_keys_file.empty()) keys = auth::load_api_keys(config.api_keys_file);
  } catch (const auth::PasswordError& e) {
    throw std::runtime_error(std::string("admin: ") + e.what());
  }
  users_ = std::move(users);
  keys_ = std::move(keys);
  ttl_ = config.token_ttl;
  // A token of a user who is gone, or whose role changed, ends now.
  for (auto it = tokens_.begin(); it != tokens_.end();) {
    auto u = users_.find(it->second.user);
    if (u == users_.end() || role_of(u->second.role) != it->second.role) {
      it = tokens_.erase(it);
    } else {
      ++it;
    }
  }
}

void Auth::fail(std::string_view remote, const std::string& message) {
  ++failures_;
  std::string_view host = auth::LoginLimiter::host_of(remote);
  if (limiter_.failed(host)) {
    STRATA_WARN("admin") << "too many failed logins from " << host << "; refusing it for a while";
  }
  throw Error::unauthorized(message);
}

void Auth::prune(Clock::time_point now) {
  if (tokens_.size() < 1024) return;
  std::erase_if(tokens_, [now](const auto& kv) { return kv.second.expires <= now; });
}

Auth::Identity Auth::identify(std::string_view authorization, std::string_view remote, Clock::time_point now) {
  if (mode_ == AuthMode::open) return {"anonymous", Role::admin};
  if (authorization.empty()) throw Error::unauthorized("this request needs a login: Authorization: Bearer TOKEN");
  if (!limiter_.allowed(auth::LoginLimiter::host_of(remote))) {
    throw Error(http::status::too_many_requests, "TOO_MANY_REQUESTS", "too many failed logins from this address");
  }
  if (authorization.starts_with("Bearer ")) {
    std::string_view token = authorization.substr(7);
    auto it = tokens_.find(std::string(token));
    if (it == tokens_.end()) fail(remote, "the token is not valid (revoked, or from before a restart)");
    if (it->second.expires <= now) {
      tokens_.erase(it);
      fail(remote, "the token has expired; log in again");
    }
    return {it->second.user, it->second.role};
  }
  if (authorization.starts_with("Basic ")) {
    std::string decoded;
    auto d = util::base64_decode(authorization.substr(6));
    if (!d) fail(remote, "malformed Basic credentials");
    decoded = std::move(*d);
    std::size_t colon = decoded.find(':');
    if (colon == std::string::npos) fail(remote, "malformed Basic credentials");
    std::string_view name(decoded.data(), colon);
    std::string_view secret(decoded.data() + colon + 1, decoded.size() - colon - 1);
    auto it = keys_.find(name);
    if (it == keys_.end() || !same(it->second.secret, secret)) fail(remote, "unknown API key or wrong secret");
    return {"key:" + it->first, role_of(it->second.role)};
  }
  fail(remote, "unsupported Authorization scheme; expected Bearer or Basic");
}

Auth::Token Auth::login(std::string_view user, std::string_view password, std::string_view remote,
                        Clock::time_point now) {
  if (!limiter_.allowed(auth::LoginLimiter::host_of(remote))) {
    throw Error(http::status::too_many_requests, "TOO_MANY_REQUESTS", "too many failed logins from this address");
  }
  auto it = users_.find(user);
  // A missing user costs the same hash as a present one.
  static const std::string dummy = auth::hash_password("strata-no-such-user");
  bool ok = auth::verify_password(password, it == users_.end() ? dummy : it->second.hash) && it != users_.end();
  if (!ok) {
    STRATA_WARN("admin") << "failed login for '" << user << "' from " << remote;
    fail(remote, "wrong username or password");
  }
  prune(now);
  Token t{random_token(), role_of(it->second.role), now + ttl_};
  tokens_[t.token] = Session{it->first, t.role, t.expires};
  STRATA_INFO("admin") << "login: " << it->first << " (" << to_string(t.role) << ") from " << remote;
  return t;
}

bool Auth::logout(std::string_view token) { return tokens_.erase(std::string(token)) > 0; }

}  // namespace strata::admin
