#include "broker/session/backlog.hpp"

#include <algorithm>
#include <array>

namespace strata::session {

std::mutex& Backlog::mutex() const noexcept {
  // Shared by the backlogs whose addresses fall on the same slot: they
  // only ever wait for each other's short list operations.
  static std::array<std::mutex, 64> mutexes;
  return mutexes[(reinterpret_cast<std::uintptr_t>(this) >> 6) % mutexes.size()];
}

// Lost wake-ups: wait() stores wake_below_ before it reads count_, and
// remove() changes count_ before it reads wake_below_ (all seq_cst), so
// either the waiter sees the count that is already low enough, or the
// thread that lowered it sees the waiter's level and calls wake().

bool Backlog::wait(std::uint32_t below, const void* owner, Waiter w) {
  std::lock_guard lock(mutex());
  std::uint32_t level = std::max(wake_below_.load(std::memory_order_relaxed), below);
  wake_below_.store(level, std::memory_order_seq_cst);
  if (count_.load(std::memory_order_seq_cst) < below) {
    if ((!waiters_ || waiters_->empty()) && !stalled_.load(std::memory_order_relaxed)) {
      wake_below_.store(0, std::memory_order_relaxed);
    }
    return false;
  }
  if (!waiters_) waiters_ = std::make_unique<Waiters>();
  waiters_->emplace_back(owner, std::move(w));
  return true;
}

void Backlog::cancel(const void* owner) {
  std::lock_guard lock(mutex());
  if (waiters_) std::erase_if(*waiters_, [owner](const auto& w) { return w.first == owner; });
}

void Backlog::mark_stalled(std::uint32_t below) {
  Waiters called;
  {
    std::lock_guard lock(mutex());
    std::uint32_t level = std::max(wake_below_.load(std::memory_order_relaxed), below);
    wake_below_.store(level, std::memory_order_seq_cst);
    if (waiters_) called.swap(*waiters_);
    if (count_.load(std::memory_order_seq_cst) < below) {
      wake_below_.store(0, std::memory_order_relaxed);
    } else {
      stalled_.store(true, std::memory_order_release);
    }
  }
  for (auto& w : called) w.second();
}

void Backlog::wake() {
  Waiters called;
  {
    std::lock_guard lock(mutex());
    if (count_.load(std::memory_order_seq_cst) >= wake_below_.load(std::memory_order_relaxed)) return;
    if (waiters_) called.swap(*waiters_);
    wake_below_.store(0, std::memory_order_relaxed);
    stalled_.store(false, std::memory_order_release);
  }
  for (auto& w : called) w.second();
}

}  // namespace strata::session
