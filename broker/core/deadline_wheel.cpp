#include "broker/core/deadline_wheel.hpp"

#include <algorithm>

namespace strata::core {

DeadlineWheel::DeadlineWheel(Clock::time_point origin, Clock::duration resolution, std::size_t slots)
    : origin_(origin),
      resolution_(std::max<Clock::duration>(resolution, Clock::duration(1))),
      slot_count_(std::max<std::size_t>(slots, 1)),
      slots_(std::make_unique<Entry[]>(slot_count_)) {
  for (std::size_t i = 0; i < slot_count_; ++i) init_head(slots_[i]);
}

DeadlineWheel::~DeadlineWheel() {
  for (std::size_t i = 0; i < slot_count_; ++i) {
    Entry& head = slots_[i];
    while (head.next_ != &head) unlink(*head.next_);
  }
}

std::uint64_t DeadlineWheel::tick_floor(Clock::time_point t) const noexcept {
  if (t <= origin_) return 0;
  return static_cast<std::uint64_t>((t - origin_) / resolution_);
}

std::uint64_t DeadlineWheel::tick_ceil(Clock::time_point t) const noexcept {
  if (t <= origin_) return 0;
  const auto d = t - origin_;
  auto tick = static_cast<std::uint64_t>(d / resolution_);
  if (d % resolution_ != Clock::duration::zero()) ++tick;
  return tick;
}

void DeadlineWheel::link_before(Entry& head, Entry& e) noexcept {
  e.prev_ = head.prev_;
  e.next_ = &head;
  head.prev_->next_ = &e;
  head.prev_ = &e;
}

void DeadlineWheel::unlink(Entry& e) noexcept {
  e.prev_->next_ = e.next_;
  e.next_->prev_ = e.prev_;
  e.prev_ = e.next_ = nullptr;
}

void DeadlineWheel::schedule(Entry& e, Clock::time_point deadline) noexcept {
  if (e.scheduled()) {
    unlink(e);
  } else {
    ++size_;
  }
  e.tick_ = std::max(tick_ceil(deadline), cursor_ + 1);
  link_before(slot(e.tick_), e);
}

void DeadlineWheel::cancel(Entry& e) noexcept {
  if (!e.scheduled()) return;
  unlink(e);
  --size_;
}

std::optional<DeadlineWheel::Clock::time_point> DeadlineWheel::next_wake() const noexcept {
  if (size_ == 0) return std::nullopt;
  for (std::size_t i = 1; i <= slot_count_; ++i) {
    const Entry& head = slots_[(cursor_ + i) % slot_count_];
    if (head.next_ != &head) return tick_start(cursor_ + i);
  }
  return std::nullopt;  // not reached: size_ counts the entries in the slots
}

}  // namespace strata::core
