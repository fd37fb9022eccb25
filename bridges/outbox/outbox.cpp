// The outbox log (outbox.hpp); layout in outbox_log.hpp.
//
// In memory, per log (A: the acknowledged offset, next: the next offset):
//
//   A+1 ......... W-1 | W ................................... next-1
//   window: Meta each | tail: a Chunk per 4,096 offsets (records on disk)
//
// - mem, a hash map offset -> record: the appended records while it holds
//   fewer than mem_limit, and the stretches (up to min(mem_limit, 8,192)
//   records) read back from disk. A record leaves it when it leaves the log.
// - meta, the window: one 12-byte Meta (bytes, receive time, done) per
//   offset A+1 .. W-1. Every queued offset there has its record in mem.
// - tail: offsets W .. next-1 in Chunks (messages queued, their bytes, the
//   receive time of the first): chunks start at multiples of 4,096 but the
//   first, so an offset's chunk is found by division. A tail record may be
//   in mem too (appended while mem had room after the tail began, or read
//   ahead: order = "live_first"); its Meta is made when the window reaches it.
// - the AckTracker: a byte per offset from A+1 to the highest done one
//   (confirmations waiting for a gap).
//
// Invariants: W == next when the tail is empty, else W is the first
// chunk's first offset; queued_messages / queued_bytes are the window's
// not-done Metas plus the chunks' sums. An append goes to the window only
// while the tail is empty and mem has room (then its record is held);
// otherwise it goes to the tail. The window grows only at W, from records
// in mem or offsets already done (promote(): after every read from disk
// and every move of A). So the window holds at most mem_limit + one
// stretch + the confirmations waiting for a gap, however long the log.
//
// Leaving the log. An offset leaves (finish()) only when its bytes are
// known: in the window from its Meta, in the tail from its record in mem,
// which is then taken off its chunk. Confirmations, dead letters, expiry
// and max_age concern records the adapter read (in mem). discard() empties
// everything at once (every offset below `next` is done). drop_oldest
// needs the oldest queued record: when the window has none, the tail's
// first stretch is read from LMDB at once (a store::ReadTxn on the
// appending core) into mem and the window; when that record is not on
// disk yet (its put is on a writer queue) the append waits for the commit
// outside the lock (or, the store being full, drops the new message,
// counted as dropped_new).
//
// Reading. read() delivers from mem; at the first offset not there it asks
// the store's writer thread for the next stretch of the log (a Writer read
// op: it runs after the next commit, so nothing appended before is
// missing) and the driver is notified once it is in memory. The record
// after a stretch is peeked at for its receive time: the tail's first
// chunk then knows when its first queued record arrived, and oldest_ms()
// (the lag) stays exact when the window has nothing queued. (A chunk whose
// first record left out of order, read ahead by live_first, still shows
// that record's time until the window reaches it: the lag reads high, at
// most by the chunk's span.)
//
// Start-up (open()) reads the log once: the first mem_limit records make
// mem and the window, the rest only add to chunks; offsets missing between
// records (appended, never committed) are done.
#include "bridges/outbox/outbox.hpp"

#include <algorithm>
#include <array>
#include <chrono>
#include <deque>
#include <mutex>
#include <thread>

#include <boost/unordered/unordered_flat_map.hpp>

#include "bridges/outbox/ack_tracker.hpp"
#include "bridges/outbox/outbox_log.hpp"
#include "broker/store/store.hpp"
#include "broker/util/log.hpp"

