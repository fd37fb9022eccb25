// Client: PUBLISH in both directions and the QoS 1/2 acknowledgements.
//
// Incoming (spec 4.3): QoS 1 is routed, then PUBACKed. QoS 2 is routed on
// first receipt and answered PUBREC; its packet id stays in the session's
// qos2_received until PUBREL, so a resent duplicate is acknowledged again
// but not routed twice. Ids awaiting PUBREL count against our Receive
// Maximum; a client exceeding it is disconnected with 0x93.
//
// Persistent sessions: every change of an inflight or queued delivery and
// of the QoS 2 ids is written to the store (broker/store/store.hpp) as it
// happens. With durability "sync" the PUBACK/PUBREC of a QoS 1/2 PUBLISH
// waits until the message is committed and fsynced (Core::after_durable);
// the read loop goes on meanwhile, and acks_ keeps acknowledgements in the
// order of their PUBLISHes. When the store is full, QoS 1/2 PUBLISHes are
// refused: MQTT 5 with 0x97 (quota exceeded), MQTT 3.1.1 — which cannot
// refuse — by closing the connection without acknowledging.
//
// Outgoing: QoS 1/2 messages occupy the session's inflight window; the
// rest wait in the session queue and are sent as acknowledgements free
// the window. The window follows what the client allows: its Receive
// Maximum (MQTT 5; 65535 when absent) or max_inflight_messages_mqtt311
// for MQTT 3.1.1, which announces nothing — capped by
// max_inflight_messages. Memory stays bounded by bytes as well: the
// messages in the window hold at most max_inflight_bytes of topic +
// payload (one message always fits an empty window), and their encoded
// form waits in the write buffer only while the socket has not taken it.
// A bridge session's queue is a log on disk instead (client_log.cpp).
#include <algorithm>

#include <boost/asio/post.hpp>

#include "broker/core/broker.hpp"
#include "broker/core/client.hpp"
#include "broker/core/clock.hpp"
#include "broker/core/core.hpp"
#include "broker/protocol/codec.hpp"
#include "broker/protocol/publish_view.hpp"
#include "broker/protocol/wire.hpp"
#include "broker/router/topic.hpp"
#include "broker/util/log.hpp"

