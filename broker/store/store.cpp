#include "broker/store/store.hpp"

#include <unordered_map>

#include "broker/util/log.hpp"

namespace strata::store {

namespace {

std::string_view view(const MDB_val& v) { return {static_cast<const char*>(v.mv_data), v.mv_size}; }

// Calls fn(key, value) for every record of `dbi` in key order.
template <class Fn>
void scan(MDB_txn* txn, MDB_dbi dbi, const Fn& fn) {
  MDB_cursor* cur = nullptr;
  check(mdb_cursor_open(txn, dbi, &cur), "open a cursor");
  MDB_val k, v;
  for (int rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == MDB_SUCCESS;
       rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
    fn(view(k), view(v));
  }
  mdb_cursor_close(cur);
}

}  // namespace

DeliveryState state_of(const session::Outgoing& o) noexcept {
  switch (o.state) {
    case session::Outgoing::State::await_puback: return DeliveryState::await_puback;
    case session::Outgoing::State::await_pubrec: return DeliveryState::await_pubrec;
    case session::Outgoing::State::await_pubcomp: return DeliveryState::await_pubcomp;
  }
  return DeliveryState::queued;
}

Store::Store(const config::Config& config, unsigned cores)
    : env_(config.data_dir, config.store),
      writer_(env_, config.store, cores + 1),
      sync_acks_(config.store.durability == config::Durability::sync),
      cores_(cores),
      durability_(config.store.durability) {}

Store::~Store() { stop(); }

void Store::start(Writer::Post post) { writer_.start(std::move(post)); }

void Store::stop() { writer_.stop(); }

LoadStats Store::load(std::uint64_t now_ms, const std::function<void(LoadedSession&&)>& on_session,
                      const std::function<void(router::MessagePtr)>& on_retained) {
  LoadStats stats;
  std::vector<LoadedSession> sessions;
  std::unordered_map<std::string, std::size_t> index;
  std::vector<std::pair<MDB_dbi, std::string>> doomed;  // deleted after reading

  MDB_txn* txn = nullptr;
  check(mdb_txn_begin(env_.env(), nullptr, MDB_RDONLY, &txn), "begin a read transaction");
  try {
    // Retained messages first: the caller can index them while the
    // sessions are still being read.
    scan(txn, env_.retained, [&](std::string_view k, std::string_view v) {
      std::shared_ptr<router::Message> m = decode_message(v);
      if (!m || m->topic != k) {
        STRATA_WARN("store") << "skipping undecodable retained message of '" << k << "'";
        ++stats.undecodable;
        doomed.emplace_back(env_.retained, std::string(k));
        return;
      }
      if (m->expires_at_ms != 0 && m->expires_at_ms <= now_ms) {
        ++stats.expired_messages;
        doomed.emplace_back(env_.retained, std::string(k));
        return;
      }
      ++stats.retained;
      on_retained(std::move(m));
    });
    scan(txn, env_.sessions, [&](std::string_view k, std::string_view v) {
      LoadedSession s;
      if (!decode_session(k, v, s.record)) {
        STRATA_WARN("store") << "skipping undecodable session record of '" << k << "'";
        ++stats.undecodable;
        doomed.emplace_back(env_.sessions, std::string(k));
        return;
      }
      const SessionRecord& r = s.record;
      if (r.expiry_interval != session::Session::never_expires && r.deadline_ms != 0 && r.deadline_ms <= now_ms) {
        ++stats.expired_sessions;
        doomed.emplace_back(env_.sessions, std::string(k));
        return;
      }
      index.emplace(r.client_id, sessions.size());
      sessions.push_back(std::move(s));
    });
    scan(txn, env_.messages, [&](std::string_view k, std::string_view v) {
      std::string_view id, tail;
      auto it = split_key(k, id, tail) && tail.size() == 8 ? index.find(std::string(id)) : index.end();
      if (it == index.end()) {  // its session expired or the key is damaged
        doomed.emplace_back(env_.messages, std::string(k));
        return;
      }
      DeliveryRecord d;
      d.seq = read_u64(tail);
      if (!decode_delivery(v, d)) {
        STRATA_WARN("store") << "skipping undecodable queued message of '" << id << "'";
        ++stats.undecodable;
        doomed.emplace_back(env_.messages, std::string(k));
        return;
      }
      if (d.state == 0 && d.delivery.msg->expires_at_ms != 0 && d.delivery.msg->expires_at_ms <= now_ms) {
        ++stats.expired_messages;
        doomed.emplace_back(env_.messages, std::string(k));
        return;
      }
      sessions[it->second].deliveries.push_back(std::move(d));
    });
    scan(txn, env_.qos2, [&](std::string_view k, std::string_view) {
      std::string_view id, tail;
      auto it = split_key(k, id, tail) && tail.size() == 2 ? index.find(std::string(id)) : index.end();
      if (it == index.end()) {
        doomed.emplace_back(env_.qos2, std::string(k));
        return;
      }
      sessions[it->second].qos2_received.push_back(static_cast<std::uint16_t>(read_u64(tail)));
    });
  } catch (...) {
    mdb_txn_abort(txn);
    throw;
  }
  mdb_txn_abort(txn);

  for (LoadedSession& s : sessions) {
    ++stats.sessions;
    stats.deliveries += s.deliveries.size();
    on_session(std::move(s));
  }
  if (!doomed.empty()) {
    // Applied by the writer's first transaction.
    for (auto& [dbi, key] : doomed) writer_.push(0, Op{Op::Kind::del, dbi, 0, std::move(key), {}, {}, {}, 0});
  }
  return stats;
}

void Store::save_session(unsigned core, session::Session& s) {
  s.stored = true;
  writer_.push(core, Op{Op::Kind::put, env_.sessions, 0, s.client_id(), encode_session(s, s.deadline_ms), {}, {}, 0});
}

void Store::drop_session(unsigned core, session::Session& s) {
  if (!s.stored) return;
  s.stored = false;
  writer_.push(core, Op{Op::Kind::del, env_.sessions, 0, s.client_id(), {}, {}, {}, 0});
  writer_.push(core, Op{Op::Kind::del_prefix, env_.messages, 0, session_prefix(s.client_id()), {}, {}, {}, 0});
  writer_.push(core, Op{Op::Kind::del_prefix, env_.qos2, 0, session_prefix(s.client_id()), {}, {}, {}, 0});
}

void Store::save_delivery(unsigned core, session::Session& s, session::Delivery& d, DeliveryState state,
                          std::uint16_t packet_id) {
  if (!s.stored) return;
  if (d.seq == 0) d.seq = s.next_seq++;
  writer_.push(core, Op{Op::Kind::put, env_.messages, 0, message_key(s.client_id(), d.seq),
                        encode_delivery(d, static_cast<std::uint8_t>(state), packet_id), {}, {}, 0});
}

void Store::drop_delivery(unsigned core, const session::Session& s, const session::Delivery& d) {
  if (!s.stored || d.seq == 0) return;
  writer_.push(core, Op{Op::Kind::del, env_.messages, 0, message_key(s.client_id(), d.seq), {}, {}, {}, 0});
}

void Store::save_qos2(unsigned core, const session::Session& s, std::uint16_t packet_id) {
  if (!s.stored) return;
  writer_.push(core, Op{Op::Kind::put, env_.qos2, 0, qos2_key(s.client_id(), packet_id), {}, {}, {}, 0});
}

void Store::drop_qos2(unsigned core, const session::Session& s, std::uint16_t packet_id) {
  if (!s.stored) return;
  writer_.push(core, Op{Op::Kind::del, env_.qos2, 0, qos2_key(s.client_id(), packet_id), {}, {}, {}, 0});
}

void Store::save_retained(unsigned core, const router::Message& m) {
  if (m.payload.empty()) {
    writer_.push(core, Op{Op::Kind::del, env_.retained, 0, std::string(m.topic), {}, {}, {}, 0});
  } else {
    writer_.push(core, Op{Op::Kind::put, env_.retained, 0, std::string(m.topic), encode_message(m), {}, {}, 0});
  }
}

void Store::after_commit(unsigned core, std::function<void(bool)> fn) {
  writer_.push(core, Op{Op::Kind::done, 0, 0, {}, {}, std::move(fn), {}, 0});
}

}  // namespace strata::store
