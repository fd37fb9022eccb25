// One MQTT connection: reads bytes from its Stream, decodes packets with the
// pure codec, applies the protocol rules of MQTT 3.1.1 and 5.0 that belong
// to a connection (CONNECT first and once, keep-alive, topic aliases both
// ways, receive maximum both ways, maximum packet size both ways, request
// problem information) and drives the Session attached to it.
//
// A Client lives on one core and is only touched by that core's thread.
// Writes are batched: packets produced while handling one read are encoded
// into one buffer and written with one call.
//
// The handlers are split by concern: client.cpp (I/O, dispatch, closing),
// client_connect.cpp (CONNECT, takeover, session resume),
// client_auth.cpp (MQTT 5 enhanced authentication and re-authentication),
// client_publish.cpp (PUBLISH both ways and the acknowledgements),
// client_subscribe.cpp (SUBSCRIBE, UNSUBSCRIBE, retained on subscribe).
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <variant>
#include <vector>

#include <boost/asio/steady_timer.hpp>
#include <boost/container/deque.hpp>

#include "broker/auth/authenticator.hpp"
#include "broker/core/client_hooks.hpp"
#include "broker/core/deadline_wheel.hpp"
#include "broker/protocol/packet.hpp"
#include "broker/session/session.hpp"
#include "broker/transport/stream.hpp"
#include "broker/util/packed_string.hpp"

