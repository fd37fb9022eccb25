#include "plugins/plugin_host.hpp"

#include <unistd.h>

#include <boost/asio/post.hpp>
#include <chrono>
#include <filesystem>
#include <optional>

#include "broker/router/topic.hpp"
#include "broker/util/log.hpp"
#include "plugins/plugin_authorizer.hpp"

// One loaded plugin: the broker's side of the opaque strata_plugin handle.
struct strata_plugin {
  strata::plugins::PluginHost* host = nullptr;
  std::string name;  // the library's file name, for the log
  strata::plugins::PluginConfig config;
  std::unique_ptr<strata::plugins::PluginLibrary> library;
  std::vector<strata_option> options;  // views of config.options
  std::string error;                   // set_error during init
  void* data = nullptr;                // the plugin's own, from init
  bool initialised = false;
};

// A basic authentication on its way along the chain of BASIC_AUTH
// callbacks; owned by the broker, lent to a plugin while PENDING.
struct strata_auth_request {
  strata::plugins::PluginHost* host = nullptr;
  unsigned core = 0;
  std::string client_id, remote_address, cert_identity;
  int protocol_version = 5;
  std::optional<std::string> username, password;
  std::size_t next = 0;  // the callback to ask next
  strata::core::ClientHooks::Done done;
};

namespace strata::plugins {

namespace asio = boost::asio;
using core::ClientView;

namespace {

thread_local unsigned t_core = 0;

strata_str str(std::string_view s) { return strata_str{s.data(), s.size()}; }
std::string_view view(strata_str s) { return s.data == nullptr ? std::string_view() : std::string_view(s.data, s.len); }

void refresh_options(strata_plugin& p) {
  p.options.clear();
  for (const auto& [k, v] : p.config.options) p.options.push_back(strata_option{str(k), str(v)});
}

// The MESSAGE event being delivered on this thread, so that the setters can
// find the message behind the public struct (and refuse any other pointer).
struct MessageEvent {
  strata_evt_message pub{};
  router::MessagePtr* msg = nullptr;
  std::optional<router::MessageDraft> copy;  // made on the first change
  std::vector<strata_user_property> props;

