// A bridge session's queue ([[bridge_session]], bridges/bridge_sessions.hpp):
// a persistent session whose client id the configuration names has its
// outgoing messages in an outbox log on disk instead of the in-memory
// queue of session.hpp, so a peer that pulls from this broker (a factory
// whose bridge subscribes to an edge) finds every message of its time
// away, in order, bounded by the log's bounds instead of
// max_queued_messages.
//
// The model. The session's handle points at its SessionLog twice: as the
// handle's DeliverySink (so Core::deliver appends every message routed to
// the session on the publisher's core, and the append joins that core's
// group commit: the publisher's acknowledgement waits for it like for a
// stored session), and as `log` (so the session's connection reads from
// it). The client's connection takes records in offset order from a
// cursor, sends them within its inflight window (the packet id's Delivery
// carries the offset in `seq`) and confirms each on PUBACK/PUBCOMP; the
// log's acknowledged offset is the end of the contiguous confirmed prefix.
// QoS 0 messages go through the log too, in order, and are confirmed once
// written to the socket.
//
// Decided once per session incarnation, when its handle is made (a
// persistent session whose client id matches): ordinary sessions never
// look at any of this but for one null pointer test per acknowledgement.
//
// Threading: accept() and the sink calls from any core; the reader calls
// (reset, read, confirm, set_reader) on the core that owns the session,
// one at a time.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "broker/router/message.hpp"
#include "broker/session/session_handle.hpp"

namespace strata::session {

class SessionLog : public DeliverySink {
 public:
  struct Entry {
    std::uint64_t offset = 0;
    router::MessagePtr msg;
    protocol::QoS qos = protocol::QoS::at_most_once;
    bool retain = false;
  };

  // A new session starts on this log (none was resumed): what an earlier
  // session of the client id left is discarded, and reading starts after it.
  virtual void reset() = 0;
  // Up to `max` records from the cursor on, in offset order, moving the
  // cursor past them. Fewer or none when no more are committed or they are
  // being read from disk: `notify` (set_reader) is called once there are.
  virtual std::vector<Entry> read(std::size_t max) = 0;
  // The client acknowledged the record (any order; repeats ignored).
  virtual void confirm(std::uint64_t offset) = 0;
  // Called (from any thread) when records can be read again.
  virtual void set_reader(std::function<void()> notify) = 0;
  // The session's user, for subscriptions the ACL lets read only some
  // topics (a delivery's check_read is decided here).
  virtual void set_username(const std::string& username) = 0;
  // Records in the log not yet confirmed, and their topic + payload bytes
  // (any thread; the admin API's `queued` of a bridge session).
  virtual std::uint64_t queued_messages() const = 0;
  virtual std::uint64_t queued_bytes() const = 0;
};

inline SessionLog* SessionHandle::log() const noexcept {
  return sink_is_log ? static_cast<SessionLog*>(sink) : nullptr;
}

inline void SessionHandle::set_log(SessionLog* l) noexcept {
  sink = l;
  sink_is_log = l != nullptr;
}

// The broker's view of [[bridge_session]]: the log of a persistent session
// of `client_id`, or null when no [[bridge_session]] names it.
class SessionLogs {
 public:
  virtual ~SessionLogs() = default;
  virtual SessionLog* log_for(const std::string& client_id) = 0;
};

}  // namespace strata::session
