#include "bridges/read_order.hpp"

#include <algorithm>

namespace strata::bridges {

ReadOrder::Plan ReadOrder::plan(std::uint64_t end, std::size_t room) {
  Plan p{};
  if (!draining() && order_ == Order::live_first && end > live_ && end - live_ > threshold_) {
    backlog_ = live_;
    backlog_end_ = end;
    live_ = end;
    live_sent_ = backlog_sent_ = 0;
  }
  if (!draining()) {
    p[0] = Read{live_, kNoBound, room, false};
    return p;
  }
  // The backlog's share: enough of these `room` records that it has had at
  // least a quarter of everything read since the split (rounded up).
  const std::uint64_t total = live_sent_ + backlog_sent_ + room;
  const std::uint64_t due = (total + 3) / 4;
  const std::size_t owed =
      static_cast<std::size_t>(std::min<std::uint64_t>(room, due > backlog_sent_ ? due - backlog_sent_ : 0));
  p[0] = Read{live_, kNoBound, room - owed, false};
  p[1] = Read{backlog_, backlog_end_, room, true};  // the caller caps it at what is left of the room
  return p;
}

bool ReadOrder::advanced(const Read& read, std::uint64_t reached, std::size_t got) {
  if (!read.backlog) {
    live_ = std::max(live_, reached);
    live_sent_ += got;
    return false;
  }
  backlog_ = std::max(backlog_, reached);
  backlog_sent_ += got;
  if (backlog_ < backlog_end_) return false;
  backlog_ = backlog_end_ = 0;
  live_sent_ = backlog_sent_ = 0;
  return true;
}

}  // namespace strata::bridges
