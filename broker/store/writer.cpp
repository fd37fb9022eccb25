#include "broker/store/writer.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <utility>

#include "broker/util/log.hpp"

namespace strata::store {

using Clock = std::chrono::steady_clock;

namespace {

void relaxed_add(std::atomic<std::uint64_t>& c, std::uint64_t n) {
  c.store(c.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
}

}  // namespace

Writer::Writer(LmdbEnv& env, const config::Store& settings, unsigned queues)
    : env_(env), settings_(settings), queues_(queues), lost_(queues, 0), behind_at_(settings.write_queue_bytes) {
  counters_.map_size.store(env_.map_size(), std::memory_order_relaxed);
  counters_.map_used.store(env_.used_bytes(), std::memory_order_relaxed);
}

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
  const std::uint64_t bytes = bytes_of(op);
  const Op::Kind op_kind = op.kind;
  {
    std::lock_guard lock(queues_[core].mutex);
    op.core = core;
    queues_[core].ops.push_back(std::move(op));
    queues_[core].bytes += bytes;
  }
  const std::uint64_t pending = pending_.fetch_add(bytes, std::memory_order_relaxed) + bytes;
  if (behind_at_ != 0 && pending >= behind_at_ && !behind_.load(std::memory_order_relaxed)) {
    std::lock_guard lock(behind_mutex_);
    if (!behind_.load(std::memory_order_relaxed) && pending_.load(std::memory_order_relaxed) >= behind_at_) {
      behind_.store(true, std::memory_order_relaxed);
      relaxed_add(counters_.behind, 1);
      const auto now = Clock::now();
      if (now - behind_logged_ >= std::chrono::minutes(1)) {
        behind_logged_ = now;
        STRATA_INFO("store") << "the writer is " << (pending >> 20) << " MiB behind (store.write_queue_bytes = "
                             << behind_at_ << "): holding publishers to bridges until it catches up";
      }
    }
  }
  // An op nobody waits for does not wake a pacing writer: it comes back
  // within kPace by itself (see run()). One wake-up per commit instead of
  // one per producer turn is most of what group commit saves here.
  const bool waited_on = op_kind == Op::Kind::done || op_kind == Op::Kind::read;
  if (!waited_on && pacing_.load(std::memory_order_seq_cst)) return;
  // Only the first push after the writer took the queues wakes it.
  if (!signalled_.load(std::memory_order_relaxed) && !signalled_.exchange(true, std::memory_order_acq_rel)) {
    std::lock_guard lock(mutex_);
    wake_.notify_one();
  }
}

bool Writer::queued() {
  for (Queue& q : queues_) {
    std::lock_guard lock(q.mutex);
    if (!q.ops.empty()) return true;
  }
  return false;
}

bool Writer::when_caught_up(std::function<void()> fn) {
  std::lock_guard lock(behind_mutex_);
  if (!behind_.load(std::memory_order_relaxed)) return false;
  caught_up_.push_back(std::move(fn));
  return true;
}

void Writer::release(std::uint64_t bytes) {
  const std::uint64_t pending = pending_.fetch_sub(bytes, std::memory_order_relaxed) - bytes;
  if (!behind_.load(std::memory_order_relaxed) || pending >= behind_at_ / 2) return;
  std::vector<std::function<void()>> called;
  {
    std::lock_guard lock(behind_mutex_);
    if (pending_.load(std::memory_order_relaxed) >= behind_at_ / 2) return;
    behind_.store(false, std::memory_order_relaxed);
    called.swap(caught_up_);
  }
  for (auto& fn : called) fn();
}

namespace {

// A vector that held more ops than this in a spike is given back once a
// batch uses less than a quarter of it.
constexpr std::size_t kKeepOps = 4096;

bool empty(const std::vector<std::vector<Op>>& batch) {
  return std::all_of(batch.begin(), batch.end(), [](const std::vector<Op>& ops) { return ops.empty(); });
}

}  // namespace

void Writer::run() {
  // batch[i]: what was taken from queue i. Swapped with the queue's vector
  // (no op is moved); a failed batch keeps its ops and gets the new ones
  // appended.
  Batch batch(queues_.size());
  std::vector<std::size_t> used(queues_.size(), 0);  // ops of the last batch, per queue
  std::uint64_t batch_bytes = 0;
  bool dirty = false;  // batch mode: committed, not yet synced
  bool pacing = false;  // pacing_, as this thread last set it
  Clock::time_point taken_at{};  // the last take that found something
  Clock::time_point oldest_unsynced{};
  for (;;) {
    bool stop = false;
    {
      std::unique_lock lock(mutex_);
      auto ready = [&] { return stopping_ || signalled_.load(std::memory_order_acquire); };
      // A failed batch is retried, and a full store probed, every second.
      auto until = Clock::time_point::max();
      if (!empty(batch) || full()) until = Clock::now() + std::chrono::seconds(1);
      if (dirty) until = std::min(until, oldest_unsynced + settings_.flush_interval);
      if (pacing) until = std::min(until, taken_at + kPace);
      if (until == Clock::time_point::max()) {
        wake_.wait(lock, ready);
      } else {
        wake_.wait_until(lock, until, ready);
      }
      stop = stopping_;
    }
    signalled_.store(false, std::memory_order_release);
    bool fresh = false;  // new ops were taken (not only a batch kept for retry)
    for (std::size_t i = 0; i < queues_.size(); ++i) {
      Queue& q = queues_[i];
      if (batch[i].empty()) {
        std::lock_guard lock(q.mutex);
        batch[i].swap(q.ops);
        batch_bytes += std::exchange(q.bytes, 0);
        fresh = fresh || !batch[i].empty();
        continue;
      }
      std::vector<Op> more;  // a batch kept for retry: the new ops go after it
      {
        std::lock_guard lock(q.mutex);
        more.swap(q.ops);
        batch_bytes += std::exchange(q.bytes, 0);
      }
      fresh = fresh || !more.empty();
      for (Op& op : more) batch[i].push_back(std::move(op));
    }
    const bool taken = !empty(batch);
    // Pacing follows new work only: a batch kept for retry (store full) is
    // retried every second, as before, not every kPace.
    if (fresh) {
      // Busy: look at the queues again kPace after this take (or at once
      // if the commit took longer), whether or not a push wakes us.
      taken_at = Clock::now();
      if (!pacing) {
        pacing = true;
        pacing_.store(true, std::memory_order_seq_cst);
      }
    } else if (pacing) {
      // Idle: every push wakes us again. Said first, then looked: a push
      // this look misses reads pacing_ false afterwards and signals.
      pacing = false;
      pacing_.store(false, std::memory_order_seq_cst);
      if (queued()) signalled_.store(true, std::memory_order_release);  // go round again at once
    }
    if (!taken && full() && !stop) probe();
    bool stored = true;  // (per batch; lost_ carries it to later batches)
    if (taken && apply(batch, stored)) {
      if (settings_.durability == config::Durability::batch && !dirty) {
        dirty = true;
        oldest_unsynced = Clock::now();
      }
      // Before the done callbacks are posted: whoever learns that its
      // commit is done finds the writer's queue without it (and the held
      // publishers let go if that ended a spell behind).
      release(std::exchange(batch_bytes, 0));
      for (std::vector<Op>& ops : batch) {
        for (Op& op : ops) {
          if (op.kind == Op::Kind::done && op.done) {
            post_(op.core, [fn = std::move(op.done), ok = lost_[op.core] == 0] { fn(ok); });
          }
        }
        for (Op& op : ops) {
          if (op.kind == Op::Kind::done) lost_[op.core] = 0;
        }
      }
      run_reads(batch);
      for (std::size_t i = 0; i < batch.size(); ++i) {
        std::vector<Op>& ops = batch[i];
        const std::size_t n = ops.size();
        ops.clear();
        // After a spike: give the vector back (the queue's own, swapped in
        // next time, is checked when it passes through here).
        if (ops.capacity() > kKeepOps && std::max(n, used[i]) < ops.capacity() / 4) std::vector<Op>().swap(ops);
        used[i] = n;
      }
    }
    if (dirty && (stop || Clock::now() >= oldest_unsynced + settings_.flush_interval)) {
      sync();
      dirty = false;
    }
    if (stop && (empty(batch) || full())) break;
  }
  if (!empty(batch)) {
    std::size_t n = 0;
    for (const auto& ops : batch) n += ops.size();
    STRATA_ERROR("store") << "stopping with " << n << " writes not stored (store full)";
  }
  sync();
}

std::string Writer::why_full(int rc) const {
  if (rc == MDB_MAP_FULL) {
    return "the map is full at max_map_size (" + std::to_string(env_.map_size()) + " bytes)";
  }
  // LMDB reports a short write (what a full disk gives) as EIO.
  const std::uint64_t free = env_.disk_free();
  if (rc == ENOSPC || free < probe_headroom) {
    return "the disk is full (" + std::to_string(free) + " bytes free; " + mdb_strerror(rc) + ")";
  }
  return mdb_strerror(rc);
}

void Writer::probe() {
  // Free pages inside the file can take a one-page commit while the disk
  // or the map is still full: ask the file system and the map first. (A
  // map that reached max_map_size stays full here; deletes that free
  // pages in it clear full() by committing.)
  if (env_.disk_free() < probe_headroom || env_.used_bytes() + probe_headroom > env_.max_map_size()) return;
  MDB_txn* txn = nullptr;
  if (mdb_txn_begin(env_.env(), nullptr, 0, &txn) != MDB_SUCCESS) return;
  MDB_val key{6, const_cast<char*>("format")};
  MDB_val val;
  int rc = mdb_get(txn, env_.meta, &key, &val);
  if (rc == MDB_SUCCESS) {
    std::string same(static_cast<const char*>(val.mv_data), val.mv_size);
    MDB_val again{same.size(), same.data()};
    rc = mdb_put(txn, env_.meta, &key, &again, 0);
  }
  if (rc != MDB_SUCCESS) {
    mdb_txn_abort(txn);
    return;
  }
  if (mdb_txn_commit(txn) == MDB_SUCCESS && full_.exchange(false)) {
    STRATA_WARN("store") << "store writable again; accepting QoS 1/2 messages";
  }
}

void Writer::run_reads(Batch& batch) {
  MDB_txn* txn = nullptr;
  for (std::vector<Op>& ops : batch) {
    for (Op& op : ops) {
      if (op.kind != Op::Kind::read || !op.read) continue;
      if (txn == nullptr && mdb_txn_begin(env_.env(), nullptr, MDB_RDONLY, &txn) != MDB_SUCCESS) txn = nullptr;
      op.read(txn);  // nullptr: the read failed; the reader tries again
    }
  }
  if (txn != nullptr) mdb_txn_abort(txn);
}

void Writer::sync() {
  int rc = mdb_env_sync(env_.env(), 1);
  if (rc != MDB_SUCCESS) {
    STRATA_ERROR("store") << "fsync failed: " << mdb_strerror(rc);
  }
  relaxed_add(counters_.fsyncs, 1);
}

void Writer::count_commit(const Batch& batch, std::uint64_t us) {
  std::uint64_t writes = 0, bytes = 0, cancelled = 0;
  for (const std::vector<Op>& ops : batch) {
    for (const Op& op : ops) {
      if (op.kind == Op::Kind::done || op.kind == Op::Kind::read) continue;
      if (op.cancelled) {
        ++cancelled;
        continue;
      }
      ++writes;
      if (op.kind == Op::Kind::put) bytes += op.key.size() + op.value.size() + op.encoded_size;
    }
  }
  relaxed_add(counters_.commits, 1);
  relaxed_add(counters_.writes, writes);
  relaxed_add(counters_.cancelled, cancelled);
  relaxed_add(counters_.bytes_written, bytes);
  relaxed_add(counters_.commit_us, us);
  std::size_t slot = 0;
  while (slot < WriterCounters::kCommitBoundsUs.size() && us > WriterCounters::kCommitBoundsUs[slot]) ++slot;
  relaxed_add(counters_.commit_le_us[slot], 1);
  if (us > counters_.max_commit_us.load(std::memory_order_relaxed)) {
    // A reader may have reset it meanwhile: keep the larger.
    std::uint64_t seen = counters_.max_commit_us.load(std::memory_order_relaxed);
    while (us > seen && !counters_.max_commit_us.compare_exchange_weak(seen, us, std::memory_order_relaxed)) {
    }
  }
  counters_.map_used.store(env_.used_bytes(), std::memory_order_relaxed);
  counters_.map_size.store(env_.map_size(), std::memory_order_relaxed);
}

bool Writer::apply(Batch& batch, bool& stored) {
  for (;;) {
    const auto began = Clock::now();
    int rc = write(batch);
    if (rc == MDB_SUCCESS) {
      count_commit(batch, static_cast<std::uint64_t>(
                              std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - began).count()));
      // Space is back once a batch that writes or frees pages commits
      // whole (not the remainder of one whose puts were dropped).
      bool changes = std::any_of(batch.begin(), batch.end(), [](const std::vector<Op>& ops) {
        return std::any_of(ops.begin(), ops.end(),
                           [](const Op& op) { return op.kind != Op::Kind::done && op.kind != Op::Kind::read; });
      });
      if (stored && changes && full_.exchange(false)) {
        STRATA_WARN("store") << "store writable again; accepting QoS 1/2 messages";
      }
      return true;
    }
    if (rc == MDB_MAP_FULL && env_.grow()) continue;
    relaxed_add(counters_.failed_commits, 1);
    full_.store(true);
    std::size_t puts = 0;
    for (std::vector<Op>& ops : batch) {
      puts += std::erase_if(ops, [this](const Op& op) {
        if (op.kind != Op::Kind::put && op.kind != Op::Kind::client) return false;
        lost_[op.core] = 1;
        return true;
      });
    }
    if (puts == 0) return false;  // deletes alone failed: retry later
    relaxed_add(counters_.lost, puts);
    stored = false;
    STRATA_ERROR("store") << "STORE FULL: cannot commit to " << env_.path() << ": " << why_full(rc) << "; " << puts
                          << " writes LOST; refusing QoS 1/2 messages until space is freed";
  }
}