namespace strata::bridges {

namespace {

std::uint64_t now_ms() {
  return static_cast<std::uint64_t>(
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
          .count());
}

std::string_view view(const MDB_val& v) { return {static_cast<const char*>(v.mv_data), v.mv_size}; }

void add(std::atomic<std::uint64_t>& c, std::int64_t n) { c.fetch_add(static_cast<std::uint64_t>(n), std::memory_order_relaxed); }

constexpr std::size_t kFetch = 8192;     // records per read from disk (at most the memory limit)
constexpr std::uint64_t kChunk = 4096;   // offsets per chunk of the tail

}  // namespace

struct Outbox::Impl {
  // Exact state of one offset of the window: 12 bytes.
  struct Meta {
    std::uint32_t bytes = 0;
    std::uint32_t received_s = 0;
    std::uint16_t received_ms = 0;  // the milliseconds of the receive time
    bool done = false;
    static Meta of(std::uint64_t bytes, std::uint64_t received_ms) {
      return Meta{static_cast<std::uint32_t>(bytes), static_cast<std::uint32_t>(received_ms / 1000),
                  static_cast<std::uint16_t>(received_ms % 1000), false};
    }
    static Meta gone() { return Meta{0, 0, 0, true}; }
    std::uint64_t received() const { return std::uint64_t{received_s} * 1000 + received_ms; }
  };
  // Summary of up to kChunk consecutive offsets of the tail: 32 bytes.
  struct Chunk {
    std::uint64_t first = 0;     // the first offset it covers
    std::uint32_t span = 0;      // offsets covered: first .. first + span - 1
    std::uint32_t count = 0;     // of those, queued (not done)
    std::uint64_t bytes = 0;     // their topic + payload bytes
    std::uint64_t front_ms = 0;  // receive time of its first queued record (oldest_ms)
  };
  // The record after a stretch read from disk, seen but not kept: its
  // receive time is the new front of the tail's first chunk.
  struct Peek {
    std::uint64_t offset = 0;  // 0: none
    std::uint64_t received_ms = 0;
  };

  store::Store& store;
  std::string log;
  OutboxBounds bounds;
  OutboxCounters counters;
  std::map<std::string, std::string, std::less<>> state;

  mutable std::mutex mutex;  // guards everything below
  std::uint64_t next = 1;
  AckTracker tracker;
  std::deque<Meta> meta;   // the window: meta[i] is offset tracker.acknowledged() + 1 + i
  std::deque<Chunk> tail;  // the rest, window_end() .. next - 1, in chunks
  boost::unordered_flat_map<std::uint64_t, RecordPtr> mem;  // no node per record
  std::size_t mem_limit;
  bool waiting = false;   // the reader caught up: notify on the next append
  bool fetching = false;  // a read from disk is on its way
  std::function<void()> notify;
  std::function<void()> space_notify;
  std::atomic<std::uint32_t>* blocking_logs = nullptr;
  std::atomic<bool>* blocking = nullptr;  // Outbox::blocking_
  std::atomic<unsigned> warning{0};       // Fill::warning
  std::mutex dead_mutex;                  // one dead-letter re-send or purge at a time

  Impl(store::Store& s, std::string name, OutboxBounds b, std::size_t memory)
      : store(s), log(std::move(name)), bounds(b), mem_limit(memory) {}

  static std::uint64_t size_of(const Record& r) { return r.topic.size() + r.payload.size(); }
  std::uint64_t window_end() const { return tracker.acknowledged() + 1 + meta.size(); }
  // Records per read from disk: a stretch no larger than the memory limit.
  std::size_t stretch() const { return std::clamp<std::size_t>(mem_limit, 1, kFetch); }

  Meta* meta_of(std::uint64_t offset) {
    std::uint64_t a = tracker.acknowledged();
    if (offset <= a || offset - a - 1 >= meta.size()) return nullptr;
    return &meta[offset - a - 1];
  }
  // Chunks start at multiples of kChunk (but the first, whose front the
  // window takes): the one holding `offset` is found by division.
  Chunk* chunk_of(std::uint64_t offset) {
    if (tail.empty() || offset < tail.front().first || offset >= next) return nullptr;
    const std::uint64_t i = offset / kChunk - tail.front().first / kChunk;
    return i < tail.size() ? &tail[i] : nullptr;
  }
  // Adds `offset` (the next one past the tail) to the tail; queued unless
  // `gone` (never committed: found missing at open).
  void tail_push(std::uint64_t offset, std::uint64_t bytes, std::uint64_t received_ms, bool gone = false) {
    if (tail.empty() || offset / kChunk != tail.back().first / kChunk) tail.push_back(Chunk{offset, 0, 0, 0, 0});
    Chunk& c = tail.back();
    ++c.span;
    if (gone) return;
    if (c.count++ == 0) c.front_ms = received_ms;
    c.bytes += bytes;
  }
  // Takes offset window_end() out of the tail (it joins the window).
  void tail_pop_front() {
    Chunk& c = tail.front();
    ++c.first;
    if (--c.span == 0) tail.pop_front();
  }

