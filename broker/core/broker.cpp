#include "broker/core/broker.hpp"

#include <unistd.h>

#include <csignal>

#include <boost/asio/ip/address.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>

#include "broker/core/sys_topics.hpp"
#include "broker/session/session_log.hpp"
#include "broker/transport/linger.hpp"
#include "broker/util/log.hpp"
#include "broker/util/sd_notify.hpp"

namespace strata::core {

namespace asio = boost::asio;

Broker::Broker(config::Config config, std::string config_path)
    : config_(std::move(config)),
      config_path_(std::move(config_path)),
      started_(std::chrono::steady_clock::now()),
      authorizer_(std::make_unique<auth::FileAuthorizer>(config_.auth)),
      connections_(config_.limits.max_connections) {
  unsigned n = config_.threads != 0 ? config_.threads : std::thread::hardware_concurrency();
  if (n == 0) n = 1;
  store_ = std::make_unique<store::Store>(config_, n);
  cores_.reserve(n);
  for (unsigned i = 0; i < n; ++i) cores_.push_back(std::make_unique<Core>(*this, i, n));
  listeners_.resize(n);
  file_authorizer_ = static_cast<auth::FileAuthorizer*>(authorizer_.get());
  sys_ = std::make_unique<SysTopics>(*this);
}

Broker::~Broker() = default;

void Broker::notify_service_manager(const std::string& state) {
  std::string error;
  if (!util::sd_notify(state, &error) && !error.empty()) {
    STRATA_WARN("broker") << "service manager notification failed: " << error;
  }
}

void Broker::open_listeners() {
  for (const config::Listener& l : config_.listeners) {
    asio::ip::tcp::endpoint ep(asio::ip::make_address(l.host), l.port);
    ConnectionQuota* quota = listener_quotas_.emplace_back(std::make_unique<ConnectionQuota>(l.max_connections)).get();
    ConnectRate* rate = connect_rates_.emplace_back(std::make_unique<ConnectRate>(l.max_connect_rate)).get();
    auto factory = stream_factories_.emplace_back(std::make_shared<transport::StreamFactory>(l));
    for (auto& core : cores_) {
      Core* c = core.get();
      std::unique_ptr<transport::TcpListener> listener;
      try {
        listener = std::make_unique<transport::TcpListener>(
            c->io(), ep, [c, quota, rate, factory, name = l.name()](transport::Socket s) {
              if (!rate->admit()) {
                // Over max_connect_rate: closed before any byte is read, so
                // a connection storm costs no handshake and no CONNECT.
                c->stats().add(c->stats().connections_rate_limited);
                if (std::uint64_t n = rate->report()) {
                  STRATA_WARN("broker") << "listener " << name << ": " << n
                                        << (n == 1 ? " connection" : " connections")
                                        << " over max_connect_rate closed at accept";
                }
                return;  // the socket closes as it goes out of scope
              }
              c->accept(factory->make(std::move(s)), *quota);
            });
      } catch (const boost::system::system_error& e) {
        throw std::runtime_error("cannot listen on " + l.name() + ": " + e.code().message());
      }
      // Port 0 asks the kernel for a port: the other cores join the one
      // the first core got.
      if (ep.port() == 0) ep.port(listener->port());
      listeners_[c->index()].push_back(std::move(listener));
    }
    config::Listener bound = l;
    bound.port = ep.port();  // the kernel's choice when the config said 0
    constexpr const char* proxy_names[] = {"", " (PROXY protocol v1)", " (PROXY protocol v2)", " (PROXY protocol v1 or v2)"};
    STRATA_INFO("broker") << "listening on " << bound.name() << proxy_names[static_cast<int>(l.proxy_protocol)];
  }
}

int Broker::run() {
  // State first: a client that can connect finds its session.
  restore();
  open_listeners();
  store_->start([this](unsigned core, std::function<void()> fn) { asio::post(cores_[core]->io(), std::move(fn)); });
  for (auto& per_core : listeners_) {
    for (auto& l : per_core) l->start();
  }
  handle_signals();
  sys_->start(config_.sys.interval);
  STRATA_INFO("broker") << "strata " << STRATA_VERSION << " running on " << cores_.size()
                        << (cores_.size() == 1 ? " core" : " cores");
  // systemd Type=notify: the listeners are open (util/sd_notify.hpp).
  notify_service_manager("READY=1\nSTATUS=accepting connections\nMAINPID=" + std::to_string(::getpid()));

  std::vector<std::thread> threads;
  for (unsigned i = 1; i < cores_.size(); ++i) threads.emplace_back([this, i] { cores_[i]->run(); });
  cores_[0]->run();
  for (auto& t : threads) t.join();
  store_->stop();
  STRATA_INFO("broker") << "stopped";
  return 0;
}

void Broker::handle_signals() {
  auto signals = std::make_shared<asio::signal_set>(cores_[0]->io(), SIGTERM, SIGINT, SIGHUP);
  auto wait = std::make_shared<std::function<void()>>();
  *wait = [this, signals, wait] {
    signals->async_wait([this, signals, wait](const boost::system::error_code& ec, int sig) {
      if (ec) return;
      if (sig == SIGHUP) {
        reload();
        (*wait)();
        return;
      }
      STRATA_INFO("broker") << "received " << (sig == SIGTERM ? "SIGTERM" : "SIGINT") << ", shutting down";
      *wait = nullptr;  // break the self-reference
      stop();
    });
  };
  (*wait)();
}

namespace {
// Stops core `c` once no lingering close of its thread is left, or at
// `deadline`; `timer` is armed for the first look.
void stop_when_drained(Core* c, std::shared_ptr<asio::steady_timer> timer,
                       std::chrono::steady_clock::time_point deadline) {
  timer->async_wait([c, timer, deadline](const boost::system::error_code&) {
    if (transport::lingering_closes() <= 0 || std::chrono::steady_clock::now() >= deadline) {
      c->stop();
      return;
    }
    timer->expires_after(std::chrono::milliseconds(20));
    stop_when_drained(c, timer, deadline);
  });
}
}  // namespace

void Broker::stop() {
  if (stopping_.exchange(true)) return;
  notify_service_manager("STOPPING=1");
  sys_->stop();
  // Each core closes its listeners and tells its clients (v5: DISCONNECT
  // 0x8B), then gets a moment to write those packets, and stops once its
  // lingering closes are done (transport/linger.hpp), at most linger_time
  // later.
  for (auto& core : cores_) {
    Core* c = core.get();
    asio::post(c->io(), [this, c] {
      for (auto& l : listeners_[c->index()]) l->stop();
      c->disconnect_all();
      auto timer = std::make_shared<asio::steady_timer>(c->io(), std::chrono::milliseconds(200));
      stop_when_drained(c, timer, std::chrono::steady_clock::now() + transport::linger_time);
    });
  }
}

Broker::ReloadReport Broker::reload() {
  ReloadReport report;
  if (config_path_.empty()) {
    report.ok = false;
    report.error = "no configuration file to reload (started without -c)";
    STRATA_INFO("broker") << "reload: " << report.error;
    return report;
  }
  config::Config fresh;
  try {
    fresh = config::load_file(config_path_);
  } catch (const std::exception& e) {
    report.ok = false;
    report.error = e.what();
    STRATA_ERROR("broker") << "reload failed, keeping the running configuration: " << e.what();
    return report;
  }
  // TLS certificates: new connections get the new ones, existing ones keep
  // theirs. A listener whose files fail to load keeps its running ones.
  bool tls_ok = true;
  for (auto& f : stream_factories_) tls_ok = f->reload() && tls_ok;
  if (!stream_factories_.empty()) {
    (tls_ok ? report.reloaded : report.not_reloaded)
        .push_back(tls_ok ? "TLS certificates of the listeners" : "TLS certificates: some failed to load (see the log)");
  }
  // Password and ACL files (the paths of the running [auth]).
  // Subscriptions' read access follows the ACL that is now in force.
  if (file_authorizer_->reload()) {
    report.reloaded.push_back("[auth] password and ACL files");
    for (auto& core : cores_) {
      Core* c = core.get();
      asio::post(c->io(), [c] { c->recheck_read_access(); });
    }
  } else {
    report.not_reloaded.push_back("[auth] password or ACL file failed to load: the running ones stay (see the log)");
  }
  // What is safe to change while cores run: the log level and $SYS period.
  log::set_level(fresh.log_level);
  config_.log_level = fresh.log_level;
  report.reloaded.push_back("broker.log_level");
  if (fresh.sys.interval != config_.sys.interval) {
    config_.sys.interval = fresh.sys.interval;
    sys_->start(config_.sys.interval);
  }
  report.reloaded.push_back("[sys] interval");
  auto listener_names = [](const config::Config& c) {
    std::string s;
    for (const auto& l : c.listeners) s += l.name() + " ";
    return s;
  };
  if (listener_names(fresh) != listener_names(config_) || fresh.data_dir != config_.data_dir ||
      fresh.threads != config_.threads) {
    report.not_reloaded.push_back("listener, data_dir and threads changes need a restart");
  }
  if (!(fresh.rules == config_.rules)) {
    report.not_reloaded.push_back("[rules] changes need a restart (rule files reload by themselves)");
  }
  if (!(fresh.limits == config_.limits) || !(fresh.store == config_.store)) {
    report.not_reloaded.push_back("[limits] and [store] changes need a restart");
  }
  for (const ReloadHook& hook : reload_hooks_) {
    try {
      std::string what = hook(fresh);
      if (!what.empty()) report.reloaded.push_back(what);
    } catch (const std::exception& e) {
      report.not_reloaded.push_back(std::string(e.what()) + "; keeping the running configuration of that section");
    }
  }
  for (const std::string& r : report.reloaded) {
    STRATA_INFO("broker") << "reload: " << r;
  }
  for (const std::string& r : report.not_reloaded) {
    STRATA_WARN("broker") << "reload: " << r;
  }
  return report;
}

// ---------------------------------------------------------------------------
// Registry

void Broker::attach_log(session::SessionHandle& h) {
  if (session_logs_ == nullptr) return;
  if (session::SessionLog* log = session_logs_->log_for(h.client_id)) {
    h.set_log(log);
  }
}

Broker::Claim Broker::claim(const std::string& client_id, bool clean_start, unsigned core, bool persistent) {
  std::lock_guard lock(registry_mutex_);
  auto it = registry_.find(client_id);
  Claim c;
  if (it != registry_.end()) c.previous = it->second;
  if (c.previous && !clean_start) {
    c.current = c.previous;
    return c;
  }
  c.current = std::make_shared<session::SessionHandle>(client_id, next_serial_++, core);
  if (persistent) attach_log(*c.current);
  set_registered(c.current);
  return c;
}

session::SessionRef Broker::renew(const session::SessionRef& expected, unsigned core, bool persistent) {
  std::lock_guard lock(registry_mutex_);
  auto fresh = std::make_shared<session::SessionHandle>(expected->client_id, next_serial_++, core);
  if (persistent) attach_log(*fresh);
  auto it = registry_.find(expected->client_id);
  if (it == registry_.end() || it->second == expected) set_registered(fresh);
  return fresh;
}

void Broker::set_registered(session::SessionRef h) {
  auto it = registry_.find(h->client_id);
  if (it == registry_.end()) {
    registry_.emplace(std::string_view(h->client_id), std::move(h));
    return;
  }
  // The key views the old handle's id, which goes with it: both change.
  auto node = registry_.extract(it);
  node.key() = h->client_id;
  node.mapped() = std::move(h);
  registry_.insert(std::move(node));
}

void Broker::unregister(const session::SessionHandle* h) {
  std::lock_guard lock(registry_mutex_);
  auto it = registry_.find(h->client_id);
  if (it != registry_.end() && it->second.get() == h) registry_.erase(it);
}

std::size_t Broker::session_count() {
  std::lock_guard lock(registry_mutex_);
  return registry_.size();
}


}  // namespace strata::core
