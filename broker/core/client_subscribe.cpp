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

void Client::on_subscribe(protocol::Subscribe&& s) {
  const config::Limits& limits = limits_;
  const auto& ids = s.properties.subscription_identifiers;
  if (ids.size() > 1) return fail(ReasonCode::protocol_error, "more than one subscription identifier");
  if (!ids.empty() && !limits.subscription_identifiers) {
    return fail(ReasonCode::subscription_identifiers_not_supported,
                "subscription identifiers not supported");
  }
  const std::uint32_t identifier = ids.empty() ? 0 : ids.front();
  auth::ClientInfo who{client_id_, username_, stream_->remote_address()};

  struct RetainedToSend {
    std::string filter;
    protocol::SubscribeOptions options;
  };
  std::vector<RetainedToSend> retained;
  protocol::Suback ack;
  ack.packet_id = s.packet_id;
  ack.reasons.reserve(s.entries.size());

  for (protocol::SubscribeEntry& e : s.entries) {
    bool valid = true;
    auto shared = router::parse_shared_filter(e.filter, valid);
    std::string_view plain = shared ? shared->filter : std::string_view(e.filter);
    if (!valid || !router::is_valid_topic_filter(plain) || e.filter.size() > limits.max_topic_length ||
        router::topic_levels(plain) > limits.max_topic_levels) {
      ack.reasons.push_back(ReasonCode::topic_filter_invalid);
      continue;
    }
    if (shared && !limits.shared_subscriptions) {
      ack.reasons.push_back(ReasonCode::shared_subscriptions_not_supported);
      continue;
    }
    if (!limits.wildcard_subscriptions && has_wildcard(plain)) {
      ack.reasons.push_back(ReasonCode::wildcard_subscriptions_not_supported);
      continue;
    }
    if (!core_.broker().authorizer().can_subscribe(who, e.filter)) {
      ack.reasons.push_back(ReasonCode::not_authorized);
      continue;
    }
    // limits.max_subscriptions: a new filter beyond the quota is refused;
    // replacing one the session holds is always allowed.
    if (limits.max_subscriptions != 0 && session_->subscriptions.size() >= limits.max_subscriptions &&
        !session_->subscriptions.contains(e.filter)) {
      ack.reasons.push_back(ReasonCode::quota_exceeded);  // 3.1.1: 0x80
      continue;
    }
    protocol::SubscribeOptions options = e.options;
    options.max_qos = static_cast<QoS>(std::min<std::uint8_t>(static_cast<std::uint8_t>(options.max_qos),
                                                              limits.maximum_qos));
    session_->subscriptions[e.filter] = session::StoredSubscription{options, identifier};
    bool was_new = false;
    core_.subscribe_everywhere(e.filter, handle_, options, identifier, was_new);
    ack.reasons.push_back(static_cast<ReasonCode>(options.max_qos));
    if (ClientHooks* hooks = core_.broker().client_hooks()) {
      hooks->subscribed(view(), e.filter, static_cast<std::uint8_t>(options.max_qos), core_.index());
    }
    // Retained messages: not for shared subscriptions (spec 4.8.2); per
    // Retain Handling otherwise (spec 3.8.3.1).
    if (!shared && (options.retain_handling == 0 || (options.retain_handling == 1 && was_new))) {
      retained.push_back({e.filter, options});
    }
  }
  if (session_->stored) core_.broker().store().save_session(core_.index(), *session_);
  strip_diagnostics(ack.properties);
  send(ack);
  for (const RetainedToSend& r : retained) send_retained(r.filter, r.options, identifier);
}

void Client::send_retained(const std::string& filter, const protocol::SubscribeOptions& options,
                           std::uint32_t identifier) {
  std::vector<router::MessagePtr> found;
  core_.retained().match(filter, now_ms(), found);
  for (router::MessagePtr& m : found) {
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
    auto it = session_->subscriptions.find(filter);
    if (it == session_->subscriptions.end()) {
      ack.reasons.push_back(ReasonCode::no_subscription_existed);
      continue;
    }
    session_->subscriptions.erase(it);
    bool existed = false;
    core_.unsubscribe_everywhere(filter, handle_, existed);
    ack.reasons.push_back(ReasonCode::success);
    if (ClientHooks* hooks = core_.broker().client_hooks()) hooks->unsubscribed(view(), filter, core_.index());
  }
  if (session_->stored) core_.broker().store().save_session(core_.index(), *session_);
  strip_diagnostics(ack.properties);
  send(ack);
}

}  // namespace strata::core
