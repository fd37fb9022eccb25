// Reason code names and the v5 -> 3.1.1 CONNACK mapping: see reason_code.hpp.
#include "broker/protocol/reason_code.hpp"

namespace strata::protocol {

ConnackReturnCode311 to_connack_311(ReasonCode rc) noexcept {
  using R = ReasonCode;
  using C = ConnackReturnCode311;
  switch (rc) {
    case R::success: return C::accepted;
    case R::unsupported_protocol_version: return C::unacceptable_protocol_version;
    case R::client_identifier_not_valid: return C::identifier_rejected;
    case R::bad_user_name_or_password:
    case R::bad_authentication_method: return C::bad_user_name_or_password;
    case R::not_authorized:
    case R::banned: return C::not_authorized;
    default: return C::server_unavailable;  // 3.1.1 has nothing closer
  }
}

std::string_view to_string(ReasonCode rc) noexcept {
  using R = ReasonCode;
  switch (rc) {
    case R::success: return "success";
    case R::granted_qos1: return "granted qos 1";
    case R::granted_qos2: return "granted qos 2";
    case R::disconnect_with_will: return "disconnect with will message";
    case R::no_matching_subscribers: return "no matching subscribers";
    case R::no_subscription_existed: return "no subscription existed";
    case R::continue_authentication: return "continue authentication";
    case R::reauthenticate: return "re-authenticate";
    case R::unspecified_error: return "unspecified error";
    case R::malformed_packet: return "malformed packet";
    case R::protocol_error: return "protocol error";
    case R::implementation_specific_error: return "implementation specific error";
    case R::unsupported_protocol_version: return "unsupported protocol version";
    case R::client_identifier_not_valid: return "client identifier not valid";
    case R::bad_user_name_or_password: return "bad user name or password";
    case R::not_authorized: return "not authorized";
    case R::server_unavailable: return "server unavailable";
    case R::server_busy: return "server busy";
    case R::banned: return "banned";
    case R::server_shutting_down: return "server shutting down";
    case R::bad_authentication_method: return "bad authentication method";
    case R::keep_alive_timeout: return "keep alive timeout";
    case R::session_taken_over: return "session taken over";
    case R::topic_filter_invalid: return "topic filter invalid";
    case R::topic_name_invalid: return "topic name invalid";
    case R::packet_identifier_in_use: return "packet identifier in use";
    case R::packet_identifier_not_found: return "packet identifier not found";
    case R::receive_maximum_exceeded: return "receive maximum exceeded";
    case R::topic_alias_invalid: return "topic alias invalid";
    case R::packet_too_large: return "packet too large";
    case R::message_rate_too_high: return "message rate too high";
    case R::quota_exceeded: return "quota exceeded";
    case R::administrative_action: return "administrative action";
    case R::payload_format_invalid: return "payload format invalid";
    case R::retain_not_supported: return "retain not supported";
    case R::qos_not_supported: return "qos not supported";
    case R::use_another_server: return "use another server";
    case R::server_moved: return "server moved";
    case R::shared_subscriptions_not_supported: return "shared subscriptions not supported";
    case R::connection_rate_exceeded: return "connection rate exceeded";
    case R::maximum_connect_time: return "maximum connect time";
    case R::subscription_identifiers_not_supported:
      return "subscription identifiers not supported";
    case R::wildcard_subscriptions_not_supported: return "wildcard subscriptions not supported";
  }
  return "unknown reason code";
}

}  // namespace strata::protocol
