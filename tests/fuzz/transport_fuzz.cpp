// libFuzzer target for the byte-level front of a listener
// (broker/transport): the PROXY protocol header and MQTT over WebSocket —
// the HTTP upgrade, the listener's path and subprotocol checks, and frame
// parsing (Beast) with Strata's rules on top.
//
// The first input byte picks the listener's proxy_protocol (none, v1, v2,
// any); the rest is what a client sends. It goes through the real stream
// stack, ProxyStream in front of WsStream, over a socket pair, read the way
// a Client reads until the stream fails or the input ends. Sanitizers
// catch memory errors; a hang is a timeout.
//
// The same bytes also go to the pure header parser with properties checked
// (a violation traps): a complete header is at most the input, parses the
// same on its own, and every shorter prefix asks for more bytes without
// asking for one past the header's end.
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include "broker/config/config.hpp"
#include "broker/transport/proxy_header.hpp"
#include "broker/transport/stream_factory.hpp"
#include "broker/util/log.hpp"

namespace {

using namespace strata;
namespace asio = boost::asio;
using transport::proxy::Status;

void require(bool ok) {
  if (!ok) __builtin_trap();
}

void check_header_parser(std::span<const std::uint8_t> input, config::ProxyProtocol versions) {
  const auto r = transport::proxy::parse(input, versions);
  switch (r.status) {
    case Status::need_more:
      require(r.need >= 1);
      return;
    case Status::error:
      require(!r.error.empty());
      return;
    case Status::done: {
      require(r.length >= 15 && r.length <= input.size());
      const auto alone = transport::proxy::parse(input.first(r.length), versions);
      require(alone.status == Status::done && alone.length == r.length && alone.source == r.source);
      for (std::size_t k = 0; k < r.length; ++k) {
        const auto p = transport::proxy::parse(input.first(k), versions);
        require(p.status == Status::need_more && p.need >= 1 && k + p.need <= r.length);
      }
      return;
    }
  }
}

// Feeds `input` to a ws:// listener's stream and reads it like a Client.
void run_stream(std::span<const std::uint8_t> input, config::ProxyProtocol versions) {
  int fds[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM, 0, fds) != 0) return;
  // The client side: everything at once (bounded well below the socket
  // buffer), then end of stream.
  const std::size_t n = std::min<std::size_t>(input.size(), 64 * 1024);
  std::size_t sent = 0;
  while (sent < n) {
    ssize_t w = ::send(fds[1], input.data() + sent, n - sent, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (w <= 0) break;
    sent += static_cast<std::size_t>(w);
  }
  ::shutdown(fds[1], SHUT_WR);

  asio::io_context io;
  transport::Socket socket(io);
  boost::system::error_code ec;
  socket.assign(asio::ip::tcp::v4(), fds[0], ec);
  if (ec) {
    ::close(fds[0]);
    ::close(fds[1]);
    return;
  }
  config::Listener listener;
  listener.scheme = "ws";
  listener.path = "/mqtt";
  listener.proxy_protocol = versions;
  auto factory = std::make_shared<transport::StreamFactory>(listener);
  std::unique_ptr<transport::Stream> stream = factory->make(std::move(socket));

  // The read handler captures one pointer (Stream::Handler holds it in place).
  struct Reader {
    transport::Stream& stream;
    std::uint8_t buffer[512];
    int reads = 0;
    void read() {
      stream.async_read_some(asio::buffer(buffer), [this](const boost::system::error_code& e, std::size_t got) {
        if (e || ++reads > 100000) return;
        require(got <= sizeof buffer);
        read();
      });
    }
  } reader{*stream, {}, 0};
  reader.read();
  io.run();
  stream->close(transport::CloseNotice::protocol_error);
  ::close(fds[1]);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const bool quiet = (log::set_level(log::Level::error), true);
  (void)quiet;
  if (size == 0) return 0;
  const auto versions = static_cast<config::ProxyProtocol>(data[0] & 3);
  const std::span<const std::uint8_t> rest(data + 1, size - 1);
  for (auto v : {config::ProxyProtocol::v1, config::ProxyProtocol::v2, config::ProxyProtocol::any}) {
    check_header_parser(rest, v);
  }
  run_stream(rest, versions);
  return 0;
}
