// The loaded plugins and their callbacks, and where they meet the broker.
//
//   [[plugin]] tables ─► PluginLibrary (dlopen, ABI version) ─► strata_plugin_init
//                                                               └─ register_callback
//   Broker ─ ClientHooks ─► BASIC_AUTH (async), CONNECT, DISCONNECT, SUBSCRIBE, UNSUBSCRIBE
//          ─ PublishHook ─► MESSAGE (before the rule engine)
//          ─ Authorizer  ─► ACL_CHECK, EXTENDED_AUTH (plugin_authorizer.hpp), then the built-in one
//          ─ timers      ─► TICK (each core, every second)
//          ─ SIGHUP      ─► RELOAD with the new options
//
// Callbacks of one event form a chain in the order of the [[plugin]]
// tables: for authentication and ACLs the first answer that is not DEFER
// decides, and when every plugin defers the built-in checks ([auth]) do.
//
// Basic authentication may be answered later (STRATA_PENDING): the request
// is a heap object the plugin completes from any thread with
// api->auth_complete; the broker posts the answer to the client's core,
// where a DEFER goes on to the next plugin. A core never waits.
//
// Threading: callbacks run on core threads with the core index; the host
// itself holds no lock on those paths (the callback lists are fixed after
// load). The set of pending authentication requests has a mutex: requests
// are completed from plugin threads.
#pragma once

#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_set>
#include <vector>

#include <boost/asio/steady_timer.hpp>

#include "broker/core/broker.hpp"
#include "broker/core/client_hooks.hpp"
#include "broker/core/publish_hook.hpp"
#include "plugins/plugin_config.hpp"
#include "plugins/plugin_library.hpp"
#include "strata/plugin.h"

// The opaque handles of plugin.h, defined here.
struct strata_plugin;
struct strata_client {
  strata::core::ClientView view;
};

namespace strata::plugins {

class PluginHost final : public core::ClientHooks, public core::PublishHook {
 public:
  struct Callback {
    strata_plugin* plugin;
    strata_event_cb fn;
    void* userdata;
  };

  // Loads and initialises every enabled plugin of `configs`, in order.
  // Throws LoadError ("plugin PATH: reason") on the first that fails; those
  // initialised before it are cleaned up.
  PluginHost(core::Broker& broker, std::vector<PluginConfig> configs);
  ~PluginHost() override;
  PluginHost(const PluginHost&) = delete;
  PluginHost& operator=(const PluginHost&) = delete;

  // Connects the host to the broker: client hooks, publish hook, authorizer,
  // tick timers, reload hook. Before Broker::run().
  void attach();
  // Calls every plugin's cleanup, last loaded first. After Broker::run()
  // returned (no callback runs any more). Idempotent.
  void cleanup();

  std::size_t size() const noexcept { return plugins_.size(); }
  // What was loaded, for GET /api/v1/plugins (fixed after load).
  struct Info {
    std::string name, path;
    int abi_version = 0;
    std::vector<int> offered;
    std::vector<std::string> events;  // "basic_auth", "message", ... it registered for
  };
  std::vector<Info> info() const;
  const std::vector<Callback>& callbacks(int event) const noexcept { return callbacks_[slot(event)]; }
  core::Broker& broker() noexcept { return broker_; }

  // --- core::ClientHooks ---------------------------------------------------
  void authenticate(const core::ClientView& client, std::optional<std::string_view> username,
                    std::optional<std::string_view> password, unsigned core, Done done) override;
  void connected(const core::ClientView& client, unsigned core) override;
  void disconnected(const core::ClientView& client, protocol::ReasonCode reason, unsigned core) override;
  void subscribed(const core::ClientView& client, std::string_view filter, std::uint8_t qos,
                  unsigned core) override;
  void unsubscribed(const core::ClientView& client, std::string_view filter, unsigned core) override;

  // --- core::PublishHook ---------------------------------------------------
  core::HookVerdict on_publish(router::MessagePtr& msg, unsigned core) override;

  // SIGHUP (a Broker reload hook): hands changed options to the plugins'
  // RELOAD callbacks; returns what changed, for the log. Loading, removing
  // or reordering plugins needs a restart (logged, nothing applied).
  std::string reload(const config::Config& fresh);

  // The index of the core whose thread calls (0 off the cores): for the
  // Authorizer calls, which do not carry it.
  static unsigned current_core() noexcept;

  // Internal, for the C API functions of plugin_host.cpp.
  int register_callback(strata_plugin* plugin, int event, strata_event_cb fn, void* userdata);
  int complete(strata_auth_request* request, int result, int reason_code);
  void run_auth(strata_auth_request* request);

 private:
  static constexpr int kEvents = STRATA_EVT_EXTENDED_AUTH + 1;
  static std::size_t slot(int event) noexcept { return static_cast<std::size_t>(event); }
  void notify(int event, void* data);  // every callback of `event`, return values ignored
  void start_ticks();

  core::Broker& broker_;
  std::vector<std::unique_ptr<strata_plugin>> plugins_;
  std::vector<Callback> callbacks_[kEvents];
  bool loading_ = true;  // register_callback is allowed during init only
  bool cleaned_ = false;

  std::mutex pending_mutex_;
  std::unordered_set<strata_auth_request*> pending_;  // handed to plugins, not completed yet

  std::vector<std::unique_ptr<boost::asio::steady_timer>> ticks_;  // one per core
};

}  // namespace strata::plugins