  // Moves the tail's front into the window while its records are known:
  // in memory (appended there, or read from disk) or done.
  void promote() {
    while (!tail.empty()) {
      Chunk& c = tail.front();
      const std::uint64_t o = c.first;
      if (tracker.is_done(o)) {
        meta.push_back(Meta::gone());
      } else {
        auto it = mem.find(o);
        if (it == mem.end()) return;
        const std::uint64_t bytes = size_of(*it->second);
        meta.push_back(Meta::of(bytes, it->second->received_ms));
        --c.count;
        c.bytes -= bytes;
      }
      tail_pop_front();
    }
  }

  // The acknowledged offset moved from `before` to `after`: the window
  // loses its front, and the tail too when `after` went past the window
  // (offsets there done out of order, already taken off their chunks).
  void acknowledged_moved(std::uint64_t before, std::uint64_t after) {
    const std::uint64_t n = std::min<std::uint64_t>(after - before, meta.size());
    for (std::uint64_t i = 0; i < n; ++i) meta.pop_front();  // mostly one: cheaper than erase()
    while (!tail.empty() && tail.front().first <= after) tail_pop_front();
    promote();
  }

  // Marks `offset` gone (counted by `counter`); pushes the new acknowledged
  // offset on `queue` when it moved. Under the mutex. An offset of the tail
  // must have its record in memory (the reader read it; drop_oldest loads
  // it first): that is where its bytes and receive time come from.
  // `now`: the time for the delivery latency (0: read the clock).
  void finish(std::uint64_t offset, std::atomic<std::uint64_t>& counter, unsigned queue, bool persist = true,
              std::uint64_t now = 0) {
    std::uint64_t bytes = 0, at = 0;
    if (Meta* m = meta_of(offset)) {
      if (m->done) return;
      m->done = true;
      bytes = m->bytes;
      at = m->received();
    } else {
      Chunk* c = chunk_of(offset);
      if (c == nullptr || tracker.is_done(offset)) return;
      auto it = mem.find(offset);
      if (it == mem.end()) return;  // never read: nothing can confirm it
      bytes = size_of(*it->second);
      at = it->second->received_ms;
      --c->count;
      c->bytes -= bytes;
    }
    add(counter, 1);
    if (&counter == &counters.confirmed) {
      if (now == 0) now = now_ms();
      counters.delivery_ms.record((now > at ? now - at : 0) * 1000);
    }
    add(counters.queued_messages, -1);
    add(counters.queued_bytes, -static_cast<std::int64_t>(bytes));
    mem.erase(offset);
    note_fill();
    std::uint64_t before = tracker.acknowledged();
    if (!tracker.done(offset)) return;
    std::uint64_t after = tracker.acknowledged();
    acknowledged_moved(before, after);
    // Records below the acknowledged offset that are still in memory were
    // done already (erased above); nothing else to drop.
    if (persist) push_acknowledged(queue, before, after);
  }

  // The first queued offset for drop_oldest, its record's bytes known: in
  // the window, after reading the tail's front from disk if need be. 0
  // when the front is not on disk yet (its put is still on a writer queue).
  std::uint64_t oldest_queued() {
    for (int pass = 0; pass < 2; ++pass) {
      const std::uint64_t a = tracker.acknowledged();
      for (std::size_t i = 0; i < meta.size(); ++i) {
        if (!meta[i].done) return a + 1 + i;
      }
      promote();
      for (std::size_t i = 0; i < meta.size(); ++i) {
        if (!meta[i].done) return a + 1 + i;
      }
      if (tail.empty() || pass == 1) return 0;
      std::vector<RecordPtr> got;
      Peek peek;
      try {
        store::ReadTxn txn(store.env());  // holds off a map resize meanwhile
        read_stretch(txn.get(), window_end(), next, stretch(), got, peek);
      } catch (const store::StoreError& e) {
        STRATA_WARN("bridge") << "outbox " << log << ": " << e.what();
        return 0;
      }
      take(got, peek);
    }
    return 0;
  }

