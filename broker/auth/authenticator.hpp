// Enhanced authentication (MQTT 5.0 section 4.12): a challenge/response
// exchange carried by the Authentication Method (0x15) and Authentication
// Data (0x16) properties of CONNECT, AUTH and CONNACK.
//
// An Authenticator implements one method, named as the client names it in
// CONNECT ("SCRAM-SHA-256"). For each exchange — at CONNECT, and for each
// re-authentication (AUTH 0x19) — the connection takes a fresh AuthExchange
// and feeds it the client's data:
//
//   CONNECT / AUTH 0x19 (data) ──► start()
//   AUTH 0x18 (data)           ──► next()
//
// and each call answers with one step:
//   more     send AUTH 0x18 with `data`, wait for the client's AUTH 0x18
//   success  CONNACK 0x00 (or AUTH 0x00 when re-authenticating) with `data`;
//            `username` is who the client proved to be
//   failure  CONNACK (or, re-authenticating, DISCONNECT) with `reason`,
//            then close; `why` is for the broker's log only, since it may
//            say what a client must not learn (whether a user exists)
//
// The exchange is pure: no I/O, no timers. The connection bounds how long
// an exchange may take (the connect timeout before CONNACK) and checks the
// MQTT rules around it (method unchanged, reason codes in order).
//
// Threading: Authenticator::begin may be called from any core at once; an
// AuthExchange belongs to one connection and is used by one thread.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "broker/protocol/reason_code.hpp"

namespace strata::auth {

struct AuthStep {
  enum class Outcome : unsigned char { more, success, failure };
  Outcome outcome = Outcome::failure;
  std::string data;      // more, success: Authentication Data for the client (may be empty)
  std::string username;  // success
  protocol::ReasonCode reason = protocol::ReasonCode::not_authorized;  // failure
  std::string why;                                                     // failure: for the log

  static AuthStep more(std::string data) { return {Outcome::more, std::move(data), {}, {}, {}}; }
  static AuthStep success(std::string data, std::string username) {
    return {Outcome::success, std::move(data), std::move(username), protocol::ReasonCode::success, {}};
  }
  static AuthStep failure(protocol::ReasonCode reason, std::string why) {
    return {Outcome::failure, {}, {}, reason, std::move(why)};
  }
};

class AuthExchange {
 public:
  virtual ~AuthExchange() = default;
  // The client's first data (CONNECT, or AUTH 0x19).
  virtual AuthStep start(std::string_view client_data) = 0;
  // The client's answer to a `more` step (AUTH 0x18).
  virtual AuthStep next(std::string_view client_data) = 0;
};

class Authenticator {
 public:
  virtual ~Authenticator() = default;
  virtual std::string_view method() const noexcept = 0;
  virtual std::unique_ptr<AuthExchange> begin() = 0;
};

}  // namespace strata::auth