namespace {

// Deletes the records from `key` on while `keep_going(key found)` holds:
// one seek, then along the cursor (after mdb_cursor_del, MDB_NEXT gives the
// record that followed the deleted one).
template <typename Pred>
int delete_from(MDB_txn* txn, MDB_dbi dbi, MDB_val key, Pred keep_going) {
  MDB_cursor* cur = nullptr;
  int rc = mdb_cursor_open(txn, dbi, &cur);
  if (rc != MDB_SUCCESS) return rc;
  MDB_val v;
  for (int got = mdb_cursor_get(cur, &key, &v, MDB_SET_RANGE); got == MDB_SUCCESS;
       got = mdb_cursor_get(cur, &key, &v, MDB_NEXT)) {
    if (!keep_going(std::string_view(static_cast<const char*>(key.mv_data), key.mv_size))) break;
    rc = mdb_cursor_del(cur, 0);
    if (rc != MDB_SUCCESS) break;
  }
  mdb_cursor_close(cur);
  return rc;
}

}  // namespace

int Writer::write_op(MDB_txn* txn, Op& op) {
  int rc = MDB_SUCCESS;
  MDB_val key{op.key.size(), op.key.data()};
  switch (op.kind) {
    case Op::Kind::put: {
      const bool encoded = op.encode != nullptr;
      MDB_val val = encoded ? MDB_val{op.encoded_size, nullptr} : MDB_val{op.value.size(), op.value.data()};
      const unsigned flags = encoded ? MDB_RESERVE : 0;
      rc = op.ordered ? put_ordered(txn, op, key, val, flags) : mdb_put(txn, op.dbi, &key, &val, flags);
      if (rc == MDB_SUCCESS && encoded) op.encode(op.object.get(), static_cast<char*>(val.mv_data));
      break;
    }
    case Op::Kind::del:
      rc = mdb_del(txn, op.dbi, &key, nullptr);
      if (rc == MDB_NOTFOUND) rc = MDB_SUCCESS;
      break;
    case Op::Kind::del_prefix:
      rc = delete_from(txn, op.dbi, key, [&op](std::string_view found) {
        return found.substr(0, op.key.size()) == std::string_view(op.key);
      });
      break;
    case Op::Kind::del_range:
      // A bridge's confirmations delete a contiguous run of its outbox per
      // group commit: [key, value).
      rc = delete_from(txn, op.dbi, key, [&op](std::string_view found) { return found < std::string_view(op.value); });
      break;
    case Op::Kind::done:
    case Op::Kind::read:
      break;
    case Op::Kind::client:
      rc = client_ != nullptr ? client_->apply(txn, op) : MDB_SUCCESS;
      break;
  }
  return rc;
}

