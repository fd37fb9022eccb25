// Where a replay job (replayer.hpp) hands its messages: a bridge's outbox,
// through the same append a bridge's out route uses (the bridge manager
// implements this; the historian does not link the bridges).
//
// Threading: every call from the replayer's thread or the admin thread;
// the bridges are fixed once the broker runs, so has_bridge() needs no lock.
#pragma once

#include <cstdint>
#include <string_view>

#include "broker/router/message.hpp"

namespace strata::historian {

class ReplayTargets {
 public:
  enum class Offer : std::uint8_t {
    queued,   // in the outbox: its put is on queue()'s writer queue
    skipped,  // refused for good by the bridge's rules (loop guard, hop limit, overflow drop)
    full,     // no room now: offer it again later
  };
  virtual ~ReplayTargets() = default;
  virtual bool has_bridge(std::string_view bridge) const = 0;
  // Records the bridge's outbox holds (not yet confirmed by its target);
  // 0 for an unknown bridge.
  virtual std::uint64_t queued(std::string_view bridge) const = 0;
  // Appends `m` to the bridge's outbox as its out route for m.topic would
  // (the first route whose filter matches picks the remote topic and caps
  // the QoS; none: the topic as it is), pushing the put on writer queue
  // `queue`. Never waits.
  virtual Offer offer(std::string_view bridge, const router::Message& m, unsigned queue) = 0;
};

}  // namespace strata::historian
