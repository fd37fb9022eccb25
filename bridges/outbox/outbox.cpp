// The outbox log (outbox.hpp); layout in outbox_log.hpp.
//
// In memory, per log: the acknowledged-offset tracker; one small entry per
// queued offset (bytes, receive time, done) for the bounds, the counts and
// the lag; and a hash map offset -> record holding at most mem_limit appended
// records plus those read back from disk for delivery. A record that does
// not fit stays on disk until the reader comes to it; read() then asks the
// store's writer thread for the next stretch of the log (a Writer read op)
// and notifies the driver when it is in memory.
#include "bridges/outbox/outbox.hpp"

#include <algorithm>
#include <array>
#include <chrono>
#include <deque>
#include <mutex>

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

constexpr std::size_t kMemLimit = 65536;  // appended records kept in memory
constexpr std::size_t kFetch = 8192;      // records per read from disk

}  // namespace

struct Outbox::Impl {
  // 12 bytes per queued offset: a 5,000,000-message backlog costs 60 MB.
  struct Meta {
    std::uint32_t bytes = 0;
    std::uint32_t received_s = 0;
    std::uint16_t received_ms = 0;  // the milliseconds of the receive time
    bool done = false;
    static Meta of(std::uint64_t bytes, std::uint64_t received_ms) {
      return Meta{static_cast<std::uint32_t>(bytes), static_cast<std::uint32_t>(received_ms / 1000),
                  static_cast<std::uint16_t>(received_ms % 1000), false};
    }
    std::uint64_t received() const { return std::uint64_t{received_s} * 1000 + received_ms; }
  };

  store::Store& store;
  std::string log;
  OutboxBounds bounds;
  OutboxCounters counters;
  std::map<std::string, std::string, std::less<>> state;

  mutable std::mutex mutex;  // guards everything below
  std::uint64_t next = 1;
  AckTracker tracker;
  std::deque<Meta> meta;  // meta[i]: offset tracker.acknowledged() + 1 + i
  boost::unordered_flat_map<std::uint64_t, RecordPtr> mem;  // no node per record
  std::size_t mem_limit = kMemLimit;
  bool waiting = false;   // the reader caught up: notify on the next append
  bool fetching = false;  // a read from disk is on its way
  std::function<void()> notify;
  std::function<void()> space_notify;
  std::atomic<std::uint32_t>* blocking_logs = nullptr;
  std::atomic<bool>* blocking = nullptr;  // Outbox::blocking_
  std::atomic<unsigned> warning{0};       // Fill::warning
  std::mutex dead_mutex;                  // one dead-letter re-send or purge at a time

  Impl(store::Store& s, std::string name, OutboxBounds b) : store(s), log(std::move(name)), bounds(b) {}

  Meta* meta_of(std::uint64_t offset) {
    std::uint64_t a = tracker.acknowledged();
    if (offset <= a || offset - a - 1 >= meta.size()) return nullptr;
    return &meta[offset - a - 1];
  }