namespace {

// The last key of `dbi` in `txn` ("" when it has none).
int last_key(MDB_txn* txn, MDB_dbi dbi, std::string& out) {
  MDB_cursor* cur = nullptr;
  int rc = mdb_cursor_open(txn, dbi, &cur);
  if (rc != MDB_SUCCESS) return rc;
  MDB_val k, v;
  rc = mdb_cursor_get(cur, &k, &v, MDB_LAST);
  out.assign(rc == MDB_SUCCESS ? std::string_view(static_cast<const char*>(k.mv_data), k.mv_size) : std::string_view());
  mdb_cursor_close(cur);
  return rc == MDB_NOTFOUND ? MDB_SUCCESS : rc;
}

}  // namespace

int Writer::put_ordered(MDB_txn* txn, const Op& op, MDB_val& key, MDB_val& val, unsigned flags) {
  // The dbi's last key is looked up once per transaction, then followed:
  // every append moves it. Other ops of the transaction may have moved it
  // too (a delete: the key kept is too high, and a possible append is put
  // the usual way; a put of a higher key: MDB_APPEND refuses with
  // MDB_KEYEXIST, nothing changed, and the key is looked up again).
  std::string* last = nullptr;
  for (auto& [dbi, k] : tails_) {
    if (dbi == op.dbi) last = &k;
  }
  if (last == nullptr) {
    std::string k;
    if (int rc = last_key(txn, op.dbi, k); rc != MDB_SUCCESS) return rc;
    last = &tails_.emplace_back(op.dbi, std::move(k)).second;
  }
  if (std::string_view(op.key) > *last) {
    const MDB_val given = val;
    int rc = mdb_put(txn, op.dbi, &key, &val, flags | MDB_APPEND);
    if (rc == MDB_SUCCESS) {
      last->assign(op.key);
      return rc;
    }
    if (rc != MDB_KEYEXIST) return rc;
    if (rc = last_key(txn, op.dbi, *last); rc != MDB_SUCCESS) return rc;
    val = given;
  }
  return mdb_put(txn, op.dbi, &key, &val, flags);
}

