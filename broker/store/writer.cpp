#include "broker/store/writer.hpp"

#include <algorithm>
#include <cstring>

#include "broker/util/log.hpp"

namespace strata::store {

using Clock = std::chrono::steady_clock;

Writer::Writer(LmdbEnv& env, const config::Store& settings, unsigned cores)
    : env_(env), settings_(settings), queues_(cores), lost_(cores, 0) {}

Writer::~Writer() { stop(); }

void Writer::start(Post post) {
  post_ = std::move(post);
  thread_ = std::thread([this] { run(); });
}

void Writer::stop() {
  if (!thread_.joinable()) return;
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_one();
  thread_.join();
}

void Writer::push(unsigned core, Op&& op) {
  {
    std::lock_guard lock(queues_[core].mutex);
    op.core = core;
    queues_[core].ops.push_back(std::move(op));
  }
  // Only the first push after the writer took the queues wakes it.
  if (!signalled_.exchange(true, std::memory_order_acq_rel)) {
    std::lock_guard lock(mutex_);
    wake_.notify_one();
  }
}

void Writer::run() {
  std::vector<Op> batch;
  std::vector<Op> taken;
  bool dirty = false;  // batch mode: committed, not yet synced
  Clock::time_point oldest_unsynced{};
  for (;;) {
    bool stop = false;
    {
      std::unique_lock lock(mutex_);
      auto ready = [&] { return stopping_ || signalled_.load(std::memory_order_acquire); };
      if (!batch.empty()) {
        wake_.wait_for(lock, std::chrono::seconds(1), ready);  // a failed batch: retry
      } else if (dirty) {
        wake_.wait_until(lock, oldest_unsynced + settings_.flush_interval, ready);
      } else {
        wake_.wait(lock, ready);
      }
      stop = stopping_;
    }
    signalled_.store(false, std::memory_order_release);
    for (Queue& q : queues_) {
      {
        std::lock_guard lock(q.mutex);
        taken.swap(q.ops);
      }
      for (Op& op : taken) batch.push_back(std::move(op));
      taken.clear();
    }
    bool stored = true;  // (per batch; lost_ carries it to later batches)
    if (!batch.empty() && apply(batch, stored)) {
      if (settings_.durability == config::Durability::batch && !dirty) {
        dirty = true;
        oldest_unsynced = Clock::now();
      }
      for (Op& op : batch) {
        if (op.kind == Op::Kind::done && op.done) {
          post_(op.core, [fn = std::move(op.done), ok = lost_[op.core] == 0] { fn(ok); });
        }
      }
      for (Op& op : batch) {
        if (op.kind == Op::Kind::done) lost_[op.core] = 0;
      }
      batch.clear();
    }
    if (dirty && (stop || Clock::now() >= oldest_unsynced + settings_.flush_interval)) {
      int rc = mdb_env_sync(env_.env(), 1);
      if (rc != MDB_SUCCESS) {
        STRATA_ERROR("store") << "fsync failed: " << mdb_strerror(rc);
      }
      dirty = false;
    }
    if (stop && (batch.empty() || full())) break;
  }
  if (!batch.empty()) {
    STRATA_ERROR("store") << "stopping with " << batch.size() << " writes not stored (store full)";
  }
  mdb_env_sync(env_.env(), 1);
}

bool Writer::apply(std::vector<Op>& batch, bool& stored) {
  for (;;) {
    int rc = write(batch);
    if (rc == MDB_SUCCESS) {
      commits_.fetch_add(1, std::memory_order_relaxed);
      // Space is back once a batch that writes or frees pages commits
      // whole (not the remainder of one whose puts were dropped).
      bool changes = std::any_of(batch.begin(), batch.end(), [](const Op& op) { return op.kind != Op::Kind::done; });
      if (stored && changes && full_.exchange(false)) {
        STRATA_WARN("store") << "store writable again; accepting QoS 1/2 messages";
      }
      return true;
    }
    if (rc == MDB_MAP_FULL && env_.grow()) continue;
    full_.store(true);
    auto puts = std::erase_if(batch, [this](const Op& op) {
      if (op.kind != Op::Kind::put) return false;
      lost_[op.core] = 1;
      return true;
    });
    if (puts == 0) return false;  // deletes alone failed: retry later
    stored = false;
    STRATA_ERROR("store") << "STORE FULL: cannot commit to " << env_.path() << ": " << mdb_strerror(rc) << " (map "
                          << env_.map_size() << " bytes, max_map_size reached or disk full); " << puts
                          << " writes LOST; refusing QoS 1/2 messages until space is freed";
  }
}

int Writer::write(std::vector<Op>& batch) {
  MDB_txn* txn = nullptr;
  int rc = mdb_txn_begin(env_.env(), nullptr, 0, &txn);
  if (rc != MDB_SUCCESS) return rc;
  for (Op& op : batch) {
    MDB_val key{op.key.size(), op.key.data()};
    switch (op.kind) {
      case Op::Kind::put: {
        MDB_val val{op.value.size(), op.value.data()};
        rc = mdb_put(txn, op.dbi, &key, &val, 0);
        break;
      }
      case Op::Kind::del:
        rc = mdb_del(txn, op.dbi, &key, nullptr);
        if (rc == MDB_NOTFOUND) rc = MDB_SUCCESS;
        break;
      case Op::Kind::del_prefix: {
        MDB_cursor* cur = nullptr;
        rc = mdb_cursor_open(txn, op.dbi, &cur);
        if (rc != MDB_SUCCESS) break;
        for (;;) {
          MDB_val k = key, v;
          if (mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE) != MDB_SUCCESS || k.mv_size < op.key.size() ||
              std::memcmp(k.mv_data, op.key.data(), op.key.size()) != 0) {
            break;
          }
          rc = mdb_cursor_del(cur, 0);
          if (rc != MDB_SUCCESS) break;
        }
        mdb_cursor_close(cur);
        break;
      }
      case Op::Kind::done:
        break;
    }
    if (rc != MDB_SUCCESS) {
      mdb_txn_abort(txn);
      return rc;
    }
  }
  return mdb_txn_commit(txn);
}

}  // namespace strata::store
