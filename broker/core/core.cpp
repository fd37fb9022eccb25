#include "broker/core/core.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>

#include <boost/asio/post.hpp>

#include "broker/core/broker.hpp"
#include "broker/core/client.hpp"
#include "broker/core/clock.hpp"
#include "broker/router/topic.hpp"
#include "broker/util/log.hpp"

namespace strata::core {

namespace asio = boost::asio;
using protocol::QoS;
using session::Delivery;
using session::Session;
using session::SessionHandle;
using session::SessionRef;

Core::Core(Broker& broker, unsigned index, unsigned core_count)
    : broker_(broker),
      index_(index),
      deadlines_(std::chrono::steady_clock::now()),
      // One thread runs this context, and every operation on its sockets
      // is started, completed and closed on that thread (transport/
      // stream.hpp; listeners accept per core, other threads post): so
      // the reactor's per-socket lock, taken twice per read, is not needed
      // (~110 instructions per message at everyday rates). Posting from
      // other threads still locks the scheduler, and timers the reactor.
      io_(BOOST_ASIO_CONCURRENCY_HINT_UNSAFE_IO),
      poller_(transport::Poller::of(io_)),
      deadline_timer_(io_),
      outbox_(core_count) {
  stats_.set_listener_count(broker.config().listeners.size());
  // Hold at half the queue and resume at a quarter: the half above the
  // hold level absorbs what publishers send before they see it (at most
  // one message each), the quarter below keeps the subscriber busy while
  // publishers start again.
  const config::Limits& limits = broker.limits();
  if (limits.backpressure_timeout.count() > 0 && limits.max_queued_messages > 0) {
    backlog_hold_ = std::max<std::uint32_t>(1, limits.max_queued_messages / 2);
    backlog_resume_ = std::max<std::uint32_t>(1, limits.max_queued_messages / 4);
  }
}

Core::~Core() = default;

void Core::run() {
  auto guard = asio::make_work_guard(io_);
  io_.run();
}

void Core::stop() { io_.stop(); }

void Core::accept(std::unique_ptr<transport::Stream> stream, ConnectionQuota& quota) {
  ConnectionQuota& total = broker_.connections();
  ConnectionQuota* counted = nullptr;
  if (total.admit()) {
    if (quota.admit()) {
      counted = &quota;
    } else {
      total.release();
    }
  }
  if (counted == nullptr) {
    // Over a connection limit. A few such clients are still read up to
    // their CONNECT so they learn why (CONNACK 0x97 quota exceeded, 3.1.1:
    // server unavailable); beyond that the socket is simply closed.
    if (refusing_ >= max_refusing) {
      stream->close(transport::CloseNotice::none);
      return;
    }
    ++refusing_;
  }
  auto client = std::make_shared<Client>(*this, std::move(stream), counted == nullptr);
  clients_.emplace(client.get(), Connection{client, counted});
  client->start();
}

void Core::forget(Client* client) {
  auto it = clients_.find(client);
  if (it == clients_.end()) return;
  if (it->second.listener_quota != nullptr) {
    it->second.listener_quota->release();
    broker_.connections().release();
  } else {
    --refusing_;
  }
  clients_.erase(it);
}

void Core::disconnect_all() {
  // Copy: disconnect() ends in forget(), which erases from clients_.
  std::vector<std::shared_ptr<Client>> all;
  all.reserve(clients_.size());
  for (auto& [p, c] : clients_) all.push_back(c.client);
  for (auto& c : all) c->disconnect(protocol::ReasonCode::server_shutting_down, "server shutting down");
}

// ---------------------------------------------------------------------------
// Connection deadlines

void Core::schedule_deadline(Client& client, std::chrono::steady_clock::time_point when) {
  deadlines_.schedule(client, when);
  if (expiring_) return;
  const auto at = deadlines_.fires_at(client);
  if (!deadline_armed_ || at < *deadline_armed_) arm_deadline_timer(at);
}

void Core::cancel_deadline(Client& client) noexcept {
  // The timer stays set: waking once for nothing is cheaper than moving it.
  deadlines_.cancel(client);
}

void Core::arm_deadline_timer(std::chrono::steady_clock::time_point at) {
  deadline_armed_ = at;
  deadline_timer_.expires_at(at);  // a wait already set ends with operation_aborted
  deadline_timer_.async_wait([this](const boost::system::error_code& ec) {
    if (!ec) on_deadline_timer();
  });
}

void Core::on_deadline_timer() {
  deadline_armed_.reset();
  expiring_ = true;
  deadlines_.expire(std::chrono::steady_clock::now(), [](DeadlineWheel::Entry& e) {
    auto client = static_cast<Client&>(e).shared_from_this();  // it may close and be forgotten
    client->on_deadline();
  });
  expiring_ = false;
  if (auto next = deadlines_.next_wake()) arm_deadline_timer(*next);
}

// ---------------------------------------------------------------------------
// Publish path

void Core::publish(router::MessagePtr msg, const SessionHandle* publisher, std::vector<SessionRef>* congested) {
  if (run_hooks(msg) != HookVerdict::pass) return;
  route_accepted(std::move(msg), publisher, congested);
}

HookVerdict Core::run_hooks(router::MessagePtr& msg, PublishHook** rejected_by) {
  for (PublishHook* hook : broker_.hooks()) {
    HookVerdict v = hook->on_publish(msg, index_);
    if (v == HookVerdict::pass) continue;
    if (v == HookVerdict::reject && rejected_by != nullptr) *rejected_by = hook;
    return v;
  }
  return HookVerdict::pass;
}

void Core::route_accepted(router::MessagePtr msg, const SessionHandle* publisher, std::vector<SessionRef>* congested,
                          std::vector<session::BlockedDelivery>* blocked) {
  if (msg->retain) {
    retained_.set(msg);
    // $SYS values are published afresh by every broker run.
    if (msg->topic.rfind("$SYS/", 0) != 0) broker_.store().save_retained(index_, *msg);
    broker_.post_to_cores(index_, [msg](Core& c) { c.retained_.set(msg); });
  }

  match_scratch_.clear();
  trie_.match(msg->topic, publisher, match_scratch_);
  blocked_ = blocked;
  for (router::Match& m : match_scratch_) {
    Delivery d;
    d.msg = msg;
    d.qos = std::min(msg->qos, m.qos);
    // Live forwarding clears RETAIN unless the subscription asked for it
    // as published (spec 3.3.1.3).
    d.retain = msg->retain && m.retain_as_published;
    d.check_read = m.check_read;
    d.identifiers = std::move(m.identifiers);
    if (!m.share_group.empty()) {
      d.share_group = m.share_group;
      d.share_filter = m.share_filter;
    }
    if (d.qos != QoS::at_most_once) {
      // Counted here, on the publisher's core, so the count is exact even
      // while the message is on its way to the subscriber's core.
      // Offline sessions hold nobody (their queues have bounds instead);
      // a sink (a bridge's route, a bridge session's log, online or not)
      // keeps charges only while the store's writer is behind, so holding
      // for it ends (bridges/writer_hold.hpp).
      std::uint32_t backlog = d.backlog.charge(m.subscriber->backlog);
      if (congested != nullptr && backlog_hold_ != 0 && backlog >= backlog_hold_ &&
          (m.subscriber->online.load(std::memory_order_relaxed) || m.subscriber->sink != nullptr) &&
          !m.subscriber->backlog.stalled()) {
        congested->push_back(m.subscriber);
      }
    }
    deliver(m.subscriber, std::move(d));
  }
  blocked_ = nullptr;
}

void Core::deliver(const SessionRef& to, Delivery&& d) {
  if (to->ended.load(std::memory_order_acquire)) return;
  if (to->sink != nullptr) {
    if (to->sink->accept(std::move(d), index_)) return;
    if (blocked_ != nullptr) {
      blocked_->push_back(session::BlockedDelivery{to, std::move(d)});
    } else {
      to->sink->refused(d);
    }
    return;
  }
  // A message handed on to another member of a shared group counts there.
  if (d.qos != QoS::at_most_once) d.backlog.charge(to->backlog);
  unsigned owner = to->core.load(std::memory_order_acquire);
  if (owner != index_) {
    if (to->arriving.load(std::memory_order_relaxed) == index_) {
      pending_[to.get()].push_back(RemoteDelivery{to, std::move(d)});  // coming here: expect_arrival
      return;
    }
    post_remote(owner, to, std::move(d));
    return;
  }
  Session* s = to->session();
  if (s == nullptr) {
    // The session is being handed to this core; hold until it arrives.
    pending_[to.get()].push_back(RemoteDelivery{to, std::move(d)});
    return;
  }
  deliver_local(*s, std::move(d));
}

void Core::deliver_local(Session& s, Delivery&& d) {
  if (d.check_read) {
    // Routed only by filters the ACL lets read some of their topics: is
    // this one of them? (Checked here, where the session and its user are.)
    d.check_read = false;
    auth::ClientInfo who{s.client_id(), s.username, {}};
    if (!broker_.authorizer().can_read(who, d.msg->topic)) return;
  }
  if (d.msg->expires_at_ms != 0 && d.msg->expires_at_ms <= now_ms()) {
    stats_.add(stats_.messages_dropped);
    return;
  }
  if (s.attachment != nullptr) {
    s.attachment->deliver(std::move(d));
    return;
  }
  // Offline persistent session: queue QoS 1/2 (and QoS 0 if configured).
  if (d.qos == QoS::at_most_once && !broker_.limits().queue_qos0_offline) {
    stats_.add(stats_.messages_dropped);
    return;
  }
  enqueue(s, std::move(d));
}

bool Core::enqueue(Session& s, Delivery&& d) {
  const config::Limits& limits = broker_.limits();
  std::vector<Delivery> evicted;
  const bool qos0 = d.qos == QoS::at_most_once;
  Session::Enqueue r = s.enqueue(std::move(d), limits.max_queued_messages, limits.max_queued_bytes, &evicted);
  store::Store& store = broker_.store();
  for (const Delivery& e : evicted) {
    store.drop_delivery(index_, s, e);
    stats_.add(stats_.messages_dropped);
    stats_.add(stats_.queue_dropped);
  }
  bool queued = r == Session::Enqueue::queued || (r == Session::Enqueue::dropped_qos0 && !qos0);
  if (!queued) {
    stats_.add(stats_.messages_dropped);
    stats_.add(qos0 ? stats_.queue_dropped : stats_.queue_refused);
    return false;
  }
  store.save_delivery(index_, s, s.queue_back(), store::DeliveryState::queued, 0);
  return true;
}

void Core::after_durable(std::function<void(bool)> fn) {
  if (flush_scheduled_) {
    durable_waiters_.push_back(std::move(fn));  // completed by flush_outbox
    return;
  }
  broker_.store().after_commit(index_, std::move(fn));
}

void Core::post_remote(unsigned core, const SessionRef& to, Delivery&& d) {
  outbox_[core].push_back(RemoteDelivery{to, std::move(d)});
  if (!flush_scheduled_) {
    flush_scheduled_ = true;
    // Runs after the handlers already queued on this core, i.e. after the
    // rest of the current read batch: one post per destination per turn.
    asio::post(io_, [this] { flush_outbox(); });
  }
}

void Core::flush_outbox() {
  flush_scheduled_ = false;
  // after_durable() waiters of this turn complete when this core's store
  // queue and that of every core receiving a batch now have committed.
  struct Countdown {
    std::atomic<unsigned> left{1};
    std::atomic<bool> stored{true};
    std::vector<std::function<void(bool)>> waiters;
    Core* origin = nullptr;
  };
  std::shared_ptr<Countdown> countdown;
  std::function<void(bool)> arrive;
  if (!durable_waiters_.empty()) {
    countdown = std::make_shared<Countdown>();
    countdown->waiters = std::move(durable_waiters_);
    durable_waiters_.clear();
    countdown->origin = this;
    for (auto& box : outbox_) countdown->left += box.empty() ? 0 : 1;
    arrive = [countdown](bool stored) {
      if (!stored) countdown->stored.store(false, std::memory_order_relaxed);
      if (countdown->left.fetch_sub(1, std::memory_order_acq_rel) != 1) return;
      asio::post(countdown->origin->io_, [countdown] {
        for (auto& fn : countdown->waiters) fn(countdown->stored.load(std::memory_order_relaxed));
      });
    };
  }
  for (unsigned i = 0; i < outbox_.size(); ++i) {
    if (outbox_[i].empty()) continue;
    Core& dest = broker_.core(i);
    // Shared: a Delivery is move-only (its backlog charge) and the handler
    // must be copyable.
    auto batch = std::make_shared<std::vector<RemoteDelivery>>(std::move(outbox_[i]));
    asio::post(dest.io_, [&dest, arrive, batch] {
      // One batch: a client that many of these go to writes them once.
      dest.poller_.batch([&] {
        for (RemoteDelivery& r : *batch) dest.deliver(r.to, std::move(r.delivery));
      });
      if (arrive) dest.broker_.store().after_commit(dest.index_, arrive);
    });
    outbox_[i].clear();  // moved from; make it valid and empty
  }
  if (arrive) broker_.store().after_commit(index_, arrive);
  // The deliveries are in their cores' queues ahead of anything those cores
  // read from now on: the acknowledgements held for them may go.
  after_outbox_.swap(flushing_after_outbox_);
  for (const std::shared_ptr<Client>& c : flushing_after_outbox_) c->flush_held_for_outbox();
  flushing_after_outbox_.clear();
}

// ---------------------------------------------------------------------------
// Sessions

Session* Core::adopt(std::unique_ptr<Session> s) {
  SessionHandle* h = s->handle().get();
  // A bare session that needs its Session now (Client::session()) was
  // counted when it began.
  const bool counted = h->bare() != nullptr;
  h->core.store(index_, std::memory_order_release);
  h->set_session(s.get());
  Session* raw = s.get();
  // Another core may expect it next (a later connection asked meanwhile):
  // only this core's expectation is met.
  unsigned expected = index_;
  h->arriving.compare_exchange_strong(expected, SessionHandle::kNoCore, std::memory_order_relaxed);
  sessions_[h].session = std::move(s);
  if (!counted) stats_.sessions.fetch_add(1, std::memory_order_relaxed);
  if (auto it = pending_.find(h); it != pending_.end()) {
    auto held = std::move(it->second);
    pending_.erase(it);
    for (RemoteDelivery& r : held) deliver_local(*raw, std::move(r.delivery));
  }
  run_waiting_takes(h);
  return raw;
}

void Core::run_waiting_takes(const SessionHandle* h) {
  if (auto it = waiting_takes_.find(h); it != waiting_takes_.end()) {
    // Posted: the caller attaches the session before anyone takes it.
    auto takes = std::move(it->second);
    waiting_takes_.erase(it);
    asio::post(io_, [this, takes = std::move(takes)]() mutable {
      for (WaitingTake& t : takes) take(t.h, t.clean_start, t.new_core, std::move(t.done));
    });
  }
}

void Core::attach_bare(const SessionRef& h, Client& client) {
  h->core.store(index_, std::memory_order_release);
  h->set_bare(&client);
  stats_.sessions.fetch_add(1, std::memory_order_relaxed);
  // A connection that claimed the id meanwhile asked for it already.
  run_waiting_takes(h.get());
}

void Core::end_bare(const SessionRef& h) {
  // As end_session(), with no will, subscription, message or store
  // record to see to.
  h->set_bare(nullptr);
  h->ended.store(true, std::memory_order_release);
  h->online.store(false, std::memory_order_release);
  broker_.unregister(h.get());
  pending_.erase(h.get());  // nothing routes to it; if anything did, it is dropped with it
  stats_.sessions.fetch_sub(1, std::memory_order_relaxed);
}

std::unique_ptr<Session> Core::take_bare(const SessionRef& h, bool clean_start, unsigned new_core) {
  auto* old = static_cast<Client*>(h->bare());  // Client is the only Attachment
  const protocol::Version version = old->version();
  // It leaves the handle to us (and may be gone after the call).
  old->taken_over();
  if (clean_start) {
    end_bare(h);
    return nullptr;
  }
  // Resumed, as a Session would be (Session Present): an empty one.
  auto s = std::make_unique<Session>(h, version);
  h->set_bare(nullptr);
  h->core.store(new_core, std::memory_order_release);
  stats_.sessions.fetch_sub(1, std::memory_order_relaxed);
  return s;
}

void Core::expect_arrival(const SessionRef& h) {
  // What this core routed to the session before is on its way to the old
  // owner ahead of the request for the session (posts between two cores
  // run in order), so it is in the session when the session moves.
  flush_outbox();
  h->arriving.store(index_, std::memory_order_relaxed);
}

void Core::forget_arrival(const SessionRef& h) {
  unsigned expected = index_;
  if (!h->arriving.compare_exchange_strong(expected, SessionHandle::kNoCore, std::memory_order_relaxed)) return;
  auto it = pending_.find(h.get());
  if (it == pending_.end()) return;
  auto held = std::move(it->second);
  pending_.erase(it);
  for (RemoteDelivery& r : held) deliver(r.to, std::move(r.delivery));
}

Session* Core::find(const SessionHandle* h) {
  auto it = sessions_.find(h);
  return it == sessions_.end() ? nullptr : it->second.session.get();
}

void Core::cancel_timers(LocalSession& ls) {
  ls.expiry_timer.reset();  // destroying a timer cancels its wait
  ls.will_timer.reset();
}

std::unique_ptr<Session> Core::take_session(const SessionRef& h, bool clean_start, unsigned new_core) {
  auto it = sessions_.find(h.get());
  if (it == sessions_.end()) return nullptr;
  LocalSession& ls = it->second;
  Session& s = *ls.session;
  cancel_timers(ls);
  if (s.attachment != nullptr) {
    // The old connection is closed by the server: its will is due at once
    // if it has no delay; with a delay, the new connection cancels it.
    auto* old = static_cast<Client*>(s.attachment);
    bool will_now = s.will && s.will->properties.will_delay_interval.value_or(0) == 0;
    old->taken_over();
    if (will_now) publish_will(s);
  }
  s.will.reset();  // a delayed will is cancelled by the new connection
  if (clean_start) {
    end_session(s);
    return nullptr;
  }
  std::unique_ptr<Session> out = std::move(ls.session);
  h->set_session(nullptr);
  h->core.store(new_core, std::memory_order_release);
  sessions_.erase(it);
  stats_.sessions.fetch_sub(1, std::memory_order_relaxed);
  return out;
}

void Core::take(const SessionRef& h, bool clean_start, unsigned new_core, TakeDone done) {
  if (sessions_.count(h.get()) != 0 || h->ended.load(std::memory_order_acquire)) {
    done(*this, take_session(h, clean_start, new_core));
    return;
  }
  // Not here and not ended: the handle points to the core it lives on or
  // is on its way to (take_session() points it there before the session
  // leaves; claim() points a new handle at the core that will adopt it).
  unsigned owner = h->core.load(std::memory_order_acquire);
  if (owner == index_) {
    if (h->bare() != nullptr) {  // its connection is here, without a Session
      done(*this, take_bare(h, clean_start, new_core));
      return;
    }
    waiting_takes_[h.get()].push_back(WaitingTake{h, clean_start, new_core, std::move(done)});
    return;
  }
  Core& next = broker_.core(owner);
  asio::post(next.io_, [&next, h, clean_start, new_core, done = std::move(done)]() mutable {
    next.take(h, clean_start, new_core, std::move(done));
  });
}

void Core::session_disconnected(Session& s, bool will_due) {
  if (!will_due) s.will.reset();
  auto it = sessions_.find(s.handle().get());
  if (it == sessions_.end()) return;
  LocalSession& ls = it->second;
  if (s.expiry_interval == 0) {
    end_session(s);  // publishes the will, if any
    return;
  }
  std::uint32_t will_delay = 0;
  if (s.will) {
    will_delay = s.will->properties.will_delay_interval.value_or(0);
    if (will_delay == 0) publish_will(s);
  }
  s.deadline_ms = now_ms() + std::uint64_t{s.expiry_interval} * 1000;
  arm_offline(ls, s, will_delay);
  if (s.stored) broker_.store().save_session(index_, s);
}

void Core::restore_offline(Session& s) {
  auto it = sessions_.find(s.handle().get());
  if (it == sessions_.end()) return;
  // A session stored while online (the broker stopped without closing it)
  // starts its expiry now.
  if (s.deadline_ms == 0) s.deadline_ms = now_ms() + std::uint64_t{s.expiry_interval} * 1000;
  std::uint32_t will_delay = s.will ? s.will->properties.will_delay_interval.value_or(0) : 0;
  arm_offline(it->second, s, will_delay);
}

void Core::arm_offline(LocalSession& ls, Session& s, std::uint32_t will_delay) {
  if (s.will) {
    std::uint32_t delay = will_delay;
    if (delay == 0) {
      publish_will(s);
    } else {
      ls.will_timer = std::make_unique<asio::steady_timer>(io_, std::chrono::seconds(delay));
      SessionRef h = s.handle();
      ls.will_timer->async_wait([this, h](const boost::system::error_code& ec) {
        if (ec) return;
        if (Session* live = find(h.get())) {
          publish_will(*live);
          if (live->stored) broker_.store().save_session(index_, *live);  // without the will now
        }
      });
    }
  }
  if (s.expiry_interval != Session::never_expires) {
    std::uint64_t now = now_ms();
    std::uint64_t left = s.deadline_ms > now ? s.deadline_ms - now : 0;
    ls.expiry_timer = std::make_unique<asio::steady_timer>(io_, std::chrono::milliseconds(left));
    SessionRef h = s.handle();
    ls.expiry_timer->async_wait([this, h](const boost::system::error_code& ec) {
      if (ec) return;
      if (Session* live = find(h.get())) {
        STRATA_DEBUG("session") << "session of " << h->client_id << " expired";
        end_session(*live);
      }
    });
  }
}

void Core::publish_will(Session& s) {
  if (!s.will) return;
  protocol::Will will = std::move(*s.will);
  s.will.reset();
  auth::ClientInfo who{s.client_id(), s.username, {}};
  if (!broker_.authorizer().can_publish(who, will.topic)) return;
  auto msg = router::Message::make(will.topic, will.payload);
  msg->qos = will.qos;
  msg->retain = will.retain && broker_.limits().retain_available;
  msg->publisher = s.client_id();
  protocol::Properties& p = will.properties;
  if (p.message_expiry_interval) msg->expires_at_ms = now_ms() + std::uint64_t{*p.message_expiry_interval} * 1000;
  msg->properties = protocol::SharedProperties::application(std::move(p));
  STRATA_DEBUG("session") << "publishing will of " << s.client_id() << " on " << msg->topic;
  publish(std::move(msg), s.handle().get());
}

void Core::end_session(Session& s) {
  SessionRef h = s.handle();
  publish_will(s);  // a will still pending is due when the session ends
  h->ended.store(true, std::memory_order_release);
  broker_.unregister(h.get());
  for (auto& [filter, sub] : s.subscriptions) {
    bool existed = false;
    unsubscribe_everywhere(filter, h, existed);
  }
  // Unacknowledged and queued messages of shared subscriptions go to
  // another member of the group (MQTT 5.0 spec 4.8.2).
  auto hand_on = [this, &h](Delivery& d) {
    if (d.share_group.empty()) return;
    d.check_read = true;  // the other member may have another user
    SessionRef other = trie_.pick_share_member(d.share_group, d.share_filter, h.get());
    if (other) deliver(other, std::move(d));
  };
  for (session::Outgoing& o : s.inflight()) {
    if (o.state != session::Outgoing::State::await_pubcomp) hand_on(o.delivery);
  }
  while (!s.queue_empty()) {
    Delivery d = s.pop_queue();
    hand_on(d);
  }
  broker_.store().drop_session(index_, s);
  remove_session(h.get());
}

void Core::remove_session(SessionHandle* h) {
  auto it = sessions_.find(h);
  if (it == sessions_.end()) return;
  h->set_session(nullptr);
  h->online.store(false, std::memory_order_release);
  stats_.sessions.fetch_sub(1, std::memory_order_relaxed);
  sessions_.erase(it);  // destroys the Session and its timers
}

// ---------------------------------------------------------------------------
// Replicated subscription state

void Core::subscribe_everywhere(const std::string& filter, const SessionRef& h,
                                const protocol::SubscribeOptions& options, std::uint32_t identifier,
                                bool check_read, bool& was_new) {
  was_new = subscribe_here(filter, h, options, identifier, check_read);
  broker_.post_to_cores(index_, [filter, h, options, identifier, check_read](Core& c) {
    c.subscribe_here(filter, h, options, identifier, check_read);
  });
}

bool Core::subscribe_here(const std::string& filter, const SessionRef& h, const protocol::SubscribeOptions& options,
                          std::uint32_t identifier, bool check_read) {
  bool valid = true;
  auto shared = router::parse_shared_filter(filter, valid);
  if (!valid) return false;
  std::string group = shared ? std::string(shared->group) : std::string();
  std::string plain = shared ? std::string(shared->filter) : filter;
  return trie_.subscribe(plain, group, router::Subscription{h, options, identifier, check_read});
}

void Core::recheck_read_access(Session& s) {
  auth::ClientInfo who{s.client_id(), s.username, {}};
  for (auto& [filter, sub] : s.subscriptions) {
    // A filter wholly denied now stays subscribed and receives nothing.
    bool check = broker_.authorizer().read_access(who, filter) != auth::ReadAccess::all;
    if (check == sub.check_read) continue;
    sub.check_read = check;
    bool was_new = false;
    subscribe_everywhere(filter, s.handle(), sub.options, sub.identifier, check, was_new);
  }
}

void Core::recheck_read_access() {
  for (auto& [h, ls] : sessions_) {
    if (ls.session) recheck_read_access(*ls.session);
  }
}

void Core::unsubscribe_everywhere(const std::string& filter, const SessionRef& h, bool& existed) {
  bool valid = true;
  auto shared = router::parse_shared_filter(filter, valid);
  std::string group = shared ? std::string(shared->group) : std::string();
  std::string plain = shared ? std::string(shared->filter) : filter;
  existed = trie_.unsubscribe(plain, group, h.get());
  broker_.post_to_cores(index_, [plain, group, h](Core& c) { c.trie_.unsubscribe(plain, group, h.get()); });
}

}  // namespace strata::core
