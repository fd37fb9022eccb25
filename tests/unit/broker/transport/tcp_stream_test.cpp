// TcpStream over a real loopback connection, on the core's own readiness
// set (poller.hpp): the wait completes only once there is something to
// read, read_available takes what is there without waiting, says
// would_block when nothing is, and eof once the peer closed; writes the
// socket cannot take at once finish when the peer reads; closing ends
// what is pending; a handler may destroy another stream of the same batch.
#include "broker/transport/tcp_stream.hpp"
#include "broker/transport/poller.hpp"

#include <gtest/gtest.h>

#include <array>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <tuple>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>

namespace strata::transport {
namespace {

namespace asio = boost::asio;

// A connected pair: `peer` is a plain Asio socket (the client side),
// `stream` the broker's side.
std::pair<asio::ip::tcp::socket, std::unique_ptr<TcpStream>> connect(asio::io_context& io) {
  asio::ip::tcp::acceptor acceptor(io, {asio::ip::address_v4::loopback(), 0});
  asio::ip::tcp::socket peer(io);
  peer.connect(acceptor.local_endpoint());
  return {std::move(peer), std::make_unique<TcpStream>(acceptor.accept(io))};
}

struct Pair {
  asio::io_context io;
  asio::ip::tcp::socket peer{io};
  std::unique_ptr<TcpStream> stream;

  Pair() { std::tie(peer, stream) = connect(io); }
};

template <class Done>
void run_until(asio::io_context& io, Done done) {
  for (int i = 0; i < 1000 && !done(); ++i) {
    io.restart();
    io.run_one_for(std::chrono::milliseconds(10));
  }
}

TEST(TcpStream, ReadsWhenReady) {
  Pair p;
  ASSERT_TRUE(p.stream->reads_when_ready());
  std::array<std::uint8_t, 64> buf{};
  boost::system::error_code ec;
  EXPECT_EQ(p.stream->read_available(asio::buffer(buf), ec), 0u);
  EXPECT_EQ(ec, asio::error::would_block);

  bool ready = false;
  p.stream->async_wait_readable([&](const boost::system::error_code& e) {
    EXPECT_FALSE(e);
    ready = true;
  });
  p.io.poll();
  EXPECT_FALSE(ready);  // nothing sent yet

  asio::write(p.peer, asio::buffer(std::string("hello")));
  run_until(p.io, [&] { return ready; });
  ASSERT_TRUE(ready);
  // A buffer smaller than what is there takes its size; the rest follows.
  EXPECT_EQ(p.stream->read_available(asio::buffer(buf.data(), 3), ec), 3u);
  EXPECT_FALSE(ec);
  EXPECT_EQ(p.stream->read_available(asio::buffer(buf.data() + 3, 61), ec), 2u);
  EXPECT_EQ(std::string(buf.begin(), buf.begin() + 5), "hello");
  EXPECT_EQ(p.stream->read_available(asio::buffer(buf), ec), 0u);
  EXPECT_EQ(ec, asio::error::would_block);

  // The peer's close wakes the wait too, and reads as eof.
  ready = false;
  p.stream->async_wait_readable([&](const boost::system::error_code&) { ready = true; });
  p.peer.close();
  run_until(p.io, [&] { return ready; });
  ASSERT_TRUE(ready);
  EXPECT_EQ(p.stream->read_available(asio::buffer(buf), ec), 0u);
  EXPECT_EQ(ec, asio::error::eof);
}

TEST(TcpStream, ClosingEndsAPendingWait) {
  Pair p;
  boost::system::error_code got;
  bool done = false;
  p.stream->async_wait_readable([&](const boost::system::error_code& e) {
    got = e;
    done = true;
  });
  p.stream->close(CloseNotice::none);
  run_until(p.io, [&] { return done; });
  ASSERT_TRUE(done);
  EXPECT_EQ(got, asio::error::operation_aborted);
}


// Data and the peer's end arriving together come as one event: a read
// shorter than its buffer must not be taken for "empty, wait for the next
// event", or the end would never be seen.
// Reads as Client::on_readable does: until a read comes back short or
// finds nothing, then waits again.
struct Reader {
  TcpStream& stream;
  std::string got;
  int waits = 0;
  bool eof = false;