  // Reads up to `max` records from `from` (below `until`) and the one after.
  void read_stretch(MDB_txn* txn, std::uint64_t from, std::uint64_t until, std::size_t max,
                    std::vector<RecordPtr>& got, Peek& peek) const {
    MDB_cursor* cur = nullptr;
    if (mdb_cursor_open(txn, store.env().outbox, &cur) != MDB_SUCCESS) return;
    std::string key = outbox_log::record_key(log, from);
    MDB_val k{key.size(), key.data()}, v;
    for (int rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE); rc == MDB_SUCCESS;
         rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
      std::uint64_t o = 0;
      if (!outbox_log::offset_of(view(k), log, o) || o >= until) break;
      auto rec = std::make_shared<Record>();
      if (!outbox_log::decode_record(view(v), *rec)) continue;
      if (got.size() == max) {
        peek = Peek{o, rec->received_ms};
        break;
      }
      rec->offset = o;
      got.push_back(std::move(rec));
    }
    mdb_cursor_close(cur);
  }

  // Under the mutex: records read from disk join memory (and the window
  // where they continue it).
  void take(std::vector<RecordPtr>& got, const Peek& peek) {
    for (auto& r : got) {
      if (tracker.is_done(r->offset)) continue;
      mem.emplace(r->offset, std::move(r));
    }
    promote();
    if (peek.offset != 0 && !tail.empty() && tail.front().first == peek.offset) {
      tail.front().front_ms = peek.received_ms;
    }
  }

  void push_acknowledged(unsigned queue, std::uint64_t before, std::uint64_t after) {
    auto& env = store.env();
    store.push(queue, store::Op{store::Op::Kind::del_range, env.outbox, 0, outbox_log::record_key(log, before + 1),
                                outbox_log::record_key(log, after + 1), {}, {}});
    store.push(queue, store::Op{store::Op::Kind::put, env.outbox_meta, 0, log, outbox_log::encode_meta(after), {}, {}});
  }

  bool room() const {
    return counters.queued_messages.load(std::memory_order_relaxed) < bounds.max_messages &&
           counters.queued_bytes.load(std::memory_order_relaxed) < bounds.max_bytes;
  }

  // fill().percent < 50, without the divisions.
  bool below_half() const {
    const std::uint64_t m = counters.queued_messages.load(std::memory_order_relaxed);
    const std::uint64_t b = counters.queued_bytes.load(std::memory_order_relaxed);
    // n * 100 / max >= 50 exactly when 2 * n >= max.
    return (bounds.max_messages == 0 || 2 * m < bounds.max_messages) && (bounds.max_bytes == 0 || 2 * b < bounds.max_bytes);
  }

  Fill fill() const {
    auto ratio = [](std::uint64_t n, std::uint64_t max) { return max == 0 ? 0 : n * 100 / max; };
    return Fill{std::max(ratio(counters.queued_messages.load(std::memory_order_relaxed), bounds.max_messages),
                         ratio(counters.queued_bytes.load(std::memory_order_relaxed), bounds.max_bytes)),
                warning.load(std::memory_order_relaxed)};
  }

  // After the fill moved: raises or clears the warning level, logging the
  // change. Under the mutex (the level changes in one place at a time).
  void note_fill() {
    static constexpr unsigned kLevels[] = {95, 80, 50};
    unsigned level = warning.load(std::memory_order_relaxed);
    // Called per append and per record leaving: below 50 % with no warning
    // raised (the usual case) nothing changes, known without dividing.
    if (level == 0 && below_half()) return;
    const Fill f = fill();
    unsigned next = level;
    for (unsigned l : kLevels) {
      if (f.percent >= l) {
        next = std::max(next, l);
        break;
      }
    }
    while (next != 0 && f.percent + 10 < next) {
      next = next == 95 ? 80 : next == 80 ? 50 : 0;
    }
    if (next == level) return;
    warning.store(next, std::memory_order_relaxed);
    if (next > level) {
      STRATA_WARN("bridge") << "outbox " << log << " is " << f.percent << "% full ("
                            << counters.queued_messages.load(std::memory_order_relaxed) << " of " << bounds.max_messages
                            << " messages, " << counters.queued_bytes.load(std::memory_order_relaxed) << " of "
                            << bounds.max_bytes << " bytes): past " << next << "%";
    } else {
      STRATA_INFO("bridge") << "outbox " << log << " is " << f.percent << "% full: "
                            << (next == 0 ? std::string("below 40%") : "back under the " + std::to_string(level) + "% warning");
    }
  }

  void mark_blocking() {
    if (!blocking->exchange(true, std::memory_order_relaxed) && blocking_logs != nullptr) {
      blocking_logs->fetch_add(1, std::memory_order_relaxed);
    }
  }

