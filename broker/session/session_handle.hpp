// The identity of a session as seen from any core.
//
// Subscriptions in every core's topic trie point at a SessionHandle. The
// session itself (broker/session/session.hpp) lives on exactly one core at a
// time; `core` says which, so a publisher on any core knows where to post a
// delivery. When a client reconnects on another core, the session moves and
// `core` is updated; a core that receives a delivery for a session it no
// longer owns forwards it (see broker/core/core.cpp).
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <cstdint>
#include <memory>
#include <string>

#include "broker/session/backlog.hpp"

namespace strata::session {

class Attachment;
class Session;
class SessionLog;
struct Delivery;

// A subscriber that is not a session: a bridge's route (bridges/), or the
// log of a bridge session (session_log.hpp). The
// router matches it like any subscription; Core::deliver hands it the
// delivery at once, on the publisher's core (no post, no queue), so what
// it writes to the store joins that core's group commit and the
// publisher's acknowledgement waits for it like for a stored session.
//
// A sink may refuse a QoS 1/2 delivery because it is full and its policy
// holds publishers (a bridge's overflow = "block"): accept() then returns
// false and leaves `d` to the caller. The publisher's connection keeps the
// delivery, stops reading and offers it again (accept) each time
// wait_space() calls back; after block_timeout() it gives up (refused(),
// counted by the sink) and answers 0x97. `force` takes the delivery past
// the bounds: for a publisher that was acknowledged before the sink filled.
// Thread-safe: called from every core.
class DeliverySink {
 public:
  virtual ~DeliverySink() = default;
  virtual bool accept(Delivery&& d, unsigned core, bool force = false) = 0;
  // Calls `fn` (from any thread, once) when the sink may have room again;
  // false, and `fn` is not kept, when it has room now. `owner` names the
  // waiter for cancel_wait().
  virtual bool wait_space(const void* owner, std::function<void()> fn) {
    (void)owner;
    (void)fn;
    return false;
  }
  virtual void cancel_wait(const void* owner) { (void)owner; }
  virtual std::chrono::milliseconds block_timeout() const noexcept { return {}; }
  virtual void refused(const Delivery& d) { (void)d; }
};

struct SessionHandle {
  SessionHandle(std::string id, std::uint32_t serial, unsigned owner)
      : client_id(std::move(id)), serial(serial), core(owner) {}

  // (Members ordered so that the small ones share words: one handle per
  // session, idle ones included.)
  const std::string client_id;
  const std::uint32_t serial;  // unique per session incarnation (modulo 2^32), for logs
  std::atomic<unsigned> core;  // the core that owns the session now
  // While a reconnecting client's core asks the owner for the session:
  // that core's index (kNoCore otherwise). Read and written by that core
  // only (Core::expect_arrival).
  static constexpr unsigned kNoCore = ~0u;
  std::atomic<unsigned> arriving{kNoCore};
  std::atomic<bool> online{false};  // a connection is attached
  std::atomic<bool> ended{false};   // session is gone; drop deliveries
  bool sink_is_log = false;         // see log()

  // What the owning core holds for the session (touched only by that
  // core): its Session, or, while a clean session has needed no state,
  // only the connection (a bare session, Core::attach_bare). One word
  // for both, the lowest bit telling them apart: there is a handle per
  // connection, and idle connections are what memory scales with.
  Session* session() const noexcept {
    return (local_ & bare_tag) != 0 ? nullptr : reinterpret_cast<Session*>(local_);
  }
  Attachment* bare() const noexcept {
    return (local_ & bare_tag) != 0 ? reinterpret_cast<Attachment*>(local_ & ~bare_tag) : nullptr;
  }
  void set_session(Session* s) noexcept { local_ = reinterpret_cast<std::uintptr_t>(s); }
  void set_bare(Attachment* a) noexcept {
    local_ = a == nullptr ? 0 : reinterpret_cast<std::uintptr_t>(a) | bare_tag;
  }

  DeliverySink* sink = nullptr;     // set: not a session (fixed before the cores run)
  // A bridge session's log, which is also its `sink` (sink_is_log); fixed
  // when the handle is made, before anyone else sees it. Defined in
  // session_log.hpp.
  SessionLog* log() const noexcept;
  void set_log(SessionLog* l) noexcept;
  // QoS 1/2 messages routed here and not yet sent (publisher back-pressure).
  Backlog backlog;

 private:
  static constexpr std::uintptr_t bare_tag = 1;  // Session and Attachment are word-aligned
  std::uintptr_t local_ = 0;
};

using SessionRef = std::shared_ptr<SessionHandle>;

}  // namespace strata::session
