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
  d.backlog.release();  // sent: no longer waiting (publishers may go on)
  auto state = d.qos == protocol::QoS::exactly_once ? Outgoing::State::await_pubrec
                                                    : Outgoing::State::await_puback;
  const std::uint64_t bytes = size_of(d);
  if (spare_node_.empty()) {
    inflight_.push_back(Outgoing{packet_id, state, std::move(d), bytes});
  } else {
    spare_node_.front() = Outgoing{packet_id, state, std::move(d), bytes};
    inflight_.splice(inflight_.end(), spare_node_, spare_node_.begin());
  }
  inflight_bytes_ += bytes;
  auto it = std::prev(inflight_.end());
  if (spare_index_node_.empty()) {
    inflight_index_[packet_id] = it;
  } else {
    spare_index_node_.key() = packet_id;
    spare_index_node_.mapped() = it;
    auto r = inflight_index_.insert(std::move(spare_index_node_));
    if (!r.inserted) {  // the id was in the index already: point it here
      r.position->second = it;
      spare_index_node_ = std::move(r.node);
    }
  }
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
  inflight_bytes_ -= out.bytes;
  if (spare_node_.empty()) {
    *it->second = Outgoing{};
    spare_node_.splice(spare_node_.end(), inflight_, it->second);
  } else {
    inflight_.erase(it->second);
  }
  if (spare_index_node_.empty()) {
    spare_index_node_ = inflight_index_.extract(it);
  } else {
    inflight_index_.erase(it);
  }
  return out;
}

std::uint64_t Session::size_of(const Delivery& d) noexcept {
  return d.msg ? d.msg->topic.size() + d.msg->payload.size() : 0;
}

Delivery Session::pop_queue() {
  Delivery d = std::move(queue_.front());
  queue_.pop_front();
  queued_bytes_ -= size_of(d);
  if (d.qos == protocol::QoS::at_most_once) --queued_qos0_;
  return d;
}

void Session::restore_queued(Delivery d) {
  // Counted in the backlog like a routed message (restored from the store,
  // it was not); for a routed one this is the charge it already has.
  if (d.qos != protocol::QoS::at_most_once) d.backlog.charge(handle_->backlog);
  queued_bytes_ += size_of(d);
  if (d.qos == protocol::QoS::at_most_once) ++queued_qos0_;
  queue_.push_back(std::move(d));
}

Session::Enqueue Session::enqueue(Delivery d, std::size_t max_messages, std::uint64_t max_bytes,
                                  std::vector<Delivery>* evicted) {
  const std::uint64_t size = size_of(d);
  auto fits = [&] {
    return queue_.size() < max_messages && (max_bytes == 0 || queued_bytes_ + size <= max_bytes);
  };
  if (fits()) {
    restore_queued(std::move(d));
    return Enqueue::queued;
  }
  if (d.qos == protocol::QoS::at_most_once) return Enqueue::dropped_qos0;
  // Nothing to drop: refuse without scanning a full queue for every
  // message (under QoS 1 overload that scan took the whole core).
  if (queued_qos0_ == 0) return Enqueue::dropped_full;
  // Make room by dropping the oldest QoS 0 messages; if that is not
  // enough, nothing is dropped and the new message is refused.
  std::uint64_t freeable = 0;
  std::size_t count = 0;
  for (const Delivery& q : queue_) {
    if (q.qos != protocol::QoS::at_most_once) continue;
    freeable += size_of(q);
    ++count;
  }
  bool count_ok = queue_.size() - count < max_messages;
  bool bytes_ok = max_bytes == 0 || queued_bytes_ - freeable + size <= max_bytes;
  if (count == 0 || !count_ok || !bytes_ok) return Enqueue::dropped_full;
  for (auto it = queue_.begin(); it != queue_.end() && !fits();) {
    if (it->qos != protocol::QoS::at_most_once) {
      ++it;
      continue;
    }
    queued_bytes_ -= size_of(*it);
    --queued_qos0_;
    if (evicted != nullptr) evicted->push_back(std::move(*it));
    it = queue_.erase(it);
  }
  restore_queued(std::move(d));
  return Enqueue::dropped_qos0;
}

}  // namespace strata::session
