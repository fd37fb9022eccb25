// strata: parse the command line, load the configuration, run the broker.
#include <iostream>

#include "bridges/bridge_api.hpp"
#include "bridges/bridge_manager.hpp"
#include "bridges/bridge_sessions.hpp"
#include "broker/admin/admin_config.hpp"
#include "broker/admin/server.hpp"
#include "broker/config/cli.hpp"
#include "broker/core/broker.hpp"
#include "broker/historian/historian.hpp"
#include "broker/historian/history_api.hpp"
#include "broker/historian/history_http.hpp"
#include "broker/historian/historian_config.hpp"
#include "broker/historian/replay_http.hpp"
#include "broker/historian/replayer.hpp"
#include "broker/core/clock.hpp"
#include "broker/uns/catalog_snapshot.hpp"
#include "broker/uns/contract_overlay.hpp"
#include "broker/uns/namespace_hook.hpp"
#include "broker/uns/contract_alarms.hpp"
#include "broker/uns/uns_api.hpp"
#include "broker/util/install_paths.hpp"
#include "broker/util/log.hpp"
#include "plugins/plugin_api.hpp"
#include "plugins/plugin_config.hpp"
#include "plugins/plugin_host.hpp"
#include "rules/rule_alarms.hpp"
#include "rules/rule_engine.hpp"
#include "rules/rule_metrics.hpp"
#include "rules/rules_api.hpp"
#include "rules/rules_test.hpp"

