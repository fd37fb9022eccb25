// The authentication and authorization seam. The broker asks an Authorizer
// at CONNECT, before accepting a PUBLISH (including a will) and before
// granting each SUBSCRIBE entry. AllowAll is what runs until password files
// and ACLs exist; they will implement this same interface.
#pragma once

#include <string>
#include <string_view>

#include "broker/protocol/packet.hpp"

namespace strata::auth {

struct ClientInfo {
  std::string_view client_id;
  std::string_view username;  // empty when none was given
  std::string_view remote_address;
};

class Authorizer {
 public:
  virtual ~Authorizer() = default;
  // success, or the CONNACK reason code to refuse with.
  virtual protocol::ReasonCode authenticate(const protocol::Connect& connect,
                                            std::string_view remote_address) = 0;
  virtual bool can_publish(const ClientInfo& client, std::string_view topic) = 0;
  virtual bool can_subscribe(const ClientInfo& client, std::string_view filter) = 0;
};

class AllowAll final : public Authorizer {
 public:
  protocol::ReasonCode authenticate(const protocol::Connect&, std::string_view) override {
    return protocol::ReasonCode::success;
  }
  bool can_publish(const ClientInfo&, std::string_view) override { return true; }
  bool can_subscribe(const ClientInfo&, std::string_view) override { return true; }
};

}  // namespace strata::auth