  // Under the mutex, after something left the log: the space notification
  // to call (outside the lock) when a blocking log has room again.
  std::function<void()> unblock() {
    if (!blocking->load(std::memory_order_relaxed) || !room()) return {};
    blocking->store(false, std::memory_order_relaxed);
    if (blocking_logs != nullptr) blocking_logs->fetch_sub(1, std::memory_order_relaxed);
    return space_notify;
  }

  void open();
  void fetch(std::uint64_t from);
};

void Outbox::Impl::open() {
  // One pass over the log: its first mem_limit records join memory and the
  // window, the rest are summed into chunks (their records stay on disk).
  auto& env = store.env();
  MDB_txn* txn = nullptr;
  store::check(mdb_txn_begin(env.env(), nullptr, MDB_RDONLY, &txn), "begin a read transaction");
  std::uint64_t acked = 0;
  std::vector<std::uint64_t> stale;
  std::vector<std::string> undecodable;
  std::vector<std::uint64_t> tail_gone;  // never-committed offsets in the tail
  std::uint64_t last = 0;
  std::uint64_t queued = 0, bytes = 0;
  {
    MDB_val k{log.size(), log.data()}, v;
    if (mdb_get(txn, env.outbox_meta, &k, &v) == MDB_SUCCESS && !outbox_log::decode_meta(view(v), acked)) {
      STRATA_WARN("bridge") << "outbox " << log << ": undecodable acknowledged offset; reading the whole log";
      acked = 0;
    }
  }
  MDB_cursor* cur = nullptr;
  store::check(mdb_cursor_open(txn, env.outbox, &cur), "open a cursor");
  std::string first = outbox_log::prefix(log);
  MDB_val k{first.size(), first.data()}, v;
  Record rec;
  for (int rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE); rc == MDB_SUCCESS;
       rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
    std::uint64_t offset = 0;
    if (!outbox_log::offset_of(view(k), log, offset)) {
      if (view(k).starts_with(first)) {
        undecodable.emplace_back(view(k));
        continue;
      }
      break;
    }
    if (offset <= acked) {
      stale.push_back(offset);
      continue;
    }
    if (!outbox_log::decode_record(view(v), rec)) {
      undecodable.emplace_back(view(k));
      continue;
    }
    rec.offset = offset;
    const std::uint64_t size = size_of(rec);
    ++queued;
    bytes += size;
    // Offsets between the last one read and this one never reached the
    // disk (appended, not committed, then a crash): they are gone.
    const bool in_window = tail.empty() && mem.size() < mem_limit;
    for (std::uint64_t o = (last != 0 ? last : acked) + 1; o < offset; ++o) {
      if (in_window) {
        meta.push_back(Meta::gone());
      } else {
        tail_push(o, 0, 0, /*gone=*/true);
        tail_gone.push_back(o);
      }
    }
    last = offset;
    if (in_window) {
      meta.push_back(Meta::of(size, rec.received_ms));
      mem.emplace(offset, std::make_shared<Record>(std::move(rec)));
      rec = Record{};
    } else {
      tail_push(offset, size, rec.received_ms);
    }
  }
  mdb_cursor_close(cur);
  {
    std::string p = outbox_log::prefix(log);
    MDB_val sk{p.size(), p.data()}, sv;
    MDB_cursor* sc = nullptr;
    store::check(mdb_cursor_open(txn, env.outbox_state, &sc), "open a cursor");
    for (int rc = mdb_cursor_get(sc, &sk, &sv, MDB_SET_RANGE); rc == MDB_SUCCESS && view(sk).starts_with(p);
         rc = mdb_cursor_get(sc, &sk, &sv, MDB_NEXT)) {
      state.emplace(std::string(view(sk).substr(p.size())), std::string(view(sv)));
    }
    mdb_cursor_close(sc);
  }
  mdb_txn_abort(txn);

  tracker = AckTracker(acked);
  next = (last != 0 ? last : acked) + 1;
  counters.queued_messages.store(queued);
  counters.queued_bytes.store(bytes);
  // The never-committed offsets are done: those right above `acked` close
  // the prefix now.
  for (std::size_t i = 0; i < meta.size(); ++i) {
    if (meta[i].done) tracker.done(acked + 1 + i);
  }
  for (std::uint64_t o : tail_gone) tracker.done(o);
  std::uint64_t after = tracker.acknowledged();
  acknowledged_moved(acked, after);
  unsigned q = store.bridge_queue();
  for (std::uint64_t o : stale) {
    store.push(q, store::Op{store::Op::Kind::del, env.outbox, 0, outbox_log::record_key(log, o), {}, {}});
  }
  for (auto& key : undecodable) {
    STRATA_WARN("bridge") << "outbox " << log << ": skipping an undecodable record";
    store.push(q, store::Op{store::Op::Kind::del, env.outbox, 0, std::move(key), {}, {}});
  }
  if (after != acked) push_acknowledged(q, acked, after);
  note_fill();
  if (queued != 0) {
    STRATA_INFO("bridge") << "outbox " << log << ": " << queued << " messages queued (offsets " << after + 1 << ".."
                          << next - 1 << "), " << meta.size() << " of them in memory";
  }
}

