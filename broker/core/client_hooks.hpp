// The seam where extensions (plugins/, [[plugin]]) see a client's life:
// basic authentication before the built-in check, and the connect,
// disconnect, subscribe and unsubscribe events. The broker has at most one
// ClientHooks (Broker::set_client_hooks); without one none of this costs
// anything.
//
// Threading: every call comes from the client's core (`core` is its
// index), except that `done` of authenticate may be called from any
// thread: the client posts the answer back to its own core.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string_view>

#include "broker/protocol/reason_code.hpp"

namespace strata::core {

// What a hook may read about a client; the views live for the call only.
struct ClientView {
  std::string_view client_id;
  std::string_view username;       // empty before authentication
  std::string_view remote_address;  // "address:port"
  std::string_view cert_identity;   // the verified certificate's identity, or empty
  int protocol_version = 5;         // 4 (3.1.1) or 5
};

class ClientHooks {
 public:
  enum class Verdict : std::uint8_t { allow, deny, defer };
  struct Answer {
    Verdict verdict = Verdict::defer;
    protocol::ReasonCode reason = protocol::ReasonCode::not_authorized;  // deny
  };
  using Done = std::function<void(Answer)>;

  virtual ~ClientHooks() = default;
  // CONNECT without an Authentication Method. `done` is called exactly
  // once, now or later from any thread; defer goes on to the built-in
  // authentication ([auth]), allow skips it, deny refuses the CONNECT.
  virtual void authenticate(const ClientView& client, std::optional<std::string_view> username,
                            std::optional<std::string_view> password, unsigned core, Done done) = 0;
  virtual void connected(const ClientView& client, unsigned core) = 0;
  // `reason`: the DISCONNECT's reason code, the broker's, or 0x80 when the
  // connection dropped.
  virtual void disconnected(const ClientView& client, protocol::ReasonCode reason, unsigned core) = 0;
  virtual void subscribed(const ClientView& client, std::string_view filter, std::uint8_t qos, unsigned core) = 0;
  virtual void unsubscribed(const ClientView& client, std::string_view filter, unsigned core) = 0;
};

}  // namespace strata::core
