#include "broker/transport/linger.hpp"

#include <array>
#include <memory>

#include <boost/asio/steady_timer.hpp>

namespace strata::transport {

namespace asio = boost::asio;
using asio::ip::tcp;

namespace {

// Per thread: a core's lingering sockets are read, and counted, on its
// thread only.
thread_local int active = 0;
// What is read is thrown away, so every lingering socket of a thread reads
// into the same buffer: the reads run one after the other on that thread.
thread_local std::array<char, 4096> discard;

class Linger : public std::enable_shared_from_this<Linger> {
 public:
  explicit Linger(tcp::socket&& socket) : socket_(std::move(socket)), timer_(socket_.get_executor()) { ++active; }
  Linger(const Linger&) = delete;
  Linger& operator=(const Linger&) = delete;
  ~Linger() {
    --active;
    boost::system::error_code ec;
    socket_.close(ec);
  }

  void start() {
    timer_.expires_after(linger_time);
    timer_.async_wait([self = shared_from_this()](const boost::system::error_code& ec) {
      if (ec) return;  // cancelled: the reading ended first
      boost::system::error_code ignored;
      self->socket_.close(ignored);  // the read completes with an error
    });
    read();
  }

 private:
  void read() {
    socket_.async_read_some(asio::buffer(discard),
                            [self = shared_from_this()](const boost::system::error_code& ec, std::size_t n) {
                              self->bytes_ += n;
                              if (ec || self->bytes_ >= linger_bytes) {
                                // The peer closed (or reset, or the time is
                                // up), or it sent too much: close now.
                                self->timer_.cancel();
                                return;
                              }
                              self->read();
                            });
  }

  tcp::socket socket_;
  asio::steady_timer timer_;
  std::size_t bytes_ = 0;
};

}  // namespace

void linger_close(tcp::socket&& socket) noexcept {
  boost::system::error_code ec;
  socket.cancel(ec);
  socket.shutdown(tcp::socket::shutdown_send, ec);
  if (ec || !socket.is_open()) {
    socket.close(ec);
    return;
  }
  try {
    std::make_shared<Linger>(std::move(socket))->start();
  } catch (...) {
    socket.close(ec);  // out of memory: close at once
  }
}

int lingering_closes() noexcept { return active; }

}  // namespace strata::transport
