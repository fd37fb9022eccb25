// Bridge sessions: the model is in bridge_sessions.hpp and
// broker/session/session_log.hpp.
#include "bridges/bridge_sessions.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <set>

#include "bridges/outbox/outbox.hpp"
#include "bridges/outbox/outbox_log.hpp"
#include "bridges/writer_hold.hpp"
#include "broker/core/clock.hpp"
#include "broker/session/session.hpp"
#include "broker/store/store.hpp"
#include "broker/util/log.hpp"

namespace strata::bridges {

namespace {

constexpr std::size_t kMemoryRecords = 16384;  // per log; the rest waits on disk
constexpr std::size_t kReadMax = 1024;

std::string_view view(const MDB_val& v) { return {static_cast<const char*>(v.mv_data), v.mv_size}; }

// The client ids of the bridge session logs on disk (records or an
// acknowledged offset). Before the store's writer starts.
std::set<std::string> logs_on_disk(store::Store& store) {
  std::set<std::string> ids;
  const std::string prefix = session_log_name("");
  auto& env = store.env();
  MDB_txn* txn = nullptr;
  store::check(mdb_txn_begin(env.env(), nullptr, MDB_RDONLY, &txn), "begin a read transaction");
  for (MDB_dbi dbi : {env.outbox, env.outbox_meta}) {
    MDB_cursor* cur = nullptr;
    if (mdb_cursor_open(txn, dbi, &cur) != MDB_SUCCESS) continue;
    std::string from = prefix;
    MDB_val k{from.size(), from.data()}, v;
    int rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
    while (rc == MDB_SUCCESS && view(k).starts_with(prefix)) {
      std::string_view key = view(k);
      std::string_view name = key.substr(0, key.find('\0'));  // outbox: name, 0x00, offset; meta: name
      ids.emplace(name.substr(prefix.size()));
      // Past every key of this name: name + 0x01 sorts after name + 0x00 + anything.
      from = std::string(name);
      from.push_back('\x01');
      k = MDB_val{from.size(), from.data()};
      rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
    }
    mdb_cursor_close(cur);
  }
  mdb_txn_abort(txn);
  return ids;
}

std::string sys_level(std::string_view id) {
  std::string out(id);
  for (char& c : out) {
    if (c == '/' || c == '+' || c == '#') c = '_';
  }
  return out;
}

}  // namespace

void check_bridge_session_config(const config::Config& config) {
  if (config.document) read_bridge_sessions(*config.document);
}

// One client id's log, as the session's DeliverySink (appends from any
// core) and its reader (the session's core).
struct BridgeSessions::Log : public session::SessionLog {
  core::Broker* broker = nullptr;
  std::string client_id;
  std::unique_ptr<Outbox> outbox;
  std::unique_ptr<WriterHold> hold;  // publishers held while the store's writer is behind
  std::uint64_t cursor = 0;  // the reader's next offset (the session's core)
  mutable std::mutex user_mutex;
  std::string username;  // guarded by user_mutex
  std::atomic<std::int64_t> last_block_log_s{0};
  std::mutex waiters_mutex;
  std::vector<std::pair<const void*, std::function<void()>>> waiters;  // guarded by waiters_mutex

