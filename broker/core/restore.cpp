// Broker::restore: start-up from the store, before the cores run.
//
// Each stored session is rebuilt on the core its client id hashes to (a
// reconnecting client takes it over from there, as with any session on
// another core), registered under its client id, and its subscriptions
// are inserted into every core's trie. Its deliveries come back in stored
// order: inflight ones keep their packet ids and states (resent with DUP,
// or PUBREL, on reconnect), the rest are queued. Incoming QoS 2 ids still
// awaiting PUBREL come back too, so a resent PUBLISH is not routed again.
// Retained messages go into every core's RetainedIndex (shared, immutable
// messages: one copy in memory).
#include <chrono>
#include <functional>

#include "broker/core/broker.hpp"
#include "broker/core/clock.hpp"
#include "broker/util/log.hpp"

namespace strata::core {

void Broker::restore() {
  const auto started = std::chrono::steady_clock::now();
  const unsigned n = core_count();
  auto on_session = [this, n](store::LoadedSession&& loaded) {
    store::SessionRecord& r = loaded.record;
    unsigned home = static_cast<unsigned>(std::hash<std::string>{}(r.client_id) % n);
    session::SessionRef h;
    {
      std::lock_guard lock(registry_mutex_);
      h = std::make_shared<session::SessionHandle>(r.client_id, next_serial_++, home);
      registry_[r.client_id] = h;
    }
    auto s = std::make_unique<session::Session>(h, r.version);
    s->expiry_interval = r.expiry_interval;
    s->username = std::move(r.username);
    s->will = std::move(r.will);
    s->stored = true;
    s->deadline_ms = r.deadline_ms;
    for (auto& [filter, sub] : r.subscriptions) {
      for (auto& c : cores_) c->subscribe_here(filter, h, sub.options, sub.identifier);
      s->subscriptions[filter] = sub;
    }
    for (store::DeliveryRecord& d : loaded.deliveries) {
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
    for (std::uint16_t id : loaded.qos2_received) s->qos2_received.insert(id);
    Core& core = *cores_[home];
    session::Session* adopted = core.adopt(std::move(s));
    core.restore_offline(*adopted);
  };
  auto on_retained = [this](router::MessagePtr m) {
    for (auto& c : cores_) c->retained().set(m);
  };
  store::LoadStats st = store_->load(now_ms(), on_session, on_retained);
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started);
  STRATA_INFO("store") << "loaded " << st.sessions << " sessions with " << st.deliveries << " queued/inflight messages and "
                       << st.retained << " retained messages in " << ms.count() << " ms (dropped "
                       << st.expired_sessions << " expired sessions, " << st.expired_messages << " expired messages, "
                       << st.undecodable << " undecodable records)";
}

}  // namespace strata::core
