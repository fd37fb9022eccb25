// One core: an io_context run by one thread, and everything that thread
// owns — its connections, the sessions that live here, and its replicas of
// the subscription trie and the retained index.
//
// Threading model (DESIGN.md, Threads): a connection and its session live
// on one core and need no lock. A publish is matched against the local trie
// replica; deliveries to sessions on other cores are collected per core and
// posted once per turn of the event loop (flush_outbox), so a burst of
// publishes costs one cross-thread post per destination core, not one per
// message. Subscription and retained changes are applied locally at once
// and posted to every other core's replica.
//
// Sessions move between cores only when a client reconnects on another
// core: the old core hands the Session over (see take_session) and points
// the SessionHandle at the new core; deliveries that race with the move are
// forwarded or held in pending_ until the session arrives. The new core
// holds what it routes itself from the moment it asks for the session
// (expect_arrival), instead of sending it to the old core, from where it
// would come back behind the messages routed after the handle moved: a
// publisher on the new core keeps its order.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include "broker/auth/authorizer.hpp"
#include "broker/config/config.hpp"
#include "broker/core/connection_quota.hpp"
#include "broker/core/deadline_wheel.hpp"
#include "broker/core/session_info.hpp"
#include "broker/core/publish_hook.hpp"
#include "broker/core/stats.hpp"
#include "broker/transport/poller.hpp"
#include "broker/router/retained_index.hpp"
#include "broker/router/topic_trie.hpp"
#include "broker/session/session.hpp"
#include "broker/transport/stream.hpp"

namespace strata::core {

class Broker;
class Client;

class Core {
 public:
  Core(Broker& broker, unsigned index, unsigned core_count);
  ~Core();
  Core(const Core&) = delete;
  Core& operator=(const Core&) = delete;

  unsigned index() const noexcept { return index_; }
  boost::asio::io_context& io() noexcept { return io_; }
  // The readiness set of io_'s plain TCP connections; its batches gather
  // the clients' writes (Client::flush).
  transport::Poller& poller() noexcept { return poller_; }
  Broker& broker() noexcept { return broker_; }
  Stats& stats() noexcept { return stats_; }
  router::TopicTrie& trie() noexcept { return trie_; }
  router::RetainedIndex& retained() noexcept { return retained_; }
  // The buffer every connection of this core reads into when the stream
  // reads when ready (transport/stream.hpp): a connection keeps only the
  // bytes of a packet not yet complete. Used within one read completion.
  std::vector<std::uint8_t>& read_scratch() {
    if (read_scratch_.empty()) read_scratch_.resize(read_scratch_size);
    return read_scratch_;
  }
  static constexpr std::size_t read_scratch_size = 64 * 1024;

  // Runs the event loop until stop(); the body of this core's thread.
  void run();
  void stop();

  // A new connection accepted on this core by a listener with `quota`.
  void accept(std::unique_ptr<transport::Stream> stream, ConnectionQuota& quota);
  void forget(Client* client);  // the connection closed
  // Sends DISCONNECT 0x8B to every client and closes them (shutdown).
  void disconnect_all();
  // The deadlines of this core's connections: one timer for all, over
  // deadlines_ (deadline_wheel.hpp). `client`'s on_deadline() is called at
  // or after `when` (at most DeadlineWheel::default_resolution later);
  // scheduling again moves it. A Client cancels before it is destroyed.
  void schedule_deadline(Client& client, std::chrono::steady_clock::time_point when);
  void cancel_deadline(Client& client) noexcept;
  std::size_t client_count() const noexcept { return clients_.size(); }