  bool accept(session::Delivery&& d, unsigned core, bool force) override {
    const router::Message& m = *d.msg;
    if (d.check_read) {
      std::string user;  // a copy: a reconnect may change it meanwhile
      {
        std::lock_guard lock(user_mutex);
        user = username;
      }
      if (!broker->authorizer().can_read(auth::ClientInfo{client_id, user, {}}, m.topic)) return true;
    }
    const bool qos0 = d.qos == protocol::QoS::at_most_once;
    if (!force && !qos0 && outbox->blocking()) return false;
    Record r;
    r.topic = m.topic;
    r.payload = m.payload;
    r.qos = d.qos;
    r.retain = d.retain;
    r.set_properties(*m.properties);
    r.expires_at_ms = m.expires_at_ms;
    switch (outbox->append(core, std::move(r), force)) {
      case Outbox::Appended::queued:
        // The record is on the writer's queue: while that is long, the
        // publisher's back-pressure charge stays (writer_hold.hpp), also
        // while the pulling client is away.
        hold->keep(std::move(d.backlog));
        return true;
      case Outbox::Appended::dropped:
      case Outbox::Appended::store_full:
        return true;
      case Outbox::Appended::full:
        if (!qos0) return false;
        count_blocked();
        return true;
    }
    return true;
  }
  bool wait_space(const void* owner, std::function<void()> fn) override {
    {
      std::lock_guard lock(waiters_mutex);
      waiters.emplace_back(owner, std::move(fn));
    }
    if (outbox->blocking()) return true;  // see BridgeManager's Sink: room made meanwhile calls nobody
    cancel_wait(owner);
    return false;
  }
  void cancel_wait(const void* owner) override {
    std::lock_guard lock(waiters_mutex);
    std::erase_if(waiters, [owner](const auto& w) { return w.first == owner; });
  }
  std::chrono::milliseconds block_timeout() const noexcept override {
    return std::chrono::milliseconds(block_timeout_ms.load(std::memory_order_relaxed));
  }
  void refused(const session::Delivery&) override { count_blocked(); }

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
    const std::int64_t now =
        std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now().time_since_epoch()).count();
    std::int64_t last = last_block_log_s.load(std::memory_order_relaxed);
    if (now - last >= 10 && last_block_log_s.compare_exchange_strong(last, now)) {
      STRATA_WARN("bridge") << "bridge session " << client_id << ": log full (overflow = \"block\"): refusing messages ("
                            << outbox->counters().dropped_blocked.load(std::memory_order_relaxed)
                            << " so far; QoS 1/2 publishers get 0x97)";
    }
  }

  // --- reader ---------------------------------------------------------------
  void reset() override {
    outbox->discard();
    cursor = outbox->acknowledged() + 1;
  }
  std::vector<Entry> read(std::size_t max) override {
    std::vector<Entry> out;
    std::vector<RecordPtr> got = outbox->read(cursor, std::min(max, kReadMax));
    out.reserve(got.size());
    for (const RecordPtr& r : got) {
      cursor = r->offset + 1;
      auto msg = router::Message::make(r->topic, r->payload);
      msg->qos = r->qos;
      msg->retain = r->retain;
      msg->properties = r->properties();
      msg->expires_at_ms = r->expires_at_ms;
      out.push_back(Entry{r->offset, std::move(msg), r->qos, r->retain});
    }
    return out;
  }
  void confirm(std::uint64_t offset) override { outbox->confirm(offset); }
  void set_reader(std::function<void()> notify) override { outbox->set_notify(std::move(notify)); }
  void set_username(const std::string& name) override {
    std::lock_guard lock(user_mutex);
    username = name;
  }
  std::uint64_t queued_messages() const override {
    return outbox->counters().queued_messages.load(std::memory_order_relaxed);
  }
  std::uint64_t queued_bytes() const override { return outbox->counters().queued_bytes.load(std::memory_order_relaxed); }

  OutboxBounds bounds;  // guarded by BridgeSessions::mutex_
  std::atomic<std::int64_t> block_timeout_ms{0};
  void set_bounds(const OutboxBounds& b) {
    bounds = b;
    block_timeout_ms.store(std::chrono::duration_cast<std::chrono::milliseconds>(b.block_timeout).count(),
                           std::memory_order_relaxed);
  }
};