void Outbox::Impl::fetch(std::uint64_t from) {
  // Under the mutex. The read runs on the writer thread after its next
  // commit: every offset below `until` that will be on disk is there.
  fetching = true;
  const std::uint64_t until = next;
  const std::size_t max = stretch();
  store.push(store.bridge_queue(),
             store::Op{store::Op::Kind::read, store.env().outbox, 0, {}, {}, {}, [this, from, until, max](MDB_txn* txn) {
                         std::vector<RecordPtr> got;
                         Peek peek;
                         if (txn != nullptr) read_stretch(txn, from, until, max, got, peek);
                         std::function<void()> fn;
                         {
                           std::lock_guard lock(mutex);
                           fetching = false;
                           take(got, peek);
                           fn = notify;
                         }
                         if (fn) fn();
                       }});
}

Outbox::Outbox(store::Store& store, std::string name, OutboxBounds bounds, std::size_t memory_records)
    : name_(name), impl_(std::make_unique<Impl>(store, std::move(name), bounds, memory_records)) {
  impl_->blocking = &blocking_;
  impl_->open();
}

Outbox::Outbox(store::Store& store, std::string name, OutboxBounds bounds, Fresh)
    : name_(name), impl_(std::make_unique<Impl>(store, std::move(name), bounds, kMemoryRecords)) {
  impl_->blocking = &blocking_;
}

Outbox::~Outbox() = default;

bool Outbox::has_space() const {
  const OutboxCounters& c = impl_->counters;
  return c.queued_messages.load(std::memory_order_relaxed) < impl_->bounds.max_messages &&
         c.queued_bytes.load(std::memory_order_relaxed) < impl_->bounds.max_bytes;
}

void Outbox::set_space_notify(std::function<void()> fn, std::atomic<std::uint32_t>* blocking_logs) {
  std::lock_guard lock(impl_->mutex);
  impl_->space_notify = std::move(fn);
  impl_->blocking_logs = blocking_logs;
}

