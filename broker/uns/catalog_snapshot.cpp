#include "broker/uns/catalog_snapshot.hpp"

#include <algorithm>
#include <vector>

#include <boost/asio/post.hpp>

#include "broker/core/broker.hpp"
#include "broker/core/clock.hpp"
#include "broker/store/lmdb_env.hpp"
#include "broker/store/store.hpp"
#include "broker/store/writer.hpp"
#include "broker/uns/catalog_query.hpp"
#include "broker/uns/namespace_hook.hpp"
#include "broker/uns/snapshot_record.hpp"
#include "broker/util/log.hpp"

namespace strata::uns {

static_assert(kSnapshotKinds == kKindCount && kSnapshotActions == std::size(kActionNames),
              "the snapshot record checks kinds and actions against these counts");

namespace {

constexpr std::size_t kMaxKey = 511;  // LMDB's default key limit

SnapshotTopic record_of(const MergedTopic& t, std::uint64_t taken_ms) {
  SnapshotTopic s;
  s.first_ms = t.first_ms;
  s.last_ms = t.last_ms;
  s.count = t.count;
  s.violations = t.violations;
  s.size = t.size;
  s.qos = t.qos;
  s.kind = t.kind;
  s.retain = t.retain;
  s.truncated = t.truncated;
  s.value = t.value;
  s.publisher = t.publisher;
  s.taken_ms = taken_ms;
  s.rate_per_s = t.rate_per_s;
  s.rate_per_min = t.rate_per_min;
  s.properties = t.properties;
  if (const auto& v = t.last_violation) {
    s.last_violation = SnapshotViolation{v->at_ms,   v->client_id, v->contract, v->version, v->pointer,
                                         static_cast<std::uint8_t>(v->kind), v->detail, v->sample,
                                         static_cast<std::uint8_t>(v->action)};
  }
  s.current = t.current;
  for (const SchemaVersion& v : t.versions) {
    SnapshotVersion& out = s.versions.emplace_back();
    out.first_ms = v.first_ms;
    out.last_ms = v.last_ms;
    out.count = v.count;
    out.hash = v.schema->hash;
    for (const Field& f : v.schema->fields) out.fields.push_back(SnapshotField{f.path, f.types});
  }
  return s;
}

}  // namespace

CatalogSnapshot::CatalogSnapshot(core::Broker& broker, NamespaceHook& hook, std::uint32_t interval_s)
    : broker_(broker), hook_(hook), interval_s_(interval_s) {
  dbi_ = broker_.store().env().open_database("uns_catalog");
}

CatalogSnapshot::~CatalogSnapshot() {
  if (timer_) timer_->cancel();
}

std::size_t CatalogSnapshot::restore() {
  store::ReadTxn txn(broker_.store().env());
  MDB_cursor* cur = nullptr;
  if (mdb_cursor_open(txn.get(), dbi_, &cur) != MDB_SUCCESS) return 0;
  MDB_val k, v;
  std::size_t bad = 0;
  std::vector<std::pair<std::string, SnapshotTopic>> topics;
  for (int rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == MDB_SUCCESS; rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
    std::string_view topic(static_cast<const char*>(k.mv_data), k.mv_size);
    auto rec = decode_snapshot_record({static_cast<const char*>(v.mv_data), v.mv_size});
    if (!rec || topic.empty()) {
      ++bad;
      continue;
    }
    topics.emplace_back(std::string(topic), std::move(*rec));
  }
  mdb_cursor_close(cur);
  // Least recently seen first, so the catalogs' LRU order is the one saved.
  std::stable_sort(topics.begin(), topics.end(),
                   [](const auto& a, const auto& b) { return a.second.last_ms < b.second.last_ms; });
  unsigned cores = hook_.core_count();
  for (const auto& [topic, rec] : topics) {
    hook_.restore_topic(static_cast<unsigned>(std::hash<std::string_view>{}(topic) % cores), topic, rec);
  }
  std::size_t n = topics.size();
  restored_.store(n, std::memory_order_relaxed);
  damaged_.store(bad, std::memory_order_relaxed);
  if (n || bad) {
    STRATA_INFO("uns") << "restored " << n << " catalogued topic(s) from the snapshot"
                       << (bad ? " (" + std::to_string(bad) + " damaged record(s) skipped)" : std::string());
  }
  return n;
}

void CatalogSnapshot::start() {
  if (interval_s_ == 0) return;
  timer_ = std::make_unique<boost::asio::steady_timer>(broker_.core(0).io());
  schedule();
}

void CatalogSnapshot::schedule() {
  timer_->expires_after(std::chrono::seconds(interval_s_));
  timer_->async_wait([this](const boost::system::error_code& ec) {
    if (ec) return;
    take();
    schedule();
  });
}

// On core 0: every core's part, merged on core 0, then the writes.
void CatalogSnapshot::take() {
  struct State {
    std::vector<std::shared_ptr<MergedCatalog>> parts;
    unsigned left = 0;
  };
  auto state = std::make_shared<State>();
  unsigned cores = hook_.core_count();
  state->parts.resize(cores);
  state->left = cores;
  std::uint64_t now = core::now_ms();
  for (unsigned i = 0; i < cores; ++i) {
    boost::asio::post(broker_.core(i).io(), [this, state, i, now] {
      auto part = std::make_shared<MergedCatalog>();
      merge_into(*part, hook_.catalog(i), *hook_.rules(i), now);
      boost::asio::post(broker_.core(0).io(), [this, state, i, part, now] {
        state->parts[i] = part;
        if (--state->left != 0) return;
        MergedCatalog all;
        for (auto& p : state->parts) merge_catalogs(all, std::move(*p));
        store::Writer& w = broker_.store().writer();
        store::Op clear;
        clear.kind = store::Op::Kind::del_range;
        clear.dbi = dbi_;
        clear.key = std::string(1, '\0');
        clear.value = std::string(1, '\xff');  // above every UTF-8 topic
        w.push(0, std::move(clear));
        for (const auto& [topic, t] : all.topics) {
          if (topic.size() > kMaxKey) continue;
          store::Op op;
          op.kind = store::Op::Kind::put;
          op.dbi = dbi_;
          op.key = topic;
          op.value = encode_snapshot_record(record_of(t, now));
          w.push(0, std::move(op));
        }
        // Counted once committed (after a kill -9 this snapshot comes back).
        store::Op done;
        done.kind = store::Op::Kind::done;
        done.done = [this](bool stored) {
          if (stored) {
            snapshots_.fetch_add(1, std::memory_order_relaxed);
          } else {
            STRATA_WARN("uns") << "the catalog snapshot was not stored (the store is full)";
          }
        };
        w.push(0, std::move(done));
      });
    });
  }
}

void CatalogSnapshot::write_final() {
  MergedCatalog all;
  std::uint64_t now = core::now_ms();
  for (unsigned i = 0; i < hook_.core_count(); ++i) merge_into(all, hook_.catalog(i), *hook_.rules(i), now);
  store::LmdbEnv& env = broker_.store().env();
  MDB_txn* txn = nullptr;
  int rc = mdb_txn_begin(env.env(), nullptr, 0, &txn);
  if (rc == MDB_SUCCESS) rc = mdb_drop(txn, dbi_, 0);
  std::size_t n = 0;
  for (const auto& [topic, t] : all.topics) {
    if (rc != MDB_SUCCESS) break;
    if (topic.size() > kMaxKey) continue;
    std::string value = encode_snapshot_record(record_of(t, now));
    MDB_val k{topic.size(), const_cast<char*>(topic.data())};
    MDB_val v{value.size(), value.data()};
    rc = mdb_put(txn, dbi_, &k, &v, 0);
    ++n;
  }
  if (rc == MDB_SUCCESS) {
    rc = mdb_txn_commit(txn);
    if (rc == MDB_SUCCESS) rc = mdb_env_sync(env.env(), 1);
  } else if (txn) {
    mdb_txn_abort(txn);
  }
  if (rc != MDB_SUCCESS) {
    STRATA_WARN("uns") << "cannot write the catalog snapshot at stop: " << mdb_strerror(rc);
    return;
  }
  snapshots_.fetch_add(1, std::memory_order_relaxed);
  STRATA_INFO("uns") << "catalog snapshot: " << n << " topic(s)";
}

}  // namespace strata::uns
