// The byte stream under one strata-bench connection: plain TCP, TLS,
// WebSocket or WebSocket over TLS (the --url scheme picks it).
//
// A std::variant rather than a virtual stream: each async operation picks
// its alternative once (one jump per read or write, not per byte), and the
// plain TCP alternative is exactly the socket strata-bench used before, so
// the tcp:// path keeps its speed. Writes stay batched: one async_write per
// batch of packets, which for WebSocket is one binary message (MQTT packets
// may span or share WebSocket messages, MQTT 5.0 section 6).
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <type_traits>
#include <utility>
#include <variant>

#include <boost/asio/buffer.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/websocket/ssl.hpp>  // teardown of a WebSocket over TLS
#include <boost/beast/websocket/stream.hpp>

#include "tools/bench/options.hpp"

namespace strata::bench {

class BenchStream {
 public:
  using tcp_socket = boost::asio::ip::tcp::socket;
  using tls_stream = boost::asio::ssl::stream<tcp_socket>;
  using ws_stream = boost::beast::websocket::stream<tcp_socket>;
  using wss_stream = boost::beast::websocket::stream<tls_stream>;
  using HandshakeDone = std::function<void(const boost::system::error_code&, const char* stage)>;

  // `tls` is the shared client context (tls and wss only; verify: check the
  // server's certificate and name).
  BenchStream(boost::asio::io_context& io, Transport transport, boost::asio::ssl::context* tls,
              bool verify);

  // The TCP socket at the bottom: open, bind, connect, close go here.
  tcp_socket& socket() noexcept;

  // After the TCP connect: the TLS handshake and/or the WebSocket upgrade
  // (subprotocol "mqtt", binary messages). Plain TCP is done at once.
  void async_handshake(const std::string& host, std::uint16_t port, const std::string& path,
                       HandshakeDone done);

  template <class Handler>
  void async_write(boost::asio::const_buffer b, Handler&& h) {
    std::visit(
        [&](auto& s) {
          if constexpr (is_websocket<std::decay_t<decltype(s)>>) {
            s.async_write(b, std::forward<Handler>(h));
          } else {
            boost::asio::async_write(s, b, std::forward<Handler>(h));
          }
        },
        s_);
  }

  template <class Handler>
  void async_read_some(boost::asio::mutable_buffer b, Handler&& h) {
    std::visit([&](auto& s) { s.async_read_some(b, std::forward<Handler>(h)); }, s_);
  }

 private:
  template <class S>
  static constexpr bool is_websocket = std::is_same_v<S, ws_stream> || std::is_same_v<S, wss_stream>;

  std::variant<tcp_socket, tls_stream, ws_stream, wss_stream> s_;
  bool verify_;
};

// The client TLS context for --url tls:// and wss:// (--cafile, --insecure,
// --cert/--key); on a bad file fills `error` and returns false.
bool configure_tls(const Options& o, boost::asio::ssl::context& ctx, std::string& error);

}  // namespace strata::bench
