#include "broker/auth/file_authorizer.hpp"

#include "broker/util/log.hpp"

namespace strata::auth {

using protocol::ReasonCode;

class FileAuthorizer::Exchange final : public AuthExchange {
 public:
  Exchange(FileAuthorizer& owner, std::string_view method, std::unique_ptr<AuthExchange> inner,
           std::string_view remote, std::optional<std::string_view> username)
      : owner_(owner), method_(method), inner_(std::move(inner)), remote_(remote) {
    if (username) username_ = std::string(*username);
  }

  AuthStep start(std::string_view client_data) override {
    std::string_view host = LoginLimiter::host_of(remote_);
    if (!owner_.limiter_.allowed(host)) {
      STRATA_INFO("auth") << remote_ << ": login refused: too many failed logins from " << host;
      return AuthStep::failure(ReasonCode::banned, "too many failed logins");
    }
    return checked(inner_->start(client_data));
  }

  AuthStep next(std::string_view client_data) override { return checked(inner_->next(client_data)); }

 private:
  AuthStep checked(AuthStep step) {
    if (step.outcome == AuthStep::Outcome::success && username_ && *username_ != step.username) {
      step = AuthStep::failure(ReasonCode::not_authorized,
                               "authenticated as '" + step.username + "', not as '" + *username_ + "'");
    }
    if (step.outcome == AuthStep::Outcome::failure) {
      owner_.refuse(step.reason, LoginLimiter::host_of(remote_), remote_, method_ + ": " + step.why);
    }
    return step;
  }

  FileAuthorizer& owner_;
  const std::string method_;
  const std::unique_ptr<AuthExchange> inner_;
  const std::string remote_;
  std::optional<std::string> username_;
};

FileAuthorizer::FileAuthorizer(const config::Auth& settings)
    : settings_(settings), limiter_(settings.max_failed_logins, settings.failed_login_window) {
  snapshots_.push_back(load());
  current_.store(snapshots_.back().get(), std::memory_order_release);
  for (const std::string& method : settings_.methods) {
    // config validated the names against config::auth_methods.
    if (method == ScramSha256::name) {
      authenticators_.push_back(
          std::make_unique<ScramSha256>([this](std::string_view user) { return scram_user(user); }));
    }
  }
}

ScramUser FileAuthorizer::scram_user(std::string_view username) const {
  const Rules* rules = current_.load(std::memory_order_acquire);
  if (!rules->passwords) return {};
  auto it = rules->passwords->find(username);
  if (it == rules->passwords->end()) return {};
  if (!it->second.scram) return {ScramUser::Status::no_credentials, {}};
  return {ScramUser::Status::found, *it->second.scram};
}

std::unique_ptr<AuthExchange> FileAuthorizer::begin_exchange(std::string_view method, const ConnectContext& context,
                                                             std::optional<std::string_view> username) {
  for (const auto& a : authenticators_) {
    if (a->method() == method) {
      return std::make_unique<Exchange>(*this, method, a->begin(), context.remote_address, username);
    }
  }
  return nullptr;
}

std::unique_ptr<FileAuthorizer::Rules> FileAuthorizer::load() const {
  auto rules = std::make_unique<Rules>();
  if (!settings_.password_file.empty()) rules->passwords = load_password_file(settings_.password_file);
  if (!settings_.acl_file.empty()) rules->acl = Acl::load(settings_.acl_file);
  return rules;
}

bool FileAuthorizer::reload() {
  std::unique_ptr<Rules> fresh;
  try {
    fresh = load();
  } catch (const std::exception& e) {
    STRATA_ERROR("auth") << "reload failed, keeping the running password and ACL rules: " << e.what();
    return false;
  }
  std::lock_guard lock(reload_mutex_);
  STRATA_INFO("auth") << "reloaded: " << (fresh->passwords ? fresh->passwords->size() : 0) << " users, "
                      << (fresh->acl ? fresh->acl->rule_count() : 0) << " ACL rules";
  snapshots_.push_back(std::move(fresh));
  current_.store(snapshots_.back().get(), std::memory_order_release);
  return true;
}

ReasonCode FileAuthorizer::refuse(ReasonCode reason, std::string_view host, std::string_view remote,
                                  std::string_view why) {
  STRATA_INFO("auth") << remote << ": login refused: " << why;
  if (limiter_.failed(host)) {
    STRATA_WARN("auth") << "blocking logins from " << host << " for up to " << settings_.failed_login_window.count()
                        << " s after " << settings_.max_failed_logins << " failures";
  }
  return reason;
}

ReasonCode FileAuthorizer::authenticate(const protocol::Connect& c, const ConnectContext& ctx) {
  std::string_view host = LoginLimiter::host_of(ctx.remote_address);
  if (!limiter_.allowed(host)) {
    STRATA_INFO("auth") << ctx.remote_address << ": login refused: too many failed logins from " << host;
    return ReasonCode::banned;
  }
  if (!ctx.cert_identity.empty()) return ReasonCode::success;
  if (!c.username) {
    if (ctx.allow_anonymous) return ReasonCode::success;
    return refuse(ReasonCode::not_authorized, host, ctx.remote_address, "anonymous clients not allowed");
  }
  const Rules* rules = current_.load(std::memory_order_acquire);
  std::string who = "user '" + *c.username + "'";
  if (!rules->passwords) {
    if (ctx.allow_anonymous) return ReasonCode::success;
    return refuse(ReasonCode::bad_user_name_or_password, host, ctx.remote_address, who + ": no password file");
  }
  auto it = rules->passwords->find(*c.username);
  if (it == rules->passwords->end()) {
    // Same cost as a known user, so timing does not tell which names exist.
    static const std::string dummy = hash_password("");
    verify_password(c.password.value_or(""), dummy);
    return refuse(ReasonCode::bad_user_name_or_password, host, ctx.remote_address, who + ": unknown user");
  }
  if (!c.password || !verify_password(*c.password, it->second.hash)) {
    return refuse(ReasonCode::bad_user_name_or_password, host, ctx.remote_address, who + ": wrong password");
  }
  return ReasonCode::success;
}

bool FileAuthorizer::can_publish(const ClientInfo& client, std::string_view topic) {
  const Rules* rules = current_.load(std::memory_order_acquire);
  return !rules->acl || rules->acl->can_publish(client.username, client.client_id, topic);
}

ReadAccess FileAuthorizer::read_access(const ClientInfo& client, std::string_view filter) {
  const Rules* rules = current_.load(std::memory_order_acquire);
  return rules->acl ? rules->acl->read_access(client.username, client.client_id, filter) : ReadAccess::all;
}

bool FileAuthorizer::can_read(const ClientInfo& client, std::string_view topic) {
  const Rules* rules = current_.load(std::memory_order_acquire);
  return !rules->acl || rules->acl->can_read(client.username, client.client_id, topic);
}

}  // namespace strata::auth
