// One strata-bench connection's stream (see bench_stream.hpp).
#include "tools/bench/bench_stream.hpp"

#include <openssl/ssl.h>

#include <boost/asio/ssl/host_name_verification.hpp>
#include <boost/beast/http/field.hpp>

namespace strata::bench {

namespace asio = boost::asio;
namespace ssl = boost::asio::ssl;
namespace websocket = boost::beast::websocket;
using boost::system::error_code;

BenchStream::BenchStream(asio::io_context& io, Transport transport, ssl::context* tls, bool verify)
    : s_(std::in_place_index<0>, io), verify_(verify) {
  switch (transport) {
    case Transport::tcp: break;
    case Transport::tls: s_.emplace<tls_stream>(io, *tls); break;
    case Transport::ws: s_.emplace<ws_stream>(io); break;
    case Transport::wss: s_.emplace<wss_stream>(io, *tls); break;
  }
}

BenchStream::tcp_socket& BenchStream::socket() noexcept {
  return std::visit(
      [](auto& s) -> tcp_socket& {
        using S = std::decay_t<decltype(s)>;
        if constexpr (std::is_same_v<S, tcp_socket>) return s;
        else if constexpr (std::is_same_v<S, tls_stream>) return s.next_layer();
        else if constexpr (std::is_same_v<S, ws_stream>) return s.next_layer();
        else return s.next_layer().next_layer();
      },
      s_);
}

namespace {

void prepare_tls(BenchStream::tls_stream& s, const std::string& host, bool verify) {
  error_code ec;
  asio::ip::make_address(host, ec);
  const bool is_address = !ec;
  // SNI carries names only (RFC 6066 section 3), never an IP address.
  if (!is_address) SSL_set_tlsext_host_name(s.native_handle(), host.c_str());
  if (verify) s.set_verify_callback(ssl::host_name_verification(host));
}

template <class Ws>
void upgrade(Ws& ws, const std::string& host, std::uint16_t port, const std::string& path,
             BenchStream::HandshakeDone done) {
  ws.set_option(websocket::stream_base::decorator([](websocket::request_type& req) {
    req.set(boost::beast::http::field::sec_websocket_protocol, "mqtt");
  }));
  ws.binary(true);
  ws.async_handshake(host + ":" + std::to_string(port), path,
                     [done = std::move(done)](const error_code& e) { done(e, "websocket handshake"); });
}

}  // namespace

void BenchStream::async_handshake(const std::string& host, std::uint16_t port, const std::string& path,
                                  HandshakeDone done) {
  std::visit(
      [&](auto& s) {
        using S = std::decay_t<decltype(s)>;
        if constexpr (std::is_same_v<S, tcp_socket>) {
          done(error_code{}, "");
        } else if constexpr (std::is_same_v<S, tls_stream>) {
          prepare_tls(s, host, verify_);
          s.async_handshake(ssl::stream_base::client,
                            [done = std::move(done)](const error_code& e) { done(e, "tls handshake"); });
        } else if constexpr (std::is_same_v<S, ws_stream>) {
          upgrade(s, host, port, path, std::move(done));
        } else {
          prepare_tls(s.next_layer(), host, verify_);
          s.next_layer().async_handshake(
              ssl::stream_base::client, [&s, host, port, path, done = std::move(done)](const error_code& e) mutable {
                if (e) {
                  done(e, "tls handshake");
                  return;
                }
                upgrade(s, host, port, path, std::move(done));
              });
        }
      },
      s_);
}

bool configure_tls(const Options& o, ssl::context& ctx, std::string& error) {
  error_code ec;
  if (o.insecure) {
    ctx.set_verify_mode(ssl::verify_none, ec);
  } else {
    ctx.set_verify_mode(ssl::verify_peer, ec);
    if (!o.cafile.empty()) {
      ctx.load_verify_file(o.cafile, ec);
      if (ec) {
        error = "--cafile " + o.cafile + ": " + ec.message();
        return false;
      }
    } else {
      ctx.set_default_verify_paths(ec);
    }
  }
  if (!o.cert.empty()) {
    ctx.use_certificate_chain_file(o.cert, ec);
    if (ec) {
      error = "--cert " + o.cert + ": " + ec.message();
      return false;
    }
    ctx.use_private_key_file(o.key, ssl::context::pem, ec);
    if (ec) {
      error = "--key " + o.key + ": " + ec.message();
      return false;
    }
  }
  return true;
}

}  // namespace strata::bench
