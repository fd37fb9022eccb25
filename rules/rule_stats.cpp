#include "rules/rule_stats.hpp"

namespace strata::rules {

bool RuleCounters::fault(std::uint64_t now_ms, unsigned limit, std::uint64_t window_ms, bool memory) {
  std::lock_guard lock(fault_mutex_);
  faults_.push_back(now_ms);
  while (!faults_.empty() && faults_.front() + window_ms <= now_ms) faults_.pop_front();
  if (faults_.size() >= limit && !disabled_.load(std::memory_order_relaxed)) {
    unload_.store(memory, std::memory_order_relaxed);
    disabled_.store(true, std::memory_order_relaxed);
    return true;
  }
  return false;
}

void RuleCounters::enable() {
  std::lock_guard lock(fault_mutex_);
  faults_.clear();
  unload_.store(false, std::memory_order_relaxed);
  disabled_.store(false, std::memory_order_relaxed);
}

RuleTotals RuleCounters::totals() const {
  RuleTotals t;
  std::array<std::uint64_t, LatencyHistogram::kBuckets> hist{};
  for (const PerCore& c : cores_) {
    t.matched += c.matched.load(std::memory_order_relaxed);
    t.passed += c.passed.load(std::memory_order_relaxed);
    t.dropped += c.dropped.load(std::memory_order_relaxed);
    t.published += c.published.load(std::memory_order_relaxed);
    t.emitted += c.emitted.load(std::memory_order_relaxed);
    t.errors += c.errors.load(std::memory_order_relaxed);
    t.memory_bytes += c.memory.load(std::memory_order_relaxed);
    c.latency.add_to(hist);
  }
  t.p50_us = LatencyHistogram::quantile_us(hist, 0.50);
  t.p99_us = LatencyHistogram::quantile_us(hist, 0.99);
  t.disabled = disabled();
  t.paused = paused();
  return t;
}

void RuleCounters::latency(std::array<std::uint64_t, LatencyHistogram::kBuckets>& hist, std::uint64_t& sum_ns) const {
  for (const PerCore& c : cores_) {
    c.latency.add_to(hist);
    sum_ns += c.latency.sum_ns();
  }
}

std::shared_ptr<RuleCounters> RuleStatsRegistry::get(const std::string& name) {
  std::lock_guard lock(mutex_);
  auto& slot = rules_[name];
  if (!slot) {
    slot = std::make_shared<RuleCounters>(cores_);
    slot->set_paused(paused_.contains(name));
  }
  return slot;
}

void RuleStatsRegistry::set_paused(const std::string& name, bool paused) {
  std::lock_guard lock(mutex_);
  if (paused) {
    paused_.insert(name);
  } else {
    paused_.erase(name);
  }
  if (auto it = rules_.find(name); it != rules_.end()) it->second->set_paused(paused);
}

std::set<std::string> RuleStatsRegistry::paused() const {
  std::lock_guard lock(mutex_);
  return paused_;
}

void RuleStatsRegistry::remove(const std::string& name) {
  std::lock_guard lock(mutex_);
  rules_.erase(name);
}

std::vector<std::pair<std::string, std::shared_ptr<RuleCounters>>> RuleStatsRegistry::snapshot() const {
  std::lock_guard lock(mutex_);
  return {rules_.begin(), rules_.end()};
}

}  // namespace strata::rules
