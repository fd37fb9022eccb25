// A small HTTP/1.1 client on Boost.Beast for the influx bridge: one
// keep-alive connection (plain or TLS) to one server, one request at a time,
// every step under a timeout.
//
// post() sends a request and calls `done` with the answer: the status, body
// and Retry-After header, or status 0 and the transport error (refused,
// reset, timed out, TLS). A keep-alive connection the server closed while it
// was idle is noticed when the request fails before any answer byte came
// back; the request is then sent once more on a fresh connection.
//
// Threading: everything on the io_context given (the bridge's thread).
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ssl/context.hpp>

#include "bridges/influx/write_answer.hpp"
#include "bridges/influx/write_endpoint.hpp"

namespace strata::bridges::influx {

class HttpClient {
 public:
  // `tls` is used when url.tls (its lifetime must cover the client's).
  HttpClient(boost::asio::io_context& io, HttpUrl url, std::chrono::milliseconds timeout,
             boost::asio::ssl::context* tls);
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  using Done = std::function<void(WriteAnswer)>;
  // POSTs `body` (text/plain) to `target`; `authorization` may be empty.
  // The body is sent from where it is, not copied: it must stay as it is
  // until `done` ran or close() returned. One request at a time: call again
  // only after `done` ran.
  void post(std::string target, const std::string& authorization, std::string_view body, Done done);
  // Closes the connection; a pending `done` is not called.
  void close();

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace strata::bridges::influx
