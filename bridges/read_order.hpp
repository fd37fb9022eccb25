// Which records of its outbox a bridge's driver reads next, and whether
// they go out as backlog: the `order` of a [[bridge]]. Pure (offsets in,
// reads out), used by the driver (bridge.cpp) on the bridge's thread.
//
// strict (the default): one cursor, every record in offset order.
//
// live_first: when the records not yet read are more than
// `live_threshold` (the link was down, the bridge paused, the target is
// slower than what comes in), the log is split at its end E. Offsets below
// E are the backlog: a second cursor reads them, in offset order, and they
// are sent marked as backlog (MQTT 5: the user property `strata-backlog:
// 1`). Offsets from E on are live: read first, in offset order. The backlog
// gets what the live records leave of the window, and never less than a
// quarter of what is sent while it drains, so it drains even under a live
// stream that fills the link. When the backlog cursor reaches E the split
// ends and reading is in offset order again (a later backlog may split
// again).
//
//   offsets:  A+1 ............ E-1 | E .......... end
//             backlog cursor ->    | live cursor ->
//
// Confirmation is not this class's business: the outbox's acknowledged
// offset stays the end of the contiguous confirmed prefix (AckTracker), so
// while a backlog drains it stays below the backlog's first unconfirmed
// record, and live records confirmed above it wait there. A crash
// re-sends them (DUP); nothing is lost.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <limits>

#include "bridges/bridge_config.hpp"

namespace strata::bridges {

class ReadOrder {
 public:
  static constexpr std::uint64_t kNoBound = std::numeric_limits<std::uint64_t>::max();

  // One read of the log: records with from <= offset < until, at most max.
  struct Read {
    std::uint64_t from = 0;
    std::uint64_t until = kNoBound;
    std::size_t max = 0;
    bool backlog = false;  // sent marked as backlog
  };
  // Up to two reads, in the order to do them (live first); max == 0: skip.
  using Plan = std::array<Read, 2>;

  // `first`: the first offset to read (the acknowledged offset + 1).
  ReadOrder(Order order, std::uint64_t live_threshold, std::uint64_t first)
      : order_(order), threshold_(live_threshold), live_(first) {}

  // What to read for `room` records while the log's next offset is `end`.
  // Splits off a backlog first when live_first and more than the threshold
  // is unread.
  Plan plan(std::uint64_t end, std::size_t room);

  // After doing `read`: it returned `got` records and looked at offsets up
  // to `reached` (the first it did not look at). Returns true when this
  // ended a backlog (the caller reads again: the live cursor may have room
  // it did not get).
  bool advanced(const Read& read, std::uint64_t reached, std::size_t got);

  bool draining() const noexcept { return backlog_end_ != 0; }
  std::uint64_t backlog_cursor() const noexcept { return backlog_; }
  std::uint64_t backlog_end() const noexcept { return backlog_end_; }  // 0: no backlog
  std::uint64_t live_cursor() const noexcept { return live_; }

 private:
  Order order_;
  std::uint64_t threshold_;
  std::uint64_t live_;             // the next offset to read (live, or all in strict order)
  std::uint64_t backlog_ = 0;      // while draining: the next backlog offset
  std::uint64_t backlog_end_ = 0;  // while draining: E; 0 otherwise
  std::uint64_t live_sent_ = 0;    // records read by each cursor since the split
  std::uint64_t backlog_sent_ = 0;
};

}  // namespace strata::bridges