namespace strata::core {

class Core;

// The transport's close notice for a reason code the broker closes with.
transport::CloseNotice notice_for(protocol::ReasonCode reason);

// The connection's one deadline at a time (connect timeout, then keep-alive,
// then the bounded wait of a close) is its entry in the core's
// DeadlineWheel (Core::schedule_deadline), which calls on_deadline().
class Client final : public session::Attachment,
                     public DeadlineWheel::Entry,
                     public std::enable_shared_from_this<Client> {
 public:
  // `over_quota`: a connection limit was reached; CONNECT is refused.
  Client(Core& core, std::unique_ptr<transport::Stream> stream, bool over_quota);
  ~Client() override;

  void start();
  // A message for this client's session (called by the core).
  void deliver(session::Delivery&& d) override;
  // Server-initiated disconnect: DISCONNECT with `reason` to a v5 client,
  // then close once written. Publishes the will for error reasons.
  void disconnect(protocol::ReasonCode reason, std::string_view text = {});
  // The session was taken over by a new connection: DISCONNECT 0x8E and
  // close, leaving session and will to the core.
  void taken_over();
  // The session a pending CONNECT waited for arrived (nullptr: none).
  void resume(std::unique_ptr<session::Session> session);
  // The new session of a clean start, after the old one ended.
  void begin_session();
  // Its deadline in the core's wheel came (called by the core).
  void on_deadline();

  // Its session's (empty until CONNECT was accepted): kept once, in the
  // session handle.
  const std::string& client_id() const noexcept { return handle_ ? handle_->client_id : no_client_id; }

  // --- for the admin API (this core's thread) ---------------------------
  std::string_view username() const noexcept { return username_.view(); }
  std::string_view remote_address() const noexcept { return stream_->remote_address(); }
  std::string listener_name() const;
  protocol::Version version() const noexcept { return version_; }
  std::uint16_t keep_alive() const noexcept { return keep_alive_; }
  std::uint64_t connected_at_ms() const noexcept { return connected_at_ms_; }
  // PUBLISH packets received from and sent to this client on this connection.
  std::uint64_t messages_received() const noexcept { return io_ ? io_->messages_received : 0; }
  std::uint64_t messages_sent() const noexcept { return io_ ? io_->messages_sent : 0; }
  // Connected with a bare session (Core::attach_bare): no Session yet.
  bool bare() const noexcept { return bare_; }
  // A subscription made on this client's behalf, exactly as one entry of
  // its SUBSCRIBE (limits, ACL, hooks, retained messages): the granted
  // QoS or the refusal's reason code.
  protocol::ReasonCode subscribe_for_admin(const std::string& filter, const protocol::SubscribeOptions& options);
  // As its UNSUBSCRIBE of `filter`; false when it had no such subscription.
  bool unsubscribe_for_admin(const std::string& filter);

  // Core::flush_outbox: what flush_after_routing() held may be written.
  void flush_held_for_outbox() {
    held_for_outbox_ = false;
    flush();
  }

 private:
  // clients_connected and the listener's counters (Stats), at CONNACK and when the session detaches.
  void count_connected();
  void count_disconnected();
  // authenticating: CONNECT named an Authentication Method and the AUTH
  // exchange before CONNACK is running (only AUTH and DISCONNECT are read).
  enum class State : std::uint8_t { awaiting_connect, authenticating, connecting, connected, closing, closed };

  // client.cpp
  void read_next();
  // Inline: without a rate limit (most listeners) a PUBLISH pays two
  // compares here and no call.
  void charge_publish(std::size_t bytes) {
    if (limits_.max_publish_rate != 0 || limits_.max_publish_bytes_rate != 0) charge_rates(bytes);
  }
  void charge_rates(std::size_t bytes);
  bool over_budget() const;
  bool throttle();
  void on_read(const boost::system::error_code& ec, std::size_t n);
  // A stream that reads when ready (transport/stream.hpp) has data.
  void on_readable(const boost::system::error_code& ec);
  // The connection dropped without DISCONNECT.
  void lost(const boost::system::error_code& ec);
  // Decodes and handles what io_ holds; only with io_ (the read
  // completions, which make it). Other callers use process_kept().
  void process_input();
  // Resuming after a pause (throttle, back-pressure, CONNECT's outcome):
  // what was received before it, if anything.
  void process_kept() {
    if (io_) process_input();
  }
  void handle(protocol::Packet&& packet);
  void send(const protocol::Packet& packet);  // encode() and flush()
  // Adds the packet to the output; it is written at the next flush().
  void encode(const protocol::Packet& packet);
  // Writes the output. During a batch of the core's poller (its read
  // events, or deliveries posted from another core) the write waits for
  // the batch's end, so that every message the batch routes here goes out
  // in one write rather than the first alone and the rest after it.
  void flush();
  // flush() for a PUBLISH's acknowledgement just routed: if copies of the
  // message wait for this turn's post to other cores (Core::post_remote),
  // the write waits for it too, so a publisher holding its PUBACK finds
  // the message in every subscriber's queue, whichever core holds it
  // (a subscriber that reconnects after the PUBACK cannot receive it live
  // instead of by its queue's rules).
  void flush_after_routing();
  void close_after_flush();
  // flush() now, whatever batch is being dispatched.
  void write_output();
  // Output waits and nothing stops it from being written now.
  bool may_write() const noexcept {
    return !writing_ && !held_for_outbox_ && io_ && !io_->wpending.empty() && state_ != State::closed;
  }
  // Closes the stream with notice_ (none while a write is under way).
  void close(bool will_due);
  void fail(protocol::ReasonCode reason, std::string_view text);
  // Keep-alive: the deadline at last_rx_ + 1.5 × keep_alive_.
  void arm_timer();
  void on_pingreq();
  void on_disconnect(protocol::Disconnect&& d);
  void strip_diagnostics(protocol::Properties& p) const;

  // client_connect.cpp
  void on_connect(protocol::Connect&& c);
  void refuse_connect(protocol::ReasonCode reason, std::string_view text);
  // After authentication: the rest of CONNECT, then CONNACK. `auth_data`:
  // set when enhanced authentication succeeded (the server's final data,
  // sent in CONNACK with the method).
  void accept_connect(protocol::Connect&& c, std::string username, std::optional<std::string> auth_data);
  // `s` nullptr: a bare session (begin_fresh).
  void attach(session::Session* s, bool session_present);
  // A new session: bare when it needs no state yet, else a Session.
  void begin_fresh();
  // This connection's Session, made now for a bare session (which then
  // stops being bare): for what needs session state.
  session::Session& session();
  void bind(session::Session* s);
  // The connection leaves its session (closing): the core keeps it or ends
  // it; a bare one ends.
  void detach(bool will_due, bool count);
  std::string make_client_id() const;
  // The built-in authentication ([auth]) of a CONNECT, then accept_connect.
  void authenticate_builtin(protocol::Connect&& c);
  // The ClientHooks' answer to a basic authentication (client_hooks.hpp),
  // posted to this core.
  void on_hooks_auth(ClientHooks::Answer answer);
  // What ClientHooks see of this client.
  ClientView view() const;

  // client_auth.cpp
  void begin_connect_auth(protocol::Connect&& c);
  void on_auth(protocol::Auth&& a);
  void apply_auth_step(auth::AuthStep&& step);
  void send_auth(protocol::ReasonCode reason, std::string data);

  // client_publish.cpp
  void on_publish(protocol::PublishIn& p);
  void on_ack(protocol::Ack&& a);
  // The Message for an accepted PUBLISH, and its routing after the hooks.
  router::MessagePtr make_message(protocol::PublishIn& p);
  void route(router::MessagePtr msg);
  // Sends `ack` now, or (durability sync) once what it acknowledges is on
  // disk, in the order of the calls.
  void ack_when_durable(protocol::Ack&& ack);
  void ack_durable(std::uint64_t ticket, bool stored);
  // Removes an inflight message (acknowledged or discarded) and its record.
  void finish_inflight(std::uint16_t packet_id);
  void send_delivery(session::Delivery&& d);
  void send_publish(const session::Delivery& d, std::uint16_t packet_id, bool dup);
  void pump_queue();
  void resend_inflight();
  std::size_t send_window() const noexcept;
  // client_log.cpp: a bridge session's queue is its log on disk
  // (broker/session/session_log.hpp) instead of the session's queue.
  void attach_log(bool session_present);
  // A bridge session's log (only when bridge_log_).
  session::SessionLog& log() const noexcept;
  void pump_log();
  void finish_logged(const session::Outgoing& done);
  // Whether a message of `bytes` (Session::size_of) may go into the
  // inflight window now: its count and its bytes.
  bool window_open(std::uint64_t bytes) const noexcept;
  // The socket has not taken max_outgoing_bytes/messages written before
  // (a slow consumer): QoS 0 waits or is dropped. The write in progress
  // counts only while the socket has not taken all of it: its completion
  // may come later (Stream::unsent), and a consumer that read everything
  // is not slow.
  bool outgoing_full() const noexcept {
    if (!io_) return limits_.max_outgoing_bytes == 0 || limits_.max_outgoing_messages == 0;
    const std::size_t active = io_->wactive.empty() ? 0 : stream_->unsent(io_->wactive.size());
    return io_->wpending.size() + active >= limits_.max_outgoing_bytes ||
           io_->pending_publishes + (active != 0 ? io_->active_publishes : 0) >= limits_.max_outgoing_messages;
  }
  // Publisher back-pressure: stop reading until the backlogs of
  // `congested` fall (or stall), see client_publish.cpp.
  void hold_for(const std::vector<session::SessionRef>& congested);
  void on_drained(const session::SessionHandle* target);
  void on_hold_timer();
  void release_holds();
  bool held() const noexcept { return active_ && (!active_->holds.empty() || active_->blocking != nullptr); }
  // Overflow "block" (a full bridge outbox refused the message): the
  // acknowledgement `ack` waits, reading stops, and the refused deliveries
  // are offered again as the sinks make room, until block_timeout.
  void block(protocol::Ack&& ack);
  void force_blocked();
  void offer_blocked();
  void unblock(bool accepted);
  void abandon_blocked();  // the connection closed: refused, not acknowledged
  void resume_reading();

  // client_subscribe.cpp
  void on_subscribe(protocol::Subscribe&& s);
  void on_unsubscribe(protocol::Unsubscribe&& u);
  // check_read: the filter reads only some topics (ACL); each is checked.
  void send_retained(const std::string& filter, const protocol::SubscribeOptions& options,
                     std::uint32_t identifier, bool check_read);

  Core& core_;
  std::unique_ptr<transport::Stream> stream_;
  // The limits of the listener that accepted the connection ([limits] with
  // its [listener.limits] on top); the broker's for a stream without one.
  const config::Limits& limits_;
  State state_ = State::awaiting_connect;
  // What the transport tells the peer when the broker closes (TLS
  // close_notify, WebSocket close code); set by whatever decides to close.
  transport::CloseNotice notice_ = transport::CloseNotice::normal;
  const bool over_quota_;
  protocol::Version version_ = protocol::Version::v5;
  // This connection's listener in the configuration (Stats::listener), -1
  // for a stream made outside a listener; set when the CONNECT succeeds.
  std::int16_t listener_index_ = -1;

  // (The small members are ordered to fill one another's padding: with
  // its control block, a Client is one 208-byte malloc chunk; see the
  // static_assert in client.cpp.)
  // Input and output buffers, with what goes with them, live in io_ (made
  // on first use, see Io below); these flags stay here.
  bool reading_ = false;
  bool in_scratch_ = false;
  bool throttled_ = false;
  bool writing_ = false;
  bool log_write_wait_ = false;  // reading the log waits for the socket to take what was written
  // A bridge session: its log (log(), fixed with the handle) is its queue
  // (client_log.cpp).
  bool bridge_log_ = false;
  bool clean_start_ = true;
  bool assigned_client_id_ = false;  // the broker chose the client id
  // Attached to a bare session: handle_ points at this connection and
  // session_ is nullptr (Core::attach_bare).
  bool bare_ = false;
  // CONNECT asked for a Session Expiry Interval of 0 (or a 3.1.1 clean
  // session): DISCONNECT may not set one then (spec 3.14.2.2.2).
  bool zero_expiry_requested_ = true;

  // When bytes last came; traffic only records it, and the keep-alive
  // deadline in the core's wheel is moved when it comes (on_deadline).
  std::chrono::steady_clock::time_point last_rx_;
  std::uint64_t connected_at_ms_ = 0;  // unix ms of accept

  static const std::string no_client_id;
  // Set once, when CONNECT is accepted: 24 bytes, the name in place up to
  // 23 characters.
  util::PackedString username_;
  session::SessionRef handle_;
  session::Session* session_ = nullptr;
  // Until the session is attached: the CONNECT waiting for the outcome of
  // its authentication, then what it decided, applied once the session is
  // in place (attach). On the heap, one pointer for both (they never
  // coexist), in io_ (Io::pending, which keeps io_ until then): a CONNECT
  // is large (its will and properties) and needed only that long, while
  // idle connections are what memory scales with.
  struct PendingAttach {
    protocol::Connack connack;
    std::optional<protocol::Will> will;
    std::uint32_t expiry = 0;
  };
  using Pending = std::variant<protocol::Connect, PendingAttach>;
  // The CONNECT in Io::pending, taken out (pending is then empty).
  protocol::Connect take_pending_connect();
  PendingAttach& pending_attach() { return std::get<PendingAttach>(*io_->pending); }

  // Limits the client announced in CONNECT (v5).
  std::uint16_t client_receive_max_ = 65535;
  std::uint16_t keep_alive_ = 0;  // seconds, as in force (server keep alive applied)
  std::uint32_t client_max_packet_ = 0;  // 0: no limit
  std::uint16_t client_alias_max_ = 0;
  bool problem_info_ = true;  // Request Problem Information
  // ClientHooks (plugins): a basic authentication is waiting for its
  // answer (state connecting, pending_ holds the CONNECT); the connect
  // event was sent, so a disconnect event is due, with this reason (0x80
  // when the connection just drops).
  bool hooks_auth_pending_ = false;
  bool connect_event_sent_ = false;
  protocol::ReasonCode disconnect_reason_ = protocol::ReasonCode::unspecified_error;
  // flush_after_routing() is waiting for the core's outbox: nothing is
  // written until then.
  bool held_for_outbox_ = false;
  // flush() waits for the end of the poller's batch (write_output).
  bool flush_deferred_ = false;

  // What a connection needs only once it does more than connect and wait
  // (publishes, aliases, rate limits, back-pressure, enhanced
  // authentication, a bridge session's log): made on first use by
  // active(), so an idle connection carries one pointer for all of it.
  struct Hold {
    session::SessionRef target;
    std::uint32_t backlog = 0;
  };
  struct Blocking {
    std::vector<session::BlockedDelivery> deliveries;  // still refused
    std::uint64_t ticket = 0;                          // its acknowledgement in acks
    protocol::QoS qos = protocol::QoS::at_least_once;
    std::uint16_t packet_id = 0;
    std::unique_ptr<boost::asio::steady_timer> timer;  // block_timeout
    std::uint64_t serial = 0;
  };
  struct PendingAck {
    protocol::Ack ack;
    bool ready = false;
  };
  struct Active {
    // Publish rate limits (limits.max_publish_rate, max_publish_bytes_rate):
    // the time at which the client's sending would be within budget again
    // (a virtual clock advanced by each PUBLISH); reading pauses while it
    // is more than the one-second burst ahead of now.
    std::chrono::steady_clock::time_point rate_clock{};
    std::chrono::steady_clock::time_point bytes_clock{};
    std::unique_ptr<boost::asio::steady_timer> throttle_timer;  // made on first use
    // Back-pressure: the sessions this client's messages filled to the
    // hold level, with their backlog when last looked at (progress check);
    // reading pauses while any is left.
    std::vector<Hold> holds;
    std::unique_ptr<boost::asio::steady_timer> hold_timer;  // made on first use
    std::vector<session::SessionRef> congested;             // reused by route()
    std::vector<session::BlockedDelivery> blocked;           // filled by route()
    std::unique_ptr<Blocking> blocking;
    std::uint64_t block_serial = 0;
    // Offsets restored as inflight (QoS 2 awaiting PUBCOMP) that a bridge
    // session's log still holds: not sent again as new messages. Empty but
    // after a restart.
    std::vector<std::uint64_t> log_inflight;
    // Enhanced authentication: the method of CONNECT (empty: none) and the
    // exchange in progress (CONNECT or a re-authentication).
    std::string auth_method;
    std::unique_ptr<auth::AuthExchange> auth_exchange;
    // Acknowledgements waiting for the store (durability sync); acks_base
    // is the ticket of acks.front().
    boost::container::deque<PendingAck> acks;  // allocates nothing while empty
    std::uint64_t acks_base = 0;
    // Topic aliases: client->broker (alias -> topic), broker->client.
    std::unordered_map<std::uint16_t, std::string> in_aliases;
    // Looked up by the message's topic view, without a string made.
    struct TopicHash {
      using is_transparent = void;
      std::size_t operator()(std::string_view s) const noexcept { return std::hash<std::string_view>{}(s); }
    };
    std::unordered_map<std::string, std::uint16_t, TopicHash, std::equal_to<>> out_aliases;
  };
  Active& active() {
    if (!active_) active_ = std::make_unique<Active>();
    return *active_;
  }
  std::unique_ptr<Active> active_;

  // What only a connection that is reading a packet or writing, or has
  // carried a PUBLISH, needs (~130 bytes): an idle connection holds none
  // of it. Made on first use by io(); released by release_io() once
  // nothing is kept in it, as long as the connection has carried no
  // PUBLISH either way (one that has is likely to again, and keeps it).
  // Separate from Active, which a subscriber that only receives never
  // makes.
  struct Io {
    // Input: bytes [rpos, rend) of rbuf are received and not yet decoded.
    // A stream that reads when ready is read into the core's read_scratch()
    // (in_scratch_ while those bytes are decoded); rbuf then holds only
    // what is left of a packet not complete yet, and nothing while idle.
    // A stream read with async_read_some reads into rbuf, which then
    // always has room (and keeps io_ from being released).
    std::vector<std::uint8_t> rbuf;
    std::size_t rpos = 0;
    std::size_t rend = 0;
    // Output: packets are encoded into wpending; wactive is being written.
    std::string wpending;
    std::string wactive;
    // PUBLISH packets in wpending / wactive (limits.max_outgoing_messages).
    std::uint32_t pending_publishes = 0;
    std::uint32_t active_publishes = 0;
    // PUBLISH packets received from and sent to the client on this
    // connection (zero while io_ is released).
    std::uint64_t messages_received = 0;
    std::uint64_t messages_sent = 0;
    // See PendingAttach: from CONNECT to CONNACK.
    std::unique_ptr<Pending> pending;
  };
  Io& io() {
    if (!io_) [[unlikely]] make_io();  // out of line: keeps the callers small
    return *io_;
  }
  void make_io();
  // Releases io_ when it holds nothing: no part of a packet kept, no read
  // into rbuf pending, nothing being written or waiting to be, no CONNECT
  // waiting for its outcome. Called only
  // from the read and write completions (never inside process_input, whose
  // callers go on using io_), and only for a connection that has carried
  // no PUBLISH (the callers check that, inline: all a busy connection pays).
  void release_io();
  std::unique_ptr<Io> io_;
};

}  // namespace strata::core
