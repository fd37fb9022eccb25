// The durable store (DESIGN.md, Store): what the cores call where durable
// state changes, and what start-up reads back.
//
// Model: persistent sessions (session expiry > 0, or clean session 0 in
// MQTT 3.1.1) are written with their subscriptions, will, expiry deadline,
// queued and inflight deliveries and incoming QoS 2 packet ids; retained
// messages are written by topic. Layouts: records.hpp. LMDB: lmdb_env.hpp.
//
// Threading: every save_*/drop_* call runs on the core that owns the
// session (or, for retained messages, the core that received the PUBLISH).
// It encodes the record on that core and pushes it to that core's queue of
// the Writer — the cores never open an LMDB write transaction and never
// wait for the disk. load() runs once at start-up, before the cores and
// the writer run. Calls for a session that is not `stored` (not
// persistent) do nothing, so clients without persistent sessions cost
// nothing but their retained messages.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "broker/config/config.hpp"
#include "broker/router/message.hpp"
#include "broker/session/session.hpp"
#include "broker/store/lmdb_env.hpp"
#include "broker/store/records.hpp"
#include "broker/store/writer.hpp"

namespace strata::store {

// A stored session with its deliveries (in queue order) and QoS 2 ids.
struct LoadedSession {
  SessionRecord record;
  std::vector<DeliveryRecord> deliveries;
  std::vector<std::uint16_t> qos2_received;
};

struct LoadStats {
  std::uint64_t sessions = 0, deliveries = 0, retained = 0;
  std::uint64_t expired_sessions = 0, expired_messages = 0, undecodable = 0;
};

// State of an outgoing delivery as stored (records.hpp: delivery record).
enum class DeliveryState : std::uint8_t { queued = 0, await_puback = 1, await_pubrec = 2, await_pubcomp = 3 };
DeliveryState state_of(const session::Outgoing& o) noexcept;

class Store {
 public:
  // Opens (or creates) the store under `config.data_dir`; throws StoreError.
  // The writer has a queue per core and one more for the bridges' threads.
  Store(const config::Config& config, unsigned cores);
  ~Store();
  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;

  // Reads everything back (start-up, before start()). Expired sessions and
  // messages (by `now_ms`, unix ms) are deleted instead of returned;
  // undecodable records are logged, skipped and deleted. Every retained
  // message is passed to on_retained (in topic order) before the first
  // on_session call.
  LoadStats load(std::uint64_t now_ms, const std::function<void(LoadedSession&&)>& on_session,
                 const std::function<void(router::MessagePtr)>& on_retained);

  // Starts the writer; `post` runs a callback on core `i`'s thread.
  void start(Writer::Post post);
  // Writes what is queued, fsyncs, stops the writer.
  void stop();

  // --- on the owning core --------------------------------------------------
  // Writes the session record (subscriptions, will, expiry, deadline_ms)
  // and marks the session stored.
  void save_session(unsigned core, session::Session& s);
  // Deletes the session and everything stored under it; marks it not stored.
  void drop_session(unsigned core, session::Session& s);
  // Writes a delivery of a stored session, giving it a sequence number the
  // first time; again on every state change.
  void save_delivery(unsigned core, session::Session& s, session::Delivery& d, DeliveryState state,
                     std::uint16_t packet_id);
  void drop_delivery(unsigned core, const session::Session& s, const session::Delivery& d);
  void save_qos2(unsigned core, const session::Session& s, std::uint16_t packet_id);
  void drop_qos2(unsigned core, const session::Session& s, std::uint16_t packet_id);
  // Stores `m` as its topic's retained message; an empty payload deletes it.
  void save_retained(unsigned core, const router::Message& m);
  // Runs `fn` on `core` once everything `core` pushed so far is committed
  // (and, with durability sync, fsynced); `stored` is false when the store
  // was full and writes were dropped.
  void after_commit(unsigned core, std::function<void(bool stored)> fn);

  // QoS 1/2 acknowledgements wait for after_commit (durability sync).
  bool sync_acks() const noexcept { return sync_acks_; }

  // --- bridges (bridges/outbox/) ---------------------------------------------
  // Raw access for the outbox logs, whose layout is theirs: push on a core's
  // queue (appends, so after_commit covers them) or on bridge_queue() (the
  // bridges' threads: confirmations, reads); the environment itself only
  // before start().
  void push(unsigned queue, Op&& op) { writer_.push(queue, std::move(op)); }
  unsigned bridge_queue() const noexcept { return cores_; }
  LmdbEnv& env() noexcept { return env_; }
  config::Durability durability() const noexcept { return durability_; }
  // The store cannot write: new QoS 1/2 messages are refused.
  bool full() const noexcept { return writer_.full(); }
  // The writer's queue against [store] write_queue_bytes (writer.hpp).
  bool behind() const noexcept { return writer_.behind(); }
  std::uint64_t pending_bytes() const noexcept { return writer_.pending_bytes(); }
  std::uint64_t pending_limit() const noexcept { return writer_.pending_limit(); }
  std::uint64_t commits() const noexcept { return writer_.commits(); }
  WriterCounters& counters() noexcept { return writer_.counters(); }
  // For modules with their own databases in the environment (the
  // historian): open them before start() through env(), push
  // Kind::client operations.
  Writer& writer() noexcept { return writer_; }

 private:
  LmdbEnv env_;
  Writer writer_;
  const bool sync_acks_;
  const unsigned cores_;
  const config::Durability durability_;
};

}  // namespace strata::store
