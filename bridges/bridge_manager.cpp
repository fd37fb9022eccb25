#include "bridges/bridge_manager.hpp"

#include <algorithm>
#include <mutex>

#include <boost/asio/post.hpp>

#include "bridges/influx/influx_adapter.hpp"
#include "bridges/kafka/kafka_adapter.hpp"
#include "bridges/mqtt/mqtt_adapter.hpp"
#include "broker/router/topic.hpp"
#include "broker/session/session.hpp"
#include "broker/util/log.hpp"

namespace strata::bridges {

namespace asio = boost::asio;

namespace {

// Reads the hop count a message carries: the `hops_property` user property
// (a peer bridge set it), 0 when absent.
std::uint8_t hops_of(const router::Message& m, const std::string& property) {
  for (const auto& [k, v] : m.properties.user_properties) {
    if (k == property) return static_cast<std::uint8_t>(std::min(255, std::atoi(v.c_str())));
  }
  return 0;
}

Record record_of(const router::Message& m, protocol::QoS qos, bool retain, std::uint8_t hops, std::int32_t route) {
  Record r;
  r.topic = m.topic;
  r.payload = m.payload;
  r.qos = qos;
  r.retain = retain;
  r.properties = m.properties;
  r.expires_at_ms = m.expires_at_ms;
  r.hops = hops;
  if (m.publisher.starts_with("bridge:")) r.origin = m.publisher.substr(7);
  r.route = route;
  return r;
}

}  // namespace

AdapterTypes builtin_types() {
  AdapterTypes types;
  types.add(mqtt::adapter_type());
  types.add(kafka::kafka_adapter_type());
  types.add(influx::influx_adapter_type());
  return types;
}

void check_config(const config::Config& config) {
  if (!config.document) return;
  read_bridges(*config.document, builtin_types());
}

struct BridgeManager::Entry : public rules::EmitTarget, public LocalPublisher {
  core::Broker* broker = nullptr;
  std::unique_ptr<Outbox> outbox;
  std::unique_ptr<Bridge> bridge;
  unsigned home_core = 0;  // where `in` messages are published, in order
  std::uint64_t warned_at = 0;

  // One subscriber per out route. Under overflow = "block" a full outbox
  // refuses QoS 1/2 deliveries and their publishers wait (DeliverySink,
  // session_handle.hpp; Client, "Blocking sinks"): nothing they were
  // acknowledged for is dropped. QoS 0 is dropped and counted instead.
  struct Sink : session::DeliverySink {
    Entry* entry = nullptr;
    std::int32_t route = 0;
    bool accept(session::Delivery&& d, unsigned core, bool force) override {
      return entry->append(*d.msg, d.qos, d.retain, route, core, force, /*can_wait=*/true);
    }
    bool wait_space(const void* owner, std::function<void()> fn) override { return entry->wait_space(owner, std::move(fn)); }
    void cancel_wait(const void* owner) override { entry->cancel_wait(owner); }
    std::chrono::milliseconds block_timeout() const noexcept override {
      return entry->bridge->config().bounds.block_timeout;
    }
    void refused(const session::Delivery&) override { entry->count_blocked(); }
  };
  std::vector<std::unique_ptr<Sink>> sinks;
  std::vector<session::SessionRef> handles;

  // Publishers waiting for room in the outbox (overflow = "block").
  std::mutex waiters_mutex;
  std::vector<std::pair<const void*, std::function<void()>>> waiters;  // guarded by waiters_mutex
  std::atomic<std::int64_t> last_block_log_s{0};

  bool wait_space(const void* owner, std::function<void()> fn) {
    {
      std::lock_guard lock(waiters_mutex);
      waiters.emplace_back(owner, std::move(fn));
    }
    // Room made before the waiter was in the list called nobody: look again.
    // (While the log is marked blocking, the room that clears the mark
    // calls the waiters; a refused append marks it again.)
    if (outbox->blocking()) return true;
    cancel_wait(owner);
    return false;
  }

  void cancel_wait(const void* owner) {
    std::lock_guard lock(waiters_mutex);
    std::erase_if(waiters, [owner](const auto& w) { return w.first == owner; });
  }

  void on_space() {
    std::vector<std::pair<const void*, std::function<void()>>> called;
    {
      std::lock_guard lock(waiters_mutex);
      called.swap(waiters);
    }
    for (auto& [owner, fn] : called) fn();
  }

  void count_blocked() {
    const_cast<OutboxCounters&>(outbox->counters()).dropped_blocked.fetch_add(1, std::memory_order_relaxed);
    const std::int64_t now = std::chrono::duration_cast<std::chrono::seconds>(
                                 std::chrono::steady_clock::now().time_since_epoch())
                                 .count();
    std::int64_t last = last_block_log_s.load(std::memory_order_relaxed);
    if (now - last >= 10 && last_block_log_s.compare_exchange_strong(last, now)) {
      STRATA_WARN("bridge") << bridge->config().name << ": outbox full (overflow = \"block\"): refusing messages ("
                            << outbox->counters().dropped_blocked.load(std::memory_order_relaxed)
                            << " so far; QoS 1/2 publishers get 0x97)";
    }
  }

