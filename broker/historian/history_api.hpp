// The history endpoints as plain functions of a request: parameters in, an
// answer (status, content type, body) out, for the admin server's router
// table and for tests without sockets.
//
//   GET  /api/v1/history?series=S&from=&to=&interval=&agg=&fill=&limit=&format=&epoch=
//   POST /api/v1/history/query   {"series":[names or filters], "filter":F, from, to, ...}
//   GET  /api/v1/history/last?filter=F
//   GET  /api/v1/history/series?filter=F
//
// from/to: RFC 3339 or unix ms; [from, to). interval: "10s", "1m", "1h" ...
// (absent: raw points). agg: avg (or mean), min, max, sum, count, first,
// last (default avg). fill: none (default), null, previous, linear.
// format: json (default) or csv. epoch=ms gives times as unix ms numbers
// instead of RFC 3339 strings.
//
// JSON is the InfluxDB 1.x shape:
//   {"results":[{"statement_id":0,"series":[{"name":"plant/press#temp",
//     "tags":{"tier":"minute"},"columns":["time","avg"],
//     "values":[["2026-12-06T07:00:00.000Z",21.5],...]}]}]}
// CSV: a header "series,time,value" and one line per row (an empty value
// for a null). Bad requests: 400 with {"code":"BAD_REQUEST","message":"..."}
// naming the parameter (the admin API's error shape); an unknown series 404.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "broker/historian/query.hpp"

namespace strata::historian {

struct ApiAnswer {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::string code, message;  // an error's code ("BAD_REQUEST") and message, also in body
};

using Params = std::vector<std::pair<std::string, std::string>>;

// "a=1&b=x%2Fy" -> {{"a","1"},{"b","x/y"}} ('+' is a space).
Params parse_query_string(std::string_view qs);

ApiAnswer get_history(const QueryEngine& engine, const Params& params);
ApiAnswer post_history_query(const QueryEngine& engine, std::string_view body);
ApiAnswer get_history_last(const QueryEngine& engine, const Params& params);
ApiAnswer get_history_series(const QueryEngine& engine, const Params& params);

// Routes one request ("GET", "/api/v1/history/last", "filter=a%2F%23", body)
// to the function above; 404 for another path, 405 for another method.
ApiAnswer dispatch(const QueryEngine& engine, std::string_view method, std::string_view path,
                   std::string_view query, std::string_view body);

}  // namespace strata::historian
