#include "broker/session/backlog.hpp"

#include <algorithm>

namespace strata::session {

// Lost wake-ups: wait() stores wake_below_ before it reads count_, and
// remove() changes count_ before it reads wake_below_ (all seq_cst), so
// either the waiter sees the count that is already low enough, or the
// thread that lowered it sees the waiter's level and calls wake().

bool Backlog::wait(std::uint32_t below, const void* owner, Waiter w) {
  std::lock_guard lock(mutex_);
  std::uint32_t level = std::max(wake_below_.load(std::memory_order_relaxed), below);
  wake_below_.store(level, std::memory_order_seq_cst);
  if (count_.load(std::memory_order_seq_cst) < below) {
    if (waiters_.empty() && !stalled_.load(std::memory_order_relaxed)) {
      wake_below_.store(0, std::memory_order_relaxed);
    }
    return false;
  }
  waiters_.emplace_back(owner, std::move(w));
  return true;
}

void Backlog::cancel(const void* owner) {
  std::lock_guard lock(mutex_);
  std::erase_if(waiters_, [owner](const auto& w) { return w.first == owner; });
}

void Backlog::mark_stalled(std::uint32_t below) {
  std::vector<std::pair<const void*, Waiter>> called;
  {
    std::lock_guard lock(mutex_);
    std::uint32_t level = std::max(wake_below_.load(std::memory_order_relaxed), below);
    wake_below_.store(level, std::memory_order_seq_cst);
    called.swap(waiters_);
    if (count_.load(std::memory_order_seq_cst) < below) {
      wake_below_.store(0, std::memory_order_relaxed);
    } else {
      stalled_.store(true, std::memory_order_release);
    }
  }
  for (auto& w : called) w.second();
}

void Backlog::wake() {
  std::vector<std::pair<const void*, Waiter>> called;
  {
    std::lock_guard lock(mutex_);
    if (count_.load(std::memory_order_seq_cst) >= wake_below_.load(std::memory_order_relaxed)) return;
    called.swap(waiters_);
    wake_below_.store(0, std::memory_order_relaxed);
    stalled_.store(false, std::memory_order_release);
  }
  for (auto& w : called) w.second();
}

}  // namespace strata::session
