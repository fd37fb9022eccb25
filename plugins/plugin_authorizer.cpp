#include "plugins/plugin_authorizer.hpp"

#include "broker/util/log.hpp"
#include "plugins/plugin_host.hpp"

namespace strata::plugins {

namespace {

strata_str str(std::string_view s) { return strata_str{s.data(), s.size()}; }

// The EXTENDED_AUTH event being delivered on this thread and what the
// callback set (auth_set_data, auth_set_username).
struct ExtendedEvent {
  strata_evt_extended_auth pub{};
  std::string data;
  std::optional<std::string> username;
};
thread_local ExtendedEvent* t_extended = nullptr;

// One enhanced-authentication exchange: at step 0 the first plugin that
// does not DEFER owns it; when all defer, the built-in exchange does (or,
// without one, the method is not supported).
class PluginExchange final : public auth::AuthExchange {
 public:
  PluginExchange(PluginHost& host, std::string method, const auth::ConnectContext& context,
                 std::optional<std::string_view> username, std::unique_ptr<auth::AuthExchange> inner)
      : host_(host),
        method_(std::move(method)),
        address_(context.remote_address),
        identity_(context.cert_identity),
        expected_(username ? std::optional<std::string>(std::string(*username)) : std::nullopt),
        inner_(std::move(inner)) {}

  auth::AuthStep start(std::string_view data) override {
    const auto& chain = host_.callbacks(STRATA_EVT_EXTENDED_AUTH);
    for (std::size_t i = 0; i < chain.size(); ++i) {
      int result = 0;
      auth::AuthStep step = ask(chain[i], data, result);
      if (result != STRATA_DEFER) {
        owner_ = static_cast<int>(i);
        return step;
      }
    }
    if (inner_) {
      owner_ = -2;
      return inner_->start(data);
    }
    return auth::AuthStep::failure(protocol::ReasonCode::bad_authentication_method,
                                   "no plugin and no built-in method takes '" + method_ + "'");
  }

  auth::AuthStep next(std::string_view data) override {
    if (owner_ == -2) return inner_->next(data);
    if (owner_ < 0) return auth::AuthStep::failure(protocol::ReasonCode::protocol_error, "no exchange");
    int result = 0;
    const auto& chain = host_.callbacks(STRATA_EVT_EXTENDED_AUTH);
    auth::AuthStep step = ask(chain[static_cast<std::size_t>(owner_)], data, result);
    if (result == STRATA_DEFER) {
      return auth::AuthStep::failure(protocol::ReasonCode::not_authorized, "a plugin deferred after step 0");
    }
    return step;
  }

 private:
  auth::AuthStep ask(const PluginHost::Callback& cb, std::string_view data, int& result) {
    strata_client client{core::ClientView{{}, expected_ ? std::string_view(*expected_) : std::string_view(),
                                          address_, identity_, 5}};
    ExtendedEvent ev;
    ev.pub.size = sizeof ev.pub;
    ev.pub.core = PluginHost::current_core();
    ev.pub.client = &client;
    ev.pub.method = str(method_);
    ev.pub.data = str(data);
    ev.pub.step = step_;
    ExtendedEvent* outer = t_extended;
    t_extended = &ev;
    result = cb.fn(STRATA_EVT_EXTENDED_AUTH, &ev.pub, cb.userdata);
    t_extended = outer;
    if (result != STRATA_DEFER) ++step_;
    switch (result) {
      case STRATA_ALLOW: {
        std::string user = ev.username.value_or(expected_.value_or(std::string()));
        if (expected_ && user != *expected_) {
          return auth::AuthStep::failure(protocol::ReasonCode::not_authorized, "plugin authenticated another user");
        }
        return auth::AuthStep::success(std::move(ev.data), std::move(user));
      }
      case STRATA_CONTINUE: return auth::AuthStep::more(std::move(ev.data));
      case STRATA_DEFER: return auth::AuthStep::failure(protocol::ReasonCode::not_authorized, "deferred");
      case STRATA_DENY: return auth::AuthStep::failure(protocol::ReasonCode::not_authorized, "denied by a plugin");
      default:
        result = STRATA_DENY;
        return auth::AuthStep::failure(protocol::ReasonCode::not_authorized, "plugin answered an unknown value");
    }
  }

  PluginHost& host_;
  std::string method_, address_, identity_;
  std::optional<std::string> expected_;
  std::unique_ptr<auth::AuthExchange> inner_;
  int owner_ = -1;  // index of the owning callback; -2: the built-in exchange
  int step_ = 0;
};

}  // namespace

int extended_auth_set_data(strata_evt_extended_auth* evt, strata_str data) {
  if (t_extended == nullptr || &t_extended->pub != evt) return STRATA_EINVAL;
  t_extended->data.assign(data.data == nullptr ? "" : data.data, data.len);
  return STRATA_OK;
}

int extended_auth_set_username(strata_evt_extended_auth* evt, strata_str username) {
  if (t_extended == nullptr || &t_extended->pub != evt) return STRATA_EINVAL;
  t_extended->username = std::string(username.data == nullptr ? "" : username.data, username.len);
  return STRATA_OK;
}

PluginAuthorizer::PluginAuthorizer(PluginHost& host, std::unique_ptr<auth::Authorizer> inner)
    : host_(host), inner_(std::move(inner)) {}

protocol::ReasonCode PluginAuthorizer::authenticate(const protocol::Connect& connect,
                                                    const auth::ConnectContext& context) {
  return inner_->authenticate(connect, context);
}

std::unique_ptr<auth::AuthExchange> PluginAuthorizer::begin_exchange(std::string_view method,
                                                                     const auth::ConnectContext& context,
                                                                     std::optional<std::string_view> username) {
  auto inner = inner_->begin_exchange(method, context, username);
  if (host_.callbacks(STRATA_EVT_EXTENDED_AUTH).empty()) return inner;
  return std::make_unique<PluginExchange>(host_, std::string(method), context, username, std::move(inner));
}

int PluginAuthorizer::check(const auth::ClientInfo& info, int access, std::string_view topic) {
  strata_client client{core::ClientView{info.client_id, info.username, info.remote_address, {}, 0}};
  strata_evt_acl_check evt{};
  evt.size = sizeof evt;
  evt.core = PluginHost::current_core();
  evt.client = &client;
  evt.access = access;
  evt.topic = str(topic);
  for (const PluginHost::Callback& cb : host_.callbacks(STRATA_EVT_ACL_CHECK)) {
    int r = cb.fn(STRATA_EVT_ACL_CHECK, &evt, cb.userdata);
    if (r == STRATA_ALLOW || r == STRATA_DENY) return r;
  }
  return STRATA_DEFER;
}

bool PluginAuthorizer::can_publish(const auth::ClientInfo& client, std::string_view topic) {
  int r = check(client, STRATA_ACL_PUBLISH, topic);
  return r == STRATA_DEFER ? inner_->can_publish(client, topic) : r == STRATA_ALLOW;
}

bool PluginAuthorizer::can_subscribe(const auth::ClientInfo& client, std::string_view filter) {
  int r = check(client, STRATA_ACL_SUBSCRIBE, filter);
  return r == STRATA_DEFER ? inner_->can_subscribe(client, filter) : r == STRATA_ALLOW;
}

}  // namespace strata::plugins
