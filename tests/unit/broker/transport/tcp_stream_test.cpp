// TcpStream's readiness reads over a real loopback connection: the wait
// completes only once there is something to read, read_available takes
// what is there without waiting, says would_block when nothing is, and
// eof once the peer closed.
#include "broker/transport/tcp_stream.hpp"

#include <gtest/gtest.h>

#include <array>
#include <string>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>

namespace strata::transport {
namespace {

namespace asio = boost::asio;

struct Pair {
  asio::io_context io;
  asio::ip::tcp::socket peer{io};
  std::unique_ptr<TcpStream> stream;

  Pair() {
    asio::ip::tcp::acceptor acceptor(io, {asio::ip::address_v4::loopback(), 0});
    peer.connect(acceptor.local_endpoint());
    stream = std::make_unique<TcpStream>(acceptor.accept(io));
  }
};

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
  for (int i = 0; i < 1000 && !ready; ++i) p.io.run_one_for(std::chrono::milliseconds(10));
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
  p.io.restart();  // ran out of work after the first wait
  for (int i = 0; i < 1000 && !ready; ++i) p.io.run_one_for(std::chrono::milliseconds(10));
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
  for (int i = 0; i < 1000 && !done; ++i) p.io.run_one_for(std::chrono::milliseconds(10));
  ASSERT_TRUE(done);
  EXPECT_EQ(got, asio::error::operation_aborted);
}

}  // namespace
}  // namespace strata::transport
