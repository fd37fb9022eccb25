// Client: MQTT 5 enhanced authentication (spec 4.12). See client.hpp.
//
// CONNECT with an Authentication Method starts an exchange with the
// Authorizer's authenticator for it; AUTH 0x18 packets carry it on until it
// succeeds (CONNACK 0x00 with the method and the server's final data) or
// fails (CONNACK with the reason, then close). Until CONNACK the client
// may send only AUTH and DISCONNECT, and the connect timeout bounds the
// whole exchange.
//
// Once connected, AUTH 0x19 re-authenticates with the same method and the
// same user, while other packets keep flowing: AUTH 0x00 answers success,
// DISCONNECT 0x87 (not authorized) a failure. A DISCONNECT cannot carry
// 0x86 or 0x8A, so 0x87 stands for every re-authentication failure.
//
// The MQTT rules around the exchange are checked here and are protocol
// errors (0x82): AUTH from a client that named no method, AUTH with a
// missing or different method, AUTH 0x18 outside an exchange, AUTH 0x19
// before CONNACK or during another re-authentication, AUTH 0x00 from a
// client.
#include "broker/core/broker.hpp"
#include "broker/core/client.hpp"
#include "broker/core/core.hpp"
#include "broker/util/log.hpp"

namespace strata::core {

using protocol::ReasonCode;

void Client::begin_connect_auth(protocol::Connect&& c) {
  active().auth_method = *c.properties.authentication_method;
  std::optional<std::string_view> expected;
  if (c.username) expected = *c.username;
  auth::ConnectContext context{stream_->remote_address(), stream_->peer_identity(), false};
  active().auth_exchange = core_.broker().authorizer().begin_exchange(active().auth_method, context, expected);
  if (!active().auth_exchange) {
    return refuse_connect(ReasonCode::bad_authentication_method,
                          "authentication method '" + active().auth_method + "' not supported");
  }
  std::string data = c.properties.authentication_data.value_or(std::string());
  io().pending = std::make_unique<Pending>(std::move(c));
  state_ = State::authenticating;
  apply_auth_step(active().auth_exchange->start(data));
}

void Client::on_auth(protocol::Auth&& a) {
  if (active().auth_method.empty()) {
    return fail(ReasonCode::protocol_error, "AUTH without an authentication method in CONNECT");
  }
  if (a.properties.authentication_method != active().auth_method) {
    return fail(ReasonCode::protocol_error, "AUTH without the authentication method of CONNECT");
  }
  const std::string data = a.properties.authentication_data.value_or(std::string());
  switch (a.reason) {
    case ReasonCode::continue_authentication:
      if (!active().auth_exchange) return fail(ReasonCode::protocol_error, "AUTH continue outside an authentication");
      return apply_auth_step(active().auth_exchange->next(data));
    case ReasonCode::reauthenticate: {
      if (state_ != State::connected) return fail(ReasonCode::protocol_error, "re-authentication before CONNACK");
      if (active().auth_exchange) return fail(ReasonCode::protocol_error, "re-authentication while one is in progress");
      auth::ConnectContext context{stream_->remote_address(), stream_->peer_identity(), false};
      active().auth_exchange = core_.broker().authorizer().begin_exchange(active().auth_method, context, username_.view());
      // The methods are fixed at start, so the one CONNECT used is still there.
      if (!active().auth_exchange) return fail(ReasonCode::bad_authentication_method, "authentication method gone");
      STRATA_DEBUG("client") << client_id() << ": re-authenticating";
      return apply_auth_step(active().auth_exchange->start(data));
    }
    default: return fail(ReasonCode::protocol_error, "AUTH success from a client");
  }
}

void Client::apply_auth_step(auth::AuthStep&& step) {
  using Outcome = auth::AuthStep::Outcome;
  const bool connecting = state_ == State::authenticating;
  if (step.outcome == Outcome::more) {
    send_auth(ReasonCode::continue_authentication, std::move(step.data));
    return;
  }
  active().auth_exchange.reset();
  if (step.outcome == Outcome::failure) {
    // The Authorizer has logged why; the client learns only the code.
    if (connecting) return refuse_connect(step.reason, protocol::to_string(step.reason));
    core_.stats().add(core_.stats().auth_failures);
    return disconnect(ReasonCode::not_authorized, "re-authentication failed");
  }
  if (connecting) {
    protocol::Connect c = take_pending_connect();
    accept_connect(std::move(c), std::move(step.username), std::move(step.data));
    return;
  }
  STRATA_INFO("client") << client_id() << ": re-authenticated as '" << username_.view() << "' (" << active().auth_method << ")";
  send_auth(ReasonCode::success, std::move(step.data));
}

void Client::send_auth(ReasonCode reason, std::string data) {
  protocol::Auth a{reason, {}};
  // Spec 4.12.0-5: every AUTH names the method of CONNECT.
  a.properties.authentication_method = active().auth_method;
  if (!data.empty()) a.properties.authentication_data = std::move(data);
  send(a);
}

}  // namespace strata::core
