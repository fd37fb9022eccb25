// The TLS settings of one tls:// or wss:// listener: an OpenSSL SSL_CTX
// built from its certificate, key, CA file, client-certificate policy,
// ciphers and minimum version, shared by every connection the listener
// accepts on any core.
//
// Reload (SIGHUP) builds a new context from the files and swaps it in:
// connections accepted afterwards use it, existing ones keep the context
// they started with (each stream holds a shared_ptr to it). A reload that
// fails keeps the running context. current() and reload() may be called
// from any thread; the swap is an atomic shared_ptr store.
#pragma once

#include <atomic>
#include <memory>
#include <string>

#include <boost/asio/ssl/context.hpp>

#include "broker/config/config.hpp"

struct ssl_st;

namespace strata::transport {

class TlsContext {
 public:
  // Loads the files; throws std::runtime_error naming the listener and file.
  explicit TlsContext(const config::Listener& listener);

  std::shared_ptr<boost::asio::ssl::context> current() const { return ctx_.load(); }
  // Re-reads the files; false (and the reason logged) when they do not load.
  bool reload();

  // The client certificate's identity named by the listener's
  // cert_username (CN, or the first DNS/e-mail SAN) after a successful
  // handshake; empty when there is none or the policy is none.
  std::string peer_identity(ssl_st* ssl) const;

 private:
  std::shared_ptr<boost::asio::ssl::context> build() const;

  config::Listener listener_;
  std::atomic<std::shared_ptr<boost::asio::ssl::context>> ctx_;
};

}  // namespace strata::transport
