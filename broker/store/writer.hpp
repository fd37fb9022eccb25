// The store's one writer thread: group commit.
//
// Each core appends operations to its own queue (a vector behind a mutex
// that only that core and the writer take, held for a push or a swap). The
// writer wakes when a queue turns non-empty, takes every core's queue, and
// applies all of it in one LMDB write transaction: whatever arrived while
// the previous transaction was being written and synced rides in the next
// one. Operations of one core are applied in the order it pushed them.
//
// Pacing. While there is work, the writer looks at the queues every kPace
// (2 ms) or as soon as its commit is done, whichever is later, and only a
// push that somebody waits for (`done`, `read`) wakes it earlier; every
// other push (a record's put, a confirmed run's delete) waits for that
// look. Woken per push, the writer committed a few dozen ops at a time and
// the producers paid a futex wake-up each turn; paced, a commit carries
// everything of the last 2 ms. Once a look finds nothing, the writer
// sleeps until any push wakes it. So an op nobody waits for is committed
// at most ~kPace plus a commit later than before; what is waited on is
// not delayed.
//
// Within a transaction (write()): a put that a del_range applied after it
// removes again is not written (Op::cancelled; counted): the transaction
// ends in the same state, and a bridge's record confirmed by its peer
// before the writer took the put costs neither the put nor the delete.
// Puts marked `ordered` (keys that only grow) go first, in key order, and
// are appended at the end of the B-tree when they are past its last key.
//
// Durability (config::Durability): `sync` opens LMDB with fsync on every
// commit; `batch` opens it with MDB_NOSYNC and calls mdb_env_sync when the
// oldest unsynced commit is flush_interval old; `none` never syncs while
// running. Every mode syncs on stop().
//
// A `done` operation carries a callback that the writer hands to `post`
// (which runs it on the core that pushed it) once the transaction holding
// everything pushed before it is committed — and, under `sync`, fsynced.
// Callbacks of one core run in push order.
//
// Full map or disk: when a commit fails with MDB_MAP_FULL the map is
// doubled (up to max_map_size) and the batch retried. When it cannot grow,
// or the disk is full, the writer logs an error, sets full() (the cores
// then refuse new QoS 1/2 messages), drops the batch's puts — counted and
// logged: they are lost — and commits the rest (deletes free space; `done`
// callbacks learn stored = false). A batch that still fails is kept and
// retried every second and with each new batch. The first successful
// commit clears full(). With nothing to write (QoS 1/2 refused, no other
// writes), the writer probes a full store every second: once the file
// system has probe_headroom bytes free, the map can take as much more, and
// a one-record transaction commits, full() is cleared — so space freed
// outside the broker (a disk cleaned up) is noticed without waiting for a
// client to write.
//
// A module with records of its own (the historian) joins the group commit
// as the TxnClient: the cores push `client` operations (carrying the
// message and its receive time), which the writer hands to the client
// inside the transaction, in order with everything else; before the
// commit the client writes what it gathered (blocks, rollups). When a
// transaction is aborted (map full, retried after growing) the client is
// told, drops what it kept in memory for it and sees the same operations
// again in the retry. `client` operations count as puts when the store is
// full (dropped and counted lost).
//
// Falling behind ([store] write_queue_bytes). Every push counts its
// operation's bytes (the Op with its key and value) as pending until the
// transaction that applies it has committed and the writer let go of it.
// When the pending bytes reach write_queue_bytes the writer is `behind`
// until they fall below half of it. Producers that can wait ask for a call
// when it has caught up (when_caught_up) and hold their publishers
// meanwhile (a bridge's routes: bridges/writer_hold.hpp). Nothing
// is refused or dropped here: the bound is kept by producers waiting.
// Durability `batch` needs it: a QoS 1/2 publisher is acknowledged before
// the commit, so otherwise nothing slows a publisher down while the
// queue grows. After a spike the writer also gives its vectors back.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "broker/config/config.hpp"
#include "broker/router/message.hpp"
#include "broker/store/lmdb_env.hpp"