  // --- publish path (this core's thread) ---------------------------------
  // Routes an accepted message: retained index, hooks, matching subscribers.
  // With `congested`, appends the online sessions whose backlog this
  // message took to the hold level (the publisher should wait for them).
  void publish(router::MessagePtr msg, const session::SessionHandle* publisher,
               std::vector<session::SessionRef>* congested = nullptr);
  // publish() in two steps, for a client's PUBLISH whose acknowledgement
  // depends on the hooks (a namespace contract may refuse it): run_hooks,
  // then — unless the verdict is drop or reject — route_accepted.
  // `rejected_by` is set to the hook that rejected.
  HookVerdict run_hooks(router::MessagePtr& msg, PublishHook** rejected_by = nullptr);
  // With `blocked`, a delivery a full sink refused (DeliverySink::accept)
  // is appended there for the publisher to hold; without, it is refused
  // for good (counted by the sink).
  void route_accepted(router::MessagePtr msg, const session::SessionHandle* publisher,
                      std::vector<session::SessionRef>* congested = nullptr,
                      std::vector<session::BlockedDelivery>* blocked = nullptr);
  // Delivers to a session that lives here, or forwards it to its core.
  void deliver(const session::SessionRef& to, session::Delivery&& d);
  // Queues `d` for session `s` (which lives here) within the queue limits,
  // storing it when the session is persistent. False: dropped (counted).
  bool enqueue(session::Session& s, session::Delivery&& d);
  // Runs `fn` on this core once everything routed so far on this core —
  // including deliveries to sessions on other cores — is in the store
  // (durability sync: fsynced). For acknowledgements that wait for disk.
  void after_durable(std::function<void(bool stored)> fn);
  // Whether deliveries to other cores routed this turn are still waiting
  // for flush_outbox; and, if so, a client whose acknowledgements must not
  // be written before they are on their way (Client::flush_after_routing):
  // flush_outbox hands them on first, then lets it write.
  bool outbox_pending() const noexcept { return flush_scheduled_; }
  void flush_after_outbox(std::shared_ptr<Client> client) { after_outbox_.push_back(std::move(client)); }

  // Publisher back-pressure (see README, "Slow subscribers"): a publisher
  // waits once a session's backlog reaches backlog_hold(), until it falls
  // below backlog_resume(). 0: back-pressure is off.
  std::uint32_t backlog_hold() const noexcept { return backlog_hold_; }
  std::uint32_t backlog_resume() const noexcept { return backlog_resume_; }

  // --- sessions (this core's thread) -------------------------------------
  session::Session* adopt(std::unique_ptr<session::Session> s);
  // A connection here is about to ask core `h->core` for its session:
  // sends what this core routed to it so far, then holds what it routes
  // to it from now on in pending_ until adopt() (or forget_arrival()).
  void expect_arrival(const session::SessionRef& h);
  // The session did not come (it ended, or went elsewhere): what was held
  // for it is delivered as any other delivery would be now.
  void forget_arrival(const session::SessionRef& h);
  session::Session* find(const session::SessionHandle* h);
  // For a takeover by a new connection: closes the current connection of
  // the session (DISCONNECT 0x8E), cancels its timers and a delayed will.
  // With clean_start the session ends and nullptr is returned; otherwise
  // it is removed from this core and returned, with its handle pointed at
  // `new_core`.
  std::unique_ptr<session::Session> take_session(const session::SessionRef& h, bool clean_start,
                                                 unsigned new_core);
  // take_session() for a connection on `new_core`, wherever the session
  // is: here; on the core its handle points to (followed there); or, when
  // it is on its way to this core for another connection, here once it
  // has arrived. Two connections for one client id that ask at once must
  // not find the session missing while it moves between cores (the later
  // one would start a new session and the first one's would be lost). The
  // first takes it; the later one takes it from the first. `done` runs on
  // the core that took it, with that core and the session (nullptr: the
  // session had ended, or clean_start ended it); at once when that is
  // this core and the session is here.
  using TakeDone = std::function<void(Core& where, std::unique_ptr<session::Session> s)>;
  void take(const session::SessionRef& h, bool clean_start, unsigned new_core, TakeDone done);
  // The session's connection went away. `publish_will`: the will is due
  // (now, or after its delay).
  void session_disconnected(session::Session& s, bool publish_will);
  // A session restored from the store at start-up, offline: arms its
  // expiry (from s.deadline_ms) and its will timers.
  void restore_offline(session::Session& s);
  // Ends a session: its subscriptions everywhere, the registry entry, its
  // unacknowledged shared-subscription messages go to other members.
  void end_session(session::Session& s);
  // Publishes the will of `s` now (if it has one) and clears it.
  void publish_will(session::Session& s);
  // A clean session (no expiry, no will) has no Session until it needs
  // state (Client::session(): a subscription, a QoS 2 id): its handle
  // points at the connection only, a bare session. It is listed and
  // counted as the online session it is (admin API, stats().sessions);
  // a takeover finds it through the handle (take). attach_bare: `h`
  // begins here, as with adopt(); end_bare: its connection closed, and
  // with expiry 0 the session ends.
  void attach_bare(const session::SessionRef& h, Client& client);
  void end_bare(const session::SessionRef& h);