int main(int argc, char** argv) {
  using namespace strata;
  config::CommandLine cmd;
  try {
    cmd = config::parse_command_line(argc, argv);
  } catch (const config::UsageError& e) {
    std::cerr << "strata: " << e.what() << "\n" << config::usage_text();
    return 2;
  }
  if (cmd.show_help) {
    std::cout << config::usage_text();
    return 0;
  }
  if (cmd.show_version) {
    std::cout << "strata " << STRATA_VERSION << "\n";
    return 0;
  }
  if (cmd.check_config) {
    try {
      config::Config checked = config::load_file(*cmd.check_config);
      bridges::check_config(checked);
      bridges::check_bridge_session_config(checked);  // [[bridge_session]]
      historian::read_historian_config(checked);
      admin::read_admin_config(checked, cmd.admin_url);
      if (checked.document) uns::read_uns_config(*checked.document);  // [uns]: model, contracts, schema files
      plugins::read_plugin_config(checked, plugins::default_plugin_dir());  // [[plugin]]
      std::cout << *cmd.check_config << ": ok\n";
      return 0;
    } catch (const config::ConfigError& e) {
      std::cerr << e.what() << "\n";
      return 1;
    }
  }
  if (cmd.rules_test) {
    try {
      config::Config budgets = config::resolve(cmd);  // [rules] budgets and [[bridge]] names of -c FILE, if given
      return rules::run_rules_test(*cmd.rules_test, cmd.messages, budgets, std::cout, std::cerr);
    } catch (const std::exception& e) {
      std::cerr << "strata: " << e.what() << "\n";
      return 1;
    }
  }
  if (cmd.config_file.empty()) {
    // An installed strata without -c reads <prefix>/etc/strata/strata.toml.
    cmd.config_file = util::installed_config_file();
  }
  config::Config cfg;
  uns::UnsConfig uns_config;
  try {
    cfg = config::resolve(cmd);
    admin::read_admin_config(cfg, cmd.admin_url);  // [admin] errors stop start-up like the others
    bridges::check_bridge_session_config(cfg);      // [[bridge_session]]
    if (cfg.document) uns_config = uns::read_uns_config(*cfg.document);
  } catch (const config::ConfigError& e) {
    std::cerr << "strata: " << e.what() << "\n";
    return 1;
  }
  historian::HistorianConfig history;
  try {
    history = historian::read_historian_config(cfg);
  } catch (const config::ConfigError& e) {
    std::cerr << "strata: " << e.what() << "\n";
    return 1;
  }
  log::set_level(cfg.log_level);
  if (cmd.history) return historian::run_offline_request(cfg, *cmd.history, cmd.body, std::cout);
  try {
    core::Broker broker(std::move(cfg), cmd.config_file);
    // The namespace runs before the rules: they see msg.uns and reuse its
    // parsed payload. Registered even when disabled, so a reload can enable it.
    unsigned cores = broker.core_count();
    // Contracts applied through the API (kept in the store) go on top of
    // the file's, now and at every reload.
    auto contract_overlay = std::make_unique<uns::ContractOverlay>(broker.store());
    if (contract_overlay->load() > 0) {
      std::string applied = contract_overlay->apply(uns_config);
      if (!applied.empty()) {
        STRATA_INFO("uns") << "contracts from the API: " << applied;
      }
    }
    bool uns_on = uns_config.enabled;
    std::uint32_t snapshot_interval = uns_config.snapshot_interval_s;
    auto namespace_hook = std::make_unique<uns::NamespaceHook>(std::move(uns_config), cores, nullptr,
                                                               [] { return core::now_ms(); });
    namespace_hook->set_contract_overlay([&o = *contract_overlay](uns::UnsConfig& c) { return o.apply(c); });
    namespace_hook->attach(broker);
    broker.add_hook(namespace_hook.get());
    // The catalog's snapshot: restored before any traffic, written every
    // snapshot_interval and at a graceful stop.
    std::unique_ptr<uns::CatalogSnapshot> catalog_snapshot;
    if (uns_on) {
      catalog_snapshot = std::make_unique<uns::CatalogSnapshot>(broker, *namespace_hook, snapshot_interval);
      catalog_snapshot->restore();
      catalog_snapshot->start();
    }
    // Plugins ([[plugin]], plugins/): loaded before anything runs; one that
    // fails stops start-up with its path and the reason. Its message
    // callbacks are a publish hook ahead of the rule engine's.
    std::unique_ptr<plugins::PluginHost> plugin_host;
    if (auto plugin_configs = plugins::read_plugin_config(broker.config(), plugins::default_plugin_dir());
        !plugin_configs.empty()) {
      plugin_host = std::make_unique<plugins::PluginHost>(broker, std::move(plugin_configs));
      plugin_host->attach();
    }
    rules::EmitTargets targets;
    bridges::BridgeManager bridges(broker, targets);  // before run(): outboxes, routes, emit targets
    bridges::BridgeSessions bridge_sessions(broker);  // before run(): [[bridge_session]] logs, read back
    std::unique_ptr<rules::RuleEngine> engine;
    if (broker.config().rules.enabled) {
      engine = std::make_unique<rules::RuleEngine>(broker, targets);
      broker.add_hook(engine.get());
      engine->start();
    }
    // After the rule engine's hook: history records messages as rules left them.
    std::unique_ptr<historian::Historian> hist;
    if (history.enabled) {
      hist = std::make_unique<historian::Historian>(broker, history);
      broker.add_hook(hist.get());
      targets.set_history(hist.get());  // history.last/range in rules
      hist->start();
    }
    // Replay jobs (the historian's raw log through a bridge's outbox): read
    // back before the store's writer starts, resumed by start().
    std::unique_ptr<historian::Replayer> replayer;
    if (hist) {
      replayer = std::make_unique<historian::Replayer>(broker.store(), hist->store(), bridges,
                                                       [] { return static_cast<std::int64_t>(core::now_ms()); });
    }
    // The admin API: modules add their endpoints and metrics to admin.api()
    // here, before start() (see broker/admin/api.hpp).
    admin::Server admin(broker, cmd.admin_url);
    if (hist) historian::add_history_api(admin.api(), *hist);
    historian::add_replay_api(admin.api(), replayer.get());  // 404s saying so when the historian is off
    if (engine) {
      admin.api().add_metrics([&engine](admin::MetricsWriter& m) { rules::write_rule_metrics(m, engine->stats()); });
    }
    bridges::add_bridge_api(admin.api(), bridges);  // /api/v1/bridges, strata_bridge_* metrics
    bridges::add_bridge_session_metrics(admin.api(), bridge_sessions);  // strata_bridge_session_*
    uns::add_uns_api(admin.api(), *namespace_hook, catalog_snapshot.get(), contract_overlay.get());
    plugins::add_plugin_api(admin.api(), plugin_host.get());  // GET /api/v1/plugins
    rules::add_rules_api(admin.api(), engine.get());          // /api/v1/rules
    rules::add_rule_alarms(admin.api(), engine.get());        // GET /api/v1/alarms: faulted, disabled
    uns::add_contract_alarms(admin.api(), *namespace_hook);   // GET /api/v1/alarms: contracts failing
    admin.start();
    bridges.start();
    if (replayer) replayer->start();
    int rc = broker.run();
    if (replayer) replayer->stop();
    if (catalog_snapshot) catalog_snapshot->write_final();  // the cores and the store's writer have stopped
    bridges.stop();
    if (plugin_host) plugin_host->cleanup();  // the cores have stopped
    return rc;
  } catch (const std::exception& e) {
    STRATA_ERROR("broker") << "cannot start: " << e.what();
    return 1;
  }
}