  // Marks `offset` gone (counted by `counter`); pushes the new acknowledged
  // offset on `queue` when it moved. Under the mutex.
  // `now`: the time for the delivery latency (0: read the clock).
  void finish(std::uint64_t offset, std::atomic<std::uint64_t>& counter, unsigned queue, bool persist = true,
              std::uint64_t now = 0) {
    Meta* m = meta_of(offset);
    if (m == nullptr || m->done) return;
    m->done = true;
    add(counter, 1);
    if (&counter == &counters.confirmed) {
      if (now == 0) now = now_ms();
      const std::uint64_t at = m->received();
      counters.delivery_ms.record((now > at ? now - at : 0) * 1000);
    }
    add(counters.queued_messages, -1);
    add(counters.queued_bytes, -static_cast<std::int64_t>(m->bytes));
    mem.erase(offset);
    note_fill();
    std::uint64_t before = tracker.acknowledged();
    if (!tracker.done(offset)) return;
    std::uint64_t after = tracker.acknowledged();
    meta.erase(meta.begin(), meta.begin() + static_cast<std::ptrdiff_t>(after - before));
    // Records below the acknowledged offset that are still in memory were
    // done already (erased above); nothing else to drop.
    if (persist) push_acknowledged(queue, before, after);
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
    const Fill f = fill();
    unsigned level = warning.load(std::memory_order_relaxed);
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
  auto& env = store.env();
  MDB_txn* txn = nullptr;
  store::check(mdb_txn_begin(env.env(), nullptr, MDB_RDONLY, &txn), "begin a read transaction");
  std::uint64_t acked = 0;
  std::vector<std::uint64_t> stale;
  std::vector<std::string> undecodable;
  std::vector<std::pair<std::uint64_t, RecordPtr>> found;
  std::vector<Meta> metas;
  std::uint64_t last = 0;
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
    auto rec = std::make_shared<Record>();
    if (!outbox_log::decode_record(view(v), *rec)) {
      undecodable.emplace_back(view(k));
      continue;
    }
    rec->offset = offset;
    // Offsets between the last one read and this one never reached the
    // disk (appended, not committed, then a crash): they are gone.
    while (last != 0 && last + 1 < offset) {
      metas.push_back(Meta{0, 0, 0, true});
      ++last;
    }
    if (last == 0) {
      for (std::uint64_t o = acked + 1; o < offset; ++o) metas.push_back(Meta{0, 0, 0, true});
    }
    last = offset;
    metas.push_back(Meta::of(rec->topic.size() + rec->payload.size(), rec->received_ms));
    if (found.size() < kMemLimit) found.emplace_back(offset, std::move(rec));
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
  meta.assign(metas.begin(), metas.end());
  std::uint64_t queued = 0, bytes = 0;
  for (const Meta& m : meta) {
    if (m.done) continue;
    ++queued;
    bytes += m.bytes;
  }
  counters.queued_messages.store(queued);
  counters.queued_bytes.store(bytes);
  for (auto& [o, r] : found) mem.emplace(o, std::move(r));
  // The never-committed offsets right above `acked` close the prefix now.
  std::uint64_t before = tracker.acknowledged();
  for (std::uint64_t o = acked + 1; o < next && meta_of(o) && meta_of(o)->done; ++o) {
    // Already counted as done; move the tracker over them.
  }
  for (std::size_t i = 0; i < meta.size(); ++i) {
    if (meta[i].done) tracker.done(acked + 1 + i);
  }
  std::uint64_t after = tracker.acknowledged();
  meta.erase(meta.begin(), meta.begin() + static_cast<std::ptrdiff_t>(after - before));
  unsigned q = store.bridge_queue();
  for (std::uint64_t o : stale) {
    store.push(q, store::Op{store::Op::Kind::del, env.outbox, 0, outbox_log::record_key(log, o), {}, {}});
  }
  for (auto& key : undecodable) {
    STRATA_WARN("bridge") << "outbox " << log << ": skipping an undecodable record";
    store.push(q, store::Op{store::Op::Kind::del, env.outbox, 0, std::move(key), {}, {}});
  }
  if (after != before) push_acknowledged(q, before, after);
  note_fill();
  if (queued != 0) {
    STRATA_INFO("bridge") << "outbox " << log << ": " << queued << " messages queued (offsets " << after + 1 << ".."
                          << next - 1 << ")";
  }
}

void Outbox::Impl::fetch(std::uint64_t from) {
  // Under the mutex. The read runs on the writer thread after its next commit.
  fetching = true;
  std::uint64_t until = next;
  auto& env = store.env();
  store.push(store.bridge_queue(),
             store::Op{store::Op::Kind::read, env.outbox, 0, {}, {}, {}, [this, from, until](MDB_txn* txn) {
                         std::vector<RecordPtr> got;
                         if (txn != nullptr) {
                           MDB_cursor* cur = nullptr;
                           if (mdb_cursor_open(txn, store.env().outbox, &cur) == MDB_SUCCESS) {
                             std::string key = outbox_log::record_key(log, from);
                             MDB_val k{key.size(), key.data()}, v;
                             for (int rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
                                  rc == MDB_SUCCESS && got.size() < kFetch; rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
                               std::uint64_t o = 0;
                               if (!outbox_log::offset_of(view(k), log, o) || o >= until) break;
                               auto rec = std::make_shared<Record>();
                               if (!outbox_log::decode_record(view(v), *rec)) continue;
                               rec->offset = o;
                               got.push_back(std::move(rec));
                             }
                             mdb_cursor_close(cur);
                           }
                         }
                         std::function<void()> fn;
                         {
                           std::lock_guard lock(mutex);
                           fetching = false;
                           for (auto& r : got) {
                             if (tracker.is_done(r->offset)) continue;
                             mem.emplace(r->offset, std::move(r));
                           }
                           fn = notify;
                         }
                         if (fn) fn();
                       }});
}

Outbox::Outbox(store::Store& store, std::string name, OutboxBounds bounds)
    : name_(name), impl_(std::make_unique<Impl>(store, std::move(name), bounds)) {
  impl_->blocking = &blocking_;
  impl_->open();
}

Outbox::Outbox(store::Store& store, std::string name, OutboxBounds bounds, Fresh)
    : name_(name), impl_(std::make_unique<Impl>(store, std::move(name), bounds)) {
  impl_->blocking = &blocking_;
}

Outbox::~Outbox() = default;

std::vector<std::string> Outbox::stored_logs(store::Store& store) {
  auto& env = store.env();
  std::vector<std::string> names;
  MDB_txn* txn = nullptr;
  store::check(mdb_txn_begin(env.env(), nullptr, MDB_RDONLY, &txn), "begin a read transaction");
  // Records: one key range per log (name, 0x00, offset); jump past each.
  MDB_cursor* cur = nullptr;
  store::check(mdb_cursor_open(txn, env.outbox, &cur), "open a cursor");
  MDB_val k{0, nullptr}, v;
  for (int rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == MDB_SUCCESS;) {
    std::string_view key = view(k);
    std::size_t end = key.find('\0');
    if (end == std::string_view::npos) {
      rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
      continue;
    }
    std::string name(key.substr(0, end));
    std::string past = name;
    past.push_back('\x01');  // the first key after every name, 0x00, ... key
    names.push_back(std::move(name));
    k = MDB_val{past.size(), past.data()};
    rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
  }
  mdb_cursor_close(cur);
  store::check(mdb_cursor_open(txn, env.outbox_meta, &cur), "open a cursor");
  for (int rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == MDB_SUCCESS; rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
    names.emplace_back(view(k));
  }
  mdb_cursor_close(cur);
  mdb_txn_abort(txn);
  std::sort(names.begin(), names.end());
  names.erase(std::unique(names.begin(), names.end()), names.end());
  return names;
}

void Outbox::purge(store::Store& store, const std::string& name, std::function<void()> done) {
  auto& env = store.env();
  const unsigned q = store.bridge_queue();
  for (MDB_dbi db : {env.outbox, env.outbox_dead, env.outbox_state}) {
    store.push(q, store::Op{store::Op::Kind::del_prefix, db, 0, outbox_log::prefix(name), {}, {}, {}});
  }
  store.push(q, store::Op{store::Op::Kind::del, env.outbox_meta, 0, name, {}, {}, {}});
  // A read runs once everything pushed before it on the queue is committed.
  store.push(q, store::Op{store::Op::Kind::read, env.outbox, 0, {}, {}, {},
                          [done = std::move(done)](MDB_txn*) { done(); }});
}

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
    std::lock_guard lock(im.mutex);
    OutboxCounters& c = im.counters;
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
      // drop_oldest: the first offset still queued.
      std::uint64_t o = im.tracker.acknowledged() + 1;
      while (o < im.next && im.tracker.is_done(o)) ++o;
      im.finish(o, c.dropped_oldest, core);
    }
    r.offset = im.next++;
    if (r.received_ms == 0) r.received_ms = now_ms();
    im.meta.push_back(Impl::Meta::of(size, r.received_ms));
    add(c.appended, 1);
    add(c.queued_messages, 1);
    add(c.queued_bytes, static_cast<std::int64_t>(size));
    rec = std::make_shared<const Record>(std::move(r));
    if (im.mem.size() < im.mem_limit) im.mem.emplace(rec->offset, rec);
    // Full now: mark it at once, so that publishers acknowledge only after
    // routing from the next message on (Broker::full_sinks).
    if (im.bounds.overflow == Overflow::block && !im.room()) im.mark_blocking();
    im.note_fill();
    if (im.waiting) {
      im.waiting = false;
      wake = im.notify;
    }
  }
  im.store.push(core, store::Op{store::Op::Kind::put, im.store.env().outbox, 0, outbox_log::record_key(im.log, rec->offset),
                                outbox_log::encode_record(*rec), {}, {}});
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
    std::uint64_t before = im.tracker.acknowledged();
    for (std::uint64_t o = before + 1; o < im.next; ++o) im.finish(o, im.counters.discarded, 0, false);
    std::uint64_t after = im.tracker.acknowledged();
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
  return 0;
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

