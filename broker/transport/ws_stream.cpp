#include "broker/transport/ws_stream.hpp"

#include <limits>

#include <boost/asio/write.hpp>
#include <boost/beast/core/stream_traits.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/beast/websocket/rfc6455.hpp>

#include "broker/transport/linger.hpp"
#include "broker/transport/tcp_stream.hpp"
#include "broker/transport/tls_stream.hpp"
#include "broker/util/log.hpp"

namespace strata::transport {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
using asio::ip::tcp;
using TlsNext = asio::ssl::stream<tcp::socket>;

namespace {

constexpr std::uint32_t max_upgrade_header = 8 * 1024;

// The MQTT subprotocol to answer with, from a Sec-WebSocket-Protocol list
// ("mqtt, foo"); empty when the client named none of ours.
std::string pick_subprotocol(std::string_view offered) {
  std::string_view best;
  while (!offered.empty()) {
    auto comma = offered.find(',');
    std::string_view item = offered.substr(0, comma);
    offered = comma == std::string_view::npos ? std::string_view() : offered.substr(comma + 1);
    while (!item.empty() && (item.front() == ' ' || item.front() == '\t')) item.remove_prefix(1);
    while (!item.empty() && (item.back() == ' ' || item.back() == '\t')) item.remove_suffix(1);
    if (item == "mqtt") return "mqtt";
    if (item == "mqttv3.1") best = item;
  }
  return std::string(best);
}

}  // namespace

template <>
WsStream<tcp::socket>::WsStream(tcp::socket socket, std::string path, std::shared_ptr<const TlsContext> tls,
                                std::string remote)
    : path_(std::move(path)),
      tls_(std::move(tls)),
      ws_(std::move(socket)),
      remote_(remote_or(ws_.next_layer(), std::move(remote))) {
  boost::system::error_code ec;
  ws_.next_layer().set_option(tcp::no_delay(true), ec);
}

template <>
WsStream<TlsNext>::WsStream(tcp::socket socket, std::string path, std::shared_ptr<const TlsContext> tls,
                            std::string remote)
    : path_(std::move(path)),
      tls_(std::move(tls)),
      ctx_(tls_->current()),
      ws_(std::move(socket), *ctx_),
      remote_(remote_or(ws_.next_layer().next_layer(), std::move(remote))) {
  boost::system::error_code ec;
  ws_.next_layer().next_layer().set_option(tcp::no_delay(true), ec);
}

template <class Next>
void WsStream<Next>::async_read_some(asio::mutable_buffer buffer, Handler handler) {
  if (ready_) {
    read_frames(buffer, std::move(handler));
    return;
  }
  if constexpr (std::is_same_v<Next, TlsNext>) {
    ws_.next_layer().async_handshake(
        asio::ssl::stream_base::server,
        [this, buffer, handler = std::move(handler)](const boost::system::error_code& ec) mutable {
          if (ec) {
            STRATA_INFO("ws") << remote_ << ": TLS handshake failed: " << ec.message();
            handler(ec, 0);
            return;
          }
          identity_ = tls_->peer_identity(ws_.next_layer().native_handle());
          read_upgrade(buffer, std::move(handler));
        });
  } else {
    read_upgrade(buffer, std::move(handler));
  }
}

template <class Next>
void WsStream<Next>::read_upgrade(asio::mutable_buffer buffer, Handler handler) {
  parser_.emplace();
  parser_->header_limit(max_upgrade_header);
  http::async_read(ws_.next_layer(), http_buffer_, *parser_,
                   [this, buffer, handler = std::move(handler)](const boost::system::error_code& ec,
                                                                std::size_t) mutable {
                     if (ec) {
                       STRATA_INFO("ws") << remote_ << ": bad WebSocket upgrade request: " << ec.message();
                       handler(ec, 0);
                       return;
                     }
                     on_upgrade(buffer, std::move(handler));
                   });
}

template <class Next>
void WsStream<Next>::on_upgrade(asio::mutable_buffer buffer, Handler handler) {
  const auto& req = parser_->get();
  std::string_view target = req.target();
  target = target.substr(0, target.find('?'));
  if (!websocket::is_upgrade(req)) return refuse(400, "not a WebSocket upgrade", std::move(handler));
  if (target != path_) {
    return refuse(404, "path " + std::string(target) + " (this listener serves " + path_ + ")",
                  std::move(handler));
  }
  std::string protocol;
  if (auto it = req.find(http::field::sec_websocket_protocol); it != req.end()) {
    protocol = pick_subprotocol(it->value());
    if (protocol.empty()) return refuse(400, "no MQTT subprotocol offered", std::move(handler));
  }
  ws_.set_option(websocket::stream_base::decorator([protocol](websocket::response_type& res) {
    res.set(http::field::server, "strata");
    if (!protocol.empty()) res.set(http::field::sec_websocket_protocol, protocol);
  }));
  // The read loop consumes frame payload as it comes, so a message may be
  // of any length; the MQTT codec bounds each packet.
  ws_.read_message_max(std::numeric_limits<std::uint64_t>::max());
  ws_.auto_fragment(false);
  ws_.binary(true);
  ws_.async_accept(req, [this, buffer, handler = std::move(handler)](const boost::system::error_code& ec) mutable {
    parser_.reset();
    if (ec) {
      STRATA_INFO("ws") << remote_ << ": WebSocket handshake failed: " << ec.message();
      handler(ec, 0);
      return;
    }
    ready_ = true;
    read_frames(buffer, std::move(handler));
  });
}

template <class Next>
void WsStream<Next>::refuse(unsigned status, const std::string& why, Handler handler) {
  STRATA_INFO("ws") << remote_ << ": WebSocket upgrade refused (" << status << "): " << why;
  auto res = std::make_shared<http::response<http::string_body>>(static_cast<http::status>(status), 11);
  res->set(http::field::server, "strata");
  res->set(http::field::content_type, "text/plain");
  res->set(http::field::connection, "close");
  res->body() = why + "\n";
  res->prepare_payload();
  http::async_write(ws_.next_layer(), *res,
                    [res, handler = std::move(handler)](const boost::system::error_code&, std::size_t) mutable {
                      handler(make_error_code(boost::system::errc::protocol_error), 0);
                    });
}

template <class Next>
void WsStream<Next>::read_frames(asio::mutable_buffer buffer, Handler handler) {
  ws_.async_read_some(buffer, [this, handler = std::move(handler)](const boost::system::error_code& ec,
                                                                   std::size_t n) mutable {
    if (!ec && ws_.got_text()) {
      STRATA_INFO("ws") << remote_ << ": text frame; MQTT needs binary frames";
      handler(make_error_code(boost::system::errc::protocol_error), 0);
      return;
    }
    handler(ec, n);
  });
}

template <class Next>
void WsStream<Next>::async_write(asio::const_buffer buffer, Handler handler) {
  ws_.async_write(buffer, std::move(handler));
}

template <class Next>
void WsStream<Next>::close(CloseNotice notice) noexcept {
  // A close frame with the status code, then (wss) close_notify, written
  // without waiting; then the TCP connection lingers (linger.hpp) rather
  // than waiting for the peer's close frame, which would let it hold the
  // connection open.
  // Not when the WebSocket is already closed: Beast answered the client's
  // close frame while reading.
  boost::system::error_code ec;
  auto& socket = beast::get_lowest_layer(ws_);
  if (ready_ && ws_.is_open() && notice != CloseNotice::none) {
    const std::uint16_t code = notice == CloseNotice::going_away       ? 1001
                               : notice == CloseNotice::protocol_error  ? 1002
                               : notice == CloseNotice::policy_violation ? 1008
                                                                          : 1000;
    // A server frame is not masked (RFC 6455 5.1): FIN + close, length 2, code.
    const std::uint8_t close_frame[] = {0x88, 0x02, static_cast<std::uint8_t>(code >> 8),
                                        static_cast<std::uint8_t>(code & 0xFF)};
    socket.non_blocking(true, ec);
    if (!ec) {
      if constexpr (std::is_same_v<Next, TlsNext>) {
        asio::write(ws_.next_layer(), asio::buffer(close_frame), ec);
        if (!ec) send_close_notify(ws_.next_layer());
      } else {
        socket.send(asio::buffer(close_frame), 0, ec);
      }
    }
  }
  if (notice != CloseNotice::none) return linger_close(std::move(socket));
  socket.shutdown(tcp::socket::shutdown_both, ec);
  socket.close(ec);
}

template class WsStream<tcp::socket>;
template class WsStream<TlsNext>;

}  // namespace strata::transport
