#include "broker/historian/history_store.hpp"

#include <algorithm>
#include <bit>
#include <cstring>

#include "broker/store/records.hpp"
#include "broker/util/log.hpp"

namespace strata::historian {

namespace {

std::string_view view(const MDB_val& v) { return {static_cast<const char*>(v.mv_data), v.mv_size}; }

void put_be(std::string& out, std::uint64_t v, int bytes) {
  for (int i = bytes - 1; i >= 0; --i) out.push_back(static_cast<char>((v >> (i * 8)) & 0xff));
}
std::uint64_t get_be(std::string_view in, std::size_t pos, int bytes) {
  std::uint64_t v = 0;
  for (int i = 0; i < bytes; ++i) v = (v << 8) | static_cast<std::uint8_t>(in[pos + static_cast<std::size_t>(i)]);
  return v;
}

void relaxed_add(std::atomic<std::uint64_t>& c, std::uint64_t n) {
  c.store(c.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
}

int put(MDB_txn* txn, MDB_dbi dbi, std::string_view key, std::string_view value) {
  MDB_val k{key.size(), const_cast<char*>(key.data())};
  MDB_val v{value.size(), const_cast<char*>(value.data())};
  return mdb_put(txn, dbi, &k, &v, 0);
}

// Closes the cursor whatever happens.
struct Cursor {
  MDB_cursor* c = nullptr;
  int open(MDB_txn* txn, MDB_dbi dbi) { return mdb_cursor_open(txn, dbi, &c); }
  ~Cursor() {
    if (c) mdb_cursor_close(c);
  }
};

// Inserts (t, v) into the points of `block` (after any point at t) and
// encodes them again; false when the block does not decode or is full.
bool insert_into(std::string_view block, std::int64_t t, double v, BlockEncoder& out) {
  std::vector<Point> points;
  if (!decode_block(block, points)) return false;
  auto at = std::upper_bound(points.begin(), points.end(), t, [](std::int64_t x, const Point& p) { return x < p.t; });
  points.insert(at, Point{t, v});
  if (points.size() > max_block_points) return false;
  out.clear();
  for (const Point& p : points) out.append(p.t, p.v);
  return true;
}

}  // namespace

HistoryDbs HistoryDbs::open(store::LmdbEnv& env) {
  HistoryDbs d;
  d.series = env.open_database("hist_series");
  d.blocks = env.open_database("hist_blocks");
  d.minute = env.open_database("hist_minute");
  d.hour = env.open_database("hist_hour");
  d.raw = env.open_database("hist_raw");
  d.replay = env.open_database("hist_replay");
  return d;
}

std::string series_key(std::uint32_t sid, std::int64_t t) {
  std::string k;
  k.reserve(12);
  put_be(k, sid, 4);
  put_be(k, static_cast<std::uint64_t>(t), 8);
  return k;
}

bool split_series_key(std::string_view key, std::uint32_t& sid, std::int64_t& t) {
  if (key.size() != 12) return false;
  sid = static_cast<std::uint32_t>(get_be(key, 0, 4));
  t = static_cast<std::int64_t>(get_be(key, 4, 8));
  return true;
}

std::string raw_key(std::int64_t t, std::uint64_t seq) {
  std::string k;
  k.reserve(16);
  put_be(k, static_cast<std::uint64_t>(t), 8);
  put_be(k, seq, 8);
  return k;
}

std::string encode_series(const SeriesRecord& r) {
  std::string out;
  out.reserve(36);
  put_be(out, r.sid, 4);
  put_be(out, static_cast<std::uint64_t>(r.first_t), 8);
  put_be(out, static_cast<std::uint64_t>(r.last_t), 8);
  put_be(out, r.count, 8);
  put_be(out, std::bit_cast<std::uint64_t>(r.last_v), 8);
  return out;
}

bool decode_series(std::string_view b, SeriesRecord& out) {
  if (b.size() != 36) return false;
  out.sid = static_cast<std::uint32_t>(get_be(b, 0, 4));
  out.first_t = static_cast<std::int64_t>(get_be(b, 4, 8));
  out.last_t = static_cast<std::int64_t>(get_be(b, 12, 8));
  out.count = get_be(b, 20, 8);
  out.last_v = std::bit_cast<double>(get_be(b, 28, 8));
  return true;
}

HistoryStore::HistoryStore(store::LmdbEnv& env, HistoryDbs dbs, const HistorianConfig& settings, NowFn now)
    : env_(env), dbs_(dbs), now_(std::move(now)), settings_(settings) {}

void HistoryStore::set_settings(const HistorianConfig& settings) {
  std::lock_guard lock(settings_mutex_);
  settings_ = settings;
}

HistorianConfig HistoryStore::settings() const {
  std::lock_guard lock(settings_mutex_);
  return settings_;
}

void HistoryStore::aborted() {
  // What the cache holds may include the aborted transaction's writes:
  // forget it all; it is read again from the store as needed.
  series_.clear();
  by_sid_.clear();
  dirty_.clear();
  minute_.clear();
  hour_.clear();
  loaded_ = false;
}

int HistoryStore::prepare(MDB_txn* txn) {
  if (loaded_) return MDB_SUCCESS;
  next_sid_ = 1;
  Cursor cur;
  int rc = cur.open(txn, dbs_.series);
  if (rc != MDB_SUCCESS) return rc;
  MDB_val k, v;
  for (rc = mdb_cursor_get(cur.c, &k, &v, MDB_FIRST); rc == MDB_SUCCESS; rc = mdb_cursor_get(cur.c, &k, &v, MDB_NEXT)) {
    SeriesRecord r;
    if (decode_series(view(v), r)) next_sid_ = std::max(next_sid_, r.sid + 1);
  }
  Cursor raw;
  rc = raw.open(txn, dbs_.raw);
  if (rc != MDB_SUCCESS) return rc;
  raw_seq_ = 0;
  last_raw_key_.clear();
  if (mdb_cursor_get(raw.c, &k, &v, MDB_LAST) == MDB_SUCCESS && k.mv_size == 16) {
    raw_seq_ = get_be(view(k), 8, 8) + 1;
    last_raw_key_.assign(static_cast<const char*>(k.mv_data), k.mv_size);
  }
  loaded_ = true;
  return MDB_SUCCESS;
}

int HistoryStore::apply(MDB_txn* txn, const store::Op& op) {
  int rc = prepare(txn);
  if (rc != MDB_SUCCESS) return rc;
  if (!op.msg) return prune_step(txn, now_());
  return add_message(txn, *op.msg, op.stamp);
}

int HistoryStore::add_message(MDB_txn* txn, const router::Message& msg, std::int64_t received_ms) {
  int rc = prepare(txn);
  if (rc != MDB_SUCCESS) return rc;
  relaxed_add(counters_.messages, 1);
  // Read once per message: a reload may change them between messages.
  std::string timestamp_field;
  bool record_payloads;
  {
    std::lock_guard lock(settings_mutex_);
    timestamp_field = settings_.timestamp_field;
    record_payloads = settings_.record_payloads;
  }
  if (record_payloads) {
    // Keys mostly grow (receive time, then seq): append without a search
    // when this one is past the last.
    std::string key = raw_key(received_ms, raw_seq_++);
    std::string value = store::encode_message(msg);
    MDB_val k{key.size(), key.data()}, v{value.size(), value.data()};
    rc = mdb_put(txn, dbs_.raw, &k, &v, key > last_raw_key_ ? MDB_APPEND : 0);
    if (rc != MDB_SUCCESS) return rc;
    if (key > last_raw_key_) last_raw_key_ = std::move(key);
    relaxed_add(counters_.raw_messages, 1);
  }
  samples_.clear();
  extract_samples(msg.topic, msg.payload, received_ms, timestamp_field, samples_);
  for (const Sample& s : samples_) {
    rc = add_point(txn, s.series, s.t, s.v);
    if (rc != MDB_SUCCESS) return rc;
  }
  return MDB_SUCCESS;
}

int HistoryStore::series_state(MDB_txn* txn, const std::string& name, Series*& out) {
  if (auto it = series_.find(name); it != series_.end()) {
    out = it->second.get();
    return MDB_SUCCESS;
  }
  auto s = std::make_unique<Series>();
  s->name = name;
  MDB_val k{name.size(), const_cast<char*>(name.data())}, v;
  int rc = mdb_get(txn, dbs_.series, &k, &v);
  if (rc == MDB_SUCCESS && decode_series(view(v), s->rec)) {
    // The head: the series' last block.
    Cursor cur;
    rc = cur.open(txn, dbs_.blocks);
    if (rc != MDB_SUCCESS) return rc;
    std::string after = series_key(s->rec.sid + 1, 0);
    MDB_val bk{after.size(), after.data()}, bv;
    rc = mdb_cursor_get(cur.c, &bk, &bv, MDB_SET_RANGE);
    rc = rc == MDB_SUCCESS ? mdb_cursor_get(cur.c, &bk, &bv, MDB_PREV) : mdb_cursor_get(cur.c, &bk, &bv, MDB_LAST);
    std::uint32_t sid;
    std::int64_t t;
    if (rc == MDB_SUCCESS && split_series_key(view(bk), sid, t) && sid == s->rec.sid) {
      if (s->head.resume(view(bv))) {
        s->head_key = t;
      } else {
        STRATA_WARN("historian") << "the last block of series '" << name << "' does not decode; starting a new one";
      }
    }
  } else if (rc == MDB_SUCCESS || rc == MDB_NOTFOUND) {
    if (rc == MDB_SUCCESS) {
      STRATA_WARN("historian") << "series record of '" << name << "' does not decode; replacing it";
    }
    s->rec = SeriesRecord{};
    s->rec.sid = next_sid_++;
    s->dirty = true;
    dirty_.push_back(s.get());
    relaxed_add(counters_.series, 1);
  } else {
    return rc;
  }
  out = s.get();
  by_sid_[s->rec.sid] = s.get();
  series_.emplace(name, std::move(s));
  return MDB_SUCCESS;
}

int HistoryStore::put_head(MDB_txn* txn, Series& s) {
  s.head_dirty = false;
  if (s.head_key < 0 || s.head.empty()) return MDB_SUCCESS;
  return put(txn, dbs_.blocks, series_key(s.rec.sid, s.head_key), s.head.bytes());
}

int HistoryStore::add_point(MDB_txn* txn, const std::string& name, std::int64_t t, double v) {
  if (t < 0 || t > max_time) {
    relaxed_add(counters_.dropped_points, 1);
    return MDB_SUCCESS;
  }
  int rc = prepare(txn);
  if (rc != MDB_SUCCESS) return rc;
  Series* s = nullptr;
  rc = series_state(txn, name, s);
  if (rc != MDB_SUCCESS) return rc;
  bool stored = true;
  if (s->head_key < 0 || s->head.empty()) {
    s->head.clear();
    s->head_key = t;
    s->head.append(t, v);
    s->head_dirty = true;
  } else if (t >= s->head.last_time()) {
    if (s->head.count() >= seal_points || s->head.size() >= seal_bytes) {
      rc = put_head(txn, *s);
      if (rc != MDB_SUCCESS) return rc;
      relaxed_add(counters_.sealed_blocks, 1);
      s->head.clear();
      s->head_key = t;
    }
    stored = s->head.append(t, v);
    s->head_dirty = true;
  } else if (t >= s->head_key) {
    relaxed_add(counters_.late_points, 1);
    BlockEncoder merged;
    stored = insert_into(s->head.bytes(), t, v, merged);
    if (stored) s->head = std::move(merged);
    s->head_dirty = true;
  } else {
    relaxed_add(counters_.late_points, 1);
    rc = insert_old(txn, *s, t, v);
    if (rc == MDB_KEYEXIST) {
      stored = false;
    } else if (rc != MDB_SUCCESS) {
      return rc;
    }
  }
  if (!stored) {
    relaxed_add(counters_.dropped_points, 1);
    return MDB_SUCCESS;
  }
  relaxed_add(counters_.points, 1);
  SeriesRecord& r = s->rec;
  if (r.count == 0) {
    r.first_t = r.last_t = t;
    r.last_v = v;
  } else {
    r.first_t = std::min(r.first_t, t);
    if (t >= r.last_t) {
      r.last_t = t;
      r.last_v = v;
    }
  }
  ++r.count;
  if (!s->dirty) {
    s->dirty = true;
    dirty_.push_back(s);
  }
  minute_[{r.sid, t - t % minute_ms}].add(t, v);
  hour_[{r.sid, t - t % hour_ms}].add(t, v);
  return MDB_SUCCESS;
}

int HistoryStore::insert_old(MDB_txn* txn, Series& s, std::int64_t t, double v) {
  Cursor cur;
  int rc = cur.open(txn, dbs_.blocks);
  if (rc != MDB_SUCCESS) return rc;
  std::string key = series_key(s.rec.sid, t);
  MDB_val k{key.size(), key.data()}, bv;
  rc = mdb_cursor_get(cur.c, &k, &bv, MDB_SET_RANGE);
  std::uint32_t sid = 0;
  std::int64_t kt = 0;
  bool exact = rc == MDB_SUCCESS && split_series_key(view(k), sid, kt) && sid == s.rec.sid && kt == t;
  if (!exact) {
    rc = rc == MDB_SUCCESS ? mdb_cursor_get(cur.c, &k, &bv, MDB_PREV) : mdb_cursor_get(cur.c, &k, &bv, MDB_LAST);
    if (rc != MDB_SUCCESS && rc != MDB_NOTFOUND) return rc;
    if (rc != MDB_SUCCESS || !split_series_key(view(k), sid, kt) || sid != s.rec.sid) {
      // Before the series' first block: a block of its own.
      BlockEncoder one;
      one.append(t, v);
      return put(txn, dbs_.blocks, key, one.bytes());
    }
  }
  BlockEncoder merged;
  if (!insert_into(view(bv), t, v, merged)) return MDB_KEYEXIST;  // counted as dropped
  std::string block_key(static_cast<const char*>(k.mv_data), k.mv_size);
  return put(txn, dbs_.blocks, block_key, merged.bytes());
}

int HistoryStore::before_commit(MDB_txn* txn) {
  int rc = MDB_SUCCESS;
  for (Series* s : dirty_) {
    if (s->head_dirty) {
      rc = put_head(txn, *s);
      if (rc != MDB_SUCCESS) return rc;
    }
    rc = put(txn, dbs_.series, s->name, encode_series(s->rec));
    if (rc != MDB_SUCCESS) return rc;
    s->dirty = false;
  }
  dirty_.clear();
  for (auto* tier : {&minute_, &hour_}) {
    MDB_dbi dbi = tier == &minute_ ? dbs_.minute : dbs_.hour;
    for (auto& [key, add] : *tier) {
      std::string k = series_key(key.first, key.second);
      MDB_val mk{k.size(), k.data()}, mv;
      Rollup merged;
      rc = mdb_get(txn, dbi, &mk, &mv);
      if (rc == MDB_SUCCESS) {
        decode_rollup(view(mv), key.second, merged);  // a damaged record is replaced
      } else if (rc != MDB_NOTFOUND) {
        return rc;
      }
      merged.merge(add);
      rc = put(txn, dbi, k, encode_rollup(merged, key.second));
      if (rc != MDB_SUCCESS) return rc;
    }
    tier->clear();
  }
  return MDB_SUCCESS;
}

// ---------------------------------------------------------------------------
// Retention

std::uint64_t HistoryStore::history_bytes(MDB_txn* txn) const {
  std::uint64_t total = 0;
  for (MDB_dbi dbi : {dbs_.series, dbs_.blocks, dbs_.minute, dbs_.hour, dbs_.raw}) {
    MDB_stat st;
    if (mdb_stat(txn, dbi, &st) == MDB_SUCCESS) {
      total += static_cast<std::uint64_t>(st.ms_branch_pages + st.ms_leaf_pages + st.ms_overflow_pages) * st.ms_psize;
    }
  }
  return total;
}

int HistoryStore::prune_series_blocks(MDB_txn* txn, Series* cached, std::uint32_t sid, SeriesRecord& rec,
                                      std::int64_t cutoff, unsigned& work, bool& changed, bool for_size) {
  Cursor cur;
  int rc = cur.open(txn, dbs_.blocks);
  if (rc != MDB_SUCCESS) return rc;
  std::string start = series_key(sid, 0);
  MDB_val k{start.size(), start.data()}, v;
  for (rc = mdb_cursor_get(cur.c, &k, &v, MDB_SET_RANGE); rc == MDB_SUCCESS && work < prune_budget;
       rc = mdb_cursor_get(cur.c, &k, &v, MDB_SET_RANGE)) {
    ++work;
    std::uint32_t ksid;
    std::int64_t kt;
    if (!split_series_key(view(k), ksid, kt) || ksid != sid) break;
    BlockInfo info;
    const bool readable = read_block_info(view(v), info);
    if (readable ? info.last >= cutoff : kt >= cutoff) {
      if (readable) rec.first_t = std::max(rec.first_t, info.first);
      break;
    }
    if (cached != nullptr && cached->head_key == kt) {
      if (cached->head_dirty) break;  // written again by this transaction
      cached->head.clear();
      cached->head_key = -1;
    }
    rc = mdb_cursor_del(cur.c, 0);
    if (rc != MDB_SUCCESS) return rc;
    const std::uint64_t n = readable ? info.count : 0;
    rec.count -= std::min(rec.count, n);
    if (rec.count == 0) rec.first_t = rec.last_t;
    changed = true;
    relaxed_add(counters_.pruned_blocks, 1);
    relaxed_add(counters_.pruned_points, n);
    if (for_size) relaxed_add(counters_.size_pruned, 1);
    // The cursor now sits on the next record; SET_RANGE from the series
    // start finds it again.
    k = MDB_val{start.size(), start.data()};
  }
  return rc == MDB_NOTFOUND ? MDB_SUCCESS : (rc == MDB_SUCCESS || work >= prune_budget ? MDB_SUCCESS : rc);
}

int HistoryStore::prune_rollups(MDB_txn* txn, MDB_dbi dbi, std::uint32_t sid, std::int64_t cutoff, unsigned& work) {
  Cursor cur;
  int rc = cur.open(txn, dbi);
  if (rc != MDB_SUCCESS) return rc;
  std::string start = series_key(sid, 0);
  for (;;) {
    if (work >= prune_budget) return MDB_SUCCESS;
    MDB_val k{start.size(), start.data()}, v;
    rc = mdb_cursor_get(cur.c, &k, &v, MDB_SET_RANGE);
    if (rc == MDB_NOTFOUND) return MDB_SUCCESS;
    if (rc != MDB_SUCCESS) return rc;
    ++work;
    std::uint32_t ksid;
    std::int64_t kt;
    if (!split_series_key(view(k), ksid, kt) || ksid != sid || kt >= cutoff) return MDB_SUCCESS;
    rc = mdb_cursor_del(cur.c, 0);
    if (rc != MDB_SUCCESS) return rc;
    relaxed_add(counters_.pruned_rollups, 1);
  }
}

int HistoryStore::prune_raw(MDB_txn* txn, std::int64_t cutoff, unsigned& work, bool for_size) {
  Cursor cur;
  int rc = cur.open(txn, dbs_.raw);
  if (rc != MDB_SUCCESS) return rc;
  for (;;) {
    if (work >= prune_budget) return MDB_SUCCESS;
    MDB_val k, v;
    rc = mdb_cursor_get(cur.c, &k, &v, MDB_FIRST);
    if (rc == MDB_NOTFOUND) return MDB_SUCCESS;
    if (rc != MDB_SUCCESS) return rc;
    ++work;
    if (k.mv_size != 16 || static_cast<std::int64_t>(get_be(view(k), 0, 8)) >= cutoff) return MDB_SUCCESS;
    rc = mdb_cursor_del(cur.c, 0);
    if (rc != MDB_SUCCESS) return rc;
    relaxed_add(counters_.pruned_messages, 1);
    if (for_size) relaxed_add(counters_.size_pruned, 1);
  }
}

int HistoryStore::prune_step(MDB_txn* txn, std::int64_t now_ms) {
  int rc = prepare(txn);
  if (rc != MDB_SUCCESS) return rc;
  const HistorianConfig cfg = settings();
  unsigned work = 0;
  const std::uint64_t bytes = history_bytes(txn);
  counters_.bytes.store(bytes, std::memory_order_relaxed);
  const bool over = cfg.max_bytes != 0 && bytes > cfg.max_bytes;

  // Over max_bytes: an hour past the end of the oldest raw record (the
  // first raw-log message or the series' first block that ends first), so
  // every step drops at least that record and about an hour of raw data.
  std::int64_t size_cutoff = -1;
  if (over) {
    std::int64_t first_end = max_time;
    Cursor raw;
    if ((rc = raw.open(txn, dbs_.raw)) != MDB_SUCCESS) return rc;
    MDB_val k, v;
    if (mdb_cursor_get(raw.c, &k, &v, MDB_FIRST) == MDB_SUCCESS && k.mv_size == 16) {
      first_end = static_cast<std::int64_t>(get_be(view(k), 0, 8)) + 1;
    }
    Cursor ser, blk;
    if ((rc = ser.open(txn, dbs_.series)) != MDB_SUCCESS || (rc = blk.open(txn, dbs_.blocks)) != MDB_SUCCESS) {
      return rc;
    }
    for (rc = mdb_cursor_get(ser.c, &k, &v, MDB_FIRST); rc == MDB_SUCCESS; rc = mdb_cursor_get(ser.c, &k, &v, MDB_NEXT)) {
      SeriesRecord r;
      if (!decode_series(view(v), r) || r.count == 0) continue;
      std::string start = series_key(r.sid, 0);
      MDB_val bk{start.size(), start.data()}, bv;
      std::uint32_t sid;
      std::int64_t kt;
      BlockInfo info;
      if (mdb_cursor_get(blk.c, &bk, &bv, MDB_SET_RANGE) == MDB_SUCCESS && split_series_key(view(bk), sid, kt) &&
          sid == r.sid && read_block_info(view(bv), info)) {
        first_end = std::min(first_end, info.last + 1);
      }
    }
    if (first_end < max_time) size_cutoff = first_end + hour_ms;
  }
  const std::int64_t raw_cutoff = std::max(now_ms - cfg.raw_ms, size_cutoff);
  rc = prune_raw(txn, raw_cutoff, work, size_cutoff > now_ms - cfg.raw_ms);
  if (rc != MDB_SUCCESS) return rc;

  // Series by series from where the last step stopped.
  Cursor ser;
  if ((rc = ser.open(txn, dbs_.series)) != MDB_SUCCESS) return rc;
  MDB_val k{prune_from_.size(), prune_from_.data()}, v;
  rc = prune_from_.empty() ? mdb_cursor_get(ser.c, &k, &v, MDB_FIRST) : mdb_cursor_get(ser.c, &k, &v, MDB_SET_RANGE);
  std::vector<std::pair<std::string, SeriesRecord>> updated;
  while (rc == MDB_SUCCESS && work < prune_budget) {
    std::string name(view(k));
    SeriesRecord rec;
    if (decode_series(view(v), rec)) {
      auto it = series_.find(name);
      Series* cached = it == series_.end() ? nullptr : it->second.get();
      if (cached != nullptr) rec = cached->rec;
      bool changed = false;
      if (rec.count > 0) {
        int r = prune_series_blocks(txn, cached, rec.sid, rec, raw_cutoff, work, changed,
                                    size_cutoff > now_ms - cfg.raw_ms);
        if (r != MDB_SUCCESS) return r;
      }
      int r = prune_rollups(txn, dbs_.minute, rec.sid, now_ms - cfg.minute_ms, work);
      if (r == MDB_SUCCESS) r = prune_rollups(txn, dbs_.hour, rec.sid, now_ms - cfg.hour_ms, work);
      if (r != MDB_SUCCESS) return r;
      if (changed) {
        if (cached != nullptr) {
          cached->rec = rec;
          if (!cached->dirty) {
            cached->dirty = true;
            dirty_.push_back(cached);
          }
        } else {
          updated.emplace_back(name, rec);
        }
      }
    }
    if (work >= prune_budget) {
      prune_from_ = name;  // resume with this series
      break;
    }
    rc = mdb_cursor_get(ser.c, &k, &v, MDB_NEXT);
    if (rc == MDB_NOTFOUND) prune_from_.clear();
  }
  if (rc != MDB_SUCCESS && rc != MDB_NOTFOUND) return rc;
  for (auto& [name, rec] : updated) {
    rc = put(txn, dbs_.series, name, encode_series(rec));
    if (rc != MDB_SUCCESS) return rc;
  }
  return MDB_SUCCESS;
}

}  // namespace strata::historian
