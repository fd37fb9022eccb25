// Strata's own readiness set for plain TCP connections, one per io_context
// (an Asio service, so each core has its own and it lives as long as the
// core's io_context).
//
// Why not Asio's reactor: most connections are idle, and idle connections
// are what memory scales with. Asio keeps, per socket, a descriptor state
// (168 bytes in its epoll reactor) and, per pending wait, an operation
// object (128 bytes): about 320 bytes per idle connection, more than a
// third of what one costs. Here a connection is one epoll registration
// (kernel memory) and the TcpStream that holds its handler in place.
//
// It also costs fewer system calls: each descriptor is registered once,
// edge-triggered for input and output, where Asio's async_wait re-arms the
// socket with epoll_ctl on every wait. The set's own epoll descriptor is
// waited on through Asio (one re-arm per wake-up of the core, whatever the
// number of connections ready), so timers, posted work and the TLS and
// WebSocket sockets that stay on Asio run on the same thread and loop.
//
// Everything happens on the io_context's thread: streams register, wait,
// complete and close there (the core's threading rule, core.hpp).
#pragma once

#include <sys/epoll.h>

#include <array>
#include <cstdint>
#include <utility>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>

#include "broker/util/inline_function.hpp"

namespace strata::transport {

class TcpStream;

class Poller final : public boost::asio::io_context::service {
 public:
  static boost::asio::io_context::id id;

  explicit Poller(boost::asio::io_context& io);
  Poller(const Poller&) = delete;
  Poller& operator=(const Poller&) = delete;
  ~Poller() override;

  // The poller of `io`, made on first use.
  static Poller& of(boost::asio::io_context& io) { return boost::asio::use_service<Poller>(io); }

  boost::asio::io_context& io() noexcept { return io_; }

  // Registers the stream's descriptor, edge-triggered for input, output
  // and the peer's end; false (errno set) when epoll refuses it.
  bool add(TcpStream& stream) noexcept;
  // Takes the stream's descriptor out (before it is closed or handed to
  // another owner), and drops any event of it still waiting in the batch
  // being dispatched: a handler run for one stream may close another.
  void remove(TcpStream& stream) noexcept;

  // Completes an operation (calls `fn`) from the event loop, not from
  // inside the call that started it: at the end of the batch being
  // dispatched when there is one, else posted to the io_context. A write
  // done at once and a wait whose data was already there then cost no
  // posted handler, and so no extra non-blocking poll of Asio's reactor
  // before the core goes back to sleep (Asio polls once more whenever
  // handlers are queued).
  template <class F>
  void complete(F&& fn) {
    if (dispatching_) {
      deferred_.emplace_back(std::forward<F>(fn));
    } else {
      boost::asio::post(io_, std::forward<F>(fn));
    }
  }

  // True while a batch is dispatched: what complete() is given now runs at
  // its end, after every event of the batch. Output can be gathered so: a
  // connection that many of the batch's messages go to writes them once.
  bool dispatching() const noexcept { return dispatching_; }

  // Runs `fn` as a batch of its own (a core's deliveries posted from
  // another core): complete() inside it runs at its end, not posted. Inside
  // a batch already, `fn` simply joins it.
  template <class F>
  void batch(F&& fn) {
    if (dispatching_) {
      fn();
      return;
    }
    BatchScope scope{*this};
    fn();
    run_deferred();
  }

 private:
  // Marks a batch; at its end (throws included) whatever it completed and
  // did not run is posted, so nothing is lost.
  struct BatchScope {
    explicit BatchScope(Poller& p) noexcept : poller(p) { p.dispatching_ = true; }
    BatchScope(const BatchScope&) = delete;
    BatchScope& operator=(const BatchScope&) = delete;
    ~BatchScope();
    Poller& poller;
  };

  void shutdown() override;
  void arm();
  void on_ready(const boost::system::error_code& ec);
  void run_deferred();

  boost::asio::io_context& io_;
  int epoll_fd_ = -1;
  boost::asio::posix::basic_stream_descriptor<boost::asio::io_context::executor_type> descriptor_;
  bool armed_ = false;
  bool shut_down_ = false;
  // Registered streams, so that shutdown can drop the handlers they hold
  // (a handler may own its connection, which owns the stream).
  TcpStream* streams_ = nullptr;
  std::size_t count_ = 0;
  // The batch being dispatched: [next_, size_) are still to come.
  std::array<epoll_event, 64> batch_{};
  int next_ = 0;
  int size_ = 0;
  bool dispatching_ = false;
  // complete() during a batch (reused: no allocation per turn). Room for a
  // stream's handler with its error code and byte count.
  std::vector<util::InlineFunction<void(), 64>> deferred_;
};

}  // namespace strata::transport
