#include "bridges/bridge_manager.hpp"

#include <algorithm>
#include <mutex>

#include <boost/asio/post.hpp>

#include "bridges/bridge_diff.hpp"
#include "bridges/influx/influx_adapter.hpp"
#include "bridges/kafka/kafka_adapter.hpp"
#include "bridges/mqtt/mqtt_adapter.hpp"
#include "bridges/writer_hold.hpp"
#include "broker/router/topic.hpp"
#include "broker/session/session.hpp"
#include "broker/util/log.hpp"

namespace strata::bridges {

namespace asio = boost::asio;

namespace {

// Reads the hop count a message carries: the `hops_property` user property
// (a peer bridge set it), 0 when absent.
std::uint8_t hops_of(const router::Message& m, const std::string& property) {
  for (const auto& [k, v] : m.properties->user_properties) {
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
  r.set_properties(*m.properties);
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

// An outbox and the publishers waiting for room in it (overflow =
// "block"): shared by every bridge a reload makes on the same log.
struct BridgeManager::Box {
  std::unique_ptr<Outbox> outbox;
  std::mutex waiters_mutex;
  std::vector<std::pair<const void*, std::function<void()>>> waiters;  // guarded by waiters_mutex

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
};

struct BridgeManager::Entry : public LocalPublisher {
  core::Broker* broker = nullptr;
  Box* box = nullptr;
  Outbox* outbox = nullptr;  // box->outbox
  std::unique_ptr<Bridge> bridge;
  toml::table source;        // its [[bridge]] table, for the reload's diff and the admin API
  unsigned home_core = 0;    // where `in` messages are published, in order
  std::atomic<bool> removed{false};  // a reload removed it: its routes take nothing more

  // One subscriber per out route. Under overflow = "block" a full outbox
  // refuses QoS 1/2 deliveries and their publishers wait (DeliverySink,
  // session_handle.hpp; Client, "Blocking sinks"): nothing they were
  // acknowledged for is dropped. QoS 0 is dropped and counted instead.
  struct Sink : session::DeliverySink {
    Entry* entry = nullptr;
    std::int32_t route = 0;
    bool accept(session::Delivery&& d, unsigned core, bool force) override {
      const Offer o = entry->offer(*d.msg, d.qos, d.retain, route, core, force, /*can_wait=*/true);
      if (o == Offer::full) return false;
      // The record is on the writer's queue: while that is long, the
      // publisher's back-pressure charge stays (writer_hold.hpp).
      if (o == Offer::queued) entry->hold->keep(std::move(d.backlog));
      return true;
    }
    bool wait_space(const void* owner, std::function<void()> fn) override {
      return entry->box->wait_space(owner, std::move(fn));
    }
    void cancel_wait(const void* owner) override { entry->box->cancel_wait(owner); }
    std::chrono::milliseconds block_timeout() const noexcept override {
      return entry->bridge->config().bounds.block_timeout;
    }
    void refused(const session::Delivery&) override { entry->count_blocked(); }
  };
  struct Subscribed {
    std::string filter;
    session::SessionRef handle;
    protocol::SubscribeOptions options;
  };
  std::vector<std::unique_ptr<Sink>> sinks;
  std::vector<Subscribed> routes;
  // After `routes`: the charges it keeps count on their handles' backlogs.
  std::unique_ptr<WriterHold> hold;
  std::atomic<std::int64_t> last_block_log_s{0};

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
    if (removed.load(std::memory_order_acquire)) return Offer::skipped;  // matched just before its routes went
    const BridgeConfig& cfg = bridge->config();
    // Never back to the peer it came from (publisher "bridge:<name>").
    if (m.publisher.size() == 7 + cfg.name.size() && m.publisher.starts_with("bridge:") &&
        m.publisher.ends_with(cfg.name)) {
      return Offer::skipped;
    }
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

  void emit(const router::MessagePtr& msg, unsigned core) { append(*msg, msg->qos, msg->retain, -1, core); }

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

// One per bridge name for the manager's life: the rules' emit target of
// that name (whichever bridge runs under it) and its outbox.
struct BridgeManager::Log : public rules::EmitTarget {
  std::string name;
  std::string type;               // the last type it was configured with
  std::unique_ptr<Box> box;       // null once purged, until configured again
  std::atomic<Entry*> current{nullptr};  // the bridge rules emit to; null when removed
  bool configured = false;        // a [[bridge]] of this name is configured (guarded by mutex_)
  bool registered = false;        // an emit target in targets_ (core 0)

  void emit(router::MessagePtr msg, unsigned core) override {
    if (Entry* e = current.load(std::memory_order_acquire)) e->emit(msg, core);
  }
};

BridgeManager::BridgeManager(core::Broker& broker, rules::EmitTargets& targets) : broker_(broker), targets_(targets) {
  const config::Config& cfg = broker.config();
  if (cfg.document) {
    auto parsed = read_bridges(*cfg.document, builtin_types());
    auto tables = bridge_tables(cfg.document->root);
    if (const toml::table* u = cfg.document->root["uns"].as_table()) uns_ = *u;
    for (ParsedBridge& p : parsed) {
      auto t = std::find_if(tables.begin(), tables.end(), [&p](const NamedTable& n) { return n.first == p.config->name; });
      bridges_.push_back(make_entry(p, t == tables.end() ? toml::table{} : *t->second, /*now=*/true));
    }
  }
  // Outboxes on disk that no bridge is configured for (removed while the
  // broker was down): kept, listed as removed, until purged.
  for (const std::string& name : Outbox::stored_logs(broker.store())) {
    if (name.starts_with("session:") || logs_.contains(name)) continue;
    log_for(name, OutboxBounds{});
    STRATA_INFO("bridge") << name << ": an outbox without a configured bridge ("
                          << logs_[name]->box->outbox->counters().queued_messages.load() << " messages queued); kept until "
                          << "strata-ctl bridges purge " << name;
  }
  broker.add_sys_source([this](const core::Broker::SysPublish& publish) {
    std::vector<Entry*> running;
    {
      std::lock_guard lock(mutex_);
      running = bridges_;
    }
    for (Entry* e : running) {
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
  broker.add_reload_hook([this](const config::Config& fresh) { return reload(fresh); });
}

BridgeManager::Log& BridgeManager::log_for(const std::string& name, const OutboxBounds& bounds) {
  std::unique_ptr<Log>& slot = logs_[name];
  if (!slot) {
    slot = std::make_unique<Log>();
    slot->name = name;
  }
  Log& log = *slot;
  if (log.box) {
    log.box->outbox->set_bounds(bounds);
    return log;
  }
  log.box = std::make_unique<Box>();
  log.box->outbox = std::make_unique<Outbox>(broker_.store(), name, bounds);
  Box* box = log.box.get();
  log.box->outbox->set_space_notify([box] { box->on_space(); }, &broker_.full_sinks());
  return log;
}

BridgeManager::Entry* BridgeManager::make_entry(ParsedBridge& p, const toml::table& source, bool now) {
  auto e = std::make_unique<Entry>();
  const BridgeConfig* bc = p.config.get();
  Log* log = nullptr;
  {
    // Claimed in the same step as the log is found: a purge from the admin
    // API now refuses it (Purge::configured) instead of deleting under it.
    std::lock_guard lock(mutex_);
    log = &log_for(bc->name, bc->bounds);
    log->type = bc->type;
    log->configured = true;
    e->box = log->box.get();
  }
  e->broker = &broker_;
  e->outbox = e->box->outbox.get();
  e->hold = std::make_unique<WriterHold>(broker_.store());
  e->source = source;
  e->home_core = next_core_++ % broker_.core_count();
  e->bridge = std::make_unique<Bridge>(std::move(p.config), std::move(p.adapter), *e->outbox, e.get());
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
    if (now) {
      for (unsigned c = 0; c < broker_.core_count(); ++c) broker_.core(c).subscribe_here(r.filter, handle, o, 0, /*check_read=*/false);
    }
    e->sinks.push_back(std::move(sink));
    e->routes.push_back(Entry::Subscribed{r.filter, std::move(handle), o});
  }
  Entry* raw = e.get();
  log->current.store(raw, std::memory_order_release);
  if (!log->registered) {
    targets_.add(bc->name, log);
    log->registered = true;
  }
  STRATA_INFO("bridge") << bc->name << ": " << bc->type << " bridge with " << bc->routes.size() << " route"
                        << (bc->routes.size() == 1 ? "" : "s");
  std::lock_guard lock(mutex_);
  entries_.push_back(std::move(e));
  return raw;
}

void BridgeManager::swap_routes(Entry* old_entry, Entry* new_entry) {
  std::vector<Entry::Subscribed> drop, add;
  if (old_entry != nullptr) drop = old_entry->routes;
  if (new_entry != nullptr) add = new_entry->routes;
  if (drop.empty() && add.empty()) return;
  // Bridge filters are never shared ($share/ is refused): group "".
  broker_.post_to_cores(broker_.core_count(), [drop = std::move(drop), add = std::move(add)](core::Core& c) {
    for (const auto& r : drop) c.trie().unsubscribe(r.filter, "", r.handle.get());
    for (const auto& r : add) c.trie().subscribe(r.filter, "", router::Subscription{r.handle, r.options, 0, false});
  });
}

BridgeManager::Entry* BridgeManager::active(std::string_view name) const {
  for (Entry* e : bridges_) {
    if (e->bridge->config().name == name) return e;
  }
  return nullptr;
}

std::string BridgeManager::reload(const config::Config& fresh) {
  std::vector<ParsedBridge> parsed;
  std::vector<NamedTable> tables;
  toml::table uns;
  if (fresh.document) {
    parsed = read_bridges(*fresh.document, builtin_types());  // a bad table throws: nothing changed
    tables = bridge_tables(fresh.document->root);
    if (const toml::table* u = fresh.document->root["uns"].as_table()) uns = *u;
  }
  std::vector<NamedTable> running;
  {
    std::lock_guard lock(mutex_);
    for (Entry* e : bridges_) running.emplace_back(e->bridge->config().name, &e->source);
  }
  BridgeDiff diff = diff_bridges(running, tables);
  // {uns.*} templates were compiled with [uns]'s models: such a bridge
  // follows a changed [uns] as if its own table had changed.
  if (!(uns == uns_)) {
    std::erase_if(diff.unchanged, [&](const std::string& name) {
      std::lock_guard lock(mutex_);
      const BridgeConfig& c = active(name)->bridge->config();
      bool uses = std::any_of(c.routes.begin(), c.routes.end(), [](const Route& r) {
        return r.remote.find("{uns.") != std::string::npos || r.local.find("{uns.") != std::string::npos;
      });
      if (uses) diff.changed.push_back(name);
      return uses;
    });
    uns_ = std::move(uns);
  }
  if (diff.empty()) return running.empty() ? std::string() : "[[bridge]]: unchanged";
  auto parsed_of = [&parsed](const std::string& name) -> ParsedBridge& {
    return *std::find_if(parsed.begin(), parsed.end(), [&name](const ParsedBridge& p) { return p.config->name == name; });
  };
  auto table_of_fresh = [&tables](const std::string& name) -> const toml::table& {
    return *std::find_if(tables.begin(), tables.end(), [&name](const NamedTable& t) { return t.first == name; })->second;
  };
  auto running_entry = [this](const std::string& name) {
    std::lock_guard lock(mutex_);
    return active(name);
  };
  for (const std::string& name : diff.removed) {
    Entry* e = running_entry(name);
    e->removed.store(true, std::memory_order_release);
    swap_routes(e, nullptr);
    e->bridge->stop();
    {
      std::lock_guard lock(mutex_);
      logs_[name]->current.store(nullptr, std::memory_order_release);
      logs_[name]->configured = false;
      std::erase(bridges_, e);
    }
    STRATA_INFO("bridge") << name << ": removed; its outbox stays ("
                          << e->outbox->counters().queued_messages.load(std::memory_order_relaxed)
                          << " messages queued) until strata-ctl bridges purge " << name;
  }
  for (const std::string& name : diff.changed) {
    Entry* old = running_entry(name);
    // The old bridge stops first: the new one reads the log from its
    // acknowledged offset on, sending again what the old one left
    // unconfirmed. Until the routes swap, the old ones append to the same log.
    old->bridge->stop();
    Entry* e = make_entry(parsed_of(name), table_of_fresh(name), /*now=*/false);
    swap_routes(old, e);
    {
      std::lock_guard lock(mutex_);
      std::replace(bridges_.begin(), bridges_.end(), old, e);
    }
    if (old->bridge->paused()) e->bridge->pause();  // paused from the admin API: it stays paused
    if (started_) e->bridge->start();
    STRATA_INFO("bridge") << name << ": restarted with its new settings; its outbox stays";
  }
  for (const std::string& name : diff.added) {
    Entry* e = make_entry(parsed_of(name), table_of_fresh(name), /*now=*/false);
    swap_routes(nullptr, e);
    {
      std::lock_guard lock(mutex_);
      bridges_.push_back(e);
    }
    if (started_) e->bridge->start();
  }
  {
    // The fresh file's order.
    std::lock_guard lock(mutex_);
    std::vector<Entry*> ordered;
    for (const auto& [name, table] : tables) {
      if (Entry* e = active(name)) ordered.push_back(e);
    }
    bridges_ = std::move(ordered);
  }
  std::string out = "[[bridge]]:";
  bool first = true;
  for (const auto& [what, list] : {std::pair{"added", &diff.added}, std::pair{"changed", &diff.changed},
                                   std::pair{"removed (outbox kept)", &diff.removed},
                                   std::pair{"unchanged", &diff.unchanged}}) {
    if (list->empty()) continue;
    out += std::string(first ? " " : ", ") + what + " ";
    first = false;
    for (std::size_t i = 0; i < list->size(); ++i) out += (i ? "," : "") + (*list)[i];
  }
  return out;
}

BridgeManager::~BridgeManager() { stop(); }

void BridgeManager::start() {
  std::vector<Entry*> running;
  {
    std::lock_guard lock(mutex_);
    running = bridges_;
    started_ = true;
  }
  for (Entry* e : running) e->bridge->start();
}

void BridgeManager::stop() {
  std::vector<Entry*> every;
  {
    std::lock_guard lock(mutex_);
    for (auto& e : entries_) every.push_back(e.get());
  }
  for (Entry* e : every) e->bridge->stop();
}

std::size_t BridgeManager::size() const {
  std::lock_guard lock(mutex_);
  return bridges_.size();
}

bool BridgeManager::has_bridge(std::string_view bridge) const {
  std::lock_guard lock(mutex_);
  return active(bridge) != nullptr;
}

std::uint64_t BridgeManager::queued(std::string_view bridge) const {
  std::lock_guard lock(mutex_);
  Entry* e = active(bridge);
  return e == nullptr ? 0 : e->outbox->counters().queued_messages.load(std::memory_order_relaxed);
}

historian::ReplayTargets::Offer BridgeManager::offer(std::string_view bridge, const router::Message& m,
                                                     unsigned queue) {
  Entry* e = nullptr;
  {
    std::lock_guard lock(mutex_);
    e = active(bridge);
  }
  if (e == nullptr) return Offer::skipped;
  const BridgeConfig& cfg = e->bridge->config();
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

std::vector<Bridge*> BridgeManager::all() {
  std::lock_guard lock(mutex_);
  std::vector<Bridge*> out;
  for (Entry* e : bridges_) out.push_back(e->bridge.get());
  return out;
}

Bridge* BridgeManager::find(std::string_view name) {
  std::lock_guard lock(mutex_);
  Entry* e = active(name);
  return e == nullptr ? nullptr : e->bridge.get();
}

const toml::table* BridgeManager::table_of(std::string_view name) const {
  std::lock_guard lock(mutex_);
  Entry* e = active(name);
  return e == nullptr ? nullptr : &e->source;
}

std::vector<BridgeManager::Removed> BridgeManager::removed() const {
  std::lock_guard lock(mutex_);
  std::vector<Removed> out;
  for (const auto& [name, log] : logs_) {
    if (log->box && !log->configured) {
      out.push_back(Removed{name, log->type, log->box->outbox.get()});
    }
  }
  return out;
}

BridgeManager::Purge BridgeManager::purge(std::string_view name, std::function<void(std::uint64_t)> done) {
  std::uint64_t records = 0;
  std::string log_name(name);
  {
    std::lock_guard lock(mutex_);
    auto it = logs_.find(name);
    if (it == logs_.end() || !it->second->box) return Purge::unknown;
    Log& log = *it->second;
    if (log.configured) return Purge::configured;
    records = log.box->outbox->counters().queued_messages.load(std::memory_order_relaxed);
    // The object stays allocated (a stopped bridge of that name still
    // points at it); a bridge added again under the name opens a fresh log.
    purged_.push_back(std::move(log.box));
  }
  STRATA_INFO("bridge") << log_name << ": purging its kept outbox (" << records << " messages)";
  Outbox::purge(broker_.store(), log_name, [done = std::move(done), records] { done(records); });
  return Purge::purging;
}

}  // namespace strata::bridges
