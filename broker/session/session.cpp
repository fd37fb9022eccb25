#include "broker/session/session.hpp"

#include <algorithm>

namespace strata::session {

Session::Session(SessionRef handle, protocol::Version v) : version(v), handle_(std::move(handle)) {}

Session::Flow& Session::empty_flow() noexcept {
  static Flow empty;
  return empty;
}

std::optional<std::uint16_t> Session::next_packet_id() {
  Flow& f = flow();
  if (f.inflight.size() >= 65535) return std::nullopt;
  // Ids are handed out in sequence, skipping those still in flight, so a
  // recently acknowledged id is not reused at once (easier to follow in a
  // capture, and a late duplicate ack cannot complete a new message).
  for (;;) {
    f.last_packet_id = static_cast<std::uint16_t>(f.last_packet_id == 65535 ? 1 : f.last_packet_id + 1);
    if (!f.inflight_index.contains(f.last_packet_id)) return f.last_packet_id;
  }
}

Outgoing& Session::add_inflight(std::uint16_t packet_id, Delivery d) {
  d.backlog.release();  // sent: no longer waiting (publishers may go on)
  auto state = d.qos == protocol::QoS::exactly_once ? Outgoing::State::await_pubrec
                                                    : Outgoing::State::await_puback;
  const std::uint64_t bytes = size_of(d);
  Flow& f = flow();
  if (f.spare_node.empty()) {
    f.inflight.push_back(Outgoing{packet_id, state, std::move(d), bytes});
  } else {
    f.spare_node.front() = Outgoing{packet_id, state, std::move(d), bytes};
    f.inflight.splice(f.inflight.end(), f.spare_node, f.spare_node.begin());
  }
  f.inflight_bytes += bytes;
  auto it = std::prev(f.inflight.end());
  if (f.spare_index_node.empty()) {
    f.inflight_index[packet_id] = it;
  } else {
    f.spare_index_node.key() = packet_id;
    f.spare_index_node.mapped() = it;
    auto r = f.inflight_index.insert(std::move(f.spare_index_node));
    if (!r.inserted) {  // the id was in the index already: point it here
      r.position->second = it;
      f.spare_index_node = std::move(r.node);
    }
  }
  return *it;
}

Outgoing* Session::find_inflight(std::uint16_t packet_id) {
  if (!flow_) return nullptr;
  Flow& f = *flow_;
  auto it = f.inflight_index.find(packet_id);
  return it == f.inflight_index.end() ? nullptr : &*it->second;
}

std::optional<Outgoing> Session::take_inflight(std::uint16_t packet_id) {
  if (!flow_) return std::nullopt;
  Flow& f = *flow_;
  auto it = f.inflight_index.find(packet_id);
  if (it == f.inflight_index.end()) return std::nullopt;
  Outgoing out = std::move(*it->second);
  f.inflight_bytes -= out.bytes;
  if (f.spare_node.empty()) {
    *it->second = Outgoing{};
    f.spare_node.splice(f.spare_node.end(), f.inflight, it->second);
  } else {
    f.inflight.erase(it->second);
  }
  if (f.spare_index_node.empty()) {
    f.spare_index_node = f.inflight_index.extract(it);
  } else {
    f.inflight_index.erase(it);
  }
  return out;
}

std::uint64_t Session::size_of(const Delivery& d) noexcept {
  return d.msg ? d.msg->topic.size() + d.msg->payload.size() : 0;
}

Delivery Session::pop_queue() {
  Flow& f = *flow_;
  Delivery d = std::move(f.queue.front());
  f.queue.pop_front();
  f.queued_bytes -= size_of(d);
  if (d.qos == protocol::QoS::at_most_once) --f.queued_qos0;
  return d;
}

void Session::restore_queued(Delivery d) {
  // Counted in the backlog like a routed message (restored from the store,
  // it was not); for a routed one this is the charge it already has.
  if (d.qos != protocol::QoS::at_most_once) d.backlog.charge(handle_->backlog);
  Flow& f = flow();
  f.queued_bytes += size_of(d);
  if (d.qos == protocol::QoS::at_most_once) ++f.queued_qos0;
  f.queue.push_back(std::move(d));
}

Session::Enqueue Session::enqueue(Delivery d, std::size_t max_messages, std::uint64_t max_bytes,
                                  std::vector<Delivery>* evicted) {
  const std::uint64_t size = size_of(d);
  Flow& f = flow();
  auto fits = [&] {
    return f.queue.size() < max_messages && (max_bytes == 0 || f.queued_bytes + size <= max_bytes);
  };
  if (fits()) {
    restore_queued(std::move(d));
    return Enqueue::queued;
  }
  if (d.qos == protocol::QoS::at_most_once) return Enqueue::dropped_qos0;
  // Nothing to drop: refuse without scanning a full queue for every
  // message (under QoS 1 overload that scan took the whole core).
  if (f.queued_qos0 == 0) return Enqueue::dropped_full;
  // Make room by dropping the oldest QoS 0 messages; if that is not
  // enough, nothing is dropped and the new message is refused.
  std::uint64_t freeable = 0;
  std::size_t count = 0;
  for (const Delivery& q : f.queue) {
    if (q.qos != protocol::QoS::at_most_once) continue;
    freeable += size_of(q);
    ++count;
  }
  bool count_ok = f.queue.size() - count < max_messages;
  bool bytes_ok = max_bytes == 0 || f.queued_bytes - freeable + size <= max_bytes;
  if (count == 0 || !count_ok || !bytes_ok) return Enqueue::dropped_full;
  for (auto it = f.queue.begin(); it != f.queue.end() && !fits();) {
    if (it->qos != protocol::QoS::at_most_once) {
      ++it;
      continue;
    }
    f.queued_bytes -= size_of(*it);
    --f.queued_qos0;
    if (evicted != nullptr) evicted->push_back(std::move(*it));
    it = f.queue.erase(it);
  }
  restore_queued(std::move(d));
  return Enqueue::dropped_qos0;
}

}  // namespace strata::session
