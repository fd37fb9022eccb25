// Counters for $SYS and, later, /metrics. Each core has its own Stats,
// written only by its thread with relaxed atomics (no contention, no lock);
// readers on other threads sum them up.
#pragma once

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>

namespace strata::core {

struct Stats {
  std::atomic<std::uint64_t> messages_received{0};  // PUBLISH packets from clients
  std::atomic<std::uint64_t> messages_sent{0};      // PUBLISH packets to clients
  std::atomic<std::uint64_t> bytes_received{0};
  std::atomic<std::uint64_t> bytes_sent{0};
  std::atomic<std::uint64_t> messages_dropped{0};   // queue full, too large, expired, QoS 0 offline
  // Offline queues (also in messages_dropped): QoS 0 messages dropped
  // because a queue was full (the oldest queued or the new one), and QoS
  // 1/2 messages not queued because a queue was full of them.
  std::atomic<std::uint64_t> queue_dropped{0};
  std::atomic<std::uint64_t> queue_refused{0};
  // QoS 1/2 PUBLISHes refused (0x97, or the 3.1.1 connection closed)
  // because the store was full.
  std::atomic<std::uint64_t> store_refused{0};
  std::atomic<std::uint64_t> connections_rate_limited{0};  // closed at accept: listener.max_connect_rate
  // CONNECTs refused for who the client is (bad credentials, not
  // authorized, banned, unknown auth method) and failed re-authentications.
  std::atomic<std::uint64_t> auth_failures{0};
  std::atomic<std::int64_t> clients_connected{0};
  std::atomic<std::int64_t> sessions{0};            // sessions owned by this core, online or not

  // PUBLISH packets and their payload bytes, by QoS (index 0..2): from
  // clients as received (before ACL and rules), to clients as sent.
  std::array<std::atomic<std::uint64_t>, 3> received_by_qos{};
  std::array<std::atomic<std::uint64_t>, 3> sent_by_qos{};
  std::array<std::atomic<std::uint64_t>, 3> payload_received_by_qos{};
  std::array<std::atomic<std::uint64_t>, 3> payload_sent_by_qos{};

  // Per configured listener (config order): successful CONNECTs and the
  // clients connected now. Sized once, before the core runs.
  struct Listener {
    std::atomic<std::uint64_t> connects{0};
    std::atomic<std::int64_t> connected{0};
  };
  void set_listener_count(std::size_t n) {
    listeners_ = std::make_unique<Listener[]>(n);
    listener_count_ = n;
  }
  std::size_t listener_count() const noexcept { return listener_count_; }
  Listener& listener(std::size_t i) noexcept { return listeners_[i]; }
  const Listener& listener(std::size_t i) const noexcept { return listeners_[i]; }

  void add(std::atomic<std::uint64_t>& c, std::uint64_t n = 1) noexcept {
    c.store(c.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
  }

 private:
  std::unique_ptr<Listener[]> listeners_;
  std::size_t listener_count_ = 0;
};

}  // namespace strata::core
