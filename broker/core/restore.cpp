// Broker::restore: start-up from the store, before the cores run and
// before the listeners open (a client that can connect finds its session,
// and a subscriber finds every retained message).
//
// Three steps, timed separately in the log line:
// 1. read: the store decodes every record (one read transaction).
// 2. replicas: every core gets every retained message in its
//    RetainedIndex (shared, immutable messages: one copy in memory) and
//    every stored subscription in its trie. This is most of the work, and
//    each core's replicas belong to that core alone, so each core's
//    replicas are built by their own thread at the same time — the cores'
//    threads do not run yet, so nothing else touches them.
// 3. sessions: each stored session is rebuilt on the core its client id
//    hashes to (a reconnecting client takes it over from there, as with any
//    session on another core) and registered under its client id. Its
//    deliveries come back in stored order: inflight ones keep their packet
//    ids and states (resent with DUP, or PUBREL, on reconnect), the rest
//    are queued. Incoming QoS 2 ids still awaiting PUBREL come back too, so
//    a resent PUBLISH is not routed again. This runs after step 2, so a
//    will that is due at once is routed to every stored subscriber.
#include <chrono>
#include <exception>
#include <functional>
#include <thread>

#include "broker/core/broker.hpp"
#include "broker/core/clock.hpp"
#include "broker/util/log.hpp"

namespace strata::core {

namespace {

using Steady = std::chrono::steady_clock;

long long ms_since(Steady::time_point t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(Steady::now() - t).count();
}

}  // namespace

void Broker::restore() {
  const auto started = Steady::now();
  const unsigned n = core_count();
  std::vector<store::LoadedSession> sessions;
  std::vector<router::MessagePtr> retained;
  store::LoadStats st = store_->load(
      now_ms(), [&](store::LoadedSession&& s) { sessions.push_back(std::move(s)); },
      [&](router::MessagePtr m) { retained.push_back(std::move(m)); });
  const long long read_ms = ms_since(started);

  std::vector<session::SessionRef> handles;
  handles.reserve(sessions.size());
  {
    std::lock_guard lock(registry_mutex_);
    registry_.reserve(sessions.size());
    for (const store::LoadedSession& loaded : sessions) {
      const std::string& id = loaded.record.client_id;
      unsigned home = static_cast<unsigned>(std::hash<std::string>{}(id) % n);
      auto h = std::make_shared<session::SessionHandle>(id, next_serial_++, home);
      registry_[id] = h;
      handles.push_back(std::move(h));
    }
  }

  const auto replicas_started = Steady::now();
  auto build = [&](Core& c) {
    for (const router::MessagePtr& m : retained) c.retained().set(m);
    for (std::size_t i = 0; i < sessions.size(); ++i) {
      for (const auto& [filter, sub] : sessions[i].record.subscriptions) {
        c.subscribe_here(filter, handles[i], sub.options, sub.identifier);
      }
    }
  };
  std::vector<std::exception_ptr> failed(n);
  std::vector<std::thread> threads;
  for (unsigned i = 1; i < n; ++i) {
    threads.emplace_back([&, i] {
      try {
        build(*cores_[i]);
      } catch (...) {
        failed[i] = std::current_exception();
      }
    });
  }
  try {
    build(*cores_[0]);
  } catch (...) {
    failed[0] = std::current_exception();
  }
  for (auto& t : threads) t.join();
  for (auto& e : failed) {
    if (e) std::rethrow_exception(e);
  }
  retained.clear();
  const long long replicas_ms = ms_since(replicas_started);

  const auto sessions_started = Steady::now();
  for (std::size_t i = 0; i < sessions.size(); ++i) {
    store::SessionRecord& r = sessions[i].record;
    const session::SessionRef& h = handles[i];
    auto s = std::make_unique<session::Session>(h, r.version);
    s->expiry_interval = r.expiry_interval;
    s->username = std::move(r.username);
    s->will = std::move(r.will);
    s->stored = true;
    s->deadline_ms = r.deadline_ms;
    for (auto& [filter, sub] : r.subscriptions) s->subscriptions[filter] = sub;
    for (store::DeliveryRecord& d : sessions[i].deliveries) {
      s->next_seq = std::max(s->next_seq, d.seq + 1);
      if (d.state == static_cast<std::uint8_t>(store::DeliveryState::queued)) {
        s->restore_queued(std::move(d.delivery));
        continue;
      }
      if (s->find_inflight(d.packet_id) != nullptr || d.packet_id == 0) continue;  // damaged: keep the first
      session::Outgoing& o = s->add_inflight(d.packet_id, std::move(d.delivery));
      switch (static_cast<store::DeliveryState>(d.state)) {
        case store::DeliveryState::await_pubrec: o.state = session::Outgoing::State::await_pubrec; break;
        case store::DeliveryState::await_pubcomp: o.state = session::Outgoing::State::await_pubcomp; break;
        default: o.state = session::Outgoing::State::await_puback; break;
      }
    }
    for (std::uint16_t id : sessions[i].qos2_received) s->qos2_received.insert(id);
    Core& core = *cores_[h->core.load(std::memory_order_relaxed)];
    session::Session* adopted = core.adopt(std::move(s));
    core.restore_offline(*adopted);
  }
  const long long sessions_ms = ms_since(sessions_started);

  STRATA_INFO("store") << "loaded " << st.sessions << " sessions with " << st.deliveries << " queued/inflight messages and "
                       << st.retained << " retained messages in " << ms_since(started) << " ms (read " << read_ms
                       << " ms, " << n << (n == 1 ? " core's" : " cores'") << " indexes " << replicas_ms
                       << " ms, sessions " << sessions_ms << " ms; dropped " << st.expired_sessions
                       << " expired sessions, " << st.expired_messages << " expired messages, " << st.undecodable
                       << " undecodable records)";
}

}  // namespace strata::core
