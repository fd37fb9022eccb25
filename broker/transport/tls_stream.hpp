// Stream over TLS on a TCP socket (tls:// listeners). The server handshake
// runs in the first async_read_some (see stream.hpp); on success the
// client certificate's identity is taken for peer_identity(). The stream
// keeps the SSL context it was accepted with alive, so a certificate
// reload (TlsContext::reload) does not touch existing connections.
#pragma once

#include <memory>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/stream.hpp>

#include "broker/transport/stream.hpp"
#include "broker/transport/tls_context.hpp"

namespace strata::transport {

// Writes TLS close_notify on `stream` if the socket takes it at once.
void send_close_notify(boost::asio::ssl::stream<boost::asio::ip::tcp::socket>& stream) noexcept;

class TlsStream final : public Stream {
 public:
  // `remote` as for TcpStream.
  TlsStream(boost::asio::ip::tcp::socket socket, std::shared_ptr<const TlsContext> tls, std::string remote = {});
  void async_read_some(boost::asio::mutable_buffer buffer, Handler handler) override;
  void async_write(boost::asio::const_buffer buffer, Handler handler) override;
  void close(CloseNotice notice) noexcept override;
  std::string_view remote_address() const noexcept override { return remote_; }
  const std::string& peer_identity() const noexcept override { return identity_; }

 private:
  std::shared_ptr<const TlsContext> tls_;
  std::shared_ptr<boost::asio::ssl::context> ctx_;  // outlives stream_
  boost::asio::ssl::stream<boost::asio::ip::tcp::socket> stream_;
  std::string remote_;
  std::string identity_;
  bool ready_ = false;  // handshake done
};

}  // namespace strata::transport
