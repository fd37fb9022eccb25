// The broker: its cores and their threads, the listeners, the client-id
// registry, signals and $SYS. Everything per connection and per message
// happens on a Core; the Broker holds what is shared by all cores.
//
// The one lock here guards the registry (client id -> session), taken on
// CONNECT and when a session ends — never on the publish path.
#pragma once

#include <atomic>
#include <boost/asio/post.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <vector>

#include "broker/auth/authorizer.hpp"
#include "broker/auth/file_authorizer.hpp"
#include "broker/config/config.hpp"
#include "broker/core/client_hooks.hpp"
#include "broker/core/connect_rate.hpp"
#include "broker/core/connection_quota.hpp"
#include "broker/core/core.hpp"
#include "broker/core/publish_hook.hpp"
#include "broker/session/session_handle.hpp"
#include "broker/session/session_log.hpp"
#include "broker/store/store.hpp"
#include "broker/transport/stream_factory.hpp"
#include "broker/transport/tcp_listener.hpp"

namespace strata::core {

class SysTopics;

class Broker {
 public:
  // `config_path` is re-read on SIGHUP (empty: nothing to reload).
  Broker(config::Config config, std::string config_path);
  ~Broker();
  Broker(const Broker&) = delete;
  Broker& operator=(const Broker&) = delete;

  // Binds the listeners (throws on failure), runs until SIGTERM/SIGINT or
  // stop(), then disconnects clients and returns the exit code.
  int run();
  void stop();
  // The port listener `i` (in config order) is bound to: the kernel's
  // choice for a configured port 0. Valid once run() has opened the
  // listeners, e.g. in a handler posted to a core before run().
  std::uint16_t listener_port(std::size_t i) const { return listeners_[0].at(i)->port(); }

  const config::Config& config() const noexcept { return config_; }
  const config::Limits& limits() const noexcept { return config_.limits; }
  unsigned core_count() const noexcept { return static_cast<unsigned>(cores_.size()); }
  Core& core(unsigned i) noexcept { return *cores_[i]; }
  auth::Authorizer& authorizer() noexcept { return *authorizer_; }
  const std::vector<PublishHook*>& hooks() const noexcept { return hooks_; }
  void add_hook(PublishHook* hook) { hooks_.push_back(hook); }

  // Plugins ([[plugin]], plugins/): the client events and basic
  // authentication (client_hooks.hpp), and checks in front of the built-in
  // Authorizer — `wrap` gets it and returns the one the broker uses from
  // then on (which keeps the built-in one and may ask it). Before run().
  ClientHooks* client_hooks() const noexcept { return client_hooks_; }
  void set_client_hooks(ClientHooks* hooks) { client_hooks_ = hooks; }
  template <class Wrap>
  void wrap_authorizer(Wrap&& wrap) { authorizer_ = wrap(std::move(authorizer_)); }
  std::chrono::steady_clock::time_point started() const noexcept { return started_; }
  store::Store& store() noexcept { return *store_; }
  // How many delivery sinks (bridges with overflow = "block") are full
  // now and refuse QoS 1/2 deliveries: while it is not 0, a publisher's
  // acknowledgement waits until its message was routed (client_publish.cpp).
  // Read relaxed on every QoS 1/2 PUBLISH; written by the sinks.
  std::atomic<std::uint32_t>& full_sinks() noexcept { return full_sinks_; }

  // More $SYS topics (e.g. $SYS/rules/...): each source is called on core 0
  // at every $SYS update with a function that publishes (topic, value).
  // Add sources before run().
  using SysPublish = std::function<void(const std::string& topic, const std::string& value)>;
  using SysSource = std::function<void(const SysPublish&)>;
  void add_sys_source(SysSource source) { sys_sources_.push_back(std::move(source)); }
  const std::vector<SysSource>& sys_sources() const noexcept { return sys_sources_; }

  // Modules that own a config section ([uns], [[bridge]], [[plugin]] ...)
  // re-read it on reload (SIGHUP): each hook gets the freshly loaded file
  // and returns what it changed, for the log. A hook that throws (a bad
  // section: ConfigError with file:line) keeps its running configuration;
  // the other hooks still run. Add hooks before run(); they run on core 0.
  using ReloadHook = std::function<std::string(const config::Config& fresh)>;
  void add_reload_hook(ReloadHook hook) { reload_hooks_.push_back(std::move(hook)); }

