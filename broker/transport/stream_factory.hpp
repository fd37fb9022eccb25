// Turns a socket accepted by a listener into that listener's Stream: TCP,
// TLS, WebSocket or WebSocket over TLS. One factory per configured
// listener, shared by the acceptors of all cores (make() is const and
// thread-safe; the TLS context is swapped atomically by reload()).
#pragma once

#include <memory>

#include "broker/config/config.hpp"
#include "broker/transport/socket.hpp"
#include "broker/transport/stream.hpp"
#include "broker/transport/tls_context.hpp"

namespace strata::transport {

class StreamFactory : public std::enable_shared_from_this<StreamFactory> {
 public:
  // Loads the TLS files of a tls/wss listener; throws std::runtime_error.
  explicit StreamFactory(const config::Listener& listener);
  // With the listener's proxy_protocol, a ProxyStream that makes the
  // listener's stream once the PROXY header named the client.
  std::unique_ptr<Stream> make(Socket socket) const;
  // Re-reads the TLS files (SIGHUP); false when they failed to load and
  // the running ones stay. True for listeners without TLS.
  bool reload();

 private:
  // The listener's own stream; `remote` overrides the socket's peer.
  std::unique_ptr<Stream> make_stream(Socket socket, std::string remote) const;

  std::shared_ptr<const config::Listener> listener_;
  std::shared_ptr<TlsContext> tls_;
};

}  // namespace strata::transport