namespace {

// Calls fn(key, value) for each dead letter of `log` in offset order, in a
// read transaction of its own, until fn returns false.
template <typename Fn>
void each_dead(store::Store& store, const std::string& log, Fn fn) {
  auto& env = store.env();
  MDB_txn* txn = nullptr;
  store::check(mdb_txn_begin(env.env(), nullptr, MDB_RDONLY, &txn), "begin a read transaction");
  MDB_cursor* cur = nullptr;
  if (mdb_cursor_open(txn, env.outbox_dead, &cur) == MDB_SUCCESS) {
    std::string first = outbox_log::prefix(log);
    MDB_val k{first.size(), first.data()}, v;
    for (int rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE); rc == MDB_SUCCESS && view(k).starts_with(first);
         rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
      if (!fn(view(k), view(v))) break;
    }
    mdb_cursor_close(cur);
  }
  mdb_txn_abort(txn);
}

bool wanted(std::span<const std::uint64_t> offsets, std::uint64_t o) {
  return offsets.empty() || std::find(offsets.begin(), offsets.end(), o) != offsets.end();
}

}  // namespace

std::vector<DeadLetter> Outbox::dead_letters(std::size_t skip, std::size_t max, std::size_t& total) const {
  std::vector<DeadLetter> out;
  total = 0;
  each_dead(impl_->store, impl_->log, [&](std::string_view key, std::string_view value) {
    if (total++ < skip || out.size() >= max) return true;
    DeadLetter d;
    if (!outbox_log::offset_of(key, impl_->log, d.offset) ||
        !outbox_log::decode_dead(value, d.record, d.reason, d.at_ms)) {
      return true;  // undecodable: counted, not shown
    }
    out.push_back(std::move(d));
    return true;
  });
  return out;
}

