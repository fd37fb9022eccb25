// strata-bench relay: the do-nothing MQTT relay that gives the latency
// floor a broker is measured against (docs/benchmarks.md, latency row).
//
// It speaks just enough MQTT for strata-bench: CONNECT gets CONNACK,
// SUBSCRIBE gets SUBACK granting QoS 0, PINGREQ gets PINGRESP, a QoS 1
// PUBLISH gets PUBACK, and every PUBLISH is copied byte for byte to every
// connection that subscribed — no topic matching, no sessions, no queues,
// no limits. What is left is what any broker pays at least: two loopback
// hops, one wake-up, one read and one write per message. Same threading as
// a one-thread broker: one io_context, one thread, batched writes.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include "tools/bench/options.hpp"

namespace strata::bench {

class Relay {
 public:
  explicit Relay(const Options& options);
  // Serves until --duration seconds have passed; returns the exit status.
  int run();

 private:
  struct Conn;
  void accept();
  void read(const std::shared_ptr<Conn>& c);
  void handle(const std::shared_ptr<Conn>& c);
  void write(const std::shared_ptr<Conn>& c);
  void drop(const std::shared_ptr<Conn>& c);

  Options o_;
  boost::asio::io_context io_;
  boost::asio::ip::tcp::acceptor acceptor_;
  std::vector<std::shared_ptr<Conn>> subscribers_;
  std::uint64_t relayed_ = 0;
};

}  // namespace strata::bench
