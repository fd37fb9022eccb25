// Stream over a plain TCP socket, on the core's own readiness set
// (poller.hpp) rather than Asio's reactor: an idle connection is its
// epoll registration and this object, which holds the pending wait's
// handler in place.
#pragma once

#include <cstdint>
#include <memory>

#include "broker/transport/socket.hpp"
#include "broker/transport/stream.hpp"
#include "broker/util/packed_string.hpp"

namespace strata::transport {

class Poller;

class TcpStream final : public Stream {
 public:
  // Takes the socket's descriptor out of Asio and registers it with the
  // poller of the socket's io_context. `remote`: the client's address when
  // it is not the socket's peer (PROXY protocol); empty: the peer's.
  explicit TcpStream(Socket socket, std::string remote = {});
  TcpStream(const TcpStream&) = delete;
  TcpStream& operator=(const TcpStream&) = delete;
  // Handlers still held are destroyed without being called, as Asio does
  // with a destroyed socket's operations at shutdown.
  ~TcpStream() override;

  void async_read_some(boost::asio::mutable_buffer buffer, Handler handler) override;
  bool reads_when_ready() const noexcept override { return true; }
  void async_wait_readable(WaitHandler handler) override;
  std::size_t read_available(boost::asio::mutable_buffer buffer, boost::system::error_code& ec) override;
  void async_write(boost::asio::const_buffer buffer, Handler handler) override;
  // What the write waiting for room still has to send; 0 once the socket
  // took it all (its completion may still be to run).
  std::size_t unsent(std::size_t) const noexcept override {
    return pending_ && pending_->write ? pending_->write_buffer.size() - pending_->written : 0;
  }
  void close(CloseNotice notice) noexcept override;
  std::string_view remote_address() const noexcept override { return remote_.view(); }

 private:
  friend class Poller;
  // A read (async_read_some) waiting for data, or the rest of a write
  // waiting for room in the socket: made the first time either waits (an
  // idle connection never does) and kept.
  struct Pending {
    boost::asio::mutable_buffer read_buffer;
    Handler read;
    boost::asio::const_buffer write_buffer;
    std::size_t written = 0;
    Handler write;
  };

  // What epoll reported (from the poller's dispatch; may end in this
  // stream's destruction, through the handler it calls last).
  void on_events(std::uint32_t events);
  // Writes on from `written`; false when the socket takes no more now.
  bool send_some(boost::asio::const_buffer buffer, std::size_t& written, boost::system::error_code& ec) noexcept;
  Pending& pending();
  // Calls the handler from the event loop (Poller::complete).
  void complete(Handler handler, boost::system::error_code ec, std::size_t n);
  void complete(WaitHandler handler, boost::system::error_code ec);
  // Completes every waiting operation with operation_aborted (close).
  void abort_all();
  // Destroys the handlers without calling them (the poller's shutdown).
  void drop_handlers() noexcept;

  Poller* poller_;
  TcpStream* prev_ = nullptr;  // the poller's list of registered streams
  TcpStream* next_ = nullptr;
  int fd_ = -1;
  // Edge-triggered state: input may be there (an event came and no read
  // has found the socket empty since), and whether the peer's end or an
  // error was reported (then a short read does not mean empty: the end
  // is still to be read, and no new event will say so).
  bool readable_ = false;
  bool hangup_ = false;
  util::PackedString remote_;  // 8 bytes less than a std::string
  WaitHandler wait_;
  std::unique_ptr<Pending> pending_;
};

}  // namespace strata::transport
