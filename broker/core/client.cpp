// Client: I/O, packet dispatch, keep-alive and closing. See client.hpp.
#include "broker/core/client.hpp"

#include <algorithm>
#include <span>

#include "broker/core/broker.hpp"
#include "broker/core/clock.hpp"
#include "broker/core/core.hpp"
#include "broker/protocol/codec.hpp"
#include "broker/protocol/direction_check.hpp"
#include "broker/util/log.hpp"

namespace strata::core {

const std::string Client::no_client_id;

// An idle connection's Client with its shared_ptr control block (16 bytes,
// make_shared) is one 208-byte malloc chunk (glibc: the request plus 8,
// rounded up to 16) with libstdc++ on a 64-bit target. Past 184 bytes it
// takes the next size class: move what an idle connection does not need
// into Io or Active instead.
#if defined(__GLIBCXX__) && defined(__x86_64__)
static_assert(sizeof(Client) <= 184, "Client grew past its malloc size class (see client.hpp)");
#endif

namespace asio = boost::asio;
using protocol::ReasonCode;
using protocol::Version;

namespace {
// Read buffers start small, double while reads fill them (a busy
// connection reads in large chunks) and shrink back once reads are small
// again: most connections are idle, and theirs is the memory that scales.
constexpr std::size_t initial_read_buffer = 256;
constexpr std::size_t max_read_chunk = 64 * 1024;
// Output buffers above this are released once written, so a burst does not
// pin memory on an idle connection.
constexpr std::size_t keep_write_capacity = 64 * 1024;
}  // namespace

transport::CloseNotice notice_for(ReasonCode reason) {
  using transport::CloseNotice;
  switch (reason) {
    case ReasonCode::success:
    case ReasonCode::disconnect_with_will:
      return CloseNotice::normal;
    case ReasonCode::server_shutting_down:
      return CloseNotice::going_away;
    case ReasonCode::malformed_packet:
    case ReasonCode::protocol_error:
    case ReasonCode::receive_maximum_exceeded:
    case ReasonCode::topic_alias_invalid:
      return CloseNotice::protocol_error;
    default:
      return protocol::is_error(reason) ? CloseNotice::policy_violation : CloseNotice::normal;
  }
}

Client::Client(Core& core, std::unique_ptr<transport::Stream> stream, bool over_quota)
    : core_(core),
      stream_(std::move(stream)),
      limits_(stream_->listener() != nullptr ? stream_->listener()->limits : core.broker().limits()),
      over_quota_(over_quota),
      connected_at_ms_(now_ms()) {}

std::string Client::listener_name() const {
  return stream_->listener() != nullptr ? stream_->listener()->name() : std::string();
}

void Client::count_connected() {
  Stats& stats = core_.stats();
  stats.clients_connected.fetch_add(1, std::memory_order_relaxed);
  // The listener's index in the configuration, found by name (once per
  // connection; a handful of listeners).
  if (const config::Listener* l = stream_->listener()) {
    const auto& all = core_.broker().config().listeners;
    const std::size_t n = std::min<std::size_t>({all.size(), stats.listener_count(), INT16_MAX});
    for (std::size_t i = 0; i < n; ++i) {
      if (all[i].name() == l->name()) {
        listener_index_ = static_cast<std::int16_t>(i);
        break;
      }
    }
  }
  if (listener_index_ >= 0) {
    Stats::Listener& ls = stats.listener(static_cast<std::size_t>(listener_index_));
    stats.add(ls.connects);
    ls.connected.fetch_add(1, std::memory_order_relaxed);
  }
}

void Client::count_disconnected() {
  Stats& stats = core_.stats();
  stats.clients_connected.fetch_sub(1, std::memory_order_relaxed);
  if (listener_index_ >= 0) {
    stats.listener(static_cast<std::size_t>(listener_index_)).connected.fetch_sub(1, std::memory_order_relaxed);
  }
}

// A client that was never closed (shutdown) still takes its waits back,
// so no core calls into a client that is gone.
Client::~Client() {
  core_.cancel_deadline(*this);
  release_holds();
  abandon_blocked();
}

void Client::start() {
  last_rx_ = std::chrono::steady_clock::now();
  core_.schedule_deadline(*this, last_rx_ + limits_.connect_timeout);
  read_next();
}

// ---------------------------------------------------------------------------
// Input

void Client::read_next() {
  if (reading_ || throttled_ || held() || state_ >= State::closing || state_ == State::connecting) return;
  if (stream_->reads_when_ready()) {
    // Waiting holds no buffer, unless part of a packet is here already.
    if (io_ && io_->rpos == io_->rend) {
      io_->rpos = io_->rend = 0;
      if (io_->rbuf.capacity() != 0) std::vector<std::uint8_t>().swap(io_->rbuf);
    }
    reading_ = true;
    stream_->async_wait_readable([self = shared_from_this()](const boost::system::error_code& ec) {
      self->on_readable(ec);
    });
    return;
  }
  Io& io = this->io();  // the pending read keeps it (rbuf has room)
  if (io.rpos == io.rend) {
    io.rpos = io.rend = 0;
  } else if (io.rpos > 0 && io.rbuf.size() - io.rend < 1024) {
    std::copy(io.rbuf.begin() + static_cast<std::ptrdiff_t>(io.rpos),
              io.rbuf.begin() + static_cast<std::ptrdiff_t>(io.rend), io.rbuf.begin());
    io.rend -= io.rpos;
    io.rpos = 0;
  }
  if (io.rbuf.empty()) io.rbuf.resize(initial_read_buffer);
  if (io.rend == io.rbuf.size()) {
    // A packet larger than the buffer: grow. The codec has already checked
    // the announced size against max_packet_size, so this is bounded.
    io.rbuf.resize(std::min(io.rbuf.size() * 2, io.rbuf.size() + max_read_chunk));
  }
  reading_ = true;
  stream_->async_read_some(asio::buffer(io.rbuf.data() + io.rend, io.rbuf.size() - io.rend),
                           [self = shared_from_this()](const boost::system::error_code& ec, std::size_t n) {
                             self->on_read(ec, n);
                           });
}

void Client::lost(const boost::system::error_code& ec) {
  // EOF or reset without DISCONNECT: an ungraceful loss, the will is due.
  STRATA_DEBUG("client") << (client_id().empty() ? stream_->remote_address() : client_id())
                         << ": connection lost: " << ec.message();
  notice_ = transport::CloseNotice::none;  // nobody to tell
  close(true);
}

void Client::on_read(const boost::system::error_code& ec, std::size_t n) {
  reading_ = false;
  if (state_ >= State::closing) return;
  if (ec) return lost(ec);
  core_.stats().add(core_.stats().bytes_received, n);
  // A read into rbuf was pending, so io_ is there (release_io() leaves it).
  Io& io = *io_;
  io.rend += n;
  const bool filled = io.rend == io.rbuf.size();
  last_rx_ = std::chrono::steady_clock::now();
  // A batch of its own (TLS and WebSocket read through Asio, not the
  // poller): what this read routes to one client goes out in one write.
  core_.poller().batch([this] { process_input(); });
  if (filled && io.rbuf.size() < max_read_chunk) {
    io.rbuf.resize(io.rbuf.size() * 2);
  } else if (io.rpos == io.rend && n < initial_read_buffer && io.rbuf.size() > initial_read_buffer) {
    std::vector<std::uint8_t>(initial_read_buffer).swap(io.rbuf);
  }
  if (throttle()) return;
  read_next();
}

// Reads what is there into the core's scratch buffer, after the part of a
// packet kept from before, and decodes it; what is left of a packet not
// complete goes back to rbuf. Reads go on until nothing is there
// (would_block; at most 16 per wake-up, so one busy client does not hold
// the core): a busy connection reads in large chunks without going back to
// the reactor in between, and a quiet one pays what async_read_some paid
// (one read that finds data, one that finds none). A packet larger than
// half the scratch buffer is read into rbuf, grown as for async_read_some.
void Client::on_readable(const boost::system::error_code& ec) {
  if (state_ >= State::closing) {
    reading_ = false;
    return;
  }
  if (ec) {
    reading_ = false;
    return lost(ec);
  }
  auto self = shared_from_this();  // a handler may end in close()
  std::vector<std::uint8_t>& scratch = core_.read_scratch();
  // Kept until the end of this completion (release_io() runs only there
  // and in the write completion, never inside process_input).
  Io& io = this->io();
  // reading_ stays set while decoding: what a handler resumes reads on
  // (resume_reading) waits for the end of this completion.
  for (int round = 0; round < 16; ++round) {
    // Into the scratch buffer after the kept part of a packet, or, for a
    // packet larger than half of it, into rbuf grown as needed.
    const std::size_t have = io.rend - io.rpos;
    const bool to_scratch = have <= scratch.size() / 2;
    if (!to_scratch) {
      if (io.rpos > 0) {
        std::copy(io.rbuf.begin() + static_cast<std::ptrdiff_t>(io.rpos),
                  io.rbuf.begin() + static_cast<std::ptrdiff_t>(io.rend), io.rbuf.begin());
        io.rend -= io.rpos;
        io.rpos = 0;
      }
      if (io.rend == io.rbuf.size()) io.rbuf.resize(std::min(io.rbuf.size() * 2, io.rbuf.size() + max_read_chunk));
    }
    boost::system::error_code rec;
    const std::size_t room = to_scratch ? scratch.size() - have : io.rbuf.size() - io.rend;
    const std::size_t n = stream_->read_available(
        asio::buffer(to_scratch ? scratch.data() + have : io.rbuf.data() + io.rend, room), rec);
    if (n == 0) {
      if (rec == asio::error::would_block || rec == asio::error::try_again) break;
      reading_ = false;
      return lost(rec ? rec : make_error_code(asio::error::eof));
    }
    core_.stats().add(core_.stats().bytes_received, n);
    last_rx_ = std::chrono::steady_clock::now();
    if (to_scratch) {
      if (have != 0) std::copy_n(io.rbuf.data() + io.rpos, have, scratch.data());
      io.rpos = 0;
      io.rend = have + n;
      in_scratch_ = true;
      process_input();
      in_scratch_ = false;
      const std::size_t left = io.rend - io.rpos;
      if (left != 0) {
        if (io.rbuf.size() < left) io.rbuf.resize(std::max(left, initial_read_buffer));
        std::copy_n(scratch.data() + io.rpos, left, io.rbuf.data());
      }
      io.rpos = 0;
      io.rend = left;
    } else {
      io.rend += n;
      process_input();
    }
    if (state_ >= State::closing || state_ == State::connecting || throttled_ || held() || over_budget()) {
      break;
    }
    // A short read emptied the socket: wait instead of reading again only
    // to be told it is empty (a system call per wake-up at everyday rates).
    // Nothing that arrives meanwhile is missed: the wait re-arms the socket
    // in epoll, which reports it readable at once if it is.
    if (n < room) break;
  }
  reading_ = false;
  if (state_ >= State::closing) return;
  if (throttle()) return;
  read_next();
  if (io.messages_received == 0 && io.messages_sent == 0) release_io();
}

void Client::make_io() { io_ = std::make_unique<Io>(); }

void Client::release_io() {
  // While a packet is decoded its bytes are in the scratch buffer
  // (in_scratch_) or in rbuf: either keeps io_, should this ever be
  // reached from inside process_input.
  const Io& io = *io_;
  if (in_scratch_ || writing_ || !io.wpending.empty() || io.rpos != io.rend || io.rbuf.capacity() != 0 || io.pending) {
    return;
  }
  io_.reset();
}

void Client::charge_rates(std::size_t bytes) {
  const config::Limits& limits = limits_;
  auto now = std::chrono::steady_clock::now();
  if (limits.max_publish_rate != 0) {
    active().rate_clock = std::max(active().rate_clock, now) + std::chrono::nanoseconds(1'000'000'000 / limits.max_publish_rate);
  }
  if (limits.max_publish_bytes_rate != 0) {
    active().bytes_clock = std::max(active().bytes_clock, now) +
                   std::chrono::nanoseconds(bytes * 1'000'000'000 / limits.max_publish_bytes_rate);
  }
}

bool Client::over_budget() const {
  const config::Limits& limits = limits_;
  if (limits.max_publish_rate == 0 && limits.max_publish_bytes_rate == 0) return false;
  if (!active_) return false;  // nothing published yet
  // Ahead of now by more than the one-second burst.
  return std::max(active_->rate_clock, active_->bytes_clock) - std::chrono::seconds(1) > std::chrono::steady_clock::now();
}

bool Client::throttle() {
  if (state_ != State::connected || !over_budget()) return false;
  auto resume = std::max(active().rate_clock, active().bytes_clock) - std::chrono::seconds(1);
  // Over budget: stop reading; TCP flow control slows the sender, and
  // nothing it sent is dropped.
  if (!active().throttle_timer) active().throttle_timer = std::make_unique<asio::steady_timer>(core_.io());
  throttled_ = true;
  active().throttle_timer->expires_at(resume);
  active().throttle_timer->async_wait([self = shared_from_this()](const boost::system::error_code& ec) {
    self->throttled_ = false;
    if (ec || self->state_ != State::connected) return;
    // Packets received before the pause come first.
    self->process_kept();
    if (!self->throttle()) self->read_next();
  });
  return true;
}

void Client::process_input() {
  auto self = shared_from_this();  // a handler may end in close()
  // io_ stays until the end (release_io() is not called from in here).
  Io& io = *io_;
  const std::uint32_t max_size = limits_.max_packet_size;
  while (io.rpos < io.rend && (state_ == State::awaiting_connect || state_ == State::authenticating ||
                               state_ == State::connected)) {
    // The rest waits: for the rate budget (throttle) or for the
    // subscribers this client filled up (back-pressure).
    if (state_ == State::connected && (over_budget() || held())) break;
    const std::uint8_t* in = in_scratch_ ? core_.read_scratch().data() : io.rbuf.data();
    if (state_ == State::awaiting_connect &&
        (in[io.rpos] >> 4) != static_cast<std::uint8_t>(protocol::PacketType::connect)) {
      // The first packet must be CONNECT (spec 3.1): the first byte says it
      // is not, so close at once, without waiting for the rest or
      // answering in a protocol version the peer never announced.
      STRATA_INFO("client") << stream_->remote_address() << ": first packet is not CONNECT";
      notice_ = transport::CloseNotice::protocol_error;
      close(false);
      break;
    }
    std::span<const std::uint8_t> data(in + io.rpos, io.rend - io.rpos);
    // A PUBLISH is read in place once connected: its topic and payload
    // are views of the read buffer until on_publish() has copied them into
    // the message (nothing on that path reads a socket).
    protocol::PublishIn publish;
    protocol::DecodeResult r =
        protocol::decode(data, version_, max_size, state_ == State::connected ? &publish : nullptr);
    if (r.status == protocol::DecodeStatus::need_more) break;
    if (r.status == protocol::DecodeStatus::error) {
      if (state_ == State::awaiting_connect) version_ = r.version;
      fail(r.error, r.error_text);
      break;
    }
    io.rpos += r.consumed;
    if (r.in_place) {
      if (auto v = protocol::check_from_client(publish)) {
        fail(v->reason, v->text);
        break;
      }
      on_publish(publish);
      continue;
    }
    if (state_ == State::connected) {
      if (auto v = protocol::check_from_client(r.packet)) {
        fail(v->reason, v->text);
        break;
      }
    }
    handle(std::move(r.packet));
  }
  if (io.rpos == io.rend) io.rpos = io.rend = 0;
  flush();
}

void Client::handle(protocol::Packet&& packet) {
  if (state_ == State::awaiting_connect) {
    // process_input() let only a CONNECT through.
    on_connect(std::move(std::get<protocol::Connect>(packet)));
    return;
  }
  if (state_ == State::authenticating) {
    // Spec 3.1.2.11.9: until CONNACK only AUTH and DISCONNECT.
    if (auto* a = std::get_if<protocol::Auth>(&packet)) {
      on_auth(std::move(*a));
    } else if (std::holds_alternative<protocol::Disconnect>(packet)) {
      close(false);
    } else {
      fail(ReasonCode::protocol_error, "only AUTH or DISCONNECT may come before CONNACK");
    }
    return;
  }
  std::visit(
      [this](auto&& p) {
        using T = std::decay_t<decltype(p)>;
        if constexpr (std::is_same_v<T, protocol::Publish>) {
          protocol::PublishIn in = protocol::PublishIn::of(p);  // decoded in place when connected
          on_publish(in);
        } else if constexpr (std::is_same_v<T, protocol::Ack>) {
          on_ack(std::move(p));
        } else if constexpr (std::is_same_v<T, protocol::Subscribe>) {
          on_subscribe(std::move(p));
        } else if constexpr (std::is_same_v<T, protocol::Unsubscribe>) {
          on_unsubscribe(std::move(p));
        } else if constexpr (std::is_same_v<T, protocol::Pingreq>) {
          on_pingreq();
        } else if constexpr (std::is_same_v<T, protocol::Disconnect>) {
          on_disconnect(std::move(p));
        } else if constexpr (std::is_same_v<T, protocol::Auth>) {
          on_auth(std::move(p));
        } else if constexpr (std::is_same_v<T, protocol::Connect>) {
          fail(ReasonCode::protocol_error, "second CONNECT");
        }
        // CONNACK, SUBACK, UNSUBACK, PINGRESP were refused by check_from_client.
      },
      std::move(packet));
}

void Client::on_pingreq() { send(protocol::Pingresp{}); }

void Client::on_disconnect(protocol::Disconnect&& d) {
  if (version_ == Version::v5) {
    if (auto expiry = d.properties.session_expiry_interval) {
      // Spec 3.14.2.2.2: a session that had expiry 0 cannot be extended.
      if (zero_expiry_requested_ && *expiry != 0) {
        fail(ReasonCode::protocol_error, "session expiry set on DISCONNECT after 0 in CONNECT");
        return;
      }
      if (session_ != nullptr) {
        session_->expiry_interval = std::min(*expiry, limits_.session_expiry_max);
      }
    }
  }
  disconnect_reason_ = d.reason;  // for ClientHooks::disconnected
  close(d.reason == ReasonCode::disconnect_with_will);
}

// ---------------------------------------------------------------------------
// Output

void Client::send(const protocol::Packet& packet) {
  encode(packet);
  flush();
}

void Client::encode(const protocol::Packet& packet) {
  if (state_ >= State::closed) return;
  protocol::encode(packet, version_, io().wpending);
}

void Client::flush_after_routing() {
  if (core_.outbox_pending()) {
    if (!held_for_outbox_) {
      held_for_outbox_ = true;
      core_.flush_after_outbox(shared_from_this());
    }
    return;
  }
  flush();
}

void Client::flush() {
  if (!may_write()) return;
  transport::Poller& poller = core_.poller();
  if (poller.dispatching()) {
    if (!flush_deferred_) {
      flush_deferred_ = true;
      poller.complete([self = shared_from_this()] {
        self->flush_deferred_ = false;
        self->write_output();
      });
    }
    return;
  }
  write_output();
}

void Client::write_output() {
  if (!may_write()) return;
  Io& io = *io_;  // kept while writing_ (release_io())
  std::swap(io.wactive, io.wpending);
  io.wpending.clear();
  io.active_publishes = io.pending_publishes;
  io.pending_publishes = 0;
  writing_ = true;
  core_.stats().add(core_.stats().bytes_sent, io.wactive.size());
  stream_->async_write(asio::buffer(io.wactive),
                       [self = shared_from_this()](const boost::system::error_code& ec, std::size_t) {
                         self->writing_ = false;
                         Io& io = *self->io_;
                         io.active_publishes = 0;
                         // A connection that has carried no PUBLISH yet wrote a
                         // CONNACK, SUBACK or PINGRESP: rare, and most such
                         // connections stay idle, so the buffer goes back
                         // (with io_ itself, below, once nothing else is in it).
                         if (io.wactive.capacity() > keep_write_capacity ||
                             (io.messages_sent == 0 && io.messages_received == 0)) {
                           std::string().swap(io.wactive);
                         } else {
                           io.wactive.clear();
                         }
                         if (ec) {
                           self->notice_ = transport::CloseNotice::none;
                           if (self->state_ < State::closing) self->close(true);
                           else self->close(false);
                           return;
                         }
                         if (self->state_ == State::closing && io.wpending.empty()) {
                           self->close(false);
                           return;
                         }
                         self->flush();
                         if (self->log_write_wait_) {  // a bridge session's QoS 0 burst (client_log.cpp)
                           self->log_write_wait_ = false;
                           self->pump_log();
                         }
                         if (io.messages_sent == 0 && io.messages_received == 0) self->release_io();
                       });
}

void Client::close_after_flush() {
  if (state_ >= State::closing) return;
  state_ = State::closing;
  core_.cancel_deadline(*this);
  if (!writing_ && (!io_ || io_->wpending.empty())) close(false);
  // Otherwise the write completion closes. A peer that stops reading
  // cannot hold us: a deadline 5 s on bounds the wait (on_deadline).
  else core_.schedule_deadline(*this, std::chrono::steady_clock::now() + std::chrono::seconds(5));
}

// ---------------------------------------------------------------------------
// Closing

void Client::disconnect(ReasonCode reason, std::string_view text) {
  if (state_ >= State::closing) return;
  auto self = shared_from_this();  // closing may drop the core's reference
  notice_ = notice_for(reason);
  disconnect_reason_ = reason;  // for ClientHooks::disconnected
  if (state_ == State::connected && version_ == Version::v5) {
    protocol::Disconnect d{reason, {}};
    if (!text.empty() && problem_info_) d.properties.reason_string = std::string(text);
    // No reason string if it would exceed the client's Maximum Packet Size (spec 3.14.2.2.2).
    if (client_max_packet_ != 0 && protocol::encoded_size(d, version_) > client_max_packet_) {
      d.properties.reason_string.reset();
    }
    send(d);
  }
  // Wills are due when the server closes for an error, not on shutdown.
  bool will_due = protocol::is_error(reason) && reason != ReasonCode::server_shutting_down;
  detach(will_due, true);
  close_after_flush();
}

void Client::taken_over() {
  if (state_ >= State::closing) return;
  auto self = shared_from_this();  // closing may drop the core's reference
  STRATA_INFO("client") << client_id() << ": session taken over by a new connection";
  notice_ = transport::CloseNotice::policy_violation;
  disconnect_reason_ = ReasonCode::session_taken_over;  // for ClientHooks::disconnected
  if (version_ == Version::v5) send(protocol::Disconnect{ReasonCode::session_taken_over, {}});
  // The core sees to the session (a bare one too).
  if (session_ != nullptr || bare_) {
    if (session_ != nullptr) session_->attachment = nullptr;
    session_ = nullptr;
    bare_ = false;
    count_disconnected();
  }
  close_after_flush();
}

void Client::fail(ReasonCode reason, std::string_view text) {
  STRATA_INFO("client") << (client_id().empty() ? stream_->remote_address() : client_id())
                        << ": closing: " << protocol::to_string(reason) << " (" << text << ")";
  notice_ = notice_for(reason);
  if (state_ == State::awaiting_connect || state_ == State::authenticating) {
    // No CONNACK yet: a v5 client gets one with the reason (spec 3.2.2.2);
    // a 3.1.1 client only for an unsupported protocol level (3.1.1 3.1.2.2).
    if (version_ == Version::v5 || reason == ReasonCode::unsupported_protocol_version) {
      refuse_connect(reason, text);
    }
    else close(false);
    return;
  }
  disconnect(reason, text);
}

void Client::close(bool will_due) {
  if (state_ == State::closed) return;
  auto self = shared_from_this();
  bool was_connected = state_ == State::connected;
  // What the batch's end would have written goes now, as it did at once
  // before writes were gathered per batch (a packet sent just before
  // closing, such as a DISCONNECT's).
  if (flush_deferred_) write_output();
  state_ = State::closed;
  core_.cancel_deadline(*this);
  // A notice cannot go between the bytes of a write under way.
  stream_->close(writing_ ? transport::CloseNotice::none : notice_);
  release_holds();
  abandon_blocked();
  detach(will_due, was_connected);
  if (connect_event_sent_) {
    connect_event_sent_ = false;
    if (ClientHooks* hooks = core_.broker().client_hooks()) {
      hooks->disconnected(view(), disconnect_reason_, core_.index());
    }
  }
  core_.forget(this);
}

// ---------------------------------------------------------------------------
// Timers

void Client::arm_timer() {
  if (keep_alive_ == 0 || state_ != State::connected) return;
  // The spec allows one and a half keep-alive periods of silence.
  auto limit = std::chrono::milliseconds(std::uint64_t{keep_alive_} * 1500);
  core_.schedule_deadline(*this, last_rx_ + limit);
}

// The wheel fires at or after the deadline, never before (up to its
// resolution later): the connect timeout and the close's wait need no
// second look at the clock.
void Client::on_deadline() {
  if (state_ == State::closing) {  // the peer did not take what was left to write
    close(false);
    return;
  }
  if (state_ == State::awaiting_connect || state_ == State::authenticating) {
    STRATA_INFO("client") << stream_->remote_address()
                          << (state_ == State::awaiting_connect
                                  ? ": no CONNECT within the connect timeout"
                                  : ": enhanced authentication not finished within the connect timeout");
    notice_ = transport::CloseNotice::policy_violation;
    close(false);
    return;
  }
  if (state_ == State::connecting && hooks_auth_pending_) {
    // A plugin's basic authentication did not answer (client_hooks.hpp).
    STRATA_INFO("client") << stream_->remote_address() << ": authentication not answered within the connect timeout";
    notice_ = transport::CloseNotice::policy_violation;
    close(false);
    return;
  }
  if (state_ != State::connected) return;
  // A client the broker does not read (held by back-pressure, or over its
  // publish rate) is silent by the broker's doing: its PINGREQs wait in
  // the socket, so that silence does not count against its keep alive.
  if (held() || throttled_) last_rx_ = std::chrono::steady_clock::now();
  auto limit = std::chrono::milliseconds(std::uint64_t{keep_alive_} * 1500);
  if (std::chrono::steady_clock::now() - last_rx_ >= limit) {
    fail(ReasonCode::keep_alive_timeout, "keep alive timeout");
    return;
  }
  arm_timer();  // traffic arrived since the deadline was set
}

void Client::strip_diagnostics(protocol::Properties& p) const {
  // Request Problem Information = 0: no reason string or user properties on
  // anything but PUBLISH, CONNACK and DISCONNECT (spec 3.1.2.11.7).
  if (!problem_info_) {
    p.reason_string.reset();
    p.user_properties.clear();
  }
}

}  // namespace strata::core
