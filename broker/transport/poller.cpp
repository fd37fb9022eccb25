#include "broker/transport/poller.hpp"

#include <unistd.h>

#include <cerrno>
#include <system_error>

#include "broker/transport/tcp_stream.hpp"

namespace strata::transport {

namespace asio = boost::asio;

asio::io_context::id Poller::id;

Poller::Poller(asio::io_context& io)
    : asio::io_context::service(io), io_(io), epoll_fd_(::epoll_create1(EPOLL_CLOEXEC)), descriptor_(io) {
  if (epoll_fd_ < 0) throw std::system_error(errno, std::system_category(), "epoll_create1");
  descriptor_.assign(epoll_fd_);  // owns it from here
}

Poller::~Poller() = default;

bool Poller::add(TcpStream& stream) noexcept {
  if (shut_down_) {
    errno = ESHUTDOWN;
    return false;
  }
  // Edge-triggered: one event per change, so a registration is made once
  // and never re-armed. TcpStream keeps what the last event said.
  epoll_event ev{};
  ev.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET;
  ev.data.ptr = &stream;
  if (::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, stream.fd_, &ev) != 0) return false;
  stream.prev_ = nullptr;
  stream.next_ = streams_;
  if (streams_ != nullptr) streams_->prev_ = &stream;
  streams_ = &stream;
  ++count_;
  arm();
  return true;
}

void Poller::remove(TcpStream& stream) noexcept {
  if (stream.prev_ == nullptr && streams_ != &stream) return;  // not registered
  if (!shut_down_) {
    epoll_event ev{};
    ::epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, stream.fd_, &ev);
  }
  for (int i = next_; i < size_; ++i) {
    if (batch_[static_cast<std::size_t>(i)].data.ptr == &stream) batch_[static_cast<std::size_t>(i)].data.ptr = nullptr;
  }
  if (stream.prev_ != nullptr) {
    stream.prev_->next_ = stream.next_;
  } else {
    streams_ = stream.next_;
  }
  if (stream.next_ != nullptr) stream.next_->prev_ = stream.prev_;
  stream.prev_ = stream.next_ = nullptr;
  // With nothing registered, nothing is waited for: an io_context without
  // connections runs out of work, as it did with Asio's sockets.
  if (--count_ == 0 && armed_) {
    boost::system::error_code ec;
    descriptor_.cancel(ec);
  }
}

void Poller::arm() {
  if (armed_ || shut_down_ || count_ == 0) return;
  armed_ = true;
  descriptor_.async_wait(asio::posix::descriptor_base::wait_read,
                         [this](const boost::system::error_code& ec) { on_ready(ec); });
}

void Poller::on_ready(const boost::system::error_code& ec) {
  armed_ = false;
  if (ec) {
    // Cancelled when the last stream went; one may have come since.
    if (ec == asio::error::operation_aborted) arm();
    return;
  }
  // Whatever a handler does (throws included), the batch ends, what it
  // completed still runs, and the set is waited on again.
  struct Rearm {
    Poller& p;
    ~Rearm() {
      p.next_ = p.size_ = 0;
      p.arm();
    }
  } rearm{*this};
  const int n = ::epoll_wait(epoll_fd_, batch_.data(), static_cast<int>(batch_.size()), 0);
  if (n <= 0) return;
  BatchScope scope{*this};
  size_ = n;
  while (next_ < size_) {
    const epoll_event& e = batch_[static_cast<std::size_t>(next_++)];
    if (auto* stream = static_cast<TcpStream*>(e.data.ptr)) stream->on_events(e.events);
  }
  run_deferred();
}

Poller::BatchScope::~BatchScope() {
  poller.dispatching_ = false;
  try {
    for (auto& fn : poller.deferred_) boost::asio::post(poller.io_, std::move(fn));  // only after a throw
  } catch (...) {
  }
  poller.deferred_.clear();
}

void Poller::run_deferred() {
  // A completion may complete more (a write done starts the next one):
  // those join the end and run in this loop too.
  std::size_t i = 0;
  try {
    for (; i < deferred_.size(); ++i) {
      auto fn = std::move(deferred_[i]);
      fn();
    }
  } catch (...) {
    // What ran (and the one that threw) goes; the rest is posted.
    deferred_.erase(deferred_.begin(), deferred_.begin() + static_cast<std::ptrdiff_t>(i + 1));
    throw;
  }
  deferred_.clear();
}

void Poller::shutdown() {
  shut_down_ = true;
  // The handlers the streams hold may own their connections (and so the
  // streams): destroy them, as Asio destroys pending operations here.
  while (streams_ != nullptr) {
    TcpStream& s = *streams_;
    remove(s);
    s.drop_handlers();
  }
  boost::system::error_code ec;
  descriptor_.close(ec);
}

}  // namespace strata::transport
