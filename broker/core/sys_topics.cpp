#include "broker/core/sys_topics.hpp"

#include "broker/core/broker.hpp"

namespace strata::core {

SysTopics::SysTopics(Broker& broker) : broker_(broker), timer_(broker.core(0).io()) {}

void SysTopics::start(std::chrono::seconds interval) {
  interval_ = interval;
  timer_.cancel();
  if (interval_.count() == 0) return;
  publish_all();
  schedule();
}

void SysTopics::stop() { timer_.cancel(); }

void SysTopics::schedule() {
  timer_.expires_after(interval_);
  timer_.async_wait([this](const boost::system::error_code& ec) {
    if (ec) return;
    publish_all();
    schedule();
  });
}

void SysTopics::publish(const std::string& topic, const std::string& value) {
  auto msg = router::Message::make(topic, value);
  msg->retain = true;
  broker_.core(0).publish(std::move(msg), nullptr);
}

void SysTopics::publish_all() {
  std::uint64_t received = 0, sent = 0, bytes_in = 0, bytes_out = 0, dropped = 0, rate_limited = 0;
  std::uint64_t queue_dropped = 0, queue_refused = 0, store_refused = 0;
  std::int64_t connected = 0;
  for (unsigned i = 0; i < broker_.core_count(); ++i) {
    const Stats& s = broker_.core(i).stats();
    received += s.messages_received.load(std::memory_order_relaxed);
    sent += s.messages_sent.load(std::memory_order_relaxed);
    bytes_in += s.bytes_received.load(std::memory_order_relaxed);
    bytes_out += s.bytes_sent.load(std::memory_order_relaxed);
    dropped += s.messages_dropped.load(std::memory_order_relaxed);
    queue_dropped += s.queue_dropped.load(std::memory_order_relaxed);
    queue_refused += s.queue_refused.load(std::memory_order_relaxed);
    store_refused += s.store_refused.load(std::memory_order_relaxed);
    rate_limited += s.connections_rate_limited.load(std::memory_order_relaxed);
    connected += s.clients_connected.load(std::memory_order_relaxed);
  }
  auto uptime = std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now() -
                                                                 broker_.started());
  Core& c0 = broker_.core(0);
  publish("$SYS/broker/version", std::string("strata ") + STRATA_VERSION);
  publish("$SYS/broker/uptime", std::to_string(uptime.count()) + " seconds");
  publish("$SYS/broker/clients/connected", std::to_string(connected));
  publish("$SYS/broker/clients/total", std::to_string(broker_.session_count()));
  publish("$SYS/broker/connections/rate_limited", std::to_string(rate_limited));
  publish("$SYS/broker/messages/received", std::to_string(received));
  publish("$SYS/broker/messages/sent", std::to_string(sent));
  publish("$SYS/broker/messages/dropped", std::to_string(dropped));
  publish("$SYS/broker/bytes/received", std::to_string(bytes_in));
  publish("$SYS/broker/bytes/sent", std::to_string(bytes_out));
  publish("$SYS/broker/subscriptions/count", std::to_string(c0.trie().subscription_count()));
  // Counted before this round's own $SYS messages are stored.
  publish("$SYS/broker/retained messages/count", std::to_string(c0.retained().size()));
  publish("$SYS/broker/queues/dropped", std::to_string(queue_dropped));
  publish("$SYS/broker/queues/refused", std::to_string(queue_refused));
  publish("$SYS/broker/store/refused", std::to_string(store_refused));
  publish_store();
  const Broker::SysPublish extra = [this](const std::string& topic, const std::string& value) {
    publish(topic, value);
  };
  for (const Broker::SysSource& source : broker_.sys_sources()) source(extra);
}

void SysTopics::publish_store() {
  store::Store& store = broker_.store();
  store::WriterCounters& c = store.counters();
  auto get = [](const std::atomic<std::uint64_t>& v) { return v.load(std::memory_order_relaxed); };
  const std::uint64_t commits = get(c.commits);
  const std::uint64_t commit_us = get(c.commit_us);
  const std::uint64_t max_us = c.max_commit_us.exchange(0, std::memory_order_relaxed);
  const std::uint64_t n = commits - last_commits_;
  const std::uint64_t average_us = n == 0 ? 0 : (commit_us - last_commit_us_) / n;
  last_commits_ = commits;
  last_commit_us_ = commit_us;
  publish("$SYS/broker/store/commits", std::to_string(commits));
  publish("$SYS/broker/store/writes", std::to_string(get(c.writes)));
  publish("$SYS/broker/store/bytes", std::to_string(get(c.bytes_written)));
  publish("$SYS/broker/store/fsyncs", std::to_string(get(c.fsyncs)));
  publish("$SYS/broker/store/latency/average", std::to_string(average_us) + " us");
  publish("$SYS/broker/store/latency/max", std::to_string(max_us) + " us");
  publish("$SYS/broker/store/map/size", std::to_string(get(c.map_size)));
  publish("$SYS/broker/store/map/used", std::to_string(get(c.map_used)));
  publish("$SYS/broker/store/full", store.full() ? "1" : "0");
  publish("$SYS/broker/store/failures", std::to_string(get(c.failed_commits)));
  publish("$SYS/broker/store/lost", std::to_string(get(c.lost)));
  publish("$SYS/broker/store/queue/bytes", std::to_string(store.pending_bytes()));
  publish("$SYS/broker/store/queue/limit", std::to_string(store.pending_limit()));
  publish("$SYS/broker/store/queue/behind", store.behind() ? "1" : "0");
  publish("$SYS/broker/store/queue/behind_count", std::to_string(get(c.behind)));
}

}  // namespace strata::core
