// A listener with proxy_protocol: every connection starts with a PROXY
// header from the load balancer (proxy_header.hpp). This stream reads it —
// inside the first async_read_some, so the Client's connect timeout bounds
// it like any handshake — and then hands the socket to the listener's own
// stream (TCP, TLS, WebSocket), made with the client's address from the
// header. From then on every call goes to that stream, and that address is
// the remote_address() that logs, the failed-login limiter and the ACL see.
//
// The header is read in exact steps (proxy::parse says how many bytes
// still belong to it), so nothing after it is consumed: the TLS ClientHello
// or the HTTP upgrade stays in the socket for the next layer. A malformed
// header is logged and fails the read, which closes the connection.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "broker/config/config.hpp"
#include "broker/transport/socket.hpp"
#include "broker/transport/stream.hpp"

namespace strata::transport {

class ProxyStream final : public Stream {
 public:
  // Makes the listener's stream over `socket` with `remote` as the
  // client's address.
  using MakeStream = std::function<std::unique_ptr<Stream>(Socket socket, std::string remote)>;

  ProxyStream(Socket socket, config::ProxyProtocol versions, MakeStream make);
  void async_read_some(boost::asio::mutable_buffer buffer, Handler handler) override;
  // Once the header is read, as the listener's stream does.
  bool reads_when_ready() const noexcept override { return next_ && next_->reads_when_ready(); }
  void async_wait_readable(WaitHandler handler) override { next_->async_wait_readable(std::move(handler)); }
  std::size_t read_available(boost::asio::mutable_buffer buffer, boost::system::error_code& ec) override {
    return next_->read_available(buffer, ec);
  }
  void async_write(boost::asio::const_buffer buffer, Handler handler) override;
  std::size_t unsent(std::size_t size) const noexcept override { return next_ ? next_->unsent(size) : size; }
  void close(CloseNotice notice) noexcept override;
  // Before the header: the balancer's address.
  std::string_view remote_address() const noexcept override { return next_ ? next_->remote_address() : peer_; }
  const std::string& peer_identity() const noexcept override {
    return next_ ? next_->peer_identity() : Stream::peer_identity();
  }

 private:
  void read_header(boost::asio::mutable_buffer buffer, Handler handler);

  Socket socket_;  // until the header is read
  const config::ProxyProtocol versions_;
  MakeStream make_;
  std::string peer_;                   // the balancer, "ip:port"
  std::vector<std::uint8_t> header_;   // bytes of the header read so far
  std::unique_ptr<Stream> next_;       // once the header is read
};

}  // namespace strata::transport
