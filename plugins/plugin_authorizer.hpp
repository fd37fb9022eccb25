// The plugins' checks in front of the built-in Authorizer: ACL_CHECK before
// each publish and subscription, EXTENDED_AUTH (ABI 2) for MQTT 5 enhanced
// authentication. Each asks the plugins' callbacks in order; when all of
// them DEFER the built-in Authorizer ([auth]) decides. Basic
// authentication is not here: it may be asynchronous and goes through
// core::ClientHooks (plugin_host.hpp).
//
// Threading: called on core threads (the core index comes from
// PluginHost::current_core()); no lock.
#pragma once

#include <memory>

#include "broker/auth/authorizer.hpp"
#include "strata/plugin.h"

namespace strata::plugins {

class PluginHost;

class PluginAuthorizer final : public auth::Authorizer {
 public:
  PluginAuthorizer(PluginHost& host, std::unique_ptr<auth::Authorizer> inner);

  protocol::ReasonCode authenticate(const protocol::Connect& connect, const auth::ConnectContext& context) override;
  std::unique_ptr<auth::AuthExchange> begin_exchange(std::string_view method, const auth::ConnectContext& context,
                                                     std::optional<std::string_view> username) override;
  bool can_publish(const auth::ClientInfo& client, std::string_view topic) override;
  bool can_subscribe(const auth::ClientInfo& client, std::string_view filter) override;

  auth::Authorizer& inner() noexcept { return *inner_; }

 private:
  int check(const auth::ClientInfo& client, int access, std::string_view topic);

  PluginHost& host_;
  std::unique_ptr<auth::Authorizer> inner_;
};

// api->auth_set_data / auth_set_username (valid during an EXTENDED_AUTH callback).
int extended_auth_set_data(strata_evt_extended_auth* evt, strata_str data);
int extended_auth_set_username(strata_evt_extended_auth* evt, strata_str username);

}  // namespace strata::plugins