  // False: the outbox is full with overflow = "block" and `can_wait` (a
  // publisher holds the message); the caller offers it again later.
  bool append(const router::Message& m, protocol::QoS qos, bool retain, std::int32_t route, unsigned core,
              bool force = false, bool can_wait = false) {
    return offer(m, qos, retain, route, core, force, can_wait) != Offer::full;
  }

  // append() with what became of the message: the one path from a route,
  // a rule's emit or a replay job into the outbox.
  using Offer = historian::ReplayTargets::Offer;
  Offer offer(const router::Message& m, protocol::QoS qos, bool retain, std::int32_t route, unsigned core,
              bool force, bool can_wait) {
    const BridgeConfig& cfg = bridge->config();
    if (m.publisher == "bridge:" + cfg.name) return Offer::skipped;  // never back to the peer it came from
    OutboxCounters& c = const_cast<OutboxCounters&>(outbox->counters());
    std::uint8_t hops = hops_of(m, cfg.hops_property);
    if (hops >= cfg.max_hops) {
      c.dropped_hops.fetch_add(1, std::memory_order_relaxed);
      return Offer::skipped;
    }
    if (qos == protocol::QoS::at_most_once && cfg.qos0 == Qos0Policy::drop_when_offline && !bridge->connected()) {
      c.dropped_offline_qos0.fetch_add(1, std::memory_order_relaxed);
      return Offer::skipped;
    }
    // Full and blocking already: refuse without building the record.
    if (!force && can_wait && qos != protocol::QoS::at_most_once && outbox->blocking()) return Offer::full;
    switch (outbox->append(core, record_of(m, qos, retain, hops, route), force)) {
      case Outbox::Appended::queued:
        return Offer::queued;
      case Outbox::Appended::dropped:
      case Outbox::Appended::store_full:
        return Offer::skipped;
      case Outbox::Appended::full:
        if (can_wait && qos != protocol::QoS::at_most_once) return Offer::full;
        count_blocked();  // QoS 0, or a rule's emit: nobody to hold
        return Offer::skipped;
    }
    return Offer::skipped;
  }

  void emit(router::MessagePtr msg, unsigned core) override {
    append(*msg, msg->qos, msg->retain, -1, core);
  }

  void publish(router::MessagePtr msg, std::function<void(bool)> done) override {
    core::Core& c = broker->core(home_core);
    Bridge* b = bridge.get();
    asio::post(c.io(), [&c, b, msg = std::move(msg), done = std::move(done)]() mutable {
      const bool qos0 = msg->qos == protocol::QoS::at_most_once;
      if (!qos0 && c.broker().store().full()) {
        asio::post(b->io(), [done] { done(false); });
        return;
      }
      c.publish(std::move(msg), nullptr);
      b->mutable_counters().received.fetch_add(1, std::memory_order_relaxed);
      if (qos0 || !c.broker().store().sync_acks()) {
        asio::post(b->io(), [done] { done(true); });
        return;
      }
      c.after_durable([b, done](bool stored) { asio::post(b->io(), [done, stored] { done(stored); }); });
    });
  }
};

BridgeManager::BridgeManager(core::Broker& broker, rules::EmitTargets& targets) : broker_(broker) {
  const config::Config& cfg = broker.config();
  if (!cfg.document) return;
  auto parsed = read_bridges(*cfg.document, builtin_types());
  unsigned index = 0;
  for (ParsedBridge& p : parsed) {
    auto e = std::make_unique<Entry>();
    e->broker = &broker;
    e->home_core = index++ % broker.core_count();
    e->outbox = std::make_unique<Outbox>(broker.store(), p.config->name, p.config->bounds);
    const BridgeConfig* bc = p.config.get();
    e->bridge = std::make_unique<Bridge>(std::move(p.config), std::move(p.adapter), *e->outbox, e.get());
    Entry* raw = e.get();
    e->outbox->set_space_notify([raw] { raw->on_space(); }, &broker.full_sinks());
    for (std::size_t i = 0; i < bc->routes.size(); ++i) {
      const Route& r = bc->routes[i];
      if (r.direction != Route::Direction::out || !r.rule.empty()) continue;
      auto sink = std::make_unique<Entry::Sink>();
      sink->entry = e.get();
      sink->route = static_cast<std::int32_t>(i);
      auto handle = std::make_shared<session::SessionHandle>("$bridge/" + bc->name + "/" + std::to_string(i), 0, 0);
      handle->sink = sink.get();
      handle->online.store(true);
      protocol::SubscribeOptions o;
      o.max_qos = r.qos;
      o.retain_as_published = r.retain == Route::Retain::keep;
      for (unsigned c = 0; c < broker.core_count(); ++c) broker.core(c).subscribe_here(r.filter, handle, o, 0, /*check_read=*/false);
      e->sinks.push_back(std::move(sink));
      e->handles.push_back(std::move(handle));
    }
    targets.add(bc->name, e.get());
    STRATA_INFO("bridge") << bc->name << ": " << bc->type << " bridge with " << bc->routes.size() << " route"
                          << (bc->routes.size() == 1 ? "" : "s");
    bridges_.push_back(std::move(e));
  }
  if (bridges_.empty()) return;
  broker.add_sys_source([this](const core::Broker::SysPublish& publish) {
    for (auto& e : bridges_) {
      const std::string base = "$SYS/bridges/" + e->bridge->config().name + "/";
      const OutboxCounters& o = e->outbox->counters();
      const BridgeCounters& b = e->bridge->counters();
      auto n = [](const std::atomic<std::uint64_t>& a) { return std::to_string(a.load(std::memory_order_relaxed)); };
      publish(base + "state", std::string(state_name(e->bridge->state())));
      publish(base + "queued/messages", n(o.queued_messages));
      publish(base + "queued/bytes", n(o.queued_bytes));
      const Fill fill = e->outbox->fill();
      publish(base + "queued/percent", std::to_string(fill.percent));
      publish(base + "queued/warning", std::to_string(fill.warning));
      publish(base + "latency/p50_ms", std::to_string(e->outbox->delivery_quantile_ms(0.50)));
      publish(base + "latency/p99_ms", std::to_string(e->outbox->delivery_quantile_ms(0.99)));
      std::uint64_t oldest = e->outbox->oldest_ms();
      std::uint64_t now = static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                                         std::chrono::system_clock::now().time_since_epoch())
                                                         .count());
      publish(base + "lag_ms", std::to_string(oldest == 0 || oldest > now ? 0 : now - oldest));
      publish(base + "acknowledged_offset", std::to_string(e->outbox->acknowledged()));
      publish(base + "messages/appended", n(o.appended));
      publish(base + "messages/sent", n(b.sent));
      publish(base + "messages/acknowledged", n(o.confirmed));
      publish(base + "messages/resent", n(b.resent));
      publish(base + "messages/duplicates", n(b.duplicates));
      publish(base + "messages/received", n(b.received));
      publish(base + "messages/expired", n(o.expired));
      publish(base + "messages/dead_lettered", n(o.dead_lettered));
      publish(base + "dropped/oldest", n(o.dropped_oldest));
      publish(base + "dropped/new", n(o.dropped_new));
      publish(base + "dropped/blocked", n(o.dropped_blocked));
      publish(base + "dropped/hops", n(o.dropped_hops));
      publish(base + "dropped/offline_qos0", n(o.dropped_offline_qos0));
      publish(base + "dropped/age", n(o.dropped_age));
      publish(base + "connection_failures", n(b.failures));
      for (const auto& [reason, count] : e->bridge->skipped()) publish(base + "skipped/" + std::string(reason), std::to_string(count));
    }
  });
}

