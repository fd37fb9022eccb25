#include "rules/rule_stats.hpp"

#include <bit>

namespace strata::rules {

std::size_t LatencyHistogram::bucket_of(std::uint64_t us) noexcept {
  if (us < 8) return static_cast<std::size_t>(us);
  unsigned msb = 63u - static_cast<unsigned>(std::countl_zero(us));  // >= 3
  std::size_t b = 8 + (msb - 3) * 4 + ((us >> (msb - 2)) & 3);
  return b < kBuckets ? b : kBuckets - 1;
}

std::uint64_t LatencyHistogram::upper_bound_us(std::size_t bucket) noexcept {
  if (bucket < 8) return bucket + 1;
  std::size_t msb = 3 + (bucket - 8) / 4;
  std::uint64_t quarter = (bucket - 8) % 4;
  if (msb >= 62) return UINT64_MAX;
  return (std::uint64_t{1} << msb) + (quarter + 1) * (std::uint64_t{1} << (msb - 2));
}

void LatencyHistogram::record(std::uint64_t ns) noexcept {
  auto& b = buckets_[bucket_of(ns / 1000)];
  b.store(b.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
}

void LatencyHistogram::add_to(std::array<std::uint64_t, kBuckets>& sum) const noexcept {
  for (std::size_t i = 0; i < kBuckets; ++i) sum[i] += buckets_[i].load(std::memory_order_relaxed);
}

std::uint64_t LatencyHistogram::quantile_us(const std::array<std::uint64_t, kBuckets>& counts, double q) noexcept {
  std::uint64_t total = 0;
  for (auto c : counts) total += c;
  if (total == 0) return 0;
  auto rank = static_cast<std::uint64_t>(q * static_cast<double>(total - 1)) + 1;
  std::uint64_t seen = 0;
  for (std::size_t i = 0; i < kBuckets; ++i) {
    seen += counts[i];
    if (seen >= rank) return upper_bound_us(i);
  }
  return upper_bound_us(kBuckets - 1);
}

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
