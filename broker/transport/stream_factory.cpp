#include "broker/transport/stream_factory.hpp"

#include "broker/transport/proxy_stream.hpp"
#include "broker/transport/tcp_stream.hpp"
#include "broker/transport/tls_stream.hpp"
#include "broker/transport/ws_stream.hpp"

namespace strata::transport {

StreamFactory::StreamFactory(const config::Listener& listener)
    : listener_(std::make_shared<const config::Listener>(listener)) {
  if (listener_->tls()) tls_ = std::make_shared<TlsContext>(*listener_);
}

std::unique_ptr<Stream> StreamFactory::make(Socket socket) const {
  std::unique_ptr<Stream> s;
  if (listener_->proxy_protocol != config::ProxyProtocol::none) {
    s = std::make_unique<ProxyStream>(std::move(socket), listener_->proxy_protocol,
                                      [self = shared_from_this()](Socket inner, std::string remote) {
                                        return self->make_stream(std::move(inner), std::move(remote));
                                      });
  } else {
    s = make_stream(std::move(socket), {});
  }
  s->set_listener(listener_);
  return s;
}

std::unique_ptr<Stream> StreamFactory::make_stream(Socket socket, std::string remote) const {
  using boost::asio::ip::tcp;
  const std::string& scheme = listener_->scheme;
  // TLS and WebSocket take the socket with Asio's general executor type
  // (their streams are templates over it); moved, not registered again.
  if (scheme == "tls") return std::make_unique<TlsStream>(tcp::socket(std::move(socket)), tls_, std::move(remote));
  if (scheme == "ws") {
    return std::make_unique<WsTcpStream>(tcp::socket(std::move(socket)), listener_->path, nullptr, std::move(remote));
  }
  if (scheme == "wss") {
    return std::make_unique<WsTlsStream>(tcp::socket(std::move(socket)), listener_->path, tls_, std::move(remote));
  }
  return std::make_unique<TcpStream>(std::move(socket), std::move(remote));
}

bool StreamFactory::reload() { return tls_ ? tls_->reload() : true; }

}  // namespace strata::transport
