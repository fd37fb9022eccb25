// The unified namespace in the broker: a PublishHook, registered before the
// rule engine, that places each message in the ISA-95 model, checks the
// contracts that match its topic, acts on a violation (reject, redirect,
// observe) and keeps the live catalog (DESIGN.md, Unified namespace).
//
// Per message, on the publishing core: one catalog lookup (the entry caches
// the topic's place and its matching contracts for the current
// configuration generation, so filters and naming rules are not evaluated
// again for a known topic); the payload is parsed once when a contract
// matches or it looks like JSON, and the parsed document rides on the
// message (router::Message::uns) to the rules. Topics starting with '$'
// are not governed or catalogued.
//
// Threading: everything per core (catalog, violations, the refusal of the
// last rejected message) is touched only by that core; the configuration
// is an immutable Rules object swapped per core on reload (posted); the
// counters are per-core relaxed atomics summed by readers.
#pragma once

#include <array>
#include <atomic>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "broker/core/publish_hook.hpp"
#include "broker/uns/catalog.hpp"
#include "broker/uns/snapshot_record.hpp"
#include "broker/uns/uns_config.hpp"

namespace strata::core {
class Broker;
}

namespace strata::uns {

// Counters of one contract (by name; kept across reloads).
struct ContractCounters {
  struct alignas(64) PerCore {
    std::atomic<std::uint64_t> matched{0};
    std::atomic<std::uint64_t> passed{0};
    std::array<std::atomic<std::uint64_t>, kKindCount> failed{};
  };
  explicit ContractCounters(unsigned cores) : cores(cores) {}
  std::vector<PerCore> cores;
  struct Totals {
    std::uint64_t matched = 0, passed = 0, failed = 0;
    std::array<std::uint64_t, kKindCount> by_kind{};
  };
  Totals totals() const;
};

// The configuration the hook runs with; immutable once built.
struct Rules {
  std::uint32_t generation = 1;
  UnsConfig config;
  std::vector<std::shared_ptr<ContractCounters>> counters;  // parallel to config.contracts
};

class NamespaceHook final : public core::PublishHook {
 public:
  // Publishes a message on a core (drift events): Core::publish in the
  // broker, a recorder in the unit tests.
  using Publisher = std::function<void(router::MessagePtr, unsigned core)>;
  using Clock = std::function<std::uint64_t()>;

  NamespaceHook(UnsConfig config, unsigned cores, Publisher publish, Clock clock);
  ~NamespaceHook() override;

  // Registers the reload hook and the $SYS source, and publishes drift
  // events through the broker's cores. Call before Broker::run().
  void attach(core::Broker& broker);

  core::HookVerdict on_publish(router::MessagePtr& msg, unsigned core) override;
  core::Refusal refusal(unsigned core) const override { return cores_[core]->refusal; }

  // Applies a new configuration (contracts replaced by name, counters
  // kept). Call on a core thread: posts the swap to the cores through
  // `post` (immediate in tests). Returns what changed, for the log.
  std::string reconfigure(UnsConfig fresh, const std::function<void(unsigned, std::function<void()>)>& post);

  // The admin API's contracts (PUT/DELETE /api/v1/contracts/{name}): the
  // newest configuration with `c` added (last) or replacing the contract of
  // its name (in its place), or without the contract `name`, applied on
  // every core as a reload is. The admin API also records them in the
  // contract overlay, which every reload applies after the file. Call on
  // core 0's thread. remove_contract: empty when
  // there is no such contract.
  std::string put_contract(std::shared_ptr<const Contract> c);
  // Applied to every configuration a reload reads from the file (the API's
  // contracts kept in the store, contract_overlay.hpp). Before attach().
  void set_contract_overlay(std::function<std::string(UnsConfig&)> overlay) { overlay_ = std::move(overlay); }
  std::string remove_contract(const std::string& name);
  bool enabled() const;

  // Puts a topic from the catalog snapshot into core `core`'s catalog
  // (catalog_snapshot.hpp). Before the cores run.
  void restore_topic(unsigned core, std::string_view topic, const SnapshotTopic& t);

  // --- reading (on core `core`'s thread, or when the cores are stopped) ---
  const Catalog& catalog(unsigned core) const { return cores_[core]->catalog; }
  const std::deque<ViolationRecord>& violations(unsigned core) const { return cores_[core]->violations; }
  std::shared_ptr<const Rules> rules(unsigned core) const { return cores_[core]->rules; }
  unsigned core_count() const noexcept { return static_cast<unsigned>(cores_.size()); }

  struct Totals {
    std::uint64_t topics = 0, evicted = 0, drift_events = 0, model_violations = 0, rejected = 0, redirected = 0,
                  observed = 0;
  };
  Totals totals() const;
  // Counters by contract name, with the version now loaded.
  std::vector<std::pair<std::string, std::pair<std::string, ContractCounters::Totals>>> contract_totals() const;
  // The loaded contracts and their counters; any thread (the admin server).
  std::vector<std::pair<std::shared_ptr<const Contract>, ContractCounters::Totals>> contract_totals_any_thread() const;

 private:
  struct alignas(64) PerCore {
    explicit PerCore(std::uint64_t max_topics) : catalog(max_topics) {}
    Catalog catalog;
    std::shared_ptr<const Rules> rules;
    core::Refusal refusal;
    std::deque<ViolationRecord> violations;  // latest last
    std::uint64_t log_window_ms = 0;         // violations logged in the current second
    unsigned logged = 0;
    std::atomic<std::uint64_t> topics{0}, evicted{0}, drift_events{0}, model_violations{0}, rejected{0},
        redirected{0}, observed{0};
  };
  static void add(std::atomic<std::uint64_t>& c) { c.store(c.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed); }

  void refresh(CatalogEntry& e, const Rules& rules, std::string_view topic) const;
  // Handles a violation by `action`; returns the verdict and may replace msg.
  core::HookVerdict act(PerCore& pc, router::MessagePtr& msg, CatalogEntry& e, ViolationRecord&& v,
                        const std::string& redirect_topic, bool reject_disconnect, std::uint64_t now);
  void publish_drift(unsigned core, const router::Message& m, const CatalogEntry& e,
                     const std::shared_ptr<const InferredSchema>& before, std::uint64_t now);

  std::vector<std::unique_ptr<PerCore>> cores_;
  Publisher publish_;
  // Runs a function on a core's thread (the broker's cores after attach(),
  // immediately before).
  std::function<void(unsigned, std::function<void()>)> post_ = [](unsigned, std::function<void()> fn) { fn(); };
  Clock clock_;
  // Counters by contract name; touched on reload only (core 0).
  std::map<std::string, std::shared_ptr<ContractCounters>> counters_;
  std::function<std::string(UnsConfig&)> overlay_;
  std::shared_ptr<const Rules> latest_;  // the newest configuration (set on core 0)
  mutable std::mutex latest_mutex_;     // latest_, for readers on other threads (never the publish path)
};

// Builds the Rules for a configuration, reusing `counters` by name.
std::shared_ptr<const Rules> make_rules(UnsConfig config, std::uint32_t generation, unsigned cores,
                                        std::map<std::string, std::shared_ptr<ContractCounters>>& counters);

}  // namespace strata::uns