void Writer::mark_cancelled(Batch& batch) {
  // Backwards through the apply order (queue by queue, each in push
  // order), gathering the del_ranges: a put inside one gathered so far is
  // removed again later in the transaction, which ends the same without
  // it. This is a bridge's record confirmed before the writer took its put
  // (the peer was faster than the group commit): neither the put nor the
  // delete touches the B-tree then. Adjacent ranges (a bridge's
  // confirmations are consecutive runs) merge; a few distinct ones are
  // kept, the rest are only deleted as usual.
  constexpr std::size_t kMaxRanges = 16;
  ranges_.clear();
  for (auto q = batch.rbegin(); q != batch.rend(); ++q) {
    for (auto it = q->rbegin(); it != q->rend(); ++it) {
      Op& op = *it;
      op.cancelled = false;
      if (op.kind == Op::Kind::del_range) {
        const std::string_view lo = op.key, hi = op.value;
        if (lo >= hi) continue;
        bool merged = false;
        for (Range& r : ranges_) {
          if (r.dbi != op.dbi) continue;
          if (hi == r.lo) {
            r.lo = lo;
            merged = true;
          } else if (lo == r.hi) {
            r.hi = hi;
            merged = true;
          }
          if (merged) break;
        }
        if (!merged && ranges_.size() < kMaxRanges) ranges_.push_back(Range{op.dbi, lo, hi});
        continue;
      }
      if (op.kind != Op::Kind::put || ranges_.empty()) continue;
      const std::string_view k = op.key;
      for (const Range& r : ranges_) {
        if (r.dbi == op.dbi && k >= r.lo && k < r.hi) {
          op.cancelled = true;
          break;
        }
      }
    }
  }
}

