// Client: SUBSCRIBE and UNSUBSCRIBE, and retained messages on subscribe.
#include <algorithm>

#include "broker/core/broker.hpp"
#include "broker/core/client.hpp"
#include "broker/core/clock.hpp"
#include "broker/core/core.hpp"
#include "broker/router/topic.hpp"

namespace strata::core {

using protocol::QoS;
using protocol::ReasonCode;
using protocol::Version;

namespace {
bool has_wildcard(std::string_view filter) {
  return filter.find_first_of("+#") != std::string_view::npos;
}
}  // namespace

Core::SubscribeCheck Core::subscribe_session(session::Session& s, const auth::ClientInfo& who,
                                             const config::Limits& limits, const std::string& filter,
                                             protocol::SubscribeOptions options, std::uint32_t identifier) {
  SubscribeCheck r;
  bool valid = true;
  auto shared = router::parse_shared_filter(filter, valid);
  std::string_view plain = shared ? shared->filter : std::string_view(filter);
  if (!valid || !router::is_valid_topic_filter(plain) || filter.size() > limits.max_topic_length ||
      router::topic_levels(plain) > limits.max_topic_levels) {
    r.reason = ReasonCode::topic_filter_invalid;
    return r;
  }
  if (shared && !limits.shared_subscriptions) {
    r.reason = ReasonCode::shared_subscriptions_not_supported;
    return r;
  }
  if (!limits.wildcard_subscriptions && has_wildcard(plain)) {
    r.reason = ReasonCode::wildcard_subscriptions_not_supported;
    return r;
  }
  // Granted when some topic the filter can match may be read; with only
  // some, each message is checked on delivery (auth/acl.hpp).
  const auth::ReadAccess access = broker_.authorizer().read_access(who, filter);
  if (access == auth::ReadAccess::none) {
    r.reason = ReasonCode::not_authorized;
    return r;
  }
  r.check_read = access != auth::ReadAccess::all;
  // limits.max_subscriptions: a new filter beyond the quota is refused;
  // replacing one the session holds is always allowed.
  if (limits.max_subscriptions != 0 && s.subscriptions.size() >= limits.max_subscriptions &&
      !s.subscriptions.contains(filter)) {
    r.reason = ReasonCode::quota_exceeded;  // 3.1.1: 0x80
    return r;
  }
  options.max_qos = static_cast<QoS>(std::min<std::uint8_t>(static_cast<std::uint8_t>(options.max_qos),
                                                            limits.maximum_qos));
  s.subscriptions[filter] = session::StoredSubscription{options, identifier, r.check_read};
  bool was_new = false;
  subscribe_everywhere(filter, s.handle(), options, identifier, r.check_read, was_new);
  r.granted = true;
  r.reason = static_cast<ReasonCode>(options.max_qos);
  r.options = options;
  // Retained messages: not for shared subscriptions (spec 4.8.2); per
  // Retain Handling otherwise (spec 3.8.3.1).
  r.send_retained = !shared && (options.retain_handling == 0 || (options.retain_handling == 1 && was_new));
  return r;
}

void Client::on_subscribe(protocol::Subscribe&& s) {
  const config::Limits& limits = limits_;
  const auto& ids = s.properties.subscription_identifiers;
  if (ids.size() > 1) return fail(ReasonCode::protocol_error, "more than one subscription identifier");
  if (!ids.empty() && !limits.subscription_identifiers) {
    return fail(ReasonCode::subscription_identifiers_not_supported,
                "subscription identifiers not supported");
  }
  const std::uint32_t identifier = ids.empty() ? 0 : ids.front();
  auth::ClientInfo who{client_id(), username_.view(), stream_->remote_address()};

  struct RetainedToSend {
    std::string filter;
    protocol::SubscribeOptions options;
    bool check_read = false;
  };
  std::vector<RetainedToSend> retained;
  protocol::Suback ack;
  ack.packet_id = s.packet_id;
  ack.reasons.reserve(s.entries.size());

  for (protocol::SubscribeEntry& e : s.entries) {
    Core::SubscribeCheck r = core_.subscribe_session(session(), who, limits, e.filter, e.options, identifier);
    ack.reasons.push_back(r.reason);
    if (!r.granted) continue;
    if (ClientHooks* hooks = core_.broker().client_hooks()) {
      hooks->subscribed(view(), e.filter, static_cast<std::uint8_t>(r.options.max_qos), core_.index());
    }
    if (r.send_retained) retained.push_back({e.filter, r.options, r.check_read});
  }
  if (session_->stored) core_.broker().store().save_session(core_.index(), *session_);
  strip_diagnostics(ack.properties);
  send(ack);
  for (const RetainedToSend& r : retained) send_retained(r.filter, r.options, identifier, r.check_read);
}

protocol::ReasonCode Client::subscribe_for_admin(const std::string& filter, const protocol::SubscribeOptions& options) {
  auth::ClientInfo who{client_id(), username_.view(), stream_->remote_address()};
  Core::SubscribeCheck r = core_.subscribe_session(session(), who, limits_, filter, options, 0);
  if (!r.granted) return r.reason;
  if (ClientHooks* hooks = core_.broker().client_hooks()) {
    hooks->subscribed(view(), filter, static_cast<std::uint8_t>(r.options.max_qos), core_.index());
  }
  if (session_->stored) core_.broker().store().save_session(core_.index(), *session_);
  if (r.send_retained) send_retained(filter, r.options, 0, r.check_read);
  return r.reason;
}

bool Client::unsubscribe_for_admin(const std::string& filter) {
  if (session_ == nullptr) return false;  // bare: subscribed to nothing
  auto it = session_->subscriptions.find(filter);
  if (it == session_->subscriptions.end()) return false;
  session_->subscriptions.erase(it);
  bool existed = false;
  core_.unsubscribe_everywhere(filter, handle_, existed);
  if (ClientHooks* hooks = core_.broker().client_hooks()) hooks->unsubscribed(view(), filter, core_.index());
  if (session_->stored) core_.broker().store().save_session(core_.index(), *session_);
  return true;
}

void Client::send_retained(const std::string& filter, const protocol::SubscribeOptions& options,
                           std::uint32_t identifier, bool check_read) {
  std::vector<router::MessagePtr> found;
  core_.retained().match(filter, now_ms(), found);
  auth::ClientInfo who{client_id(), username_.view(), stream_->remote_address()};
  for (router::MessagePtr& m : found) {
    if (check_read && !core_.broker().authorizer().can_read(who, m->topic)) continue;
    session::Delivery d;
    d.qos = std::min(m->qos, options.max_qos);
    d.retain = true;  // sent because it is retained (spec 3.3.1.3)
    if (identifier != 0) d.identifiers.push_back(identifier);
    d.msg = std::move(m);
    send_delivery(std::move(d));
  }
}

void Client::on_unsubscribe(protocol::Unsubscribe&& u) {
  protocol::Unsuback ack;
  ack.packet_id = u.packet_id;
  for (const std::string& filter : u.filters) {
    // A bare session is subscribed to nothing (and stays bare).
    if (session_ == nullptr || session_->subscriptions.erase(filter) == 0) {
      ack.reasons.push_back(ReasonCode::no_subscription_existed);
      continue;
    }
    bool existed = false;
    core_.unsubscribe_everywhere(filter, handle_, existed);
    ack.reasons.push_back(ReasonCode::success);
    if (ClientHooks* hooks = core_.broker().client_hooks()) hooks->unsubscribed(view(), filter, core_.index());
  }
  if (session_ != nullptr && session_->stored) core_.broker().store().save_session(core_.index(), *session_);
  strip_diagnostics(ack.properties);
  send(ack);
}

}  // namespace strata::core
