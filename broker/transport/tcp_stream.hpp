// Stream over a plain TCP socket.
#pragma once

#include <boost/asio/ip/tcp.hpp>

#include "broker/transport/stream.hpp"

namespace strata::transport {

// "address:port" of the socket's peer, or "unknown".
std::string remote_of(const boost::asio::ip::tcp::socket& socket);

class TcpStream final : public Stream {
 public:
  explicit TcpStream(boost::asio::ip::tcp::socket socket);
  void async_read_some(boost::asio::mutable_buffer buffer, Handler handler) override;
  void async_write(boost::asio::const_buffer buffer, Handler handler) override;
  void close() noexcept override;
  const std::string& remote_address() const noexcept override { return remote_; }

 private:
  boost::asio::ip::tcp::socket socket_;
  std::string remote_;
};

}  // namespace strata::transport
