// $SYS/broker/... : the broker's counters as retained messages, published
// every `[sys] interval` seconds from core 0 through the normal publish
// path, so subscribers on any core receive them like any other message.
// Other modules add their own topics with Broker::add_sys_source.
// $SYS/broker/store/... and $SYS/broker/queues/... are what an operator
// watches for the store (README, Store: the list and what each means).
#pragma once

#include <chrono>
#include <string>

#include <boost/asio/steady_timer.hpp>

namespace strata::core {

class Broker;

class SysTopics {
 public:
  explicit SysTopics(Broker& broker);
  void start(std::chrono::seconds interval);
  void stop();
  // Publishes all values now (also on every tick).
  void publish_all();

 private:
  void schedule();
  void publish(const std::string& topic, const std::string& value);
  void publish_store();


  Broker& broker_;
  boost::asio::steady_timer timer_;
  std::chrono::seconds interval_{0};
  // The store's totals at the previous update: latency/average is over the
  // commits since then.
  std::uint64_t last_commits_ = 0;
  std::uint64_t last_commit_us_ = 0;
};

}  // namespace strata::core