  void fill() {
    pub.topic = str(copy ? std::string_view(copy->topic) : (*msg)->topic);
    pub.payload = str(copy ? std::string_view(copy->payload) : (*msg)->payload);
    props.clear();
    const protocol::Properties& p = copy ? *copy->properties : *(*msg)->properties;
    for (const auto& [k, v] : p.user_properties) props.push_back({str(k), str(v)});
    pub.user_properties = props.empty() ? nullptr : props.data();
    pub.user_property_count = props.size();
  }
  router::MessageDraft& edit() {
    if (!copy) copy.emplace(**msg);
    return *copy;
  }
  // The changed message; the namespace annotation only if topic and
  // payload are unchanged.
  router::MessagePtr changed() {
    if (copy->topic != (*msg)->topic || copy->payload != (*msg)->payload) copy->uns.reset();
    return router::Message::make(std::move(*copy));
  }
};
thread_local MessageEvent* t_message = nullptr;

MessageEvent* message_event(strata_evt_message* evt) {
  return (t_message != nullptr && &t_message->pub == evt) ? t_message : nullptr;
}

std::string host_name() {
  char buf[256] = {};
  if (::gethostname(buf, sizeof buf - 1) != 0) return "strata";
  return buf;
}

// --- the C API (strata_broker_api) ------------------------------------------

int api_register_callback(strata_plugin* plugin, int event, strata_event_cb cb, void* userdata) {
  if (plugin == nullptr || plugin->host == nullptr) return STRATA_EINVAL;
  return plugin->host->register_callback(plugin, event, cb, userdata);
}

void api_log(strata_plugin* plugin, int level, strata_str message) {
  std::string component = plugin != nullptr ? "plugin " + plugin->name : "plugin";
  log::Level l = level <= STRATA_LOG_DEBUG ? log::Level::debug
                 : level == STRATA_LOG_INFO ? log::Level::info
                 : level == STRATA_LOG_WARN ? log::Level::warn
                                            : log::Level::error;
  // log::Line keeps a view of the component: it must outlive the line.
  STRATA_LOG(l, component) << view(message);
}

void api_set_error(strata_plugin* plugin, strata_str message) {
  if (plugin != nullptr) plugin->error.assign(view(message));
}

strata_str api_node_name() {
  static const std::string name = host_name();
  return str(name);
}

strata_str api_client_id(const strata_client* c) { return c ? str(c->view.client_id) : strata_str{}; }
strata_str api_client_username(const strata_client* c) { return c ? str(c->view.username) : strata_str{}; }
strata_str api_client_address(const strata_client* c) { return c ? str(c->view.remote_address) : strata_str{}; }
strata_str api_client_cert_identity(const strata_client* c) { return c ? str(c->view.cert_identity) : strata_str{}; }
int api_client_protocol_version(const strata_client* c) { return c ? c->view.protocol_version : 0; }

int api_auth_complete(strata_auth_request* request, int result, int reason_code) {
  if (request == nullptr || request->host == nullptr) return STRATA_EINVAL;
  return request->host->complete(request, result, reason_code);
}

int api_message_set_topic(strata_evt_message* evt, strata_str topic) {
  MessageEvent* ev = message_event(evt);
  if (ev == nullptr || !router::is_valid_topic_name(view(topic)) || view(topic).rfind("$", 0) == 0) {
    return STRATA_EINVAL;
  }
  ev->edit().topic.assign(view(topic));
  ev->fill();
  return STRATA_OK;
}

int api_message_set_payload(strata_evt_message* evt, strata_str payload) {
  MessageEvent* ev = message_event(evt);
  if (ev == nullptr) return STRATA_EINVAL;
  ev->edit().payload.assign(view(payload));
  ev->fill();
  return STRATA_OK;
}

int api_message_add_user_property(strata_evt_message* evt, strata_str name, strata_str value) {
  MessageEvent* ev = message_event(evt);
  if (ev == nullptr) return STRATA_EINVAL;
  ev->edit().properties.edit().user_properties.emplace_back(std::string(view(name)), std::string(view(value)));
  ev->fill();
  return STRATA_OK;
}

int api_message_clear_user_properties(strata_evt_message* evt) {
  MessageEvent* ev = message_event(evt);
  if (ev == nullptr) return STRATA_EINVAL;
  ev->edit().properties.edit().user_properties.clear();
  ev->fill();
  return STRATA_OK;
}

std::atomic<unsigned> g_core_count{1};
unsigned api_core_count_impl() { return g_core_count.load(std::memory_order_relaxed); }

const strata_broker_api* make_api(int abi_version) {
  static const strata_broker_api v2 = [] {
    strata_broker_api a{};
    a.size = sizeof(strata_broker_api);
    a.abi_version = 2;
    a.register_callback = api_register_callback;
    a.log = api_log;
    a.set_error = api_set_error;
    a.core_count = api_core_count_impl;
    a.node_name = api_node_name;
    a.client_id = api_client_id;
    a.client_username = api_client_username;
    a.client_address = api_client_address;
    a.client_cert_identity = api_client_cert_identity;
    a.client_protocol_version = api_client_protocol_version;
    a.auth_complete = api_auth_complete;
    a.message_set_topic = api_message_set_topic;
    a.message_set_payload = api_message_set_payload;
    a.message_add_user_property = api_message_add_user_property;
    a.message_clear_user_properties = api_message_clear_user_properties;
    a.auth_set_data = extended_auth_set_data;
    a.auth_set_username = extended_auth_set_username;
    return a;
  }();
  // Version 1 saw the table up to message_clear_user_properties.
  static const strata_broker_api v1 = [] {
    strata_broker_api a = v2;
    a.size = static_cast<std::uint32_t>(offsetof(strata_broker_api, auth_set_data));
    a.abi_version = 1;
    a.auth_set_data = nullptr;
    a.auth_set_username = nullptr;
    return a;
  }();
  return abi_version >= 2 ? &v2 : &v1;
}

}  // namespace

// ---------------------------------------------------------------------------

unsigned PluginHost::current_core() noexcept { return t_core; }

PluginHost::PluginHost(core::Broker& broker, std::vector<PluginConfig> configs) : broker_(broker) {
  g_core_count.store(broker.core_count(), std::memory_order_relaxed);
  try {
    for (PluginConfig& pc : configs) {
      if (!pc.enabled) {
        STRATA_INFO("plugin") << pc.resolved << ": disabled (" << pc.where << ")";
        continue;
      }
      auto p = std::make_unique<strata_plugin>();
      p->host = this;
      p->name = std::filesystem::path(pc.resolved).filename().string();
      p->config = std::move(pc);
      refresh_options(*p);
      p->library = std::make_unique<PluginLibrary>(p->config.resolved);
      const int abi = p->library->abi_version();
      strata_plugin* raw = p.get();
      plugins_.push_back(std::move(p));
      int rc = raw->library->init()(raw, make_api(abi), abi, raw->options.data(), raw->options.size(), &raw->data);
      if (rc != STRATA_OK) {
        throw LoadError("plugin " + raw->config.resolved + ": strata_plugin_init failed (" + std::to_string(rc) +
                        ")" + (raw->error.empty() ? "" : ": " + raw->error));
      }
      raw->initialised = true;
      STRATA_INFO("plugin") << raw->config.resolved << ": loaded, ABI version " << abi << " (plugin supports "
                            << version_list(raw->library->offered()) << ", broker "
                            << version_list(kKnownAbiVersions) << ")";
    }
  } catch (...) {
    cleanup();
    throw;
  }
  loading_ = false;
}

PluginHost::~PluginHost() {
  cleanup();
  if (broker_.client_hooks() == this) broker_.set_client_hooks(nullptr);
  std::lock_guard lock(pending_mutex_);
  for (strata_auth_request* r : pending_) delete r;  // never answered (cleanup says they will not be)
  pending_.clear();
}

void PluginHost::cleanup() {
  if (cleaned_) return;
  cleaned_ = true;
  for (auto it = plugins_.rbegin(); it != plugins_.rend(); ++it) {
    strata_plugin& p = **it;
    if (!p.initialised) continue;
    p.initialised = false;
    int rc = p.library->cleanup()(p.data, p.options.data(), p.options.size());
    if (rc != STRATA_OK) {
      STRATA_WARN("plugin") << p.config.resolved << ": cleanup returned " << rc;
    }
  }
}

std::vector<PluginHost::Info> PluginHost::info() const {
  static constexpr const char* names[kEvents] = {"",           "basic_auth", "acl_check", "message",
                                                 "connect",    "disconnect", "subscribe", "unsubscribe",
                                                 "tick",       "reload",     "extended_auth"};
  std::vector<Info> out;
  for (const auto& p : plugins_) {
    Info i{p->name, p->config.resolved, p->library->abi_version(), p->library->offered(), {}};
    for (int e = 1; e < kEvents; ++e) {
      for (const Callback& cb : callbacks_[slot(e)]) {
        if (cb.plugin == p.get()) {
          i.events.emplace_back(names[e]);
          break;
        }
      }
    }
    out.push_back(std::move(i));
  }
  return out;
}

int PluginHost::register_callback(strata_plugin* plugin, int event, strata_event_cb fn, void* userdata) {
  if (!loading_ || fn == nullptr || event < STRATA_EVT_BASIC_AUTH || event >= kEvents) return STRATA_EINVAL;
  if (event == STRATA_EVT_EXTENDED_AUTH && plugin->library->abi_version() < 2) return STRATA_EINVAL;
  callbacks_[slot(event)].push_back(Callback{plugin, fn, userdata});
  return STRATA_OK;
}

void PluginHost::attach() {
  const unsigned n = broker_.core_count();
  // Each core's thread learns its index first thing (current_core()).
  for (unsigned i = 0; i < n; ++i) {
    asio::post(broker_.core(i).io(), [i] { t_core = i; });
  }
  broker_.set_client_hooks(this);
  if (!callbacks(STRATA_EVT_MESSAGE).empty()) broker_.add_hook(this);
  if (!callbacks(STRATA_EVT_ACL_CHECK).empty() || !callbacks(STRATA_EVT_EXTENDED_AUTH).empty()) {
    broker_.wrap_authorizer([this](std::unique_ptr<auth::Authorizer> inner) -> std::unique_ptr<auth::Authorizer> {
      return std::make_unique<PluginAuthorizer>(*this, std::move(inner));
    });
  }
  if (!callbacks(STRATA_EVT_TICK).empty()) start_ticks();
  broker_.add_reload_hook([this](const config::Config& fresh) { return reload(fresh); });
}

void PluginHost::notify(int event, void* data) {
  for (const Callback& cb : callbacks(event)) cb.fn(event, data, cb.userdata);
}

// --- basic authentication ------------------------------------------------------

void PluginHost::authenticate(const ClientView& client, std::optional<std::string_view> username,
                              std::optional<std::string_view> password, unsigned core, Done done) {
  if (callbacks(STRATA_EVT_BASIC_AUTH).empty()) {
    done(Answer{Verdict::defer, {}});
    return;
  }
  auto* r = new strata_auth_request;
  r->host = this;
  r->core = core;
  r->client_id = client.client_id;
  r->remote_address = client.remote_address;
  r->cert_identity = client.cert_identity;
  r->protocol_version = client.protocol_version;
  if (username) r->username = std::string(*username);
  if (password) r->password = std::string(*password);
  r->done = std::move(done);
  run_auth(r);
}

void PluginHost::run_auth(strata_auth_request* r) {
  const auto& chain = callbacks(STRATA_EVT_BASIC_AUTH);
  while (r->next < chain.size()) {
    const Callback& cb = chain[r->next++];
    strata_client client{ClientView{r->client_id, {}, r->remote_address, r->cert_identity, r->protocol_version}};
    strata_evt_basic_auth evt{};
    evt.size = sizeof evt;
    evt.core = r->core;
    evt.client = &client;
    evt.has_username = r->username ? 1 : 0;
    evt.has_password = r->password ? 1 : 0;
    if (r->username) evt.username = str(*r->username);
    if (r->password) evt.password = str(*r->password);
    evt.request = r;
    {
      // Pending before the call: the plugin may complete it from its own
      // thread before the callback returns.
      std::lock_guard lock(pending_mutex_);
      pending_.insert(r);
    }
    int result = cb.fn(STRATA_EVT_BASIC_AUTH, &evt, cb.userdata);
    if (result == STRATA_PENDING) return;  // auth_complete goes on
    {
      std::lock_guard lock(pending_mutex_);
      if (pending_.erase(r) == 0) {
        // Completed and answered: the completion (already posted) wins.
        STRATA_WARN("plugin") << cb.plugin->name << ": completed an authentication it did not leave pending";
        return;
      }
    }
    if (result == STRATA_ALLOW || result == STRATA_DENY) {
      Done done = std::move(r->done);
      delete r;
      done(Answer{result == STRATA_ALLOW ? Verdict::allow : Verdict::deny, protocol::ReasonCode::not_authorized});
      return;
    }
    if (result != STRATA_DEFER) {
      STRATA_WARN("plugin") << cb.plugin->name << ": basic authentication answered " << result << "; taken as DEFER";
    }
  }
  Done done = std::move(r->done);
  delete r;
  done(Answer{Verdict::defer, {}});
}

int PluginHost::complete(strata_auth_request* r, int result, int reason_code) {
  if (result != STRATA_ALLOW && result != STRATA_DENY && result != STRATA_DEFER) return STRATA_EINVAL;
  if (reason_code < 0 || reason_code > 255) return STRATA_EINVAL;
  {
    std::lock_guard lock(pending_mutex_);
    if (pending_.erase(r) == 0) return STRATA_EINVAL;  // unknown, or answered already
  }
  // The rest happens on the client's core. The handler owns the request,
  // so a core that stopped meanwhile frees it unanswered.
  std::unique_ptr<strata_auth_request> owned(r);
  asio::post(broker_.core(r->core).io(), [this, owned = std::move(owned), result, reason_code]() mutable {
    if (result == STRATA_DEFER) {
      run_auth(owned.release());
      return;
    }
    auto reason = reason_code == 0 ? protocol::ReasonCode::not_authorized
                                   : static_cast<protocol::ReasonCode>(reason_code);
    Done done = std::move(owned->done);
    owned.reset();
    done(Answer{result == STRATA_ALLOW ? Verdict::allow : Verdict::deny, reason});
  });
  return STRATA_OK;
}

// --- events --------------------------------------------------------------------

void PluginHost::connected(const ClientView& client, unsigned core) {
  if (callbacks(STRATA_EVT_CONNECT).empty()) return;
  strata_client c{client};
  strata_evt_connect evt{};
  evt.size = sizeof evt;
  evt.core = core;
  evt.client = &c;
  notify(STRATA_EVT_CONNECT, &evt);
}

void PluginHost::disconnected(const ClientView& client, protocol::ReasonCode reason, unsigned core) {
  if (callbacks(STRATA_EVT_DISCONNECT).empty()) return;
  strata_client c{client};
  strata_evt_disconnect evt{};
  evt.size = sizeof evt;
  evt.core = core;
  evt.client = &c;
  evt.reason_code = static_cast<int>(reason);
  notify(STRATA_EVT_DISCONNECT, &evt);
}

void PluginHost::subscribed(const ClientView& client, std::string_view filter, std::uint8_t qos, unsigned core) {
  if (callbacks(STRATA_EVT_SUBSCRIBE).empty()) return;
  strata_client c{client};
  strata_evt_subscribe evt{};
  evt.size = sizeof evt;
  evt.core = core;
  evt.client = &c;
  evt.filter = str(filter);
  evt.qos = qos;
  notify(STRATA_EVT_SUBSCRIBE, &evt);
}

void PluginHost::unsubscribed(const ClientView& client, std::string_view filter, unsigned core) {
  if (callbacks(STRATA_EVT_UNSUBSCRIBE).empty()) return;
  strata_client c{client};
  strata_evt_unsubscribe evt{};
  evt.size = sizeof evt;
  evt.core = core;
  evt.client = &c;
  evt.filter = str(filter);
  notify(STRATA_EVT_UNSUBSCRIBE, &evt);
}

core::HookVerdict PluginHost::on_publish(router::MessagePtr& msg, unsigned core) {
  const auto& chain = callbacks(STRATA_EVT_MESSAGE);
  // The broker's own $SYS messages are not a client's publish.
  if (chain.empty() || msg->topic.rfind("$SYS/", 0) == 0) return core::HookVerdict::pass;
  MessageEvent ev;
  ev.msg = &msg;
  ev.pub.size = sizeof ev.pub;
  ev.pub.core = core;
  ev.pub.client_id = str(msg->publisher);
  ev.pub.username = str(msg->username);
  ev.pub.qos = static_cast<int>(msg->qos);
  ev.pub.retain = msg->retain ? 1 : 0;
  ev.fill();
  MessageEvent* outer = t_message;  // a callback never publishes, but be safe
  t_message = &ev;
  core::HookVerdict verdict = core::HookVerdict::pass;
  for (const Callback& cb : chain) {
    if (cb.fn(STRATA_EVT_MESSAGE, &ev.pub, cb.userdata) == STRATA_MSG_DROP) {
      verdict = core::HookVerdict::drop;
      break;
    }
  }
  t_message = outer;
  if (verdict == core::HookVerdict::pass && ev.copy) msg = ev.changed();
  return verdict;
}

// --- tick and reload -------------------------------------------------------------

void PluginHost::start_ticks() {
  const unsigned n = broker_.core_count();
  for (unsigned i = 0; i < n; ++i) ticks_.push_back(std::make_unique<asio::steady_timer>(broker_.core(i).io()));
  for (unsigned i = 0; i < n; ++i) {
    auto arm = std::make_shared<std::function<void()>>();
    *arm = [this, i, weak = std::weak_ptr<std::function<void()>>(arm)] {
      ticks_[i]->expires_after(std::chrono::seconds(1));
      ticks_[i]->async_wait([this, i, self = weak.lock()](const boost::system::error_code& ec) {
        if (ec) return;
        strata_evt_tick evt{};
        evt.size = sizeof evt;
        evt.core = i;
        evt.now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                         std::chrono::system_clock::now().time_since_epoch())
                         .count();
        notify(STRATA_EVT_TICK, &evt);
        (*self)();
      });
    };
    (*arm)();
  }
}