namespace strata::store {

// put: key -> value; or, when `encode` is set (and `value` empty), key ->
// the `encoded_size` bytes encode(object) writes on the writer thread,
// straight into LMDB's page (MDB_RESERVE): a producer that keeps the
// object anyway (an outbox record) allocates no value string on its core
// for the writer to free on another thread. del: key. del_prefix: every key starting with key.
// del_range: every key k with key <= k < value. done: see above. read: `read`
// runs on the writer thread, after the transaction holding everything
// pushed before it on the same queue has committed, with a read-only
// transaction (the way other threads read the environment: the writer
// may resize the map, which needs no other transaction open).
struct Op {
  enum class Kind : std::uint8_t { put, del, del_prefix, done, del_range, read, client };
  Kind kind = Kind::put;
  MDB_dbi dbi = 0;
  unsigned core = 0;  // set by push()
  std::string key;
  std::string value;
  std::function<void(bool stored)> done;  // Kind::done
  std::function<void(MDB_txn* txn)> read = nullptr;  // Kind::read
  router::MessagePtr msg = nullptr;       // Kind::client: the message (null: housekeeping)
  std::int64_t stamp = 0;                 // Kind::client: receive time, unix ms
  // Kind::put: writes the value (encoded_size bytes) of `object` at `out`.
  std::shared_ptr<const void> object = nullptr;
  void (*encode)(const void* object, char* out) = nullptr;
  std::uint32_t encoded_size = 0;
  // Kind::put: the producer's keys in `dbi` only grow (an outbox's records):
  // a key past the last one of the B-tree is appended at its end
  // (MDB_APPEND: no search from the root, and a full page splits off an
  // empty one instead of two half-full ones). Any other key is put as usual.
  // The writer applies a transaction's ordered puts before its other ops,
  // in key order (so that several queues' keys append too): a producer sets
  // it only for keys no earlier op of the transaction writes, or whose
  // earlier delete may as well come after the put (the outbox: a record
  // at or below the acknowledged offset is deleted at open anyway).
  bool ordered = false;
  // Set by the writer: a del_range applied after this put in the same
  // transaction removes its key again, so it is not written (see write()).
  bool cancelled = false;
};

// The writer's one client module (see the header comment). Its calls run
// on the writer thread, inside a write transaction; a non-zero LMDB result
// aborts the transaction.
class TxnClient {
 public:
  virtual ~TxnClient() = default;
  virtual int apply(MDB_txn* txn, const Op& op) = 0;
  virtual int before_commit(MDB_txn* txn) = 0;
  virtual void aborted() = 0;
};

// What the writer has done since start, for $SYS/broker/store/... Written
// by the writer thread only (relaxed atomics), read from any thread.
struct WriterCounters {
  std::atomic<std::uint64_t> commits{0};        // transactions committed
  std::atomic<std::uint64_t> writes{0};         // puts and deletes committed
  std::atomic<std::uint64_t> bytes_written{0};  // key + value bytes of committed puts
  std::atomic<std::uint64_t> lost{0};           // puts dropped because the store was full
  std::atomic<std::uint64_t> cancelled{0};      // puts not written: a delete of the same transaction removes them
  std::atomic<std::uint64_t> failed_commits{0};  // transactions that failed (full map or disk)
  std::atomic<std::uint64_t> fsyncs{0};         // mdb_env_sync calls (batch mode and stop)
  std::atomic<std::uint64_t> commit_us{0};      // total time in write transactions (sync: with fsync)
  std::atomic<std::uint64_t> max_commit_us{0};  // longest one; reset by whoever reads it with exchange
  std::atomic<std::uint64_t> map_used{0};       // bytes of the map in use after the last commit
  std::atomic<std::uint64_t> map_size{0};       // bytes of the map now
  std::atomic<std::uint64_t> behind{0};         // times the pending bytes reached write_queue_bytes
  // Commit times: commit_le_us[i] counts the commits that took at most
  // kCommitBoundsUs[i] µs and more than the bound before it (the last
  // slot: longer than every bound); /metrics makes them cumulative.
  static constexpr std::array<std::uint64_t, 12> kCommitBoundsUs = {50,    100,   250,    500,    1000,   2500,
                                                                     5000,  10000, 25000,  50000,  100000, 1000000};
  std::array<std::atomic<std::uint64_t>, kCommitBoundsUs.size() + 1> commit_le_us{};
};

class Writer {
 public:
  using Post = std::function<void(unsigned core, std::function<void()>)>;

  // `queues`: one per core, and more for other writers (bridges), which
  // push no `done` ops (post() runs those on a core).
  Writer(LmdbEnv& env, const config::Store& settings, unsigned queues);
  ~Writer();
  Writer(const Writer&) = delete;
  Writer& operator=(const Writer&) = delete;

  void start(Post post);
  // Applies what is queued, syncs and joins the thread.
  void stop();

