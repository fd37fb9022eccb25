// A byte stream to one client, whatever carries it: TCP, TLS, WebSocket or
// WebSocket over TLS all implement this interface, so the MQTT connection
// logic (broker/core/client.hpp) never knows which transport it runs on.
//
// A transport's handshake (TLS, the WebSocket upgrade) runs inside the
// first async_read_some: it completes with an error when the handshake
// fails, and the Client's connect timeout, which closes the stream, bounds
// it. The Client writes nothing before its first read completed.
//
// All calls and completions happen on the owning core's thread. At most one
// read and one write are outstanding at a time.
//
// Readiness reads: a stream that keeps no bytes of its own (plain TCP) can
// also be read by waiting for data first (async_wait_readable) and then
// reading what is there without waiting (read_available). The reader then
// needs no buffer while the connection is idle, and the pending wait is
// smaller than a pending read: most connections are idle, and theirs is
// the memory that scales. Streams that buffer inside (TLS, WebSocket) say
// no (reads_when_ready) and are read with async_read_some.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include <boost/asio/buffer.hpp>
#include <boost/system/error_code.hpp>

#include "broker/config/config.hpp"
#include "broker/util/inline_function.hpp"

namespace strata::transport {

// Why the broker closes a connection, for transports that tell the peer:
// TLS sends close_notify and WebSocket a close frame with the matching
// status code (RFC 6455 7.4.1) for every value but `none`, which closes
// the socket without a word (the peer is gone, or a write is under way and
// nothing may be put between its bytes).
enum class CloseNotice : std::uint8_t {
  none,
  normal,            // DISCONNECT either way, refused CONNECT: WebSocket 1000
  going_away,        // the broker shuts down: 1001
  protocol_error,    // malformed packet, protocol violation: 1002
  policy_violation,  // other refusals (timeouts, limits, not authorized): 1008
};

class Stream {
 public:
  // Held in place (no allocation per read or write): a handler captures
  // at most 24 bytes, e.g. a shared_ptr to its connection.
  using Handler = util::InlineFunction<void(const boost::system::error_code&, std::size_t)>;
  // For async_wait_readable: room for a shared_ptr only. It is the one
  // operation an idle connection keeps pending, and Asio rounds the
  // operation's size (this handler inside) up to 16 bytes: 24 bytes of
  // handler keep it 32 bytes smaller than a Handler does.
  using WaitHandler = util::InlineFunction<void(const boost::system::error_code&), 16>;

  virtual ~Stream() = default;
  virtual void async_read_some(boost::asio::mutable_buffer buffer, Handler handler) = 0;
  // Whether async_wait_readable/read_available may be used now (the first
  // read of a stream with a handshake or a PROXY header is always
  // async_read_some).
  virtual bool reads_when_ready() const noexcept { return false; }
  // Only when reads_when_ready(): completes once there is
  // something to read — data, the peer's end of stream, or an error, which
  // read_available then reports.
  virtual void async_wait_readable(WaitHandler handler) {
    handler(make_error_code(boost::system::errc::operation_not_supported));
  }
  // Only when reads_when_ready(): reads what is there now into `buffer`,
  // without waiting. The bytes read, or 0 with `ec` set (would_block:
  // nothing there; eof: the peer closed).
  virtual std::size_t read_available(boost::asio::mutable_buffer buffer, boost::system::error_code& ec) {
    (void)buffer;
    ec = make_error_code(boost::system::errc::operation_not_supported);
    return 0;
  }
  // Completes when all of `buffer` was written, or on error.
  virtual void async_write(boost::asio::const_buffer buffer, Handler handler) = 0;
  // Of the write in progress (`size` bytes), how many the socket has not
  // taken yet. Its completion runs from the event loop, maybe well after
  // the socket took the last byte (the core's thread may be preempted in
  // between), so a check for a slow consumer asks this rather than count
  // the whole write. Streams that cannot tell say all of it.
  virtual std::size_t unsent(std::size_t size) const noexcept { return size; }
  // Closes the connection; outstanding operations complete with an error.
  // The notice, if any, is written without waiting (a non-blocking write
  // that is dropped if the socket cannot take it at once), and then the
  // socket lingers (linger.hpp): its sending side is shut down and what the
  // peer still sends is read and discarded for a bounded time and amount,
  // so the peer reads everything written before it. With `none` both
  // directions close at once. A peer can never hold a closing connection
  // open.
  virtual void close(CloseNotice notice) noexcept = 0;
  // "127.0.0.1:50432", for logs and per-address limits.
  virtual std::string_view remote_address() const noexcept = 0;
  // The verified client certificate's identity when the listener uses it
  // as the username (listener.cert_username); empty otherwise. Known once
  // the first read completed.
  virtual const std::string& peer_identity() const noexcept {
    static const std::string none;
    return none;
  }
  // The settings of the listener that accepted this connection (anonymous
  // access, ...); null for a stream made outside a listener.
  const config::Listener* listener() const noexcept { return listener_.get(); }
  void set_listener(std::shared_ptr<const config::Listener> listener) { listener_ = std::move(listener); }

 private:
  std::shared_ptr<const config::Listener> listener_;
};

}  // namespace strata::transport
