// One HTTP/1.1 request to the admin API over http:// or https:// (Boost.Beast
// and OpenSSL), one connection per request: strata-ctl makes one or two.
// The whole exchange (resolve, connect, TLS handshake, write, read) has one
// deadline. https:// verifies the server's certificate and host name against
// the system's CAs or --cacert, unless --insecure.
#pragma once

#include <chrono>
#include <stdexcept>
#include <string>

#include "tools/strata_ctl/url.hpp"

namespace strata::ctl {

// A failure to talk to the server at all (exit status 1).
class ConnectError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct HttpResponse {
  unsigned status = 0;
  std::string reason;
  std::string content_type;
  std::string body;
};

struct HttpOptions {
  Url url;
  std::string cacert;  // PEM file; empty: the system's default paths
  bool insecure = false;
  std::string authorization;  // the Authorization header, or empty
  std::chrono::milliseconds timeout{10000};
};

class HttpClient {
 public:
  explicit HttpClient(HttpOptions options) : options_(std::move(options)) {}

  // `target` is the path and query below the URL's prefix ("/api/v1/status").
  HttpResponse request(const std::string& method, const std::string& target, const std::string& body = {},
                       const std::string& content_type = {});

  const HttpOptions& options() const { return options_; }
  void set_authorization(std::string a) { options_.authorization = std::move(a); }

 private:
  HttpOptions options_;
};

}  // namespace strata::ctl