  void push(unsigned core, Op&& op);
  // Before start(): the module that applies Kind::client operations.
  void set_client(TxnClient* client) noexcept { client_ = client; }
  bool full() const noexcept { return full_.load(std::memory_order_relaxed); }
  // Pending bytes reached write_queue_bytes and have not fallen below half
  // of it since (see the header comment). Any thread.
  bool behind() const noexcept { return behind_.load(std::memory_order_relaxed); }
  // Bytes pushed and not yet committed (and let go). Any thread.
  std::uint64_t pending_bytes() const noexcept { return pending_.load(std::memory_order_relaxed); }
  // write_queue_bytes (0: no bound).
  std::uint64_t pending_limit() const noexcept { return behind_at_; }
  // Calls `fn` once, on the writer thread, when the writer is no longer
  // behind; false (and `fn` is dropped) when it is not behind now.
  bool when_caught_up(std::function<void()> fn);

  // Counters for tests and metrics.
  std::uint64_t commits() const noexcept { return counters_.commits.load(std::memory_order_relaxed); }
  WriterCounters& counters() noexcept { return counters_; }

 private:
  struct Queue {
    std::mutex mutex;
    std::vector<Op> ops;
    std::uint64_t bytes = 0;  // bytes_of() of ops
  };
  // What the writer took from the queues, one vector per queue (ops of
  // one queue in push order); applied in one transaction.
  using Batch = std::vector<std::vector<Op>>;
  void run();
  // Commits `batch`; false: not committed (kept for retry). `stored` is
  // false when puts had to be dropped.
  bool apply(Batch& batch, bool& stored);
  int write(Batch& batch);   // one transaction; LMDB/errno result
  int write_op(MDB_txn* txn, Op& op);
  int put_ordered(MDB_txn* txn, const Op& op, MDB_val& key, MDB_val& val, unsigned flags);
  // A key range [lo, hi) of `dbi` that a del_range removes (views into its op).
  struct Range {
    MDB_dbi dbi;
    std::string_view lo, hi;
  };
  // Marks the puts of `batch` that a del_range applied after them removes.
  void mark_cancelled(Batch& batch);
  void count_commit(const Batch& batch, std::uint64_t us);
  void sync();  // mdb_env_sync, counted
  void run_reads(Batch& batch);  // the batch's read ops, after its commit
  // After a commit: the batch's bytes are no longer pending; calls the
  // caught-up waiters when that ends a spell behind.
  void release(std::uint64_t bytes);
  static std::uint64_t bytes_of(const Op& op) noexcept { return sizeof(Op) + op.key.size() + op.value.size() + op.encoded_size; }
  void probe();  // while full() and idle: is there space again?
  bool queued();  // any queue holds ops (takes each queue's mutex)
  std::string why_full(int rc) const;  // for the STORE FULL log line
  static constexpr std::uint64_t probe_headroom = 1 << 20;

  LmdbEnv& env_;
  const config::Store settings_;
  std::vector<Queue> queues_;
  // Per core: puts were dropped (store full) since that core's last `done`
  // was posted; the next `done` reports stored = false. Writer thread only.
  std::vector<char> lost_;
  Post post_;
  TxnClient* client_ = nullptr;
  std::thread thread_;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::atomic<bool> signalled_{false};
  // The writer took something at its last look and will look again within
  // kPace without being woken (run()); pushes that nobody waits for then
  // skip the wake-up.
  std::atomic<bool> pacing_{false};
  static constexpr std::chrono::milliseconds kPace{2};
  bool stopping_ = false;  // guarded by mutex_
  std::atomic<bool> full_{false};
  const std::uint64_t behind_at_;  // write_queue_bytes; 0: never behind
  std::atomic<std::uint64_t> pending_{0};
  std::atomic<bool> behind_{false};
  std::mutex behind_mutex_;  // the behind_ transitions and the waiters
  std::vector<std::function<void()>> caught_up_;  // guarded by behind_mutex_
  std::chrono::steady_clock::time_point behind_logged_{};  // guarded by behind_mutex_
  WriterCounters counters_;
  // Writer thread only, reused by every transaction: the last key of each
  // dbi that ordered puts went to, as far as this transaction knows it
  // (put_ordered), and the del_ranges seen by mark_cancelled.
  std::vector<std::pair<MDB_dbi, std::string>> tails_;
  std::vector<Range> ranges_;
  std::vector<Op*> ordered_;  // write(): the ordered puts, in key order
};

}  // namespace strata::store
