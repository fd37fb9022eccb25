// Stream over a plain TCP socket.
#pragma once

#include "broker/transport/socket.hpp"
#include "broker/transport/stream.hpp"
#include "broker/util/packed_string.hpp"

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
  std::string_view remote_address() const noexcept override { return remote_.view(); }

 private:
  Socket socket_;
  util::PackedString remote_;  // one per connection: 8 bytes less than a std::string
};

}  // namespace strata::transport
