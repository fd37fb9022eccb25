#include "broker/session/session.hpp"

#include <algorithm>

namespace strata::session {

Session::Session(SessionRef handle, protocol::Version v) : version(v), handle_(std::move(handle)) {}

std::optional<std::uint16_t> Session::next_packet_id() {
  if (inflight_.size() >= 65535) return std::nullopt;
  // Ids are handed out in sequence, skipping those still in flight, so a
  // recently acknowledged id is not reused at once (easier to follow in a
  // capture, and a late duplicate ack cannot complete a new message).
  for (;;) {
    last_packet_id_ = static_cast<std::uint16_t>(last_packet_id_ == 65535 ? 1 : last_packet_id_ + 1);
    if (!inflight_index_.contains(last_packet_id_)) return last_packet_id_;
  }
}

Outgoing& Session::add_inflight(std::uint16_t packet_id, Delivery d) {
  auto state = d.qos == protocol::QoS::exactly_once ? Outgoing::State::await_pubrec
                                                    : Outgoing::State::await_puback;
  inflight_.push_back(Outgoing{packet_id, state, std::move(d)});
  auto it = std::prev(inflight_.end());
  inflight_index_[packet_id] = it;
  return *it;
}

Outgoing* Session::find_inflight(std::uint16_t packet_id) {
  auto it = inflight_index_.find(packet_id);
  return it == inflight_index_.end() ? nullptr : &*it->second;
}

std::optional<Outgoing> Session::take_inflight(std::uint16_t packet_id) {
  auto it = inflight_index_.find(packet_id);
  if (it == inflight_index_.end()) return std::nullopt;
  Outgoing out = std::move(*it->second);
  inflight_.erase(it->second);
  inflight_index_.erase(it);
  return out;
}

Session::Enqueue Session::enqueue(Delivery d, std::size_t max_messages) {
  const bool qos0 = d.qos == protocol::QoS::at_most_once;
  if (queue_.size() < max_messages) {
    queue_.push_back(std::move(d));
    if (qos0) ++queued_qos0_;
    return Enqueue::queued;
  }
  if (qos0) return Enqueue::dropped_qos0;
  // queued_qos0_ never under-counts (the connection pops the queue without
  // telling us), so zero means there is nothing to drop: no scan of a full
  // queue for every refused message.
  auto oldest_qos0 = queued_qos0_ == 0 ? queue_.end()
                                       : std::find_if(queue_.begin(), queue_.end(), [](const Delivery& q) {
                                           return q.qos == protocol::QoS::at_most_once;
                                         });
  if (oldest_qos0 == queue_.end()) {
    queued_qos0_ = 0;
    return Enqueue::dropped_full;
  }
  queue_.erase(oldest_qos0);
  --queued_qos0_;
  queue_.push_back(std::move(d));
  return Enqueue::dropped_qos0;
}

}  // namespace strata::session