Outbox::Appended Outbox::append(unsigned core, Record r, bool force) {
  Impl& im = *impl_;
  if (im.store.full() && r.qos != protocol::QoS::at_most_once) return Appended::store_full;
  const std::uint64_t size = r.topic.size() + r.payload.size();
  std::function<void()> wake;
  RecordPtr rec;
  {
    std::unique_lock lock(im.mutex);
    OutboxCounters& c = im.counters;
    int waits = 0;
    auto fits = [&] {
      return c.queued_messages.load(std::memory_order_relaxed) + 1 <= im.bounds.max_messages &&
             c.queued_bytes.load(std::memory_order_relaxed) + size <= im.bounds.max_bytes;
    };
    while (!force && !fits()) {
      if (im.bounds.overflow == Overflow::block) {
        im.mark_blocking();
        return Appended::full;
      }
      if (im.bounds.overflow == Overflow::drop_new || c.queued_messages.load(std::memory_order_relaxed) == 0) {
        add(c.dropped_new, 1);
        return Appended::dropped;
      }
      // drop_oldest: the first offset still queued, read from disk first
      // when it is only there (its bytes leave the count).
      if (std::uint64_t o = im.oldest_queued(); o != 0) {
        im.finish(o, c.dropped_oldest, core);
        continue;
      }
      // Its put is still on a writer queue: wait for the commit (a group
      // commit, milliseconds) outside the lock; should the store never
      // write it (full), drop the new one instead, counted as such.
      if (++waits > 2000 || im.store.full()) {
        add(c.dropped_new, 1);
        return Appended::dropped;
      }
      lock.unlock();
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
      lock.lock();
    }
    r.offset = im.next++;
    if (r.received_ms == 0) r.received_ms = now_ms();
    add(c.appended, 1);
    add(c.queued_messages, 1);
    add(c.queued_bytes, static_cast<std::int64_t>(size));
    rec = std::make_shared<const Record>(std::move(r));
    const bool kept = im.mem.size() < im.mem_limit;
    if (kept) im.mem.emplace(rec->offset, rec);
    // The window goes on while the log is in memory; once a record is not,
    // it and everything after it are the tail until read back.
    if (kept && im.tail.empty()) {
      im.meta.push_back(Impl::Meta::of(size, rec->received_ms));
    } else {
      im.tail_push(rec->offset, size, rec->received_ms);
    }
    // Full now: mark it at once, so that publishers acknowledge only after
    // routing from the next message on (Broker::full_sinks).
    if (im.bounds.overflow == Overflow::block && !im.room()) im.mark_blocking();
    im.note_fill();
    if (im.waiting) {
      im.waiting = false;
      wake = im.notify;
    }
  }
  // The value is written by the writer, from the record (kept until then),
  // into the page LMDB reserves for it: nothing allocated here for another
  // thread to free.
  store::Op put{store::Op::Kind::put, im.store.env().outbox, 0, outbox_log::record_key(im.log, rec->offset), {}, {}, {}};
  put.encoded_size = static_cast<std::uint32_t>(outbox_log::record_size(*rec));
  put.encode = [](const void* r, char* out) { outbox_log::write_record(*static_cast<const Record*>(r), out); };
  put.object = std::move(rec);
  put.ordered = true;  // a log's keys only grow: mostly an append at the end of the B-tree
  im.store.push(core, std::move(put));
  if (wake) wake();
  return Appended::queued;
}

void Outbox::set_notify(std::function<void()> fn) {
  std::lock_guard lock(impl_->mutex);
  impl_->notify = std::move(fn);
}

std::vector<RecordPtr> Outbox::read(std::uint64_t from, std::size_t max, std::uint64_t until, std::uint64_t* reached) {
  Impl& im = *impl_;
  std::vector<RecordPtr> out;
  const std::uint64_t now = now_ms();
  std::unique_lock lock(im.mutex);
  const unsigned q = im.store.bridge_queue();
  std::uint64_t o = std::max(from, im.tracker.acknowledged() + 1);
  const std::uint64_t stop = std::min(until, im.next);
  for (; out.size() < max && o < stop; ++o) {
    if (im.tracker.is_done(o)) continue;
    auto it = im.mem.find(o);
    if (it == im.mem.end()) {
      if (!im.fetching) im.fetch(o);
      if (reached != nullptr) *reached = o;
      return out;
    }
    const Record& r = *it->second;
    if (r.expires_at_ms != 0 && r.expires_at_ms <= now) {
      im.finish(o, im.counters.expired, q);
      continue;
    }
    if (im.bounds.max_age.count() != 0 &&
        r.received_ms + static_cast<std::uint64_t>(im.bounds.max_age.count()) * 1000 <= now) {
      im.finish(o, im.counters.dropped_age, q);
      continue;
    }
    out.push_back(it->second);
  }
  if (o >= im.next) im.waiting = true;
  if (reached != nullptr) *reached = o;
  auto wake = im.unblock();  // expired records may have made room
  lock.unlock();
  if (wake) wake();
  return out;
}

void Outbox::confirm(std::uint64_t offset) { confirm(std::span<const std::uint64_t>(&offset, 1)); }

void Outbox::confirm(std::span<const std::uint64_t> offsets) {
  Impl& im = *impl_;
  std::function<void()> wake;
  {
    std::lock_guard lock(im.mutex);
    std::uint64_t before = im.tracker.acknowledged();
    // One clock read per batch. The fill level moves per record: a warning
    // that clears is logged at the level where it cleared, whatever the batch.
    const std::uint64_t now = now_ms();
    for (std::uint64_t o : offsets) im.finish(o, im.counters.confirmed, 0, false, now);
    std::uint64_t after = im.tracker.acknowledged();
    if (after != before) im.push_acknowledged(im.store.bridge_queue(), before, after);
    wake = im.unblock();
  }
  if (wake) wake();
}

