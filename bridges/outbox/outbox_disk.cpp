// The outbox's operations on what is only on disk (outbox.hpp): the logs
// stored, purging a log, and the dead letters, which stay in outbox_dead
// until an operator re-sends or purges them. Layout in outbox_log.hpp.
#include <algorithm>
#include <mutex>

#include "bridges/outbox/outbox.hpp"
#include "bridges/outbox/outbox_log.hpp"
#include "broker/store/store.hpp"
#include "broker/util/log.hpp"

namespace strata::bridges {

namespace {

std::string_view view(const MDB_val& v) { return {static_cast<const char*>(v.mv_data), v.mv_size}; }

}  // namespace

std::vector<std::string> Outbox::stored_logs(store::Store& store) {
  auto& env = store.env();
  std::vector<std::string> names;
  store::ReadTxn read(env);  // holds off a map resize meanwhile
  MDB_txn* txn = read.get();
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

namespace {

// Calls fn(key, value) for each dead letter of `log` in offset order, in a
// read transaction of its own, until fn returns false.
template <typename Fn>
void each_dead(store::Store& store, const std::string& log, Fn fn) {
  auto& env = store.env();
  store::ReadTxn txn(env);  // holds off a map resize meanwhile
  MDB_cursor* cur = nullptr;
  if (mdb_cursor_open(txn.get(), env.outbox_dead, &cur) == MDB_SUCCESS) {
    std::string first = outbox_log::prefix(log);
    MDB_val k{first.size(), first.data()}, v;
    for (int rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE); rc == MDB_SUCCESS && view(k).starts_with(first);
         rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
      if (!fn(view(k), view(v))) break;
    }
    mdb_cursor_close(cur);
  }
}

bool wanted(std::span<const std::uint64_t> offsets, std::uint64_t o) {
  return offsets.empty() || std::find(offsets.begin(), offsets.end(), o) != offsets.end();
}

}  // namespace

std::vector<DeadLetter> Outbox::dead_letters(std::size_t skip, std::size_t max, std::size_t& total) const {
  std::vector<DeadLetter> out;
  total = 0;
  each_dead(store(), log_name(), [&](std::string_view key, std::string_view value) {
    if (total++ < skip || out.size() >= max) return true;
    DeadLetter d;
    if (!outbox_log::offset_of(key, log_name(), d.offset) ||
        !outbox_log::decode_dead(value, d.record, d.reason, d.at_ms)) {
      return true;  // undecodable: counted, not shown
    }
    out.push_back(std::move(d));
    return true;
  });
  return out;
}

std::size_t Outbox::resend_dead(std::span<const std::uint64_t> offsets) {
  std::lock_guard dead(dead_mutex());  // one re-send or purge at a time: none twice
  std::vector<std::pair<std::string, Record>> found;
  each_dead(store(), log_name(), [&](std::string_view key, std::string_view value) {
    std::uint64_t o = 0;
    Record r;
    std::string reason;
    std::uint64_t at = 0;
    if (outbox_log::offset_of(key, log_name(), o) && wanted(offsets, o) &&
        outbox_log::decode_dead(value, r, reason, at)) {
      found.emplace_back(std::string(key), std::move(r));
    }
    return true;
  });
  const unsigned q = store().bridge_queue();
  for (auto& [key, r] : found) {
    append(q, std::move(r), /*force=*/true);
    store().push(q, store::Op{store::Op::Kind::del, store().env().outbox_dead, 0, std::move(key), {}, {}});
  }
  if (!found.empty()) {
    STRATA_INFO("bridge") << "outbox " << log_name() << ": " << found.size() << " dead letters sent again";
  }
  return found.size();
}

std::size_t Outbox::purge_dead(std::span<const std::uint64_t> offsets) {
  std::lock_guard dead(dead_mutex());
  std::vector<std::string> keys;
  each_dead(store(), log_name(), [&](std::string_view key, std::string_view) {
    std::uint64_t o = 0;
    if (outbox_log::offset_of(key, log_name(), o) && wanted(offsets, o)) keys.emplace_back(key);
    return true;
  });
  for (auto& key : keys) {
    store().push(store().bridge_queue(),
                      store::Op{store::Op::Kind::del, store().env().outbox_dead, 0, std::move(key), {}, {}});
  }
  if (!keys.empty()) {
    STRATA_INFO("bridge") << "outbox " << log_name() << ": " << keys.size() << " dead letters purged";
  }
  return keys.size();
}

}  // namespace strata::bridges
