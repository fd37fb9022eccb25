// Broker::restore: start-up from the store, before the cores run and
// before the listeners open (a client that can connect finds its session,
// and a subscriber finds every retained message).
//
// Every core needs every retained message in its RetainedIndex (shared,
// immutable messages: one copy in memory) and every stored subscription
// in its trie. That is most of the work, and each core's replicas belong
// to that core alone, so one builder thread per core fills them while the
// store is still being read — the cores' threads do not run yet, so
// nothing else touches them:
// 1. read (this thread): the store hands over the retained messages first,
//    in chunks that the builders index as they arrive, then the sessions.
// 2. indexes (the builders): retained messages as they come, then, once
//    every session has a handle, the subscriptions.
// 3. sessions (this thread, after the builders): each stored session is
//    rebuilt on the core its client id hashes to (a reconnecting client
//    takes it over from there, as with any session on another core) and
//    registered under its client id. Its deliveries come back in stored
//    order: inflight ones keep their packet ids and states (resent with
//    DUP, or PUBREL, on reconnect), the rest are queued. Incoming QoS 2 ids
//    still awaiting PUBREL come back too, so a resent PUBLISH is not
//    routed again. This runs after step 2, so a will that is due at once
//    is routed to every stored subscriber.
// The log line gives the time until the store was read, until the
// indexes were built, and for the sessions.
#include <chrono>
#include <condition_variable>
#include <exception>
#include <functional>
#include <mutex>
#include <thread>

#include "broker/core/broker.hpp"
#include "broker/core/clock.hpp"
#include "broker/session/session_log.hpp"
#include "broker/util/log.hpp"

namespace strata::core {

namespace {

using Steady = std::chrono::steady_clock;

long long ms_since(Steady::time_point t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(Steady::now() - t).count();
}

// Retained messages from the reader to the builders, in chunks (one lock
// per chunk, not per message); then the go for the subscriptions.
class Feed {
 public:
  using Chunk = std::vector<router::MessagePtr>;
  static constexpr std::size_t chunk_size = 4096;

  // Reader.
  void add(router::MessagePtr m) {
    filling_.push_back(std::move(m));
    if (filling_.size() == chunk_size) flush();
  }
  void retained_done() {
    flush();
    set([this] { retained_done_ = true; });
  }
  void sessions_ready() { set([this] { sessions_ready_ = true; }); }
  void abort() { set([this] { retained_done_ = sessions_ready_ = aborted_ = true; }); }

  // Builder: the chunk after `next`, or nullptr once every chunk was taken.
  const Chunk* take(std::size_t& next) {
    std::unique_lock lock(mutex_);
    cv_.wait(lock, [&] { return next < chunks_.size() || retained_done_; });
    return next < chunks_.size() ? chunks_[next++].get() : nullptr;
  }
  // Builder: false if loading failed.
  bool wait_sessions() {
    std::unique_lock lock(mutex_);
    cv_.wait(lock, [&] { return sessions_ready_; });
    return !aborted_;
  }

 private:
  void flush() {
    if (filling_.empty()) return;
    auto chunk = std::make_unique<Chunk>(std::move(filling_));
    filling_ = {};
    filling_.reserve(chunk_size);
    set([&] { chunks_.push_back(std::move(chunk)); });
  }
  template <class Fn>
  void set(const Fn& fn) {
    {
      std::lock_guard lock(mutex_);
      fn();
    }
    cv_.notify_all();
  }

  Chunk filling_;  // reader only
  std::mutex mutex_;
  std::condition_variable cv_;
  std::vector<std::unique_ptr<Chunk>> chunks_;
  bool retained_done_ = false, sessions_ready_ = false, aborted_ = false;
};

}  // namespace

void Broker::restore() {
  const auto started = Steady::now();
  const unsigned n = core_count();
  Feed feed;
  std::vector<store::LoadedSession> sessions;
  std::vector<session::SessionRef> handles;  // per session, once sessions_ready

  std::vector<std::exception_ptr> failed(n);
  std::vector<std::thread> builders;
  auto join = [&] {
    for (auto& t : builders) t.join();
    builders.clear();
  };
  auto build = [&](unsigned i) {
    builders.emplace_back([&, i] {
      Core& c = *cores_[i];
      try {
        std::size_t next = 0;
        while (const Feed::Chunk* chunk = feed.take(next)) {
          for (const router::MessagePtr& m : *chunk) c.retained().set(m);
        }
        if (!feed.wait_sessions()) return;
        for (std::size_t s = 0; s < sessions.size(); ++s) {
          for (const auto& [filter, sub] : sessions[s].record.subscriptions) {
            c.subscribe_here(filter, handles[s], sub.options, sub.identifier, sub.check_read);
          }
        }
      } catch (...) {
        failed[i] = std::current_exception();
      }
    });
  };

  store::LoadStats st;
  try {
    for (unsigned i = 0; i < n; ++i) build(i);

    bool retained_done = false;
    st = store_->load(
        now_ms(),
        [&](store::LoadedSession&& s) {
          if (!retained_done) {
            feed.retained_done();
            retained_done = true;
          }
          sessions.push_back(std::move(s));
        },
        [&](router::MessagePtr m) { feed.add(std::move(m)); });
    if (!retained_done) feed.retained_done();
    handles.reserve(sessions.size());
    std::lock_guard lock(registry_mutex_);
    registry_.reserve(sessions.size());
    for (store::LoadedSession& loaded : sessions) {
      const std::string& id = loaded.record.client_id;
      // Read access under the ACL of this run, before the cores' tries are
      // built from the records.
      auth::ClientInfo who{id, loaded.record.username, {}};
      for (auto& [filter, sub] : loaded.record.subscriptions) {
        sub.check_read = authorizer_->read_access(who, filter) != auth::ReadAccess::all;
      }
      unsigned home = static_cast<unsigned>(std::hash<std::string>{}(id) % n);
      auto h = std::make_shared<session::SessionHandle>(id, next_serial_++, home);
      attach_log(*h);  // a stored session is persistent
      if (session::SessionLog* log = h->log()) log->set_username(loaded.record.username);
      set_registered(h);
      handles.push_back(std::move(h));
    }
  } catch (...) {
    feed.abort();
    join();
    throw;
  }
  const long long read_ms = ms_since(started);
  feed.sessions_ready();
  join();
  for (auto& e : failed) {
    if (e) std::rethrow_exception(e);
  }
  const long long indexes_ms = ms_since(started);

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
                       << st.retained << " retained messages in " << ms_since(started) << " ms (read by " << read_ms
                       << " ms, " << n << (n == 1 ? " core's" : " cores'") << " indexes by " << indexes_ms
                       << " ms, then sessions " << sessions_ms << " ms; dropped " << st.expired_sessions
                       << " expired sessions, " << st.expired_messages << " expired messages, " << st.undecodable
                       << " undecodable records)";
}

}  // namespace strata::core
