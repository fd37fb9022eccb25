// The deadlines of one core's connections (connect timeout, keep-alive,
// the bounded wait of a close) on one timing wheel, so that a connection
// carries a small intrusive Entry instead of a timer of its own and a
// pending wait on it (docs/benchmarks.md, "Memory per idle connection").
//
// Model: time is cut into ticks of `resolution` from `origin`. A deadline
// belongs to the first tick that starts at or after it (rounded up), and
// sits in slot tick % slots: a circular list with a sentinel, so putting an
// entry in, moving it and taking it out are O(1) and allocate nothing. A
// deadline further away than the wheel spans (slots × resolution) waits in
// its slot and is passed over, not fired, until its tick comes round.
// expire(now) walks the slots of the ticks that began since the last call
// and fires what is due, in tick order (within one tick, in the order the
// entries were scheduled); the owner calls it when next_wake() has come.
//
// Why a wheel and not a heap: the operations a connection does (arm at
// start, move at CONNACK, move once per keep-alive period, take out at
// close) are all O(1) here, an entry is three words inside the connection
// with nothing on the heap, and the connections' deadlines are coarse
// (seconds) anyway. A heap would keep a vector of its own (16 B per entry
// plus growth) and an index in each connection, at O(log n) per move.
//
// Precision: an entry fires at the start of the tick at or after its
// deadline, so never early and at most one resolution late (plus however
// late the owner calls expire). The owner also uses this to wake less: it
// arms one timer at next_wake().
//
// An Entry must be cancelled (or have fired) before it is destroyed, and
// the wheel must outlive its entries; fire() gets an entry already taken
// out, and may schedule or cancel any entry, itself included, or destroy
// the entry it was given (the wheel does not touch it after).
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>

namespace strata::core {

class DeadlineWheel {
 public:
  using Clock = std::chrono::steady_clock;

  class Entry {
   public:
    Entry() = default;
    Entry(const Entry&) = delete;
    Entry& operator=(const Entry&) = delete;
    bool scheduled() const noexcept { return next_ != nullptr; }

   private:
    friend class DeadlineWheel;
    Entry* prev_ = nullptr;
    Entry* next_ = nullptr;
    std::uint64_t tick_ = 0;  // the tick it fires at
  };

  static constexpr Clock::duration default_resolution = std::chrono::milliseconds(250);
  static constexpr std::size_t default_slots = 512;  // 128 s at 250 ms

  explicit DeadlineWheel(Clock::time_point origin, Clock::duration resolution = default_resolution,
                         std::size_t slots = default_slots);
  // Entries still in the wheel are left unscheduled (not fired).
  ~DeadlineWheel();
  DeadlineWheel(const DeadlineWheel&) = delete;
  DeadlineWheel& operator=(const DeadlineWheel&) = delete;

  // Puts `e` in for `deadline`, or moves it there if it is in already. A
  // deadline in a tick already expired fires at the next tick.
  void schedule(Entry& e, Clock::time_point deadline) noexcept;
  // Takes `e` out; nothing if it is not in.
  void cancel(Entry& e) noexcept;

  // Fires, by calling fire(Entry&), each entry whose tick began at or
  // before `now`.
  template <class Fire>
  void expire(Clock::time_point now, Fire&& fire);

  // When the earliest tick that has an entry in its slot begins (a lower
  // bound for the next deadline: that slot may hold only later rounds);
  // nothing when the wheel is empty.
  std::optional<Clock::time_point> next_wake() const noexcept;

  // When a scheduled entry fires: the start of its tick.
  Clock::time_point fires_at(const Entry& e) const noexcept { return tick_start(e.tick_); }

  std::size_t size() const noexcept { return size_; }
  bool empty() const noexcept { return size_ == 0; }
  Clock::duration resolution() const noexcept { return resolution_; }

 private:
  std::uint64_t tick_floor(Clock::time_point t) const noexcept;
  std::uint64_t tick_ceil(Clock::time_point t) const noexcept;
  Clock::time_point tick_start(std::uint64_t tick) const noexcept { return origin_ + resolution_ * tick; }
  Entry& slot(std::uint64_t tick) noexcept { return slots_[tick % slot_count_]; }
  static void link_before(Entry& head, Entry& e) noexcept;
  static void unlink(Entry& e) noexcept;
  static void init_head(Entry& head) noexcept { head.prev_ = head.next_ = &head; }

  const Clock::time_point origin_;
  const Clock::duration resolution_;
  const std::size_t slot_count_;
  std::unique_ptr<Entry[]> slots_;  // sentinels of circular lists
  std::uint64_t cursor_ = 0;        // the last tick expired
  std::size_t size_ = 0;
};

template <class Fire>
void DeadlineWheel::expire(Clock::time_point now, Fire&& fire) {
  const std::uint64_t target = tick_floor(now);
  // Tick by tick, so entries fire in tick order even when the call comes
  // late (an empty slot costs one compare; an empty wheel none).
  while (cursor_ < target) {
    if (size_ == 0) {
      cursor_ = target;
      break;
    }
    ++cursor_;  // entries scheduled by fire() go to later ticks
    Entry& head = slot(cursor_);
    if (head.next_ == &head) continue;
    // Move the slot's list to a local head, so fire() may schedule or
    // cancel any of the entries while they are walked.
    Entry walk;
    walk.next_ = head.next_;
    walk.prev_ = head.prev_;
    walk.next_->prev_ = &walk;
    walk.prev_->next_ = &walk;
    init_head(head);
    while (walk.next_ != &walk) {
      Entry& e = *walk.next_;
      unlink(e);
      if (e.tick_ > cursor_) {  // a later round
        link_before(head, e);
        continue;
      }
      --size_;
      fire(e);
    }
  }
}

}  // namespace strata::core
