// The authentication and authorization seam. The broker asks an Authorizer
// at CONNECT (or, when CONNECT names an Authentication Method, for an
// enhanced-authentication exchange: authenticator.hpp), before accepting a
// PUBLISH (including a will) and before granting each SUBSCRIBE entry. FileAuthorizer (password file, ACL file,
// failed-login limits) is what the broker runs; AllowAll is for tests and
// embedding.
//
// Threading: every call may come from any core at once; implementations
// take no lock on can_publish / can_subscribe (the publish path).
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "broker/auth/authenticator.hpp"
#include "broker/protocol/packet.hpp"

namespace strata::auth {

struct ClientInfo {
  std::string_view client_id;
  std::string_view username;  // empty when none was given
  std::string_view remote_address;
};

// What the transport and the listener know about a connecting client.
struct ConnectContext {
  std::string_view remote_address;  // "address:port"
  // The verified client certificate's identity (listener.cert_username);
  // when set it is the username, and the certificate is the credential.
  std::string_view cert_identity;
  bool allow_anonymous = true;  // the listener's setting
};

class Authorizer {
 public:
  virtual ~Authorizer() = default;
  // success, or the CONNACK reason code to refuse with.
  virtual protocol::ReasonCode authenticate(const protocol::Connect& connect, const ConnectContext& context) = 0;
  // MQTT 5 enhanced authentication: a new exchange for `method`, or nullptr
  // when that method is not enabled (CONNACK 0x8C). `username`, when set,
  // is who the exchange must end up authenticating: the User Name of
  // CONNECT, or the connection's user on re-authentication. The context's
  // views need only live for this call.
  virtual std::unique_ptr<AuthExchange> begin_exchange(std::string_view /*method*/, const ConnectContext&,
                                                       std::optional<std::string_view> /*username*/) {
    return nullptr;
  }
  virtual bool can_publish(const ClientInfo& client, std::string_view topic) = 0;
  virtual bool can_subscribe(const ClientInfo& client, std::string_view filter) = 0;
};

class AllowAll final : public Authorizer {
 public:
  protocol::ReasonCode authenticate(const protocol::Connect&, const ConnectContext&) override {
    return protocol::ReasonCode::success;
  }
  bool can_publish(const ClientInfo&, std::string_view) override { return true; }
  bool can_subscribe(const ClientInfo&, std::string_view) override { return true; }
};

}  // namespace strata::auth
