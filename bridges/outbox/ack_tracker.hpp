// The acknowledged offset of a log: the end of the contiguous prefix of
// offsets that are done (confirmed, dead-lettered, dropped, expired).
// Offsets done out of order wait above it until the gap below closes.
// Pure: no I/O, no locking (the outbox holds its mutex around it).
#pragma once

#include <cstdint>
#include <deque>

namespace strata::bridges {

class AckTracker {
 public:
  explicit AckTracker(std::uint64_t acknowledged = 0) : acked_(acknowledged) {}

  // Marks `offset` done. Returns true when the acknowledged offset moved.
  // Offsets at or below it, and repeats, change nothing.
  bool done(std::uint64_t offset) {
    if (offset <= acked_) return false;
    if (offset == acked_ + 1 && above_.empty()) {  // in order, nothing waiting: the usual case
      acked_ = offset;
      return true;
    }
    std::uint64_t i = offset - acked_ - 1;
    if (i >= above_.size()) above_.resize(i + 1, 0);
    above_[i] = 1;
    bool moved = false;
    while (!above_.empty() && above_.front()) {
      above_.pop_front();
      ++acked_;
      moved = true;
    }
    return moved;
  }
  bool is_done(std::uint64_t offset) const {
    if (offset <= acked_) return true;
    std::uint64_t i = offset - acked_ - 1;
    return i < above_.size() && above_[i];
  }
  std::uint64_t acknowledged() const noexcept { return acked_; }
  // Offsets above acknowledged() that are done (waiting for a gap).
  std::size_t pending() const noexcept {
    std::size_t n = 0;
    for (char c : above_) n += c ? 1 : 0;
    return n;
  }

 private:
  std::uint64_t acked_;
  std::deque<char> above_;  // above_[i]: offset acked_ + 1 + i is done
};

}  // namespace strata::bridges