  // What a reload did: `ok` false when the file could not be loaded (then
  // nothing changed); `reloaded` and `not_reloaded` name what took effect
  // and what needs a restart or failed, one line each.
  struct ReloadReport {
    bool ok = true;
    std::string error;
    std::vector<std::string> reloaded;
    std::vector<std::string> not_reloaded;
  };
  // The SIGHUP reload: re-reads the configuration file. Call on core 0's
  // thread (the admin API posts it there).
  ReloadReport reload();
  const std::string& config_path() const noexcept { return config_path_; }

  // Posts `fn` to every core but `except` (pass core_count() for all).
  template <class Fn>
  void post_to_cores(unsigned except, const Fn& fn);

  // --- registry ----------------------------------------------------------
  struct Claim {
    session::SessionRef previous;  // the existing session's handle, if any
    session::SessionRef current;   // the handle the new connection uses
  };
  // Registers a connection for `client_id` on core `core`. With
  // clean_start, or when there is no session, a new handle replaces any
  // previous one; otherwise the previous handle is kept (current ==
  // previous) and its session must be taken over. A new handle of a
  // `persistent` session gets its bridge session log, if any.
  Claim claim(const std::string& client_id, bool clean_start, unsigned core, bool persistent = false);
  // Replaces `expected` by a new handle on `core` if it is still registered.
  session::SessionRef renew(const session::SessionRef& expected, unsigned core, bool persistent = false);

  // [[bridge_session]] (bridges/bridge_sessions.hpp): which persistent
  // sessions queue in a log on disk. Set before run().
  void set_session_logs(session::SessionLogs* logs) noexcept { session_logs_ = logs; }
  // Drops the registry entry if it still points at `h`.
  void unregister(const session::SessionHandle* h);
  std::size_t session_count();

  // Connections across all listeners, for limits.max_connections.
  ConnectionQuota& connections() noexcept { return connections_; }

 private:
  void open_listeners();
  // restore.cpp: rebuilds sessions and retained messages from the store
  // (before the cores run).
  void restore();
  void handle_signals();
  // $NOTIFY_SOCKET (systemd Type=notify): READY=1, STOPPING=1.
  static void notify_service_manager(const std::string& state);

  config::Config config_;
  std::string config_path_;
  std::chrono::steady_clock::time_point started_;
  std::vector<std::unique_ptr<Core>> cores_;
  // listeners_[i]: the acceptors run by core i (one per configured listener).
  std::vector<std::vector<std::unique_ptr<transport::TcpListener>>> listeners_;
  std::unique_ptr<auth::Authorizer> authorizer_;
  auth::FileAuthorizer* file_authorizer_ = nullptr;  // authorizer_, reloaded on SIGHUP
  std::unique_ptr<store::Store> store_;
  std::vector<PublishHook*> hooks_;
  ClientHooks* client_hooks_ = nullptr;
  std::vector<SysSource> sys_sources_;
  std::vector<ReloadHook> reload_hooks_;
  std::unique_ptr<SysTopics> sys_;

  std::mutex registry_mutex_;
  // Keyed by a view of the client id in the handle it maps to (one copy
  // of the id per session; set_registered keeps key and handle together).
  std::unordered_map<std::string_view, session::SessionRef> registry_;
  // registry_[h->client_id] = h; the mutex is held.
  void set_registered(session::SessionRef h);
  std::uint32_t next_serial_ = 1;  // guarded by registry_mutex_
  session::SessionLogs* session_logs_ = nullptr;
  // A new handle of a persistent session: its bridge session log, if any.
  void attach_log(session::SessionHandle& h);

  ConnectionQuota connections_;
  std::vector<std::unique_ptr<ConnectionQuota>> listener_quotas_;  // one per configured listener
  std::vector<std::unique_ptr<ConnectRate>> connect_rates_;        // one per configured listener
  std::vector<std::shared_ptr<transport::StreamFactory>> stream_factories_;  // one per configured listener
  std::atomic<bool> stopping_{false};
  std::atomic<std::uint32_t> full_sinks_{0};
};

template <class Fn>
void Broker::post_to_cores(unsigned except, const Fn& fn) {
  for (unsigned i = 0; i < cores_.size(); ++i) {
    if (i == except) continue;
    Core& c = *cores_[i];
    boost::asio::post(c.io(), [&c, fn] { fn(c); });
  }
}

}  // namespace strata::core