std::size_t Outbox::resend_dead(std::span<const std::uint64_t> offsets) {
  std::lock_guard dead(impl_->dead_mutex);  // one re-send or purge at a time: none twice
  std::vector<std::pair<std::string, Record>> found;
  each_dead(impl_->store, impl_->log, [&](std::string_view key, std::string_view value) {
    std::uint64_t o = 0;
    Record r;
    std::string reason;
    std::uint64_t at = 0;
    if (outbox_log::offset_of(key, impl_->log, o) && wanted(offsets, o) &&
        outbox_log::decode_dead(value, r, reason, at)) {
      found.emplace_back(std::string(key), std::move(r));
    }
    return true;
  });
  const unsigned q = impl_->store.bridge_queue();
  for (auto& [key, r] : found) {
    append(q, std::move(r), /*force=*/true);
    impl_->store.push(q, store::Op{store::Op::Kind::del, impl_->store.env().outbox_dead, 0, std::move(key), {}, {}});
  }
  if (!found.empty()) {
    STRATA_INFO("bridge") << "outbox " << impl_->log << ": " << found.size() << " dead letters sent again";
  }
  return found.size();
}

std::size_t Outbox::purge_dead(std::span<const std::uint64_t> offsets) {
  std::lock_guard dead(impl_->dead_mutex);
  std::vector<std::string> keys;
  each_dead(impl_->store, impl_->log, [&](std::string_view key, std::string_view) {
    std::uint64_t o = 0;
    if (outbox_log::offset_of(key, impl_->log, o) && wanted(offsets, o)) keys.emplace_back(key);
    return true;
  });
  for (auto& key : keys) {
    impl_->store.push(impl_->store.bridge_queue(),
                      store::Op{store::Op::Kind::del, impl_->store.env().outbox_dead, 0, std::move(key), {}, {}});
  }
  if (!keys.empty()) {
    STRATA_INFO("bridge") << "outbox " << impl_->log << ": " << keys.size() << " dead letters purged";
  }
  return keys.size();
}

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
