#include "bridges/influx/http_client.hpp"

#include <optional>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/host_name_verification.hpp>
#include <boost/asio/ssl/stream_base.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>

namespace strata::bridges::influx {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

struct HttpClient::Impl : std::enable_shared_from_this<Impl> {
  Impl(asio::io_context& io, HttpUrl url, std::chrono::milliseconds timeout, asio::ssl::context* tls)
      : io(io), url(std::move(url)), timeout(timeout), tls_ctx(tls), resolver(io) {}

  asio::io_context& io;
  HttpUrl url;
  std::chrono::milliseconds timeout;
  asio::ssl::context* tls_ctx;
  tcp::resolver resolver;
  std::optional<beast::tcp_stream> plain;
  std::optional<beast::ssl_stream<beast::tcp_stream>> secure;
  bool connected = false;
  bool reused = false;    // the request goes over a connection that served one before
  bool closed = false;
  std::uint64_t generation = 0;  // bumped by close(): stale handlers do nothing
  beast::flat_buffer buffer;
  http::request<http::span_body<const char>> req;  // the body is the caller's
  std::optional<http::response_parser<http::string_body>> parser;
  Done done;

  beast::tcp_stream& tcp_layer() { return secure ? beast::get_lowest_layer(*secure) : *plain; }

  template <class F>
  void with_stream(F&& f) {
    if (secure) {
      f(*secure);
    } else {
      f(*plain);
    }
  }

  void reset_connection() {
    if (plain) {
      beast::error_code ec;
      plain->socket().shutdown(tcp::socket::shutdown_both, ec);
      plain->close();
    }
    if (secure) beast::get_lowest_layer(*secure).close();
    plain.reset();
    secure.reset();
    connected = false;
    buffer.clear();
  }

  void finish(WriteAnswer a) {
    Done d = std::move(done);
    done = nullptr;
    if (d) d(std::move(a));
  }

  void fail(const beast::error_code& ec, std::string_view step) {
    // A kept-alive connection the server closed while idle fails on write, or
    // on read before any answer: send once more on a fresh connection.
    bool retry = reused && ec != beast::error::timeout && (step == "write" || step == "read") && parser &&
                 !parser->is_header_done();
    reset_connection();
    if (retry) {
      reused = false;
      connect();
      return;
    }
    WriteAnswer a;
    a.status = 0;
    a.body = std::string(step) + ": " + ec.message();
    finish(std::move(a));
  }

  void connect() {
    auto self = shared_from_this();
    auto gen = generation;
    resolver.async_resolve(url.host, std::to_string(url.port),
                           [self, gen](beast::error_code ec, tcp::resolver::results_type results) {
                             if (gen != self->generation) return;
                             if (ec) return self->fail(ec, "resolve");
                             self->on_resolved(results);
                           });
  }

  void on_resolved(const tcp::resolver::results_type& results) {
    if (url.tls) {
      secure.emplace(io, *tls_ctx);
      if (!SSL_set_tlsext_host_name(secure->native_handle(), url.host.c_str())) {
        return fail(beast::error_code(static_cast<int>(::ERR_get_error()), asio::error::get_ssl_category()),
                    "tls");
      }
      secure->set_verify_callback(asio::ssl::host_name_verification(url.host));
    } else {
      plain.emplace(io);
    }
    tcp_layer().expires_after(timeout);
    auto self = shared_from_this();
    auto gen = generation;
    tcp_layer().async_connect(results, [self, gen](beast::error_code ec, const tcp::endpoint&) {
      if (gen != self->generation) return;
      if (ec) return self->fail(ec, "connect");
      self->tcp_layer().socket().set_option(tcp::no_delay(true));
      if (!self->secure) {
        self->connected = true;
        return self->send();
      }
      self->tcp_layer().expires_after(self->timeout);
      self->secure->async_handshake(asio::ssl::stream_base::client, [self, gen](beast::error_code ec2) {
        if (gen != self->generation) return;
        if (ec2) return self->fail(ec2, "tls handshake");
        self->connected = true;
        self->send();
      });
    });
  }

  void send() {
    parser.emplace();
    parser->body_limit(1 << 20);
    tcp_layer().expires_after(timeout);
    auto self = shared_from_this();
    auto gen = generation;
    with_stream([&](auto& stream) {
      http::async_write(stream, req, [self, gen, &stream](beast::error_code ec, std::size_t) {
        if (gen != self->generation) return;
        if (ec) return self->fail(ec, "write");
        self->tcp_layer().expires_after(self->timeout);
        http::async_read(stream, self->buffer, *self->parser, [self, gen](beast::error_code ec2, std::size_t) {
          if (gen != self->generation) return;
          if (ec2) return self->fail(ec2, "read");
          self->on_response();
        });
      });
    });
  }

  void on_response() {
    auto& res = parser->get();
    WriteAnswer a;
    a.status = static_cast<int>(res.result_int());
    a.body = std::move(res.body());
    if (auto it = res.find(http::field::retry_after); it != res.end()) a.retry_after = std::string(it->value());
    if (!res.keep_alive()) {
      reset_connection();
    } else {
      reused = true;
    }
    finish(std::move(a));
  }
};

HttpClient::HttpClient(asio::io_context& io, HttpUrl url, std::chrono::milliseconds timeout, asio::ssl::context* tls)
    : impl_(std::make_shared<Impl>(io, std::move(url), timeout, tls)) {}

HttpClient::~HttpClient() { close(); }

void HttpClient::post(std::string target, const std::string& authorization, std::string_view body, Done done) {
  Impl& i = *impl_;
  i.done = std::move(done);
  i.req = {};
  i.req.method(http::verb::post);
  i.req.target(target);
  i.req.version(11);
  std::string host = i.url.host.find(':') != std::string::npos ? "[" + i.url.host + "]" : i.url.host;
  i.req.set(http::field::host, host + ":" + std::to_string(i.url.port));
  i.req.set(http::field::user_agent, "strata/" STRATA_VERSION);
  i.req.set(http::field::content_type, "text/plain; charset=utf-8");
  if (!authorization.empty()) i.req.set(http::field::authorization, authorization);
  i.req.keep_alive(true);
  i.req.body() = boost::beast::span<const char>(body.data(), body.size());
  i.req.prepare_payload();
  if (i.connected) {
    i.send();
  } else {
    i.reused = false;
    i.connect();
  }
}

void HttpClient::close() {
  ++impl_->generation;
  impl_->resolver.cancel();
  impl_->reset_connection();
  impl_->done = nullptr;
}

}  // namespace strata::bridges::influx
