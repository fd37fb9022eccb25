// Per-rule counters for $SYS/rules/<name>/...: matched, passed, dropped,
// published, emitted, errors, and the time spent per call (p50/p99 in µs).
//
// Threading: each core writes only its own PerCore slot (cache-line aligned,
// relaxed atomics: no lock, no contention on the publish path); the $SYS
// timer on core 0 sums the slots. Faults are rare, so their sliding window
// is kept under a mutex. The registry maps rule names to counters; it is
// locked only when a rule is loaded or removed and by the $SYS timer.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "broker/util/latency_histogram.hpp"

namespace strata::rules {

// Call times in µs (broker/util/latency_histogram.hpp).
using util::LatencyHistogram;

struct RuleTotals {
  std::uint64_t matched = 0, passed = 0, dropped = 0, published = 0, emitted = 0, errors = 0;
  std::uint64_t p50_us = 0, p99_us = 0;
  std::uint64_t memory_bytes = 0;  // held by the rule's Lua states, all cores
  bool disabled = false;  // by faults
  bool paused = false;    // by an operator (admin API)
};

class RuleCounters {
 public:
  struct alignas(64) PerCore {
    std::atomic<std::uint64_t> matched{0}, passed{0}, dropped{0}, published{0}, emitted{0}, errors{0};
    std::atomic<std::uint64_t> memory{0};  // bytes the rule's state on this core holds (a level, not a sum)
    LatencyHistogram latency;
  };

  explicit RuleCounters(unsigned cores) : cores_(cores) {}
  PerCore& core(unsigned i) noexcept { return cores_[i]; }
  static void add(std::atomic<std::uint64_t>& c, std::uint64_t n = 1) noexcept {
    c.store(c.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
  }

  bool disabled() const noexcept { return disabled_.load(std::memory_order_relaxed); }
  // Turned off by an operator (RuleStatsRegistry::set_paused): the rule
  // does not run, on any core, until turned on again; reloads keep it off.
  bool paused() const noexcept { return paused_.load(std::memory_order_relaxed); }
  void set_paused(bool p) noexcept { paused_.store(p, std::memory_order_relaxed); }
  // Disabled by a memory fault: every core closes the rule's state.
  bool unload() const noexcept { return unload_.load(std::memory_order_relaxed); }
  // Records a fault at `now_ms`; true when it is the `limit`-th within
  // `window_ms`, which disables the rule (on every core). `memory`: the
  // fault was the memory cap.
  bool fault(std::uint64_t now_ms, unsigned limit, std::uint64_t window_ms, bool memory = false);
  // A new version of the rule was loaded: it runs again, with a clean slate.
  void enable();
  RuleTotals totals() const;
  // The call-time histogram summed over the cores, and its total in ns.
  void latency(std::array<std::uint64_t, LatencyHistogram::kBuckets>& hist, std::uint64_t& sum_ns) const;

 private:
  std::vector<PerCore> cores_;
  std::atomic<bool> disabled_{false};
  std::atomic<bool> unload_{false};
  std::atomic<bool> paused_{false};
  mutable std::mutex fault_mutex_;
  std::deque<std::uint64_t> faults_;  // times of recent faults, guarded by fault_mutex_
};

class RuleStatsRegistry {
 public:
  explicit RuleStatsRegistry(unsigned cores) : cores_(cores) {}
  std::shared_ptr<RuleCounters> get(const std::string& name);
  void remove(const std::string& name);
  std::vector<std::pair<std::string, std::shared_ptr<RuleCounters>>> snapshot() const;

  // Rules turned off by an operator, by name: the set outlives the rule's
  // counters (a rule removed and added again, or reloaded, stays off).
  void set_paused(const std::string& name, bool paused);
  std::set<std::string> paused() const;

 private:
  unsigned cores_;
  mutable std::mutex mutex_;
  std::set<std::string> paused_;
  std::map<std::string, std::shared_ptr<RuleCounters>> rules_;
};

}  // namespace strata::rules
