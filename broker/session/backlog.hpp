// Publisher back-pressure: how many QoS 1/2 messages routed to a session
// its client has not yet been sent, and who waits for that number to fall.
//
// The count covers a message from the moment a publisher's core routes it
// to the session until it goes into the session's inflight window (or is
// dropped): in the post to another core, held while the session moves
// between cores, and in the session's queue. It is counted on the
// publisher's core, at routing time, so every core sees at once what all
// publishers together have sent a session — there is no window in which
// messages on their way to another core escape the count.
//
// A message carries its share of the count in a Backlog::Charge, which
// gives it back when the message enters the inflight window (release) or
// when it is destroyed for any reason (dropped, expired, session ended).
// No path can leak a count that would hold publishers forever.
//
// A publisher whose message took a session's count to the hold level
// stops reading its socket and waits (wait()): once the count falls below
// the level the waiter asked for, every waiter is called, on the thread
// that gave back the last charge (waiters post to their own core). A
// session whose client takes nothing for a while can be marked stalled;
// publishers then no longer wait for it (its queue limits apply as they
// would without back-pressure) until its count falls again.
//
// Thread-safe: the count and the flags are atomics, the waiters list takes
// a mutex only when a waiter is added or the count falls below a waiter's
// level. Every session handle has a Backlog and few ever have a waiter, so
// the mutex is one of a small shared set (picked by the Backlog's address;
// no call holds two) and the list is made by the first waiter.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <utility>
#include <vector>

namespace strata::session {

class Backlog {
 public:
  using Waiter = std::function<void()>;

  // One message's share of a Backlog. Move-only; gives it back once.
  class Charge {
   public:
    Charge() = default;
    Charge(Charge&& o) noexcept : backlog_(std::exchange(o.backlog_, nullptr)) {}
    Charge& operator=(Charge&& o) noexcept {
      if (this != &o) {
        release();
        backlog_ = std::exchange(o.backlog_, nullptr);
      }
      return *this;
    }
    Charge(const Charge&) = delete;
    Charge& operator=(const Charge&) = delete;
    ~Charge() { release(); }

    // Counts the message against `b` (giving back a charge on another
    // backlog first) and returns b's count including it. The backlog must
    // outlive the charge: whoever holds the message also holds a
    // reference to the session handle that owns `b`.
    std::uint32_t charge(Backlog& b) noexcept {
      if (backlog_ == &b) return b.count();
      release();
      backlog_ = &b;
      return b.add();
    }
    void release() noexcept {
      if (backlog_ != nullptr) std::exchange(backlog_, nullptr)->remove();
    }
    bool charged() const noexcept { return backlog_ != nullptr; }

   private:
    Backlog* backlog_ = nullptr;
  };

  std::uint32_t count() const noexcept { return count_.load(std::memory_order_acquire); }
  bool stalled() const noexcept { return stalled_.load(std::memory_order_acquire); }

  // Calls `w` once the count is below `below` (from whichever thread gives
  // back the charge that gets it there). False, and `w` is not kept, when
  // the count is below `below` already. `owner` identifies the waiter for
  // cancel().
  bool wait(std::uint32_t below, const void* owner, Waiter w);
  // Forgets the waiters of `owner` (a connection that closed).
  void cancel(const void* owner);
  // No progress: publishers stop waiting for this session (they are
  // called now) until its count falls below `below`.
  void mark_stalled(std::uint32_t below);

 private:
  std::uint32_t add() noexcept { return count_.fetch_add(1, std::memory_order_seq_cst) + 1; }
  void remove() noexcept {
    std::uint32_t n = count_.fetch_sub(1, std::memory_order_seq_cst) - 1;
    if (n < wake_below_.load(std::memory_order_seq_cst)) wake();
  }
  void wake();
  std::mutex& mutex() const noexcept;

  using Waiters = std::vector<std::pair<const void*, Waiter>>;
  std::atomic<std::uint32_t> count_{0};
  // The highest level a waiter (or a stall) asked for; 0: nobody waits.
  std::atomic<std::uint32_t> wake_below_{0};
  std::atomic<bool> stalled_{false};
  std::unique_ptr<Waiters> waiters_;  // under mutex(); made by the first wait()
};

}  // namespace strata::session
