// Holding the publishers of a bridge's routes while the store's writer is
// behind (store/writer.hpp, [store] write_queue_bytes).
//
// Under durability "batch" a QoS 1/2 message routed to a bridge is
// acknowledged before its outbox record is committed, so a fast publisher
// could fill the writer's queue faster than the disk takes it. The hold
// uses the core's back-pressure (session/backlog.hpp): routing a QoS 1/2
// message charges the subscriber's Backlog, and a publisher whose message
// takes a subscriber's count to the hold level stops reading its socket
// until the count falls below the resume level (for a sink also while its
// client is offline: Core::route_accepted). A sink (a bridge's route,
// a bridge session's log) normally gives the charge back at once, when it
// has appended the record. While the writer is behind it keeps the charge
// here instead, so the count of its handle climbs with every message taken
// meanwhile; the publishers stop once it reaches the hold level, and every
// kept charge is given back, waking them, when the writer has caught up.
//
// Nothing is refused and nothing is dropped: a publisher that routes to
// the sink from a rule or from another bridge (which cannot be held) has
// its charge kept and given back the same way. QoS 0 messages carry no
// charge and are not held (as for sessions).
//
// Thread-safe: keep() from any core; the release runs on the writer thread.
#pragma once

#include <mutex>
#include <vector>

#include "broker/session/backlog.hpp"

namespace strata::store {
class Store;
}

namespace strata::bridges {

class WriterHold {
 public:
  explicit WriterHold(store::Store& store) : store_(store) {}
  ~WriterHold();
  WriterHold(const WriterHold&) = delete;
  WriterHold& operator=(const WriterHold&) = delete;

  // Keeps `charge` until the writer has caught up, if it is behind now;
  // otherwise lets it go (the count falls at once, as without a hold).
  void keep(session::Backlog::Charge&& charge);

 private:
  void release();

  store::Store& store_;
  std::mutex mutex_;
  std::vector<session::Backlog::Charge> kept_;  // guarded by mutex_
  bool waiting_ = false;                        // a when_caught_up call is registered; guarded
};

}  // namespace strata::bridges