BridgeManager::~BridgeManager() { stop(); }

void BridgeManager::start() {
  for (auto& e : bridges_) e->bridge->start();
}

void BridgeManager::stop() {
  for (auto& e : bridges_) e->bridge->stop();
}

bool BridgeManager::has_bridge(std::string_view bridge) const {
  return std::any_of(bridges_.begin(), bridges_.end(),
                     [bridge](const auto& e) { return e->bridge->config().name == bridge; });
}

std::uint64_t BridgeManager::queued(std::string_view bridge) const {
  for (const auto& e : bridges_) {
    if (e->bridge->config().name == bridge) {
      return e->outbox->counters().queued_messages.load(std::memory_order_relaxed);
    }
  }
  return 0;
}

historian::ReplayTargets::Offer BridgeManager::offer(std::string_view bridge, const router::Message& m,
                                                     unsigned queue) {
  for (auto& e : bridges_) {
    const BridgeConfig& cfg = e->bridge->config();
    if (cfg.name != bridge) continue;
    // Room first: under overflow = drop_new or drop_oldest an append past
    // the bounds would drop a message; a replay waits instead.
    if (!e->outbox->has_space() || broker_.store().full()) return Offer::full;
    // The route a live message on this topic would take (remote template,
    // QoS cap); none matching: as a rule's emit, the topic as it is.
    // Retain is cleared: a replayed value is not the current one.
    std::int32_t route = -1;
    protocol::QoS qos = m.qos;
    for (std::size_t i = 0; i < cfg.routes.size(); ++i) {
      const Route& r = cfg.routes[i];
      if (r.direction == Route::Direction::out && r.rule.empty() && router::topic_matches(r.filter, m.topic)) {
        route = static_cast<std::int32_t>(i);
        qos = std::min(qos, r.qos);
        break;
      }
    }
    return e->offer(m, qos, /*retain=*/false, route, queue, /*force=*/false, /*can_wait=*/true);
  }
  return Offer::skipped;
}

std::vector<Bridge*> BridgeManager::all() {
  std::vector<Bridge*> out;
  for (auto& e : bridges_) out.push_back(e->bridge.get());
  return out;
}

Bridge* BridgeManager::find(std::string_view name) {
  for (auto& e : bridges_) {
    if (e->bridge->config().name == name) return e->bridge.get();
  }
  return nullptr;
}

}  // namespace strata::bridges
