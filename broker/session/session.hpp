// Session state (MQTT 5.0 spec 4.1): what the broker keeps for a client id
// across connections — subscriptions, outgoing QoS 1/2 messages in flight,
// messages queued while offline or while the inflight window is full,
// incoming QoS 2 packet ids awaiting PUBREL, the will and the expiry.
//
// A Session is owned by one core and touched only by its thread. It holds
// no sockets: the connection attached to it (an Attachment) does the
// encoding and writing. Everything here is plain data with small
// operations, unit-tested without I/O.
#pragma once

#include <cstdint>
#include <list>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include <boost/container/deque.hpp>

#include "broker/protocol/packet.hpp"
#include "broker/router/message.hpp"
#include "broker/session/packet_id_set.hpp"
#include "broker/session/session_handle.hpp"
#include "broker/util/heap_optional.hpp"

namespace strata::session {

// One message on its way to one session.
struct Delivery {
  router::MessagePtr msg;
  protocol::QoS qos = protocol::QoS::at_most_once;  // min(message, subscription)
  bool retain = false;                                // RETAIN flag as sent
  bool check_read = false;  // routed by a subscription that reads only some topics (ACL)
  std::vector<std::uint32_t> identifiers;             // subscription identifiers
  std::string share_group;   // set when delivered through $share/group/filter,
  std::string share_filter;  // so it can be handed to another member
  std::uint64_t seq = 0;     // key of its record in the store (0: not stored)
  // QoS 1/2 routed to a session: its share of the session's backlog until
  // it enters the inflight window (see backlog.hpp).
  Backlog::Charge backlog;
};

// A delivery a full sink refused (DeliverySink::accept), held by the
// publisher's connection until the sink has room or block_timeout passes.
struct BlockedDelivery {
  SessionRef to;
  Delivery delivery;
};

// An outgoing QoS 1/2 message waiting for its acknowledgement.
struct Outgoing {
  enum class State : std::uint8_t { await_puback, await_pubrec, await_pubcomp };
  std::uint16_t packet_id = 0;
  State state = State::await_puback;
  Delivery delivery;
  std::uint64_t bytes = 0;  // Session::size_of(delivery) when it went in flight
};

// The connection a session is attached to while its client is online.
class Attachment {
 public:
  virtual ~Attachment() = default;
  virtual void deliver(Delivery&& d) = 0;
};

struct StoredSubscription {
  protocol::SubscribeOptions options;
  std::uint32_t identifier = 0;
  // The ACL lets this filter read only some of its topics: each message is
  // checked (auth::ReadAccess::some, or none after an ACL reload). Decided
  // from the running ACL, never stored.
  bool check_read = false;
};

class Session {
 public:
  static constexpr std::uint32_t never_expires = 0xFFFFFFFF;

  Session(SessionRef handle, protocol::Version version);

  const SessionRef& handle() const noexcept { return handle_; }
  const std::string& client_id() const noexcept { return handle_->client_id; }

  protocol::Version version = protocol::Version::v5;
  std::uint32_t expiry_interval = 0;  // seconds after disconnect
  std::string username;
  util::HeapOptional<protocol::Will> will;  // most sessions have none
  Attachment* attachment = nullptr;  // the live connection, if any
  // The store holds this session (it is persistent); its queued and
  // inflight deliveries are written there with keys from next_seq.
  bool stored = false;
  std::uint64_t next_seq = 1;
  // While offline: when the session expires (unix ms); 0 while online.
  std::uint64_t deadline_ms = 0;

  // Subscriptions keyed by the filter as the client sent it ("$share/g/f"
  // included), so UNSUBSCRIBE and session end find them.
  std::map<std::string, StoredSubscription, std::less<>> subscriptions;