void Outbox::dead_letter(std::uint64_t offset, std::string_view reason) {
  Impl& im = *impl_;
  std::unique_lock lock(im.mutex);
  auto it = im.mem.find(offset);
  if (it != im.mem.end()) {
    im.store.push(im.store.bridge_queue(),
                  store::Op{store::Op::Kind::put, im.store.env().outbox_dead, 0, outbox_log::record_key(im.log, offset),
                            outbox_log::encode_dead(*it->second, reason, now_ms()), {}, {}});
  }
  STRATA_WARN("bridge") << "outbox " << im.log << ": offset " << offset << " rejected for good: " << reason;
  im.finish(offset, im.counters.dead_lettered, im.store.bridge_queue());
  auto wake = im.unblock();
  lock.unlock();
  if (wake) wake();
}

void Outbox::discard() {
  Impl& im = *impl_;
  std::function<void()> wake;
  {
    std::lock_guard lock(im.mutex);
    // Every offset below `next` leaves at once: the tail's need no reading.
    OutboxCounters& c = im.counters;
    const std::uint64_t before = im.tracker.acknowledged();
    const std::uint64_t after = im.next - 1;
    add(c.discarded, static_cast<std::int64_t>(c.queued_messages.exchange(0, std::memory_order_relaxed)));
    c.queued_bytes.store(0, std::memory_order_relaxed);
    im.tracker = AckTracker(after);
    im.meta.clear();
    im.tail.clear();
    im.mem.clear();
    im.note_fill();
    if (after != before) im.push_acknowledged(im.store.bridge_queue(), before, after);
    wake = im.unblock();
  }
  if (wake) wake();
}

std::uint64_t Outbox::acknowledged() const noexcept {
  std::lock_guard lock(impl_->mutex);
  return impl_->tracker.acknowledged();
}

std::uint64_t Outbox::next_offset() const noexcept {
  std::lock_guard lock(impl_->mutex);
  return impl_->next;
}

std::uint64_t Outbox::oldest_ms() const {
  std::lock_guard lock(impl_->mutex);
  for (const auto& m : impl_->meta) {
    if (!m.done) return m.received();
  }
  for (const auto& c : impl_->tail) {
    if (c.count != 0) return c.front_ms;
  }
  return 0;
}

std::size_t Outbox::window_entries() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->meta.size();
}

void Outbox::put_state(std::string_view key, std::string_view value) {
  Impl& im = *impl_;
  im.state.insert_or_assign(std::string(key), std::string(value));
  im.store.push(im.store.bridge_queue(), store::Op{store::Op::Kind::put, im.store.env().outbox_state, 0,
                                                   outbox_log::prefix(im.log) + std::string(key), std::string(value), {}, {}});
}

void Outbox::drop_state(std::string_view key) {
  Impl& im = *impl_;
  if (auto it = im.state.find(key); it != im.state.end()) im.state.erase(it);
  im.store.push(im.store.bridge_queue(), store::Op{store::Op::Kind::del, im.store.env().outbox_state, 0,
                                                   outbox_log::prefix(im.log) + std::string(key), {}, {}, {}});
}

const std::map<std::string, std::string, std::less<>>& Outbox::loaded_state() const noexcept { return impl_->state; }

const OutboxCounters& Outbox::counters() const noexcept { return impl_->counters; }

store::Store& Outbox::store() const noexcept { return impl_->store; }
const std::string& Outbox::log_name() const noexcept { return impl_->log; }
std::mutex& Outbox::dead_mutex() const noexcept { return impl_->dead_mutex; }

Fill Outbox::fill() const noexcept {
  std::lock_guard lock(impl_->mutex);
  return impl_->fill();
}

std::uint64_t Outbox::delivery_quantile_ms(double q) const {
  std::array<std::uint64_t, util::LatencyHistogram::kBuckets> counts{};
  impl_->counters.delivery_ms.add_to(counts);
  return util::LatencyHistogram::quantile_us(counts, q);
}

void Outbox::set_memory_limit(std::size_t records) {
  std::lock_guard lock(impl_->mutex);
  impl_->mem_limit = records;
}

void Outbox::set_bounds(const OutboxBounds& bounds) {
  std::function<void()> wake;
  {
    std::lock_guard lock(impl_->mutex);
    impl_->bounds = bounds;
    impl_->note_fill();
    wake = impl_->unblock();
  }
  if (wake) wake();
}

}  // namespace strata::bridges