  void wait() {
    stream.async_wait_readable([this](const boost::system::error_code& e) {
      ASSERT_FALSE(e);
      ++waits;
      read();
    });
  }
  void read() {
    std::array<char, 64> buf{};
    boost::system::error_code ec;
    for (;;) {
      const std::size_t n = stream.read_available(asio::buffer(buf), ec);
      if (n == 0) {
        if (ec == asio::error::eof) return void(eof = true);
        break;
      }
      got.append(buf.data(), n);
      if (n < buf.size()) break;
    }
    wait();
  }
};

TEST(TcpStream, DataThenEndInOneEventStillReadsTheEnd) {
  Pair p;
  asio::write(p.peer, asio::buffer(std::string("last words")));
  p.peer.shutdown(asio::ip::tcp::socket::shutdown_send);
  Reader r{*p.stream, {}, 0, false};
  r.wait();
  run_until(p.io, [&] { return r.eof; });
  EXPECT_EQ(r.got, "last words");
  EXPECT_TRUE(r.eof);
  EXPECT_EQ(r.waits, 2);
}

// A write larger than the socket's buffers finishes once the peer reads,
// with every byte in order, and completes exactly once; meanwhile unsent()
// says how much the socket has not taken.
TEST(TcpStream, WriteTheSocketCannotTakeAtOnceFinishesWhenThePeerReads) {
  Pair p;
  std::string big(32 * 1024 * 1024, '\0');
  for (std::size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>(i * 7 + i / 4096);
  int completions = 0;
  boost::system::error_code got;
  std::size_t written = 0;
  p.stream->async_write(asio::buffer(big), [&](const boost::system::error_code& e, std::size_t n) {
    ++completions;
    got = e;
    written = n;
  });
  p.io.restart();
  p.io.poll();
  EXPECT_EQ(completions, 0);  // 32 MiB do not fit in loopback's buffers
  // What the socket has not taken yet: some of it, not all.
  const std::size_t waiting = p.stream->unsent(big.size());
  EXPECT_GT(waiting, 0u);
  EXPECT_LT(waiting, big.size());
  std::string received(big.size(), '\1');
  std::thread reader([&] { asio::read(p.peer, asio::buffer(received)); });
  run_until(p.io, [&] { return completions != 0; });
  reader.join();
  EXPECT_EQ(completions, 1);
  EXPECT_FALSE(got);
  EXPECT_EQ(written, big.size());
  EXPECT_TRUE(received == big);
  EXPECT_EQ(p.stream->unsent(big.size()), 0u);
}

// A write the socket took at once is not waiting any more, even before its
// completion ran (a slow-consumer check asks unsent(), client.hpp).
TEST(TcpStream, AWriteTakenAtOnceIsNotUnsentBeforeItCompletes) {
  Pair p;
  const std::string small(1000, 's');
  int completions = 0;
  p.stream->async_write(asio::buffer(small), [&](const boost::system::error_code&, std::size_t) { ++completions; });
  EXPECT_EQ(completions, 0);  // completes from the event loop
  EXPECT_EQ(p.stream->unsent(small.size()), 0u);
  p.io.restart();
  p.io.poll();
  EXPECT_EQ(completions, 1);
}

TEST(TcpStream, ClosingEndsAPendingWrite) {
  Pair p;
  std::string big(32 * 1024 * 1024, 'x');
  boost::system::error_code got;
  int completions = 0;
  p.stream->async_write(asio::buffer(big), [&](const boost::system::error_code& e, std::size_t) {
    ++completions;
    got = e;
  });
  p.io.restart();
  p.io.poll();
  ASSERT_EQ(completions, 0);
  p.stream->close(CloseNotice::none);
  run_until(p.io, [&] { return completions != 0; });
  EXPECT_EQ(completions, 1);
  EXPECT_EQ(got, asio::error::operation_aborted);
}

TEST(TcpStream, ReadSomeWaitsForData) {
  Pair p;
  std::array<char, 16> buf{};
  std::size_t got = 0;
  bool done = false;
  p.stream->async_read_some(asio::buffer(buf), [&](const boost::system::error_code& e, std::size_t n) {
    EXPECT_FALSE(e);
    got = n;
    done = true;
  });
  p.io.restart();
  p.io.poll();
  EXPECT_FALSE(done);
  asio::write(p.peer, asio::buffer(std::string("PROXY")));
  run_until(p.io, [&] { return done; });
  ASSERT_TRUE(done);
  EXPECT_EQ(std::string(buf.data(), got), "PROXY");
}

// Two streams ready in the same batch: the first one's handler destroys
// the other (as closing one client can end another on the same core).
// The other's event, still in the batch, must not reach it (ASan checks).
TEST(TcpStream, AHandlerMayDestroyAnotherStreamOfTheSameBatch) {
  asio::io_context io;
  auto pair_a = connect(io);
  auto pair_b = connect(io);
  std::unique_ptr<TcpStream>& a = pair_a.second;
  std::unique_ptr<TcpStream>& b = pair_b.second;
  int calls = 0;
  a->async_wait_readable([&](const boost::system::error_code&) {
    ++calls;
    b.reset();
  });
  b->async_wait_readable([&](const boost::system::error_code&) {
    ++calls;
    a.reset();
  });
  asio::write(pair_a.first, asio::buffer(std::string("a")));
  asio::write(pair_b.first, asio::buffer(std::string("b")));
  run_until(io, [&] { return calls != 0; });
  io.restart();
  io.poll();
  EXPECT_EQ(calls, 1);
  EXPECT_TRUE(a == nullptr || b == nullptr);
}

// A handler that owns its stream (as a connection's handler owns the
// connection, which owns the stream) is destroyed with the io_context,
// and the stream with it: nothing leaks (LeakSanitizer in the asan preset).
TEST(TcpStream, ShutdownDestroysHandlersThatOwnTheirStream) {
  auto io = std::make_unique<asio::io_context>();
  std::weak_ptr<std::unique_ptr<TcpStream>> watch;
  {
    auto pair = connect(*io);
    auto owner = std::make_shared<std::unique_ptr<TcpStream>>(std::move(pair.second));
    (*owner)->async_wait_readable([owner](const boost::system::error_code&) {});
    watch = owner;
  }  // the peer's socket goes; the stream is kept by its own pending wait
  EXPECT_FALSE(watch.expired());
  io.reset();
  EXPECT_TRUE(watch.expired());
}

// Poller::batch (a core's deliveries from another core): what complete()
// is given inside it runs at its end, before batch() returns, and nothing
// is posted; a batch inside a batch joins it.
TEST(Poller, CompletionsInsideABatchRunAtItsEnd) {
  asio::io_context io;
  Poller& poller = Poller::of(io);
  std::string order;
  EXPECT_FALSE(poller.dispatching());
  poller.batch([&] {
    EXPECT_TRUE(poller.dispatching());
    poller.complete([&] {
      order += 'c';
      poller.complete([&] { order += 'd'; });  // completed by a completion: same batch
    });
    poller.batch([&] {
      order += 'n';
      poller.complete([&] { order += 'e'; });
    });
    order += 'b';
  });
  EXPECT_EQ(order, "nbced");
  EXPECT_FALSE(poller.dispatching());
  EXPECT_EQ(io.poll(), 0u);  // nothing was posted
  io.restart();              // (out of work, the context stopped)
  // Outside a batch, complete() posts.
  poller.complete([&] { order += 'p'; });
  EXPECT_EQ(order, "nbced");
  EXPECT_EQ(io.poll(), 1u);
  EXPECT_EQ(order, "nbcedp");
}

}  // namespace
}  // namespace strata::transport
