#include "broker/transport/stream_factory.hpp"

#include "broker/transport/tcp_stream.hpp"
#include "broker/transport/tls_stream.hpp"
#include "broker/transport/ws_stream.hpp"

namespace strata::transport {

StreamFactory::StreamFactory(const config::Listener& listener)
    : listener_(std::make_shared<const config::Listener>(listener)) {
  if (listener_->tls()) tls_ = std::make_shared<TlsContext>(*listener_);
}

std::unique_ptr<Stream> StreamFactory::make(boost::asio::ip::tcp::socket socket) const {
  const std::string& scheme = listener_->scheme;
  std::unique_ptr<Stream> s;
  if (scheme == "tls") {
    s = std::make_unique<TlsStream>(std::move(socket), tls_);
  } else if (scheme == "ws") {
    s = std::make_unique<WsTcpStream>(std::move(socket), listener_->path, nullptr);
  } else if (scheme == "wss") {
    s = std::make_unique<WsTlsStream>(std::move(socket), listener_->path, tls_);
  } else {
    s = std::make_unique<TcpStream>(std::move(socket));
  }
  s->set_listener(listener_);
  return s;
}

bool StreamFactory::reload() { return tls_ ? tls_->reload() : true; }

}  // namespace strata::transport