namespace strata::core {

using protocol::PacketType;
using protocol::QoS;
using protocol::ReasonCode;
using protocol::Version;
using session::Delivery;
using session::Outgoing;

void Client::on_publish(protocol::PublishIn& p) {
  const config::Limits& limits = limits_;
  Stats& stats = core_.stats();
  stats.add(stats.messages_received);
  ++io_->messages_received;  // called from process_input(): io_ is there
  const auto q = static_cast<std::size_t>(p.qos) % 3;  // the decoder rejects QoS 3
  stats.add(stats.received_by_qos[q]);
  stats.add(stats.payload_received_by_qos[q], p.payload.size());
  charge_publish(p.topic.size() + p.payload.size());

  // Topic alias, client to broker (spec 3.3.2.3.4).
  if (auto alias = p.properties ? p.properties->topic_alias : std::optional<std::uint16_t>{}) {
    if (*alias == 0 || *alias > limits.topic_alias_maximum) {
      return fail(ReasonCode::topic_alias_invalid, "topic alias out of range");
    }
    if (p.topic.empty()) {
      auto it = active().in_aliases.find(*alias);
      if (it == active().in_aliases.end()) return fail(ReasonCode::protocol_error, "unknown topic alias");
      p.topic = it->second;
    } else {
      active().in_aliases[*alias] = std::string(p.topic);
    }
    p.properties->topic_alias.reset();
  } else if (p.topic.empty()) {
    return fail(version_ == Version::v5 ? ReasonCode::protocol_error : ReasonCode::topic_name_invalid,
                "empty topic without topic alias");
  }
  // A topic of n bytes has at most n + 1 levels: only a long one can have
  // too many, and only then are they counted.
  if (!router::is_valid_topic_name(p.topic) || p.topic.size() > limits.max_topic_length ||
      (p.topic.size() >= limits.max_topic_levels && router::topic_levels(p.topic) > limits.max_topic_levels)) {
    return fail(ReasonCode::topic_name_invalid, "invalid topic name");
  }
  // A Response Topic is a topic name (MQTT-3.3.2-14) the server must pass
  // on unchanged (MQTT-3.3.2-15): with a wildcard it is a protocol error.
  if (p.properties && p.properties->response_topic && !router::is_valid_topic_name(*p.properties->response_topic)) {
    return fail(ReasonCode::protocol_error, "response topic is not a valid topic name");
  }
  if (static_cast<std::uint8_t>(p.qos) > limits.maximum_qos) {
    return fail(ReasonCode::qos_not_supported, "QoS not supported");
  }
  if (p.retain && !limits.retain_available) {
    return fail(ReasonCode::retain_not_supported, "retain not supported");
  }

  // Clients may not publish into the broker's own $SYS tree.
  auth::ClientInfo who{client_id(), username_.view(), stream_->remote_address()};
  bool allowed = p.topic.rfind("$SYS", 0) != 0 && core_.broker().authorizer().can_publish(who, p.topic);
  ReasonCode outcome = allowed ? ReasonCode::success : ReasonCode::not_authorized;
  // A payload that claims to be UTF-8 must be (spec 3.3.2.3.2): refused
  // with 0x99 rather than passed on to consumers that trust the flag.
  if (allowed && p.properties && p.properties->payload_format_indicator.value_or(0) == 1 &&
      !protocol::wire::valid_utf8(p.payload)) {
    allowed = false;
    outcome = ReasonCode::payload_format_invalid;
  }
  if (version_ == Version::v311) outcome = ReasonCode::success;  // 3.1.1 cannot say no
  store::Store& store = core_.broker().store();
  if (p.qos != QoS::at_most_once && store.full() &&
      (session_ == nullptr || !session_->qos2_received.contains(p.packet_id))) {
    core_.stats().add(core_.stats().store_refused);
    if (version_ == Version::v311) return close(false);
    allowed = false;
    outcome = ReasonCode::quota_exceeded;
  }

  // The hooks (namespace contracts, rules ...) run before the message is
  // acknowledged, since one may refuse it (HookVerdict::reject): MQTT 5
  // QoS 1/2 then get the hook's reason code and string.
  router::MessagePtr msg;
  std::string refusal_reason;
  bool close_now = false;
  const QoS qos = p.qos;
  auto admit = [&] {  // false: not to be routed (dropped or refused)
    msg = make_message(p);
    PublishHook* by = nullptr;
    HookVerdict verdict = core_.run_hooks(msg, &by);
    if (verdict == HookVerdict::pass) return true;
    msg.reset();
    if (verdict == HookVerdict::reject && by != nullptr) {
      Refusal r = by->refusal(core_.index());
      if (version_ == Version::v311) {
        close_now = r.close_v311;
      } else if (qos != QoS::at_most_once) {
        outcome = r.code;
        refusal_reason = std::move(r.reason);
      }
    }
    return false;
  };
  auto ack = [&](PacketType type, std::uint16_t id) {
    protocol::Ack a{type, id, outcome, {}};
    // A reason string only if the client wants diagnostics and it fits its
    // maximum packet size (spec 3.2.2.3.7 / 3.4.2.2.2).
    if (!refusal_reason.empty() && problem_info_ &&
        (client_max_packet_ == 0 || refusal_reason.size() + 16 <= client_max_packet_)) {
      a.properties.reason_string = std::move(refusal_reason);
    }
    return a;
  };

  // A full bridge outbox with overflow = "block" (Broker::full_sinks) may
  // refuse the message: then its acknowledgement must wait, so it is sent
  // after routing, in line with the others (see "Blocking sinks" below).
  const bool ack_after_route = store.sync_acks() || core_.broker().full_sinks().load(std::memory_order_relaxed) != 0;
  switch (p.qos) {
    case QoS::at_most_once:
      if (allowed && admit()) route(std::move(msg));
      if (close_now) return close(false);
      break;
    case QoS::at_least_once: {
      std::uint16_t id = p.packet_id;
      if (allowed) admit();
      if (close_now) return close(false);
      // The acknowledgement is encoded before the copies routing produces,
      // so a client subscribed to its own topic sees PUBACK first, and
      // written after routing, so a publisher holding its PUBACK finds the
      // message routed (in the subscribers' queues and the bridges'
      // outboxes, counted) when it looks: on other cores too
      // (flush_after_routing).
      if (ack_after_route) {  // every ack in line, refusals included
        if (msg) route(std::move(msg));
        if (!active().blocked.empty()) {
          block(ack(PacketType::puback, id));
          break;
        }
        ack_when_durable(ack(PacketType::puback, id));
        break;
      }
      encode(ack(PacketType::puback, id));
      if (msg) route(std::move(msg));
      force_blocked();
      flush_after_routing();
      break;
    }
    case QoS::exactly_once: {
      std::uint16_t id = p.packet_id;
      auto& received = session().qos2_received;  // a bare session gets its Session
      if (received.contains(id)) {  // a resent duplicate: acknowledge, do not route
        ack_when_durable(protocol::Ack{PacketType::pubrec, id, ReasonCode::success, {}});
        break;
      }
      if (received.size() >= limits.receive_maximum) {
        return fail(ReasonCode::receive_maximum_exceeded, "receive maximum exceeded");
      }
      if (!allowed) {
        ack_when_durable(protocol::Ack{PacketType::pubrec, id, outcome, {}});
        break;
      }
      admit();
      if (close_now) return close(false);
      if (protocol::is_error(outcome)) {  // refused by a hook: the id is not kept
        ack_when_durable(ack(PacketType::pubrec, id));
        break;
      }
      // Accepted (routed, or dropped by a hook): a resend is not routed again.
      received.insert(id);
      store.save_qos2(core_.index(), *session_, id);
      if (ack_after_route) {
        if (msg) route(std::move(msg));
        if (!active().blocked.empty()) {
          block(ack(PacketType::pubrec, id));
          break;
        }
        ack_when_durable(ack(PacketType::pubrec, id));
        break;
      }
      encode(ack(PacketType::pubrec, id));  // written after routing, as PUBACK above
      if (msg) route(std::move(msg));
      force_blocked();
      flush_after_routing();
      break;
    }
  }
}

router::MessagePtr Client::make_message(protocol::PublishIn& p) {
  // One allocation: the message with its topic and payload copied from
  // the read buffer (router/message.hpp).
  std::shared_ptr<router::Message> msg = router::Message::make(p.topic, p.payload);
  msg->qos = p.qos;
  msg->retain = p.retain;
  msg->publisher = client_id();
  // Made from the view (no assignment into the message's empty string,
  // which costs ~40 instructions more); nothing for an anonymous client.
  if (const std::string_view u = username_.view(); !u.empty()) msg->username = std::string(u);
  if (!p.properties) return msg;
  protocol::Properties& in = *p.properties;
  if (in.message_expiry_interval) {
    msg->expires_at_ms = now_ms() + std::uint64_t{*in.message_expiry_interval} * 1000;
  }
  msg->properties = protocol::SharedProperties::application(std::move(in));
  return msg;
}

void Client::route(router::MessagePtr msg) {
  Active& a = active();
  a.congested.clear();
  a.blocked.clear();
  const bool qos0 = msg->qos == QoS::at_most_once;
  core_.route_accepted(std::move(msg), handle_.get(), &a.congested, qos0 ? nullptr : &a.blocked);
  if (!a.congested.empty()) hold_for(a.congested);
}

void Client::force_blocked() {
  // The acknowledgement went out before routing: a sink filled between the
  // check in on_publish and the routing. The message was acknowledged, so
  // it goes in past the bounds (one message per publisher at most):
  // nothing acknowledged is dropped.
  std::vector<session::BlockedDelivery>& blocked = active().blocked;
  for (session::BlockedDelivery& b : blocked) b.to->sink->accept(std::move(b.delivery), core_.index(), true);
  blocked.clear();
}

// ---------------------------------------------------------------------------
// Back-pressure
//
// A QoS 1/2 message that takes an online subscriber's backlog to the hold
// level is accepted (acknowledged, queued); then this client's socket is
// not read until every such backlog is below the resume level. TCP flow
// control slows the publisher, the subscriber's queue stays within
// max_queued_messages, and nothing is dropped. Each publisher adds at most
// one message past the hold level before it stops, which the half of the
// queue above that level absorbs.
//
// Deadlock: a held client reads nothing, not even the acknowledgements
// that would drain its own session. So a client whose own backlog is at
// the hold level is never held, and no client waits for itself; a longer
// cycle (A waits for B, which waits for A) cannot make progress and is
// broken by the timeout below like any subscriber that takes nothing.
//
// A subscriber that takes nothing for limits.backpressure_timeout (a hung
// device) is marked stalled: its publishers go on, and messages beyond
// its queue limits are dropped and counted, as without back-pressure.

void Client::hold_for(const std::vector<session::SessionRef>& congested) {
  if (handle_->backlog.count() >= core_.backlog_hold()) return;
  const bool was_held = held();
  for (const session::SessionRef& target : congested) {
    if (target == handle_) continue;
    if (std::any_of(active().holds.begin(), active().holds.end(), [&](const Hold& h) { return h.target == target; })) continue;
    std::weak_ptr<Client> weak = shared_from_this();
    boost::asio::io_context& io = core_.io();
    const session::SessionHandle* raw = target.get();
    bool waiting = target->backlog.wait(core_.backlog_resume(), this, [weak, &io, raw] {
      boost::asio::post(io, [weak, raw] {
        if (auto self = weak.lock()) self->on_drained(raw);
      });
    });
    if (waiting) active().holds.push_back(Hold{target, target->backlog.count()});
  }
  if (was_held || !held()) return;
  if (!active().hold_timer) active().hold_timer = std::make_unique<boost::asio::steady_timer>(core_.io());
  active().hold_timer->expires_after(core_.broker().limits().backpressure_timeout);
  active().hold_timer->async_wait([self = shared_from_this()](const boost::system::error_code& ec) {
    if (!ec) self->on_hold_timer();
  });
}

void Client::on_drained(const session::SessionHandle* target) {
  if (!active_) return;
  auto it = std::find_if(active().holds.begin(), active().holds.end(), [&](const Hold& h) { return h.target.get() == target; });
  if (it == active().holds.end()) return;
  active().holds.erase(it);
  if (held() || state_ != State::connected) return;
  active().hold_timer->cancel();
  if (throttled_) return;  // the throttle timer resumes reading
  process_kept();         // packets received before the pause come first
  if (!throttle()) read_next();
}

void Client::on_hold_timer() {
  if (!held() || state_ != State::connected) return;
  for (auto it = active().holds.begin(); it != active().holds.end();) {
    std::uint32_t now = it->target->backlog.count();
    if (now < it->backlog) {  // draining, if slowly: keep waiting
      it->backlog = now;
      ++it;
      continue;
    }
    session::SessionRef target = std::move(it->target);
    it = active().holds.erase(it);
    STRATA_INFO("client") << target->client_id << ": took no message for "
                          << core_.broker().limits().backpressure_timeout.count()
                          << " s; publishers no longer wait for it";
    target->backlog.mark_stalled(core_.backlog_resume());
  }
  if (!active().holds.empty()) {
    active().hold_timer->expires_after(core_.broker().limits().backpressure_timeout);
    active().hold_timer->async_wait([self = shared_from_this()](const boost::system::error_code& ec) {
      if (!ec) self->on_hold_timer();
    });
    return;
  }
  resume_reading();
}

void Client::release_holds() {
  if (!active_) return;
  for (Hold& h : active().holds) h.target->backlog.cancel(this);
  active().holds.clear();
  if (active().hold_timer) active().hold_timer->cancel();
}

// ---------------------------------------------------------------------------
// Blocking sinks
//
// A bridge whose outbox is full with overflow = "block" refuses a QoS 1/2
// delivery (DeliverySink::accept). Its publisher's message has reached the
// other subscribers; its acknowledgement now waits (in acks_, in line) and
// the connection stops reading, as with back-pressure. Each time the sink
// has room the delivery is offered again; once every sink took it, the
// acknowledgement follows as usual (after the store, with sync). After the
// sink's block_timeout the publisher gets 0x97 (quota exceeded) instead —
// MQTT 3.1.1, which cannot refuse, has its connection closed without an
// acknowledgement, so the client sends the message again — and the sink
// counts it (dropped/blocked). A QoS 2 id refused so is forgotten, so a
// resent PUBLISH is routed again. Nothing that was acknowledged is dropped.

void Client::block(protocol::Ack&& ack) {
  auto b = std::make_unique<Blocking>();
  b->deliveries.swap(active().blocked);
  b->ticket = active().acks_base + active().acks.size();
  b->qos = ack.type == PacketType::puback ? QoS::at_least_once : QoS::exactly_once;
  b->packet_id = ack.packet_id;
  active().acks.push_back(PendingAck{std::move(ack), false});
  std::chrono::milliseconds timeout = b->deliveries.front().to->sink->block_timeout();
  for (const auto& d : b->deliveries) timeout = std::min(timeout, d.to->sink->block_timeout());
  b->timer = std::make_unique<boost::asio::steady_timer>(core_.io());
  b->timer->expires_after(timeout);
  b->serial = ++active().block_serial;
  std::weak_ptr<Client> weak = shared_from_this();
  // The serial: a handler already queued when the timer was cancelled must
  // not refuse a later message.
  b->timer->async_wait([weak, serial = b->serial](const boost::system::error_code& ec) {
    auto self = weak.lock();
    if (self && !ec && self->active().blocking && self->active().blocking->serial == serial) self->unblock(false);
  });
  active().blocking = std::move(b);
  offer_blocked();
}

void Client::offer_blocked() {
  if (!active_ || !active_->blocking || state_ != State::connected) return;
  auto& ds = active().blocking->deliveries;
  while (!ds.empty()) {
    session::BlockedDelivery& b = ds.back();
    if (b.to->sink->accept(std::move(b.delivery), core_.index())) {
      ds.pop_back();
      continue;
    }
    std::weak_ptr<Client> weak = shared_from_this();
    boost::asio::io_context& io = core_.io();
    if (b.to->sink->wait_space(this, [weak, &io] {
          boost::asio::post(io, [weak] {
            if (auto self = weak.lock()) self->offer_blocked();
          });
        })) {
      return;
    }
    // Room already: offer again on the next turn (others go first).
    boost::asio::post(io, [weak] {
      if (auto self = weak.lock()) self->offer_blocked();
    });
    return;
  }
  unblock(true);
}

void Client::unblock(bool accepted) {
  if (!active_ || !active_->blocking) return;
  std::unique_ptr<Blocking> b = std::move(active().blocking);
  b->timer->cancel();
  for (session::BlockedDelivery& d : b->deliveries) {
    d.to->sink->cancel_wait(this);
    d.to->sink->refused(d.delivery);
  }
  if (!accepted) {
    if (b->qos == QoS::exactly_once && session_ != nullptr && session_->qos2_received.erase(b->packet_id) > 0) {
      core_.broker().store().drop_qos2(core_.index(), *session_, b->packet_id);
    }
    if (version_ == Version::v311) return close(false);
    active().acks[b->ticket - active().acks_base].ack.reason = ReasonCode::quota_exceeded;
    ack_durable(b->ticket, true);
  } else if (core_.broker().store().sync_acks()) {
    std::weak_ptr<Client> weak = shared_from_this();
    std::uint64_t ticket = b->ticket;
    core_.after_durable([weak, ticket](bool stored) {
      if (auto self = weak.lock()) self->ack_durable(ticket, stored);
    });
  } else {
    ack_durable(b->ticket, true);
  }
  // Posted: this may run inside process_input (on_publish).
  boost::asio::post(core_.io(), [weak = std::weak_ptr<Client>(shared_from_this())] {
    if (auto self = weak.lock()) self->resume_reading();
  });
}

void Client::abandon_blocked() {
  if (!active_ || !active_->blocking) return;
  std::unique_ptr<Blocking> b = std::move(active().blocking);
  b->timer->cancel();
  for (session::BlockedDelivery& d : b->deliveries) {
    d.to->sink->cancel_wait(this);
    d.to->sink->refused(d.delivery);
  }
  if (b->qos == QoS::exactly_once && session_ != nullptr && session_->qos2_received.erase(b->packet_id) > 0) {
    core_.broker().store().drop_qos2(core_.index(), *session_, b->packet_id);
  }
}

void Client::resume_reading() {
  if (held() || state_ != State::connected || throttled_) return;
  process_kept();  // packets received before the pause come first
  if (!throttle()) read_next();
}

void Client::ack_when_durable(protocol::Ack&& ack) {
  if (!core_.broker().store().sync_acks()) {
    send(ack);
    return;
  }
  std::uint64_t ticket = active().acks_base + active().acks.size();
  active().acks.push_back(PendingAck{std::move(ack), false});
  std::weak_ptr<Client> weak = shared_from_this();
  core_.after_durable([weak, ticket](bool stored) {
    if (auto self = weak.lock()) self->ack_durable(ticket, stored);
  });
}

void Client::ack_durable(std::uint64_t ticket, bool stored) {
  if (ticket < active().acks_base || ticket - active().acks_base >= active().acks.size()) return;
  PendingAck& pending = active().acks[ticket - active().acks_base];
  pending.ready = true;
  if (!stored) {
    // The store was full and dropped the message's writes: not accepted.
    core_.stats().add(core_.stats().store_refused);
    if (version_ == Version::v311) return close(false);
    pending.ack.reason = ReasonCode::quota_exceeded;
  }
  while (!active().acks.empty() && active().acks.front().ready) {
    if (state_ == State::connected) send(active().acks.front().ack);
    active().acks.pop_front();
    ++active().acks_base;
  }
}

void Client::finish_inflight(std::uint16_t packet_id) {
  if (auto done = session_->take_inflight(packet_id)) {
    if (bridge_log_) return finish_logged(*done);
    core_.broker().store().drop_delivery(core_.index(), *session_, done->delivery);
  }
}

void Client::on_ack(protocol::Ack&& a) {
  // A bare session sent nothing to acknowledge: answered from an empty Session.
  if (session_ == nullptr) session();
  switch (a.type) {
    case PacketType::puback: {
      Outgoing* o = session_->find_inflight(a.packet_id);
      if (o != nullptr && o->state == Outgoing::State::await_puback) {
        finish_inflight(a.packet_id);
        pump_queue();
      }
      break;
    }
    case PacketType::pubrec: {
      Outgoing* o = session_->find_inflight(a.packet_id);
      if (o == nullptr) {
        protocol::Ack rel{PacketType::pubrel, a.packet_id, ReasonCode::packet_identifier_not_found, {}};
        send(rel);
        break;
      }
      if (protocol::is_error(a.reason)) {
        // The receiver refused the message: the exchange ends here.
        finish_inflight(a.packet_id);
        pump_queue();
        break;
      }
      if (o->state == Outgoing::State::await_pubrec) {
        o->state = Outgoing::State::await_pubcomp;
        core_.broker().store().save_delivery(core_.index(), *session_, o->delivery,
                                             store::DeliveryState::await_pubcomp, a.packet_id);
        o->delivery.msg.reset();  // only the id is needed from now on
      }
      send(protocol::Ack{PacketType::pubrel, a.packet_id, ReasonCode::success, {}});
      break;
    }
    case PacketType::pubrel: {
      bool known = session_->qos2_received.erase(a.packet_id) > 0;
      if (known) core_.broker().store().drop_qos2(core_.index(), *session_, a.packet_id);
      send(protocol::Ack{PacketType::pubcomp, a.packet_id,
                         known ? ReasonCode::success : ReasonCode::packet_identifier_not_found, {}});
      break;
    }
    case PacketType::pubcomp: {
      Outgoing* o = session_->find_inflight(a.packet_id);
      if (o != nullptr && o->state == Outgoing::State::await_pubcomp) {
        finish_inflight(a.packet_id);
        pump_queue();
      }
      break;
    }
    default:
      break;
  }
}

// ---------------------------------------------------------------------------
// Outgoing

std::size_t Client::send_window() const noexcept {
  const std::size_t allowed =
      version_ == Version::v5 ? client_receive_max_ : limits_.max_inflight_messages_mqtt311;
  return std::min<std::size_t>(allowed, limits_.max_inflight_messages);
}

bool Client::window_open(std::uint64_t bytes) const noexcept {
  const std::size_t n = session_->inflight_count();
  if (n >= send_window()) return false;
  const std::uint64_t max_bytes = limits_.max_inflight_bytes;
  return n == 0 || max_bytes == 0 || session_->inflight_bytes() + bytes <= max_bytes;
}

void Client::deliver(Delivery&& d) {
  if (state_ != State::connected || session_ == nullptr) return;
  send_delivery(std::move(d));
}

void Client::send_delivery(Delivery&& d) {
  if (bridge_log_) {  // a bridge session: in order behind its log (retained messages on SUBSCRIBE)
    log().accept(std::move(d), core_.index(), true);
    return;
  }
  if (d.qos == QoS::at_most_once) {
    // A slow consumer: its socket has not taken what was sent before.
    // QoS 0 may be lost, so it goes first and memory stays bounded.
    if (outgoing_full()) {
      core_.stats().add(core_.stats().messages_dropped);
      return;
    }
    send_publish(d, 0, false);
    return;
  }
  // Keep order behind what is already queued.
  if (session_->queue_empty() && window_open(session::Session::size_of(d))) {
    if (auto id = session_->next_packet_id()) {
      Outgoing& o = session_->add_inflight(*id, std::move(d));
      core_.broker().store().save_delivery(core_.index(), *session_, o.delivery, store::state_of(o), *id);
      send_publish(o.delivery, *id, false);
      return;
    }
  }
  core_.enqueue(*session_, std::move(d));
}

void Client::pump_queue() {
  if (bridge_log_) return pump_log();
  store::Store& store = core_.broker().store();
  const std::uint64_t now = now_ms();
  while (!session_->queue_empty() && state_ == State::connected) {
    Delivery& front = session_->queue_front();
    if (front.msg->expires_at_ms != 0 && front.msg->expires_at_ms <= now) {
      core_.stats().add(core_.stats().messages_dropped);
      store.drop_delivery(core_.index(), *session_, front);
      session_->pop_queue();
      continue;
    }
    if (front.qos == QoS::at_most_once) {
      send_publish(front, 0, false);
      store.drop_delivery(core_.index(), *session_, front);
      session_->pop_queue();
      continue;
    }
    if (!window_open(session::Session::size_of(front))) break;
    auto id = session_->next_packet_id();
    if (!id) break;
    Outgoing& o = session_->add_inflight(*id, session_->pop_queue());
    store.save_delivery(core_.index(), *session_, o.delivery, store::state_of(o), *id);
    send_publish(o.delivery, *id, false);
  }
}

void Client::resend_inflight() {
  // Spec 4.4: on a resumed session, unacknowledged PUBLISHes are resent
  // with DUP set, and PUBRELs for those already PUBRECed.
  // Ids first: send_publish may drop (and so erase) a message.
  std::vector<std::uint16_t> ids;
  for (const Outgoing& o : session_->inflight()) ids.push_back(o.packet_id);
  for (std::uint16_t id : ids) {
    Outgoing* o = session_->find_inflight(id);
    if (o == nullptr) continue;
    if (o->state == Outgoing::State::await_pubcomp) {
      send(protocol::Ack{PacketType::pubrel, id, ReasonCode::success, {}});
    } else {
      send_publish(o->delivery, id, true);
    }
  }
}

void Client::send_publish(const Delivery& d, std::uint16_t packet_id, bool dup) {
  // Encoded straight from the shared Message (protocol/publish_view.hpp):
  // no copy of topic, payload or properties per delivery.
  const router::Message& m = *d.msg;
  protocol::PublishView p;
  p.qos = d.qos;
  p.retain = d.retain;
  p.dup = dup;
  p.packet_id = packet_id;
  p.payload = m.payload;
  p.topic = m.topic;
  bool new_alias = false;
  if (version_ == Version::v5) {
    p.properties = m.properties.has_value() ? &*m.properties : nullptr;
    p.subscription_identifiers = d.identifiers;
    if (m.expires_at_ms != 0) {
      std::uint64_t now = now_ms();
      std::uint64_t left = m.expires_at_ms > now ? (m.expires_at_ms - now + 999) / 1000 : 0;
      p.message_expiry_interval = static_cast<std::uint32_t>(std::max<std::uint64_t>(left, 1));
    }
    // Topic alias, broker to client: the first message on a topic carries
    // topic and alias, later ones only the alias (spec 3.3.2.3.4).
    if (client_alias_max_ > 0) {
      auto it = active().out_aliases.find(m.topic);
      if (it != active().out_aliases.end()) {
        p.topic_alias = it->second;
        p.topic = {};  // the alias names it
      } else if (active().out_aliases.size() < client_alias_max_) {
        p.topic_alias = static_cast<std::uint16_t>(active().out_aliases.size() + 1);
        new_alias = true;
      }
    }
  }

  if (client_max_packet_ != 0 && protocol::encoded_publish_size(p, version_) > client_max_packet_) {
    // Larger than the client accepts: discard as if delivered (spec 3.1.2.11.4).
    core_.stats().add(core_.stats().messages_dropped);
    if (packet_id != 0) finish_inflight(packet_id);
    return;
  }
  Io& io = this->io();
  protocol::encode_publish(p, version_, io.wpending);
  if (new_alias) active().out_aliases.emplace(m.topic, *p.topic_alias);
  Stats& stats = core_.stats();
  stats.add(stats.messages_sent);
  ++io.messages_sent;
  const auto q = static_cast<std::size_t>(p.qos) % 3;
  stats.add(stats.sent_by_qos[q]);
  stats.add(stats.payload_sent_by_qos[q], m.payload.size());
  ++io.pending_publishes;
  flush();
}

}  // namespace strata::core
