#include "broker/transport/tcp_stream.hpp"

#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <utility>


#include "broker/transport/linger.hpp"
#include "broker/transport/poller.hpp"
#include "broker/util/log.hpp"

namespace strata::transport {

namespace asio = boost::asio;
using asio::ip::tcp;

namespace {

boost::system::error_code last_error() { return {errno, boost::system::system_category()}; }

}  // namespace

std::string format_endpoint(const tcp::endpoint& ep) {
  std::string host = ep.address().to_string();
  if (ep.address().is_v6()) host = "[" + host + "]";
  return host + ":" + std::to_string(ep.port());
}

TcpStream::TcpStream(Socket socket, std::string remote) : poller_(&Poller::of(socket.get_executor().context())) {
  boost::system::error_code ec;
  // MQTT packets are small and latency matters more than segment count;
  // writes are already batched per connection (see Client::flush).
  socket.set_option(tcp::no_delay(true), ec);
  // Every read and write here is a non-blocking system call.
  socket.non_blocking(true, ec);
  remote_ = remote_or(socket, std::move(remote));
  fd_ = socket.release(ec);
  if (ec) fd_ = -1;
  if (fd_ >= 0 && !poller_->add(*this)) {
    STRATA_WARN("transport") << remote_.view() << ": cannot watch the connection: " << last_error().message();
    ::close(std::exchange(fd_, -1));  // every operation fails, and the client closes
  }
}

TcpStream::~TcpStream() {
  if (fd_ < 0) return;
  poller_->remove(*this);
  ::close(fd_);
}

TcpStream::Pending& TcpStream::pending() {
  if (!pending_) pending_ = std::make_unique<Pending>();
  return *pending_;
}

void TcpStream::complete(Handler handler, boost::system::error_code ec, std::size_t n) {
  poller_->complete([handler = std::move(handler), ec, n]() mutable { handler(ec, n); });
}

void TcpStream::complete(WaitHandler handler, boost::system::error_code ec) {
  poller_->complete([handler = std::move(handler), ec]() mutable { handler(ec); });
}

void TcpStream::async_read_some(asio::mutable_buffer buffer, Handler handler) {
  boost::system::error_code ec;
  std::size_t n = 0;
  if (buffer.size() != 0) {  // as Asio: an empty read completes at once
    n = read_available(buffer, ec);
    if (n == 0 && ec == asio::error::would_block) {
      Pending& p = pending();
      p.read_buffer = buffer;
      p.read = std::move(handler);
      return;
    }
  }
  complete(std::move(handler), ec, n);
}

void TcpStream::async_wait_readable(WaitHandler handler) {
  if (fd_ < 0) return complete(std::move(handler), asio::error::bad_descriptor);
  // Data that came before this wait sent its event already: say so now.
  if (readable_) return complete(std::move(handler), {});
  wait_ = std::move(handler);
}

std::size_t TcpStream::read_available(asio::mutable_buffer buffer, boost::system::error_code& ec) {
  ec.clear();
  if (fd_ < 0) {
    ec = asio::error::bad_descriptor;
    return 0;
  }
  for (;;) {
    const ssize_t n = ::recv(fd_, buffer.data(), buffer.size(), 0);
    if (n > 0) {
      // Less than asked for: the socket is empty now, and what comes next
      // sends a new event (edge-triggered). Not so once the peer's end was
      // reported: that event came already, and the end is still unread.
      if (static_cast<std::size_t>(n) < buffer.size() && !hangup_) readable_ = false;
      return static_cast<std::size_t>(n);
    }
    if (n == 0) {
      if (buffer.size() != 0) ec = asio::error::eof;
      return 0;
    }
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) {
      readable_ = false;
      ec = asio::error::would_block;
      return 0;
    }
    ec = last_error();
    return 0;
  }
}

bool TcpStream::send_some(asio::const_buffer buffer, std::size_t& written, boost::system::error_code& ec) noexcept {
  const auto* data = static_cast<const char*>(buffer.data());
  while (written < buffer.size()) {
    const ssize_t n = ::send(fd_, data + written, buffer.size() - written, MSG_NOSIGNAL);
    if (n >= 0) {
      written += static_cast<std::size_t>(n);
      continue;
    }
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) return false;
    ec = last_error();
    return true;
  }
  return true;
}

void TcpStream::async_write(asio::const_buffer buffer, Handler handler) {
  boost::system::error_code ec;
  std::size_t written = 0;
  if (fd_ < 0) {
    ec = asio::error::bad_descriptor;
  } else if (!send_some(buffer, written, ec)) {
    // The socket is full: the rest goes when epoll reports room.
    Pending& p = pending();
    p.write_buffer = buffer;
    p.written = written;
    p.write = std::move(handler);
    return;
  }
  // Written at once (the common case), or failed: completes as Asio's
  // async_write would, from the event loop and not from inside this call.
  complete(std::move(handler), ec, written);
}

void TcpStream::on_events(std::uint32_t events) {
  if ((events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) != 0) readable_ = true;
  if ((events & (EPOLLRDHUP | EPOLLHUP | EPOLLERR)) != 0) hangup_ = true;
  if (pending_) {
    Pending& p = *pending_;
    if (p.write && (events & (EPOLLOUT | EPOLLHUP | EPOLLERR)) != 0) {
      boost::system::error_code ec;
      if (send_some(p.write_buffer, p.written, ec)) complete(std::move(p.write), ec, p.written);
    }
    if (p.read && readable_) {
      boost::system::error_code ec;
      const std::size_t n = read_available(p.read_buffer, ec);
      if (n != 0 || ec != asio::error::would_block) complete(std::move(p.read), ec, n);
    }
  }
  if (readable_ && wait_) {
    // Last: the handler may close this stream and end its connection.
    WaitHandler handler = std::move(wait_);
    handler({});
  }
}

void TcpStream::abort_all() {
  if (wait_) complete(std::move(wait_), asio::error::operation_aborted);
  if (pending_) {
    if (pending_->read) complete(std::move(pending_->read), asio::error::operation_aborted, 0);
    if (pending_->write) complete(std::move(pending_->write), asio::error::operation_aborted, pending_->written);
  }
}

void TcpStream::drop_handlers() noexcept {
  WaitHandler wait = std::move(wait_);
  std::unique_ptr<Pending> pending = std::move(pending_);
  // Both go here, and with them maybe the connection and this stream.
}

void TcpStream::close(CloseNotice notice) noexcept {
  if (fd_ < 0) return;
  poller_->remove(*this);
  const int fd = std::exchange(fd_, -1);
  asio::io_context& io = poller_->io();  // this stream may be gone below
  try {
    abort_all();
  } catch (...) {
    drop_handlers();  // out of memory for the completions: as at shutdown
  }
  if (notice != CloseNotice::none) {
    // Back to Asio for the bounded lingering read (linger.hpp): closing
    // is rare, and the linger is written once, for every transport.
    sockaddr_storage local{};
    socklen_t len = sizeof local;
    const bool v6 = ::getsockname(fd, reinterpret_cast<sockaddr*>(&local), &len) == 0 && local.ss_family == AF_INET6;
    boost::system::error_code ec;
    tcp::socket socket(io);
    socket.assign(v6 ? tcp::v6() : tcp::v4(), fd, ec);
    if (!ec) return linger_close(std::move(socket));
  }
  ::shutdown(fd, SHUT_RDWR);
  ::close(fd);
}

}  // namespace strata::transport
