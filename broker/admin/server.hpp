// The admin HTTP server: one Beast HTTP/1.1 listener (http:// or https://)
// on its own thread and io_context, never on the core loops.
//
// Each connection is read one request at a time: the next request
// (pipelined or not) is read only after the answer to this one is written,
// so answers go out in order. Limits: headers up to 16 KiB, a body up to
// admin.max_body_size (413 beyond), admin.idle_timeout for a request to
// arrive and an answer to be taken, admin.max_connections connections.
// A request that cannot be parsed gets 400 and the connection is closed.
//
// A request is routed (router.hpp), authenticated (auth.hpp: open, login
// tokens, API keys) and handed to its handler on the admin thread; the
// handler answers through its Reply, possibly after gathering from the
// cores (api.hpp). Every answer, error or not, is JSON unless the route
// says otherwise (/metrics).
//
// Lifetime: construct after the Broker, add routes (api()), start()
// before Broker::run(); the destructor stops the thread. Must be destroyed
// before the Broker (declare it after).
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <thread>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>

#include "broker/admin/admin_config.hpp"
#include "broker/admin/api.hpp"
#include "broker/admin/auth.hpp"
#include "broker/admin/history_sampler.hpp"
#include "broker/admin/static_files.hpp"

namespace strata::transport {
class TlsContext;
}

namespace strata::admin {

class Server {
 public:
  // Reads [admin] (`url_override`: --admin); throws config::ConfigError,
  // or std::runtime_error when the users, API keys or TLS files cannot be
  // read. Registers the built-in endpoints (status, stats, metrics, login,
  // clients, sessions, subscriptions, retained, publish, config, reload).
  Server(core::Broker& broker, const std::optional<std::string>& url_override);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  Api& api() noexcept { return *api_; }
  const AdminConfig& config() const noexcept { return config_; }
  Auth& auth() noexcept { return *auth_; }
  // The last hour of headline numbers (GET /api/v1/stats/history).
  HistorySampler& history() noexcept { return *history_; }

  // Binds and starts the admin thread (nothing when url = ""). Throws
  // std::runtime_error "cannot listen on admin URL: reason".
  void start();
  void stop();
  // The bound port (the kernel's choice when the URL said 0).
  std::uint16_t port() const noexcept { return port_; }
  // "http://127.0.0.1:8080" as bound.
  std::string url() const;

  // --- for the connections (admin thread) -------------------------------
  using BeastRequest = boost::beast::http::request<boost::beast::http::string_body>;
  // Routes, authenticates and runs the handler of one request; the answer
  // goes to `reply` (with CORS headers when the origin is allowed).
  void handle(BeastRequest&& req, const std::string& remote, Reply reply);
  std::shared_ptr<transport::TlsContext> tls() const { return tls_; }
  bool admit_connection();
  // False once the server has stopped: late answers are dropped.
  std::shared_ptr<std::atomic<bool>> alive() const { return alive_; }
  void release_connection() { --connections_; }

  // Re-reads [admin] from a reloaded config: users, API keys, token_ttl,
  // cors_origins, metrics_auth, TLS files. Returns what changed (for the
  // log); url and auth changes need a restart (said in the result).
  std::string reload(const config::Config& fresh);

 private:
  void accept();
  bool cors_allowed(std::string_view origin) const;

  core::Broker& broker_;
  std::optional<std::string> url_override_;
  AdminConfig config_;
  boost::asio::io_context io_;
  std::unique_ptr<Api> api_;
  std::unique_ptr<Auth> auth_;
  std::unique_ptr<HistorySampler> history_;  // before io_ goes (its timer is on io_)
  std::unique_ptr<StaticFiles> web_;  // the dashboard (static_files.hpp); null when not found
  std::optional<boost::asio::ip::tcp::acceptor> acceptor_;
  std::shared_ptr<transport::TlsContext> tls_;
  std::thread thread_;
  std::uint16_t port_ = 0;
  unsigned connections_ = 0;  // admin thread only
  std::atomic<bool> running_{false};
  std::shared_ptr<std::atomic<bool>> alive_ = std::make_shared<std::atomic<bool>>(true);
};

}  // namespace strata::admin
