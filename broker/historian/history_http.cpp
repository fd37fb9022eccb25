#include "broker/historian/history_http.hpp"

#include "broker/historian/history_api.hpp"

namespace strata::historian {

namespace {

admin::Handler handler(const Historian& h, std::string_view method) {
  return [&h, method](const admin::Request& req, admin::Reply reply) {
    std::string_view target(req.target);
    std::size_t q = target.find('?');
    std::string_view query = q == std::string_view::npos ? std::string_view{} : target.substr(q + 1);
    ApiAnswer a = dispatch(h.engine(), method, req.path, query, req.body);
    if (a.status >= 400) {
      reply.error(static_cast<admin::http::status>(a.status), a.code, a.message);
      return;
    }
    admin::Response r;
    r.content_type = a.content_type;
    r.body = std::move(a.body);
    reply.send(std::move(r));
  };
}

}  // namespace

void add_history_api(admin::Api& api, const Historian& h) {
  using admin::Access;
  using admin::http::verb;
  api.add(verb::get, "/api/v1/history", Access::viewer, handler(h, "GET"),
          "History of one series: raw points, or aggregates per interval (agg, fill), as JSON or CSV");
  api.add(verb::post, "/api/v1/history/query", Access::viewer, handler(h, "POST"),
          "History of several series (names or filters) at once");
  api.add(verb::get, "/api/v1/history/last", Access::viewer, handler(h, "GET"),
          "Last value of every series matching a filter");
  api.add(verb::get, "/api/v1/history/series", Access::viewer, handler(h, "GET"),
          "Series matching a filter, with first/last time and point count");
  api.add_metrics([&h](admin::MetricsWriter& m) {
    const Counters& c = h.counters();
    auto v = [](const std::atomic<std::uint64_t>& a) { return a.load(std::memory_order_relaxed); };
    m.counter("strata_history_points_total", "Points recorded by the historian", v(c.points));
    m.counter("strata_history_late_points_total", "Recorded points older than their series' last point",
              v(c.late_points));
    m.counter("strata_history_messages_total", "Messages handed to the historian", v(c.messages));
    m.counter("strata_history_pruned_points_total", "Raw points removed by retention or max_bytes",
              v(c.pruned_points));
    m.gauge("strata_history_bytes", "Bytes of store pages the historian's databases use",
            static_cast<double>(v(c.bytes)));
  });
}

}  // namespace strata::historian
