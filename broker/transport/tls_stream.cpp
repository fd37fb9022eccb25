#include "broker/transport/tls_stream.hpp"

#include <boost/asio/write.hpp>

#include "broker/transport/linger.hpp"
#include "broker/transport/tcp_stream.hpp"
#include "broker/util/log.hpp"

namespace strata::transport {

namespace asio = boost::asio;

TlsStream::TlsStream(asio::ip::tcp::socket socket, std::shared_ptr<const TlsContext> tls, std::string remote)
    : tls_(std::move(tls)),
      ctx_(tls_->current()),
      stream_(std::move(socket), *ctx_),
      remote_(remote_or(stream_.next_layer(), std::move(remote))) {
  boost::system::error_code ec;
  stream_.next_layer().set_option(asio::ip::tcp::no_delay(true), ec);
}

void TlsStream::async_read_some(asio::mutable_buffer buffer, Handler handler) {
  if (ready_) {
    stream_.async_read_some(buffer, std::move(handler));
    return;
  }
  stream_.async_handshake(asio::ssl::stream_base::server,
                          [this, buffer, handler = std::move(handler)](const boost::system::error_code& ec) mutable {
                            if (ec) {
                              STRATA_INFO("tls") << remote_ << ": TLS handshake failed: " << ec.message();
                              handler(ec, 0);
                              return;
                            }
                            ready_ = true;
                            identity_ = tls_->peer_identity(stream_.native_handle());
                            stream_.async_read_some(buffer, std::move(handler));
                          });
}

void TlsStream::async_write(asio::const_buffer buffer, Handler handler) {
  asio::async_write(stream_, buffer, std::move(handler));
}

void TlsStream::close(CloseNotice notice) noexcept {
  if (notice != CloseNotice::none) {
    if (ready_) send_close_notify(stream_);
    return linger_close(std::move(stream_.next_layer()));
  }
  boost::system::error_code ec;
  stream_.next_layer().shutdown(asio::ip::tcp::socket::shutdown_both, ec);
  stream_.next_layer().close(ec);
}

void send_close_notify(asio::ssl::stream<asio::ip::tcp::socket>& stream) noexcept {
  // The TLS close_notify alert, without waiting for the peer's: on a
  // non-blocking socket the synchronous shutdown writes the alert and then
  // stops at would_block where it would read the answer. Asio keeps its
  // own buffers per direction, so an outstanding read is not disturbed;
  // the caller makes sure no write is outstanding (CloseNotice::none).
  boost::system::error_code ec;
  stream.next_layer().non_blocking(true, ec);
  if (!ec) stream.shutdown(ec);
}

}  // namespace strata::transport
