#include "tools/strata_ctl/http_client.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <exception>
#include <optional>

namespace strata::ctl {

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

struct Exchange {
  const HttpOptions& o;
  http::request<http::string_body> req;
  HttpResponse out;
  std::string stage;  // what was being done when an error came

  template <typename Stream>
  asio::awaitable<void> talk(Stream& stream) {
    stage = "send the request to";
    co_await http::async_write(stream, req, asio::use_awaitable);
    stage = "read the answer of";
    beast::flat_buffer buf;
    http::response_parser<http::string_body> parser;
    parser.body_limit(256u * 1024 * 1024);
    co_await http::async_read(stream, buf, parser, asio::use_awaitable);
    auto& res = parser.get();
    out.status = res.result_int();
    out.reason = std::string(res.reason());
    out.content_type = std::string(res[http::field::content_type]);
    out.body = std::move(res.body());
  }

  asio::awaitable<void> run(asio::ssl::context* ssl) {
    auto ex = co_await asio::this_coro::executor;
    tcp::resolver resolver(ex);
    stage = "resolve";
    auto endpoints = co_await resolver.async_resolve(o.url.host, o.url.port, asio::use_awaitable);
    stage = "connect to";
    if (!ssl) {
      beast::tcp_stream stream(ex);
      stream.expires_after(o.timeout);
      co_await stream.async_connect(endpoints, asio::use_awaitable);
      co_await talk(stream);
      beast::error_code ec;
      stream.socket().shutdown(tcp::socket::shutdown_both, ec);
      co_return;
    }
    beast::ssl_stream<beast::tcp_stream> stream(ex, *ssl);
    beast::get_lowest_layer(stream).expires_after(o.timeout);
    co_await beast::get_lowest_layer(stream).async_connect(endpoints, asio::use_awaitable);
    if (!SSL_set_tlsext_host_name(stream.native_handle(), o.url.host.c_str())) {
      throw ConnectError("cannot set the TLS server name");
    }
    stage = "complete the TLS handshake with";
    co_await stream.async_handshake(asio::ssl::stream_base::client, asio::use_awaitable);
    co_await talk(stream);
    beast::error_code ec;
    beast::get_lowest_layer(stream).socket().shutdown(tcp::socket::shutdown_both, ec);
  }
};

}  // namespace

HttpResponse HttpClient::request(const std::string& method, const std::string& target, const std::string& body,
                                 const std::string& content_type) {
  Exchange x{options_, {}, {}, "resolve"};
  x.req.method_string(method);
  x.req.target(options_.url.prefix + target);
  x.req.version(11);
  x.req.set(http::field::host, options_.url.authority());
  x.req.set(http::field::user_agent, "strata-ctl/" STRATA_VERSION);
  x.req.set(http::field::accept, "application/json, text/plain, text/csv");
  x.req.set(http::field::connection, "close");
  if (!options_.authorization.empty()) x.req.set(http::field::authorization, options_.authorization);
  if (!body.empty() || method == "POST" || method == "PUT") {
    if (!content_type.empty()) x.req.set(http::field::content_type, content_type);
    x.req.body() = body;
    x.req.prepare_payload();
  }

  std::optional<asio::ssl::context> ssl;
  if (options_.url.tls) {
    ssl.emplace(asio::ssl::context::tls_client);
    ssl->set_options(asio::ssl::context::no_tlsv1 | asio::ssl::context::no_tlsv1_1);
    if (options_.insecure) {
      ssl->set_verify_mode(asio::ssl::verify_none);
    } else {
      boost::system::error_code ec;
      if (options_.cacert.empty()) {
        ssl->set_default_verify_paths(ec);
      } else {
        ssl->load_verify_file(options_.cacert, ec);
      }
      if (ec) throw ConnectError("cannot load the CA certificates " + options_.cacert + ": " + ec.message());
      ssl->set_verify_mode(asio::ssl::verify_peer);
      ssl->set_verify_callback(asio::ssl::host_name_verification(options_.url.host));
    }
  }

  asio::io_context ioc;
  std::exception_ptr failure;
  asio::co_spawn(ioc, x.run(ssl ? &*ssl : nullptr), [&](std::exception_ptr e) { failure = e; });
  // The resolver has no deadline of its own: bound the whole run.
  ioc.run_for(options_.timeout + std::chrono::milliseconds(500));
  if (!ioc.stopped()) {
    ioc.stop();
    throw ConnectError("no answer from " + options_.url.text() + " within the timeout");
  }
  if (failure) {
    try {
      std::rethrow_exception(failure);
    } catch (const boost::system::system_error& e) {
      std::string what = e.code() == beast::error::timeout ? std::string("timed out") : e.code().message();
      throw ConnectError("cannot " + x.stage + " " + options_.url.text() + ": " + what);
    }
  }
  return std::move(x.out);
}

}  // namespace strata::ctl