  // --- admin API (this core's thread; admin/ posts here) ------------------
  // Snapshots of the sessions that live here (online and offline); only
  // `client_id`'s when given.
  std::vector<SessionInfo> inspect_sessions(const std::string* client_id = nullptr) const;
  // A list page's share of this core: the sessions `filter` accepts,
  // counted, and the first `keep` of them by client id copied out (a list
  // of 100 out of 10,000 copies 100, not 10,000).
  SessionPage inspect_sessions(const SessionFilter& filter, std::size_t keep) const;
  // The session of `client_id` if it lives here: its client is sent
  // DISCONNECT 0x98 (administrative action; 3.1.1: closed) and, with
  // `end`, the session ends too (else it stays per its expiry). False when
  // the session is not on this core.
  bool kick(const std::string& client_id, bool end);
  // Removes the retained message of `topic` here, in the store and on the
  // other cores, without publishing anything.
  void clear_retained(const std::string& topic);
  // A subscription made on behalf of `client_id`'s session if it lives
  // here, exactly as its SUBSCRIBE would (limits, ACL as that client,
  // retained messages per retain_handling: sent to a connected client,
  // queued for an offline one). nullopt: the session is not on this core;
  // else the granted QoS (0..2) or the refusal's reason code.
  std::optional<protocol::ReasonCode> admin_subscribe(const std::string& client_id, const std::string& filter,
                                                      const protocol::SubscribeOptions& options);
  // The same for an UNSUBSCRIBE: nullopt when the session is not here,
  // false when it has no such subscription.
  std::optional<bool> admin_unsubscribe(const std::string& client_id, const std::string& filter);

  // One entry of a SUBSCRIBE for session `s` of `who` under `limits`:
  // validation, ACL, quota, QoS cap. When granted the subscription is in
  // s.subscriptions and every core's trie (the caller saves the session
  // and sends retained messages when send_retained).
  struct SubscribeCheck {
    bool granted = false;
    protocol::ReasonCode reason = protocol::ReasonCode::success;  // the granted QoS, or why not
    protocol::SubscribeOptions options;                          // as granted
    bool check_read = false;
    bool send_retained = false;
  };
  SubscribeCheck subscribe_session(session::Session& s, const auth::ClientInfo& who, const config::Limits& limits,
                                   const std::string& filter, protocol::SubscribeOptions options,
                                   std::uint32_t identifier);

  // --- replicated state ----------------------------------------------------
  // Applies to this core now and posts to all others.
  void subscribe_everywhere(const std::string& filter, const session::SessionRef& h,
                            const protocol::SubscribeOptions& options, std::uint32_t identifier,
                            bool check_read, bool& was_new);
  void unsubscribe_everywhere(const std::string& filter, const session::SessionRef& h, bool& existed);
  // Applies to this core's trie only (start-up, and the posts above).
  bool subscribe_here(const std::string& filter, const session::SessionRef& h,
                      const protocol::SubscribeOptions& options, std::uint32_t identifier, bool check_read);