std::string PluginHost::reload(const config::Config& fresh) {
  std::vector<PluginConfig> configs = read_plugin_config(fresh, default_plugin_dir());
  std::erase_if(configs, [](const PluginConfig& c) { return !c.enabled; });
  bool same = configs.size() == plugins_.size();
  for (std::size_t i = 0; same && i < configs.size(); ++i) same = configs[i].resolved == plugins_[i]->config.resolved;
  if (!same) {
    STRATA_WARN("plugin") << "SIGHUP: the [[plugin]] list changed; loading or unloading plugins needs a restart, "
                             "options not reloaded";
    return {};
  }
  std::string changed;
  for (std::size_t i = 0; i < configs.size(); ++i) {
    strata_plugin& p = *plugins_[i];
    if (configs[i].options == p.config.options) continue;
    p.config.options = std::move(configs[i].options);
    refresh_options(p);
    strata_evt_reload evt{};
    evt.size = sizeof evt;
    evt.options = p.options.data();
    evt.option_count = p.options.size();
    for (const Callback& cb : callbacks(STRATA_EVT_RELOAD)) {
      if (cb.plugin != &p) continue;
      int rc = cb.fn(STRATA_EVT_RELOAD, &evt, cb.userdata);
      if (rc != STRATA_OK) {
        STRATA_ERROR("plugin") << p.config.resolved << ": reload failed (" << rc << ")";
      }
    }
    changed += (changed.empty() ? "" : ", ") + p.name;
  }
  return changed.empty() ? std::string() : "plugin options reloaded: " + changed;
}

}  // namespace strata::plugins
