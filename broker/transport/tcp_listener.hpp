// Accepts TCP connections on one core. Every core opens its own acceptor on
// the same address with SO_REUSEPORT, so the kernel spreads new connections
// over the cores and no accept is handed between threads. The accepted
// socket goes to the handler, which wraps it in the listener's Stream
// (see stream_factory.hpp).
#pragma once

#include <functional>
#include <memory>
#include <string>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>

#include "broker/transport/socket.hpp"

namespace strata::transport {

class TcpListener {
 public:
  using AcceptHandler = std::function<void(Socket)>;

  // Binds and listens; throws boost::system::system_error on failure.
  TcpListener(boost::asio::io_context& io, const boost::asio::ip::tcp::endpoint& endpoint,
              AcceptHandler on_accept);
  void start();
  void stop() noexcept;
  std::uint16_t port() const;

 private:
  void accept_next();

  boost::asio::io_context& io_;  // accepted sockets are bound to it (socket.hpp)
  boost::asio::ip::tcp::acceptor acceptor_;
  boost::asio::steady_timer retry_timer_;
  AcceptHandler on_accept_;
  bool stopped_ = false;
};

}  // namespace strata::transport
