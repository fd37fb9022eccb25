// The authentication and authorization seam. The broker asks an Authorizer
// at CONNECT (or, when CONNECT names an Authentication Method, for an
// enhanced-authentication exchange: authenticator.hpp), before accepting a
// PUBLISH (including a will), before granting each SUBSCRIBE entry (its
// ReadAccess) and, for a subscription whose access is `some`, before
// delivering each message through it (can_read). FileAuthorizer (password file, ACL file,
// failed-login limits) is what the broker runs; AllowAll is for tests and
// embedding.
//
// Threading: every call may come from any core at once; implementations
// take no lock on can_publish / read_access / can_read (the publish path).
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "broker/auth/acl.hpp"
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
  // What a subscription to `filter` may receive (acl.hpp): all (no check
  // per message), some (can_read per message) or none (refused).
  virtual ReadAccess read_access(const ClientInfo& client, std::string_view filter) = 0;
  virtual bool can_read(const ClientInfo& client, std::string_view topic) = 0;
};

class AllowAll final : public Authorizer {
 public:
  protocol::ReasonCode authenticate(const protocol::Connect&, const ConnectContext&) override {
    return protocol::ReasonCode::success;
  }
  bool can_publish(const ClientInfo&, std::string_view) override { return true; }
  ReadAccess read_access(const ClientInfo&, std::string_view) override { return ReadAccess::all; }
  bool can_read(const ClientInfo&, std::string_view) override { return true; }
};

}  // namespace strata::auth