  // --- outgoing QoS 1/2 -------------------------------------------------
  // A packet id not used by any inflight message, or nullopt if all are.
  std::optional<std::uint16_t> next_packet_id();
  // Gives back the delivery's backlog charge: it is sent.
  Outgoing& add_inflight(std::uint16_t packet_id, Delivery d);
  Outgoing* find_inflight(std::uint16_t packet_id);
  // Removes and returns the message, if that id was inflight.
  std::optional<Outgoing> take_inflight(std::uint16_t packet_id);
  // Inflight messages in the order they were first sent (for resending).
  // (An empty list that is no session's while nothing was ever in flight:
  // for reading only.)
  std::list<Outgoing>& inflight() noexcept { return flow_ ? flow_->inflight : empty_flow().inflight; }
  std::size_t inflight_count() const noexcept { return flow_ ? flow_->inflight.size() : 0; }
  // Topic + payload bytes of the inflight messages (the window's byte bound).
  std::uint64_t inflight_bytes() const noexcept { return flow_ ? flow_->inflight_bytes : 0; }

  // --- queue -------------------------------------------------------------
  enum class Enqueue : std::uint8_t { queued, dropped_qos0, dropped_full };
  // Queues a delivery that cannot be sent now. When the queue holds
  // `max_messages`, or `max_bytes` (topic + payload; 0: no limit) would be
  // exceeded, QoS 0 messages are dropped first (the new one if it is QoS
  // 0, else the oldest QoS 0 queued); with none to drop the new message is
  // refused (dropped_full). Dropped queued messages are appended to
  // `evicted` (when given) so their store records can be removed.
  Enqueue enqueue(Delivery d, std::size_t max_messages, std::uint64_t max_bytes = 0,
                  std::vector<Delivery>* evicted = nullptr);
  const boost::container::deque<Delivery>& queue() const noexcept { return flow_ ? flow_->queue : empty_flow().queue; }
  // Only while the queue is not empty.
  Delivery& queue_front() noexcept { return flow_->queue.front(); }
  Delivery& queue_back() noexcept { return flow_->queue.back(); }
  bool queue_empty() const noexcept { return !flow_ || flow_->queue.empty(); }
  // Removes the front of the queue and returns it.
  Delivery pop_queue();
  // Appends without limits (restoring a stored queue).
  void restore_queued(Delivery d);  // also counts it in the backlog (QoS 1/2)
  std::uint64_t queued_bytes() const noexcept { return flow_ ? flow_->queued_bytes : 0; }
  static std::uint64_t size_of(const Delivery& d) noexcept;

  // --- incoming QoS 2 ------------------------------------------------------
  // Ids of QoS 2 PUBLISHes received and answered with PUBREC, not yet
  // released by PUBREL: a duplicate with one of these ids is not routed again.
  PacketIdSet qos2_received;

 private:
  SessionRef handle_;
  // The outgoing QoS 1/2 window and the queue, made when the first message
  // goes in flight or is queued: a session that never received one (most
  // idle clients) carries a pointer instead of ~180 bytes.
  struct Flow {
    std::list<Outgoing> inflight;
    std::unordered_map<std::uint16_t, std::list<Outgoing>::iterator> inflight_index;
    // The nodes of the last inflight message taken, reused by the next one
    // added: a message acknowledged before the next is sent (everyday
    // rates) then costs no allocation for its place in the window.
    std::list<Outgoing> spare_node;
    decltype(inflight_index)::node_type spare_index_node;
    std::uint64_t inflight_bytes = 0;
    // Boost's deque allocates nothing while empty (std::deque allocates
    // about 1 KiB at construction).
    boost::container::deque<Delivery> queue;
    std::uint64_t queued_bytes = 0;
    std::size_t queued_qos0 = 0;  // QoS 0 entries in queue
    std::uint16_t last_packet_id = 0;
  };
  Flow& flow() {
    if (!flow_) flow_ = std::make_unique<Flow>();
    return *flow_;
  }
  static Flow& empty_flow() noexcept;
  std::unique_ptr<Flow> flow_;
};

}  // namespace strata::session
