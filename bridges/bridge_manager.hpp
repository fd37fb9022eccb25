// The bridges of one broker: reads [[bridge]] (config errors with
// file:line), opens each bridge's outbox in the store, subscribes its `out`
// routes in every core's router (the subscriber is a RouteSink that
// appends to the outbox), registers each bridge as a rule emit target,
// publishes $SYS/bridges/<name>/..., and runs each bridge's thread.
//
// Construct after the Broker and before Broker::run() (the outboxes are
// read before the store's writer starts, the routes subscribed before the
// cores run); stop() after run() returns.
//
// Reload (SIGHUP, POST /api/v1/reload; a hook on core 0). The fresh
// [[bridge]] tables are read in full first (a bad one: ConfigError with
// file:line, nothing changes) and compared by value (bridge_diff.hpp):
// - added: its outbox is opened (or the kept one of a removed bridge of
//   that name taken up again), its out routes subscribed, its thread run;
// - changed: the running bridge stops (its connection closes, its thread
//   ends), a new one with the new settings starts on the same Outbox
//   object: the log, its acknowledged offset and the records in memory
//   stay; what the old one sent without a confirmation is sent again (at
//   least once). Its routes are swapped in one post per core, so a message
//   matches the old routes or the new ones, never both or neither; a
//   paused bridge stays paused;
// - removed: its routes are unsubscribed, its thread stops, its outbox
//   stays on disk and in memory, listed as removed until purge();
// - unchanged: not touched.
//
// Lifetimes (what keeps the cores, the rules and the admin API safe).
// Nothing a reload replaces is destroyed before the manager: a bridge, its
// route subscribers, its outbox (after purge(), too) stay allocated and
// stopped, so a core delivering to a route it matched just before the swap,
// a publisher waiting for room, a replay job or an admin request holding a
// Bridge* touches stopped objects, never freed ones. A removed bridge's
// route subscribers refuse what still reaches them; a changed bridge's old
// ones append to the shared outbox, which the new bridge reads. Each name
// has one Log for the manager's life: its outbox, its waiting publishers,
// the rules' emit target (the bridge running under that name, if any).
// The lists are guarded by mutex_ (reload on core 0, the $SYS source, the
// admin API and replay jobs on their threads).
#pragma once

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "bridges/adapter.hpp"
#include "bridges/bridge.hpp"
#include "broker/core/broker.hpp"
#include "broker/historian/replay_target.hpp"
#include "rules/emit_target.hpp"

namespace strata::bridges {

// The bridge types of this build (mqtt; kafka and influx register here).
AdapterTypes builtin_types();

// Validates the [[bridge]] tables of a loaded config (strata --check-config).
void check_config(const config::Config& config);

// Also what replay jobs append through (historian::ReplayTargets): the
// same append as an out route's, on the writer queue the job names.
class BridgeManager : public historian::ReplayTargets {
 public:
  BridgeManager(core::Broker& broker, rules::EmitTargets& targets);
  ~BridgeManager() override;
  void start();
  void stop();
  std::size_t size() const;
  Bridge* find(std::string_view name);
  std::vector<Bridge*> all();  // the configured ones, in config order
  // The [[bridge]] table `name` runs with (null: no such bridge).
  const toml::table* table_of(std::string_view name) const;

  // The SIGHUP reload of [[bridge]] (core 0): what it did, for the report.
  // Throws config::ConfigError (file:line) for a bad section: nothing changed.
  std::string reload(const config::Config& fresh);

  // Outboxes kept on disk without a configured bridge: removed by a reload,
  // or found at start-up. In name order.
  struct Removed {
    std::string name;
    std::string type;  // the last one it was configured with; "" when found at start-up
    const Outbox* outbox = nullptr;
  };
  std::vector<Removed> removed() const;
  // Deletes a removed bridge's outbox; `done` runs once that is committed
  // (on the store's writer thread) with the number of records it held.
  enum class Purge : std::uint8_t { purging, configured, unknown };
  Purge purge(std::string_view name, std::function<void(std::uint64_t records)> done);

  // historian::ReplayTargets (any thread).
  bool has_bridge(std::string_view bridge) const override;
  std::uint64_t queued(std::string_view bridge) const override;
  Offer offer(std::string_view bridge, const router::Message& m, unsigned queue) override;

 private:
  struct Box;
  struct Entry;
  struct Log;
  // A bridge for `p` (not started) on the log of its name, opened or taken
  // up again; with `now`, its routes are subscribed at once (start-up).
  Entry* make_entry(ParsedBridge& p, const toml::table& source, bool now);
  Log& log_for(const std::string& name, const OutboxBounds& bounds);  // under mutex_
  // Unsubscribes `old_entry`'s routes and subscribes `new_entry`'s (either
  // may be null) in one post per core.
  void swap_routes(Entry* old_entry, Entry* new_entry);
  Entry* active(std::string_view name) const;  // under mutex_

  core::Broker& broker_;
  rules::EmitTargets& targets_;
  mutable std::mutex mutex_;
  // Declared before entries_: the bridges go first at destruction.
  std::map<std::string, std::unique_ptr<Log>, std::less<>> logs_;  // every name seen; guarded
  std::vector<std::unique_ptr<Box>> purged_;                       // outboxes of purged logs; guarded
  std::vector<std::unique_ptr<Entry>> entries_;  // every bridge ever made (see Lifetimes); guarded
  std::vector<Entry*> bridges_;                  // the configured ones, in config order; guarded
  unsigned next_core_ = 0;                       // home core of the next bridge (reload: core 0 only)
  bool started_ = false;
  toml::table uns_;  // the [uns] table the running bridges' templates were read with (core 0)
};

}  // namespace strata::bridges