  // --- read access (ACL) ---------------------------------------------------
  // Decides again which subscriptions of `s` need a read check per message
  // (the ACL was reloaded, or the session resumed under another user) and
  // updates every core's trie where that changed.
  void recheck_read_access(session::Session& s);
  // The same for every session on this core (after an ACL reload).
  void recheck_read_access();

 private:
  struct LocalSession {
    std::unique_ptr<session::Session> session;
    std::unique_ptr<boost::asio::steady_timer> expiry_timer;
    std::unique_ptr<boost::asio::steady_timer> will_timer;
  };
  struct RemoteDelivery {
    session::SessionRef to;
    session::Delivery delivery;
  };

  void deliver_local(session::Session& s, session::Delivery&& d);
  void post_remote(unsigned core, const session::SessionRef& to, session::Delivery&& d);
  void flush_outbox();
  void cancel_timers(LocalSession& ls);
  // Arms the will timer (delay `will_delay_s`) and the expiry timer (at
  // s.deadline_ms) of an offline session.
  void arm_offline(LocalSession& ls, session::Session& s, std::uint32_t will_delay_s);
  void remove_session(session::SessionHandle* h);
  // take_session() of a bare session (its connection is here).
  std::unique_ptr<session::Session> take_bare(const session::SessionRef& h, bool clean_start, unsigned new_core);
  // The take() calls that waited for `h` to come here, posted.
  void run_waiting_takes(const session::SessionHandle* h);
  // The connection of `client_id`'s bare session, if it is here.
  Client* find_bare(const std::string& client_id) const;
  // Calls `fn` with each session here, bare ones included (core_admin.cpp).
  template <class Fn>
  void for_each_session(Fn&& fn) const;
  void arm_deadline_timer(std::chrono::steady_clock::time_point at);
  void on_deadline_timer();

  Broker& broker_;
  const unsigned index_;
  std::uint32_t backlog_hold_ = 0;
  std::uint32_t backlog_resume_ = 0;
  // Before io_ and clients_: the clients that io_'s handlers or clients_
  // still hold take their entries out of it when they go.
  DeadlineWheel deadlines_;
  boost::asio::io_context io_;
  transport::Poller& poller_;  // a service of io_
  boost::asio::steady_timer deadline_timer_;  // at the wheel's next wake
  std::optional<std::chrono::steady_clock::time_point> deadline_armed_;  // when it is set for
  bool expiring_ = false;  // on_deadline_timer() is firing: it arms afterwards
  Stats stats_;
  router::TopicTrie trie_;
  router::RetainedIndex retained_;
  struct Connection {
    std::shared_ptr<Client> client;
    ConnectionQuota* listener_quota;  // nullptr: over the limits, being refused
  };
  static constexpr unsigned max_refusing = 64;
  unsigned refusing_ = 0;
  std::unordered_map<Client*, Connection> clients_;
  std::unordered_map<const session::SessionHandle*, LocalSession> sessions_;
  // Deliveries for sessions on their way to this core (see header comment).
  std::unordered_map<const session::SessionHandle*, std::vector<RemoteDelivery>> pending_;
  // take() calls for sessions on their way to this core, run after adopt().
  struct WaitingTake {
    session::SessionRef h;
    bool clean_start;
    unsigned new_core;
    TakeDone done;
  };
  std::unordered_map<const session::SessionHandle*, std::vector<WaitingTake>> waiting_takes_;
  std::vector<std::vector<RemoteDelivery>> outbox_;  // per destination core
  bool flush_scheduled_ = false;
  // flush_after_outbox(); the second is the one being flushed (kept for its
  // capacity: no allocation per turn).
  std::vector<std::shared_ptr<Client>> after_outbox_, flushing_after_outbox_;
  // after_durable() callbacks waiting for this turn's outbox flush.
  std::vector<std::function<void(bool)>> durable_waiters_;
  std::vector<router::Match> match_scratch_;  // reused by publish()
  std::vector<std::uint8_t> read_scratch_;     // read_scratch()
  std::vector<session::BlockedDelivery>* blocked_ = nullptr;   // publish()'s, for deliver()
};

}  // namespace strata::core
