// Stream over a plain TCP socket.
#pragma once

#include "broker/transport/socket.hpp"
#include "broker/transport/stream.hpp"

namespace strata::transport {

class TcpStream final : public Stream {
 public:
  // `remote`: the client's address when it is not the socket's peer
  // (PROXY protocol); empty: the peer's.
  explicit TcpStream(Socket socket, std::string remote = {});
  void async_read_some(boost::asio::mutable_buffer buffer, Handler handler) override;
  bool reads_when_ready() const noexcept override { return true; }
  void async_wait_readable(WaitHandler handler) override;
  std::size_t read_available(boost::asio::mutable_buffer buffer, boost::system::error_code& ec) override;
  void async_write(boost::asio::const_buffer buffer, Handler handler) override;
  void close(CloseNotice notice) noexcept override;
  const std::string& remote_address() const noexcept override { return remote_; }

 private:
  Socket socket_;
  std::string remote_;
};

}  // namespace strata::transport