BridgeSessions::BridgeSessions(core::Broker& broker) : broker_(broker) {
  const config::Config& cfg = broker.config();
  if (cfg.document) configs_ = read_bridge_sessions(*cfg.document);
  if (configs_.empty()) return;
  for (const std::string& id : logs_on_disk(broker.store())) {
    if (const BridgeSessionConfig* c = find_bridge_session(configs_, id)) {
      open(id, *c, /*fresh=*/false);
    } else {
      STRATA_INFO("bridge") << "bridge session log of " << id
                            << " kept on disk: no [[bridge_session]] names that client id now";
    }
  }
  for (const BridgeSessionConfig& c : configs_) {
    STRATA_INFO("bridge") << "bridge sessions: client id " << c.client_id << " queues in a log on disk";
  }
  broker.set_session_logs(this);
  broker.add_reload_hook([this](const config::Config& fresh) { return reload(fresh); });
  broker.add_sys_source([this](const core::Broker::SysPublish& publish) {
    std::lock_guard lock(mutex_);
    const std::uint64_t now = core::now_ms();
    for (auto& [id, log] : logs_) {
      const std::string base = "$SYS/bridge_sessions/" + sys_level(id) + "/";
      const Outbox& o = *log->outbox;
      const OutboxCounters& c = o.counters();
      auto n = [](const std::atomic<std::uint64_t>& a) { return std::to_string(a.load(std::memory_order_relaxed)); };
      publish(base + "queued/messages", n(c.queued_messages));
      publish(base + "queued/bytes", n(c.queued_bytes));
      const Fill fill = o.fill();
      publish(base + "queued/percent", std::to_string(fill.percent));
      publish(base + "queued/warning", std::to_string(fill.warning));
      std::uint64_t oldest = o.oldest_ms();
      publish(base + "lag_ms", std::to_string(oldest == 0 || oldest > now ? 0 : now - oldest));
      publish(base + "acknowledged_offset", std::to_string(o.acknowledged()));
      publish(base + "messages/appended", n(c.appended));
      publish(base + "messages/acknowledged", n(c.confirmed));
      publish(base + "messages/expired", n(c.expired));
      publish(base + "messages/discarded", n(c.discarded));
      publish(base + "dropped/oldest", n(c.dropped_oldest));
      publish(base + "dropped/new", n(c.dropped_new));
      publish(base + "dropped/blocked", n(c.dropped_blocked));
      publish(base + "dropped/age", n(c.dropped_age));
    }
  });
}

BridgeSessions::~BridgeSessions() = default;

BridgeSessions::Log* BridgeSessions::open(const std::string& client_id, const BridgeSessionConfig& config, bool fresh) {
  auto log = std::make_unique<Log>();
  log->broker = &broker_;
  log->client_id = client_id;
  log->set_bounds(config.bounds);
  const std::string name = session_log_name(client_id);
  log->outbox = fresh ? std::make_unique<Outbox>(broker_.store(), name, config.bounds, Outbox::Fresh{})
                      : std::make_unique<Outbox>(broker_.store(), name, config.bounds);
  log->outbox->set_memory_limit(kMemoryRecords);
  log->hold = std::make_unique<WriterHold>(broker_.store());
  log->cursor = log->outbox->acknowledged() + 1;
  Log* raw = log.get();
  log->outbox->set_space_notify([raw] { raw->on_space(); }, &broker_.full_sinks());
  logs_.emplace(client_id, std::move(log));
  return raw;
}

session::SessionLog* BridgeSessions::log_for(const std::string& client_id) {
  std::lock_guard lock(mutex_);
  if (auto it = logs_.find(client_id); it != logs_.end()) return it->second.get();
  const BridgeSessionConfig* c = find_bridge_session(configs_, client_id);
  if (c == nullptr) return nullptr;
  return open(client_id, *c, /*fresh=*/true);
}

std::vector<std::pair<std::string, const Outbox*>> BridgeSessions::logs() {
  std::lock_guard lock(mutex_);
  std::vector<std::pair<std::string, const Outbox*>> out;
  for (auto& [id, log] : logs_) out.emplace_back(id, log->outbox.get());
  return out;
}

std::string BridgeSessions::reload(const config::Config& fresh) {
  std::vector<BridgeSessionConfig> next;
  if (fresh.document) next = read_bridge_sessions(*fresh.document);
  std::lock_guard lock(mutex_);
  if (next == configs_) return {};
  bool same_ids = next.size() == configs_.size();
  for (std::size_t i = 0; same_ids && i < next.size(); ++i) same_ids = next[i].client_id == configs_[i].client_id;
  if (!same_ids) throw std::runtime_error("[[bridge_session]] client_id changes need a restart");
  for (auto& [id, log] : logs_) {
    const BridgeSessionConfig* c = find_bridge_session(next, id);
    if (c == nullptr || c->bounds == log->bounds) continue;
    log->set_bounds(c->bounds);
    log->outbox->set_bounds(c->bounds);
  }
  configs_ = std::move(next);
  return "[[bridge_session]] bounds";
}

}  // namespace strata::bridges
