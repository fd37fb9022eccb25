// Where and how a batch is written: the HTTP target and headers of a
// line-protocol write, for the two APIs the time-series databases speak.
//
//   v1  POST {base}/write?db=DB[&rp=RP]&precision=n|u|ms|s
//       with Authorization: Basic (username, password) when a username is
//       set — InfluxDB 1.x, VictoriaMetrics, TDengine's taosAdapter, QuestDB
//   v2  POST {base}/api/v2/write?org=ORG&bucket=BUCKET&precision=ns|us|ms|s
//       with Authorization: Token TOKEN — InfluxDB 2.x and the same
//       compatible servers
//
// `url` is "http://host[:port][/base]" or "https://..."; the query values
// are percent-encoded.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "bridges/influx/line_protocol.hpp"

namespace strata::bridges::influx {

struct HttpUrl {
  bool tls = false;
  std::string host;  // without brackets for IPv6
  std::uint16_t port = 80;
  std::string base;  // path prefix without the trailing '/', may be empty
};

struct UrlError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// Throws UrlError with what is wrong.
HttpUrl parse_http_url(std::string_view url);

enum class Api : std::uint8_t { v1, v2 };

struct WriteTarget {
  Api api = Api::v1;
  std::string database, retention_policy, username, password;  // v1
  std::string org, bucket, token;                              // v2
  Precision precision = Precision::ms;
};

// The request target, e.g. "/write?db=plant&precision=ms".
std::string write_path(const HttpUrl& url, const WriteTarget& t);
// The Authorization header's value, or empty.
std::string authorization(const WriteTarget& t);
std::string percent_encode(std::string_view s);

}  // namespace strata::bridges::influx