int Writer::write(Batch& batch) {
  MDB_txn* txn = nullptr;
  int rc = mdb_txn_begin(env_.env(), nullptr, 0, &txn);
  if (rc != MDB_SUCCESS) return rc;
  tails_.clear();
  mark_cancelled(batch);
  // The ordered puts first, in (dbi, key) order (Op::ordered): two cores'
  // records interleave by offset, and each queue's are in order already,
  // so this is a merge; every one of them then appends.
  auto by_key = [](const Op* a, const Op* b) { return a->dbi != b->dbi ? a->dbi < b->dbi : a->key < b->key; };
  ordered_.clear();
  for (std::vector<Op>& ops : batch) {
    const std::size_t from = ordered_.size();
    for (Op& op : ops) {
      if (op.kind == Op::Kind::put && op.ordered && !op.cancelled) ordered_.push_back(&op);
    }
    const auto first = ordered_.begin() + static_cast<std::ptrdiff_t>(from);
    if (!std::is_sorted(first, ordered_.end(), by_key)) std::stable_sort(first, ordered_.end(), by_key);
    if (from != 0) std::inplace_merge(ordered_.begin(), first, ordered_.end(), by_key);
  }
  auto fail = [&](int code) {
    mdb_txn_abort(txn);
    if (client_ != nullptr) client_->aborted();
    return code;
  };
  for (Op* op : ordered_) {
    if (rc = write_op(txn, *op); rc != MDB_SUCCESS) return fail(rc);
  }
  for (std::vector<Op>& ops : batch) {
    for (Op& op : ops) {
      if (op.cancelled || (op.kind == Op::Kind::put && op.ordered)) continue;
      if (rc = write_op(txn, op); rc != MDB_SUCCESS) return fail(rc);
    }
  }
  if (client_ != nullptr) {
    rc = client_->before_commit(txn);
    if (rc != MDB_SUCCESS) {
      mdb_txn_abort(txn);
      client_->aborted();
      return rc;
    }
  }
  rc = mdb_txn_commit(txn);
  if (rc != MDB_SUCCESS && client_ != nullptr) client_->aborted();
  return rc;
}

}  // namespace strata::store
