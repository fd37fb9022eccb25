#include "broker/transport/tcp_listener.hpp"

#include <sys/socket.h>

#include <boost/asio/socket_base.hpp>

#include "broker/util/log.hpp"

namespace strata::transport {

namespace asio = boost::asio;
using asio::ip::tcp;

TcpListener::TcpListener(asio::io_context& io, const tcp::endpoint& endpoint, AcceptHandler on_accept)
    : io_(io), acceptor_(io), retry_timer_(io), on_accept_(std::move(on_accept)) {
  acceptor_.open(endpoint.protocol());
  acceptor_.set_option(asio::socket_base::reuse_address(true));
  int one = 1;
  if (::setsockopt(acceptor_.native_handle(), SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) != 0) {
    throw boost::system::system_error(errno, boost::system::system_category(), "SO_REUSEPORT");
  }
  acceptor_.bind(endpoint);
  acceptor_.listen(asio::socket_base::max_listen_connections);
}

std::uint16_t TcpListener::port() const { return acceptor_.local_endpoint().port(); }

void TcpListener::start() { accept_next(); }

void TcpListener::stop() noexcept {
  stopped_ = true;
  retry_timer_.cancel();
  boost::system::error_code ec;
  acceptor_.close(ec);
}

void TcpListener::accept_next() {
  acceptor_.async_accept(io_, [this](const boost::system::error_code& ec, Socket socket) {
    if (stopped_) return;
    if (ec == asio::error::connection_aborted) {
      accept_next();  // the peer gave up before we accepted: nothing to report
      return;
    }
    if (ec) {
      // Typically out of file descriptors. Pause before retrying so EMFILE
      // does not spin the core, and keep serving the connections we have.
      STRATA_WARN("listener") << "accept failed: " << ec.message() << "; retrying in 100 ms";
      retry_timer_.expires_after(std::chrono::milliseconds(100));
      retry_timer_.async_wait([this](const boost::system::error_code& e) {
        if (!e && !stopped_) accept_next();
      });
      return;
    }
    // The next accept first: it takes over the memory Asio recycles from
    // this one (an accept operation's size), which the new connection's
    // first wait would otherwise take, and keep while the connection idles.
    accept_next();
    on_accept_(std::move(socket));
  });
}

}  // namespace strata::transport
