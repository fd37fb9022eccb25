#include "broker/transport/stream_factory.hpp"

#include "broker/transport/tcp_stream.hpp"
#include "broker/transport/tls_stream.hpp"
#include "broker/transport/ws_stream.hpp"

namespace strata::transport {

StreamFactory::StreamFactory(const config::Listener& listener) : listener_(listener) {
  if (listener_.tls()) tls_ = std::make_shared<TlsContext>(listener_);
}

std::unique_ptr<Stream> StreamFactory::make(boost::asio::ip::tcp::socket socket) const {
  if (listener_.scheme == "tls") return std::make_unique<TlsStream>(std::move(socket), tls_);
  if (listener_.scheme == "ws") return std::make_unique<WsTcpStream>(std::move(socket), listener_.path, nullptr);
  if (listener_.scheme == "wss") return std::make_unique<WsTlsStream>(std::move(socket), listener_.path, tls_);
  return std::make_unique<TcpStream>(std::move(socket));
}

bool StreamFactory::reload() { return tls_ ? tls_->reload() : true; }

}  // namespace strata::transport
