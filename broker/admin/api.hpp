// admin::Api: how a module puts its endpoints and metrics on the admin
// server. This is the interface the other modules (namespace, bridges,
// historian, plugins) use; the server itself is in server.hpp.
//
// Registration happens in main.cpp after the Broker and the module exist
// and before Server::start() / Broker::run():
//
//   admin::Server admin(broker, cmd.admin_url);        // reads [admin]
//   admin::Api& api = admin.api();
//   api.add(http::verb::get, "/api/v1/bridges/{name}", admin::Access::viewer,
//           [&bridges](const admin::Request& req, admin::Reply reply) {
//             const Bridge* b = bridges.find(req.param("name"));
//             if (!b) throw admin::Error::not_found("no bridge '" + req.param("name") + "'");
//             reply.json(admin::json_of([&](admin::JsonWriter& w) { ... }));
//           },
//           "One bridge: state, outbox depth, counters");
//   api.add_metrics([&bridges](admin::MetricsWriter& m) { ... });
//   api.add_history_source([&bridges](admin::StatsReading& r) { ... });  // r.bridges
//   api.add_alarms([&bridges](std::vector<admin::Alarm>& out) { ... });
//   admin.start();
//   broker.run();
//
// Routes and metrics sources are only added before start(); with the
// server turned off (url = "") they are accepted and never called.
//
// Handlers run on the admin thread (never on a core). They must not block
// and must not touch what a core owns (clients, sessions, the trie):
// to read or change core state, post to the cores with gather() (or
// on_core()) and answer from the callback, which runs on the admin thread
// again. A handler may throw admin::Error (400 bad input, 404 ...) or any
// std::exception (500) instead of answering; see http.hpp for the shapes.
//
// Access: Access::viewer for reads, Access::admin for anything that
// changes state (a viewer gets 403), Access::open for what needs no login.
// Changes should be logged with who made them:
//   STRATA_INFO("admin") << req.who() << ": deleted bridge " << name;
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>

#include "broker/admin/alarms.hpp"
#include "broker/admin/http.hpp"
#include "broker/admin/json.hpp"
#include "broker/admin/metrics.hpp"
#include "broker/admin/reply.hpp"
#include "broker/admin/router.hpp"
#include "broker/admin/stats_history.hpp"
#include "broker/core/broker.hpp"

namespace strata::admin {

using MetricsSource = std::function<void(MetricsWriter&)>;
// Adds a module's part to each reading of the stats history
// (stats_history.hpp): the bridges add theirs to `bridges`.
using HistorySource = std::function<void(StatsReading&)>;

class Api {
 public:
  Api(core::Broker& broker, boost::asio::io_context& io) : broker_(broker), io_(io) {}

  // Adds a route (see router.hpp for patterns). Throws std::logic_error
  // on a malformed or duplicate pattern.
  void add(http::verb method, std::string pattern, Access access, Handler handler, std::string summary) {
    router_.add(method, std::move(pattern), access, std::move(handler), std::move(summary));
  }
  // Adds a source of /metrics families, called on the admin thread for
  // each scrape, in the order added.
  void add_metrics(MetricsSource source) { metrics_.push_back(std::move(source)); }
  // Adds to every reading of the stats history, every 10 s, on the admin thread.
  void add_history_source(HistorySource source) { history_.push_back(std::move(source)); }
  // Adds a source of alarms (alarms.hpp), asked on the admin thread for
  // each GET /api/v1/alarms.
  void add_alarms(AlarmSource source) { alarms_.push_back(std::move(source)); }

  core::Broker& broker() noexcept { return broker_; }
  // The admin thread's io_context (timers, posting back to the admin thread).
  boost::asio::io_context& io() noexcept { return io_; }
  const Router& router() const noexcept { return router_; }
  const std::vector<MetricsSource>& metrics_sources() const noexcept { return metrics_; }
  const std::vector<HistorySource>& history_sources() const noexcept { return history_; }
  const std::vector<AlarmSource>& alarm_sources() const noexcept { return alarms_; }

  // Runs query(core) on every core's thread, then done(results) on the
  // admin thread, results[i] being core i's answer. T must be movable.
  //
  //   api.gather<std::size_t>([](core::Core& c) { return c.client_count(); },
  //                           [reply](std::vector<std::size_t> n) { ... reply.json(...); });
  template <class T>
  void gather(std::function<T(core::Core&)> query, std::function<void(std::vector<T>)> done);

  // Runs fn(core) on core `index`'s thread, then done(result) on the admin thread.
  template <class T>
  void on_core(unsigned index, std::function<T(core::Core&)> fn, std::function<void(T)> done);

 private:
  core::Broker& broker_;
  boost::asio::io_context& io_;
  Router router_;
  std::vector<MetricsSource> metrics_;
  std::vector<HistorySource> history_;
  std::vector<AlarmSource> alarms_;
};

template <class T>
void Api::gather(std::function<T(core::Core&)> query, std::function<void(std::vector<T>)> done) {
  struct State {
    std::vector<T> results;
    unsigned left;
    std::function<T(core::Core&)> query;
    std::function<void(std::vector<T>)> done;
  };
  const unsigned n = broker_.core_count();
  auto state = std::make_shared<State>();
  state->results.resize(n);
  state->left = n;
  state->query = std::move(query);
  state->done = std::move(done);
  boost::asio::io_context* admin_io = &io_;
  for (unsigned i = 0; i < n; ++i) {
    core::Core& c = broker_.core(i);
    boost::asio::post(c.io(), [state, &c, i, admin_io] {
      T r = state->query(c);
      // The results vector is only touched on the admin thread.
      boost::asio::post(*admin_io, [state, i, r = std::move(r)]() mutable {
        state->results[i] = std::move(r);
        if (--state->left == 0) state->done(std::move(state->results));
      });
    });
  }
}

template <class T>
void Api::on_core(unsigned index, std::function<T(core::Core&)> fn, std::function<void(T)> done) {
  core::Core& c = broker_.core(index);
  boost::asio::io_context* admin_io = &io_;
  boost::asio::post(c.io(), [&c, admin_io, fn = std::move(fn), done = std::move(done)]() mutable {
    T r = fn(c);
    boost::asio::post(*admin_io, [done = std::move(done), r = std::move(r)]() mutable { done(std::move(r)); });
  });
}

}  // namespace strata::admin
