// MQTT over WebSocket (ws://, and wss:// with Next = an SSL stream), per
// MQTT 5.0 section 6 / 3.1.1 section 6: the client upgrades with an HTTP
// GET to the listener's path and subprotocol "mqtt" (or the older
// "mqttv3.1"); MQTT bytes travel in binary frames. The Client reads a byte
// stream, so a packet split over frames and a frame holding several
// packets need nothing special: async_read_some hands over frame payload
// as it arrives. Each write is one binary frame. Pings are answered by
// Beast while reading; a text frame closes the connection (MQTT-6.0.0-1).
//
// Handshake (inside the first async_read_some, see stream.hpp): the TLS
// handshake for wss, then the HTTP request (headers at most 8 KiB), then
// checks — a wrong path gets 404, a subprotocol list without an MQTT one
// gets 400 — and the 101 answer naming the chosen subprotocol.
#pragma once

#include <memory>
#include <optional>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/websocket/ssl.hpp>
#include <boost/beast/websocket/stream.hpp>

#include "broker/transport/stream.hpp"
#include "broker/transport/tls_context.hpp"

namespace strata::transport {

template <class Next>
class WsStream final : public Stream {
 public:
  // `tls` is null for ws:// (Next = tcp::socket); `remote` as for TcpStream.
  WsStream(boost::asio::ip::tcp::socket socket, std::string path, std::shared_ptr<const TlsContext> tls,
           std::string remote = {});
  void async_read_some(boost::asio::mutable_buffer buffer, Handler handler) override;
  void async_write(boost::asio::const_buffer buffer, Handler handler) override;
  void close(CloseNotice notice) noexcept override;
  std::string_view remote_address() const noexcept override { return remote_; }
  const std::string& peer_identity() const noexcept override { return identity_; }

 private:
  void read_upgrade(boost::asio::mutable_buffer buffer, Handler handler);
  void on_upgrade(boost::asio::mutable_buffer buffer, Handler handler);
  void refuse(unsigned status, const std::string& why, Handler handler);
  void read_frames(boost::asio::mutable_buffer buffer, Handler handler);

  std::string path_;
  std::shared_ptr<const TlsContext> tls_;
  std::shared_ptr<boost::asio::ssl::context> ctx_;  // wss: outlives ws_
  boost::beast::websocket::stream<Next> ws_;
  std::string remote_;
  std::string identity_;
  // Only during the upgrade.
  boost::beast::flat_buffer http_buffer_;
  std::optional<boost::beast::http::request_parser<boost::beast::http::empty_body>> parser_;
  bool ready_ = false;
};

using WsTcpStream = WsStream<boost::asio::ip::tcp::socket>;
using WsTlsStream = WsStream<boost::asio::ssl::stream<boost::asio::ip::tcp::socket>>;

}  // namespace strata::transport
