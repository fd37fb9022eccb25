#include "broker/transport/tls_stream.hpp"

#include <boost/asio/write.hpp>

#include "broker/transport/tcp_stream.hpp"
#include "broker/util/log.hpp"

namespace strata::transport {

namespace asio = boost::asio;

TlsStream::TlsStream(asio::ip::tcp::socket socket, std::shared_ptr<const TlsContext> tls)
    : tls_(std::move(tls)), ctx_(tls_->current()), stream_(std::move(socket), *ctx_), remote_(remote_of(stream_.next_layer())) {
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

void TlsStream::close() noexcept {
  // No close_notify: the MQTT session is over either way, and waiting for
  // the peer's answer would let it hold the connection open.
  boost::system::error_code ec;
  stream_.next_layer().shutdown(asio::ip::tcp::socket::shutdown_both, ec);
  stream_.next_layer().close(ec);
}

}  // namespace strata::transport
