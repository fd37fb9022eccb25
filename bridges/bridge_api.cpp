// The bridges' admin endpoints and metrics (bridge_api.hpp).
#include "bridges/bridge_api.hpp"

#include <algorithm>
#include <cctype>
#include <chrono>

#include "bridges/bridge_manager.hpp"
#include "bridges/bridge_sessions.hpp"
#include "broker/core/clock.hpp"
#include "broker/protocol/wire.hpp"
#include "broker/util/base64.hpp"
#include "broker/util/log.hpp"

namespace strata::bridges {

namespace {

namespace http = admin::http;
using admin::Access;
using admin::Error;
using admin::JsonWriter;
using admin::Reply;
using admin::Request;

std::uint64_t get(const std::atomic<std::uint64_t>& a) { return a.load(std::memory_order_relaxed); }

// Age of the oldest queued record (0 when the outbox is empty).
std::uint64_t lag_ms(const Outbox& o) {
  std::uint64_t oldest = o.oldest_ms();
  std::uint64_t now = core::now_ms();
  return oldest == 0 || oldest > now ? 0 : now - oldest;
}

struct Drop {
  std::string_view reason;
  const std::atomic<std::uint64_t> OutboxCounters::*counter;
};
constexpr Drop kDrops[] = {
    {"oldest", &OutboxCounters::dropped_oldest}, {"new", &OutboxCounters::dropped_new},
    {"blocked", &OutboxCounters::dropped_blocked}, {"hops", &OutboxCounters::dropped_hops},
    {"offline_qos0", &OutboxCounters::dropped_offline_qos0}, {"age", &OutboxCounters::dropped_age},
};

// A kept outbox without a configured bridge (BridgeManager::removed):
// state "removed", what it holds, and how to delete it.
void write_removed(JsonWriter& w, const BridgeManager::Removed& r) {
  const Outbox& o = *r.outbox;
  w.StartObject();
  w.Key("name");
  admin::write_string(w, r.name);
  w.Key("type");
  admin::write_string(w, r.type);
  w.Key("state");
  w.String("removed");
  w.Key("queued_messages");
  w.Uint64(get(o.counters().queued_messages));
  w.Key("queued_bytes");
  w.Uint64(get(o.counters().queued_bytes));
  w.Key("oldest_unacknowledged_age_ms");
  w.Uint64(lag_ms(o));
  w.Key("acknowledged_offset");
  w.Uint64(o.acknowledged());
  w.EndObject();
}

const BridgeManager::Removed* find_removed(const std::vector<BridgeManager::Removed>& removed, std::string_view name) {
  for (const auto& r : removed) {
    if (r.name == name) return &r;
  }
  return nullptr;
}

void write_bridge(JsonWriter& w, Bridge& b, const toml::table* config) {
  const BridgeConfig& cfg = b.config();
  Outbox& o = b.outbox();
  const OutboxCounters& oc = o.counters();
  const BridgeCounters& bc = b.counters();
  w.StartObject();
  w.Key("name");
  admin::write_string(w, cfg.name);
  w.Key("type");
  admin::write_string(w, cfg.type);
  w.Key("state");
  admin::write_string(w, state_name(b.state()));
  w.Key("queued_messages");
  w.Uint64(get(oc.queued_messages));
  w.Key("queued_bytes");
  w.Uint64(get(oc.queued_bytes));
  w.Key("oldest_unacknowledged_age_ms");
  w.Uint64(lag_ms(o));
  w.Key("blocking");
  w.Bool(o.blocking());
  const Fill fill = o.fill();
  w.Key("fill_percent");
  w.Uint64(fill.percent);
  w.Key("fill_warning");
  w.Uint(fill.warning);
  w.Key("delivery_latency_ms");
  w.StartObject();
  w.Key("p50");
  w.Uint64(o.delivery_quantile_ms(0.50));
  w.Key("p99");
  w.Uint64(o.delivery_quantile_ms(0.99));
  w.EndObject();
  w.Key("acknowledged_offset");
  w.Uint64(o.acknowledged());
  w.Key("appended");
  w.Uint64(get(oc.appended));
  w.Key("sent");
  w.Uint64(get(bc.sent));
  w.Key("acknowledged");
  w.Uint64(get(oc.confirmed));
  w.Key("resent");
  w.Uint64(get(bc.resent));
  w.Key("duplicates");
  w.Uint64(get(bc.duplicates));
  w.Key("received");
  w.Uint64(get(bc.received));
  w.Key("expired");
  w.Uint64(get(oc.expired));
  w.Key("dead_lettered");
  w.Uint64(get(oc.dead_lettered));
  w.Key("dropped");
  w.StartObject();
  for (const Drop& d : kDrops) {
    admin::write_key(w, d.reason);
    w.Uint64(get(oc.*d.counter));
  }
  w.EndObject();
  w.Key("connection_failures");
  w.Uint64(get(bc.failures));
  if (auto skipped = b.skipped(); !skipped.empty()) {
    w.Key("skipped");
    w.StartObject();
    for (const auto& [reason, n] : skipped) {
      admin::write_key(w, reason);
      w.Uint64(n);
    }
    w.EndObject();
  }
  if (config != nullptr) {
    w.Key("config");
    write_masked(w, *config);
  }
  w.EndObject();
}

Bridge& find_or_throw(BridgeManager& bridges, const Request& req) {
  Bridge* b = bridges.find(req.param("name"));
  if (b == nullptr) throw Error::not_found("no bridge '" + req.param("name") + "'");
  return *b;
}

void write_dead(JsonWriter& w, const DeadLetter& d) {
  const Record& r = d.record;
  w.StartObject();
  w.Key("offset");
  w.Uint64(d.offset);
  w.Key("reason");
  admin::write_string(w, d.reason);
  w.Key("at_ms");
  w.Uint64(d.at_ms);
  w.Key("topic");
  admin::write_string(w, r.topic);
  w.Key("qos");
  w.Uint(static_cast<unsigned>(r.qos));
  w.Key("retain");
  w.Bool(r.retain);
  w.Key("received_ms");
  w.Uint64(r.received_ms);
  w.Key("payload_size");
  w.Uint64(r.payload.size());
  w.Key("payload_base64");
  admin::write_string(w, util::base64_encode(r.payload));
  if (protocol::wire::valid_utf8(r.payload)) {
    w.Key("payload");
    admin::write_string(w, r.payload);
  }
  w.EndObject();
}

// The dead letters a request names: ?offset=N, or all of them.
std::vector<std::uint64_t> offsets_of(const Request& req) {
  std::vector<std::uint64_t> out;
  if (req.arg("offset")) out.push_back(static_cast<std::uint64_t>(req.int_arg("offset", 0, 1, INT64_MAX)));
  return out;
}

}  // namespace

bool is_secret_key(std::string_view key) {
  std::string k(key);
  std::transform(k.begin(), k.end(), k.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  for (std::string_view s : {"password", "secret", "token", "credential"}) {
    if (k.find(s) != std::string::npos && !k.ends_with("_file")) return true;
  }
  return false;
}

void write_masked(JsonWriter& w, const toml::node& node, bool secret) {
  if (secret && !node.is_table() && !node.is_array()) {
    w.String("***");
    return;
  }
  if (const toml::table* t = node.as_table()) {
    w.StartObject();
    for (const auto& [k, v] : *t) {
      admin::write_key(w, k.str());
      write_masked(w, v, secret || is_secret_key(k.str()));
    }
    w.EndObject();
  } else if (const toml::array* a = node.as_array()) {
    w.StartArray();
    for (const toml::node& v : *a) write_masked(w, v, secret);
    w.EndArray();
  } else if (auto s = node.value_exact<std::string>()) {
    admin::write_string(w, *s);
  } else if (auto i = node.value_exact<std::int64_t>()) {
    w.Int64(*i);
  } else if (auto d = node.value_exact<double>()) {
    w.Double(*d);
  } else if (auto b = node.value_exact<bool>()) {
    w.Bool(*b);
  } else {
    w.Null();  // dates and times: no bridge key takes one
  }
}

void add_bridge_api(admin::Api& api, BridgeManager& bridges) {
  api.add(http::verb::get, "/api/v1/bridges", Access::viewer,
          [&bridges](const Request& req, Reply reply) {
            admin::Paging p = admin::Paging::from(req);
            std::vector<Bridge*> all = bridges.all();
            std::vector<BridgeManager::Removed> removed = bridges.removed();
            reply.json(admin::page_json(p, all.size() + removed.size(), [&](JsonWriter& w, std::size_t i) {
              if (i < all.size()) {
                write_bridge(w, *all[i], nullptr);
              } else {
                write_removed(w, removed[i - all.size()]);
              }
            }));
          },
          "Every bridge: state, queued messages and bytes, lag, sent, acknowledged, re-sent, duplicates, drops; "
          "then the outboxes kept for removed bridges (state \"removed\")");

  api.add(http::verb::get, "/api/v1/bridges/{name}", Access::viewer,
          [&bridges](const Request& req, Reply reply) {
            if (bridges.find(req.param("name")) == nullptr) {
              std::vector<BridgeManager::Removed> removed = bridges.removed();
              if (const BridgeManager::Removed* r = find_removed(removed, req.param("name"))) {
                return reply.json(admin::json_of([&](JsonWriter& w) { write_removed(w, *r); }));
              }
            }
            Bridge& b = find_or_throw(bridges, req);
            const toml::table* t = bridges.table_of(b.config().name);
            reply.json(admin::json_of([&](JsonWriter& w) { write_bridge(w, b, t); }));
          },
          "One bridge: its counters and its [[bridge]] table (secrets masked); a removed one's kept outbox");

  api.add(http::verb::delete_, "/api/v1/bridges/{name}/outbox", Access::admin,
          [&bridges](const Request& req, Reply reply) {
            const std::string name = req.param("name");
            const std::string who = req.who();
            auto result = bridges.purge(name, [reply, name, who](std::uint64_t records) {
              STRATA_INFO("admin") << who << ": purged the outbox of removed bridge " << name << " (" << records
                                   << " messages)";
              reply.json(admin::json_of([&](JsonWriter& w) {
                w.StartObject();
                w.Key("name");
                admin::write_string(w, name);
                w.Key("purged");
                w.Uint64(records);
                w.EndObject();
              }));
            });
            if (result == BridgeManager::Purge::configured) {
              throw Error::conflict("bridge '" + name + "' is configured: only the outbox of a bridge removed from "
                                    "the configuration (and reloaded) can be purged");
            }
            if (result == BridgeManager::Purge::unknown) throw Error::not_found("no kept outbox '" + name + "'");
          },
          "Delete the outbox kept for a removed bridge (its queued messages are lost); 409 for a configured bridge");

  auto control = [&bridges](const Request& req, Reply reply, bool pause) {
    Bridge& b = find_or_throw(bridges, req);
    if (pause) {
      b.pause();
    } else {
      b.resume();
    }
    STRATA_INFO("admin") << req.who() << ": " << (pause ? "paused" : "resumed") << " bridge " << b.config().name;
    reply.json(admin::json_of([&](JsonWriter& w) { write_bridge(w, b, nullptr); }));
  };
  api.add(http::verb::post, "/api/v1/bridges/{name}/pause", Access::admin,
          [control](const Request& req, Reply reply) { control(req, reply, true); },
          "Pause a bridge: it keeps queueing in its outbox and sends nothing new");
  api.add(http::verb::post, "/api/v1/bridges/{name}/resume", Access::admin,
          [control](const Request& req, Reply reply) { control(req, reply, false); },
          "Resume a paused bridge: it goes on in outbox order");

  api.add(http::verb::get, "/api/v1/bridges/{name}/dead", Access::viewer,
          [&bridges](const Request& req, Reply reply) {
            Bridge& b = find_or_throw(bridges, req);
            admin::Paging p = admin::Paging::from(req);
            std::size_t total = 0;
            std::vector<DeadLetter> dead = b.outbox().dead_letters(
                p.begin(SIZE_MAX), static_cast<std::size_t>(p.limit), total);
            const std::size_t first = p.begin(total);
            reply.json(admin::page_json(p, total, [&](JsonWriter& w, std::size_t i) {
              if (i - first < dead.size()) write_dead(w, dead[i - first]);
            }));
          },
          "A bridge's dead letters (messages its target rejected for good), oldest first, with the reason");
  // Re-send or purge: the same request shape, answered with the count.
  auto dead_letters = [&bridges](const Request& req, Reply reply, bool resend) {
    Bridge& b = find_or_throw(bridges, req);
    std::vector<std::uint64_t> offsets = offsets_of(req);
    std::size_t n = resend ? b.outbox().resend_dead(offsets) : b.outbox().purge_dead(offsets);
    if (n == 0 && !offsets.empty()) {
      throw Error::not_found("bridge '" + b.config().name + "' has no dead letter at offset " +
                             std::to_string(offsets[0]));
    }
    STRATA_INFO("admin") << req.who() << ": " << (resend ? "sent again " : "purged ") << n
                         << " dead letters of bridge " << b.config().name;
    reply.json(admin::json_of([&](JsonWriter& w) {
      w.StartObject();
      w.Key(resend ? "resent" : "purged");
      w.Uint64(n);
      w.EndObject();
    }));
  };
  api.add(http::verb::post, "/api/v1/bridges/{name}/dead/resend", Access::admin,
          [dead_letters](const Request& req, Reply reply) { dead_letters(req, reply, true); },
          "Send a bridge's dead letters again (?offset=N: just that one): they go to the end of its outbox");
  api.add(http::verb::delete_, "/api/v1/bridges/{name}/dead", Access::admin,
          [dead_letters](const Request& req, Reply reply) { dead_letters(req, reply, false); },
          "Delete a bridge's dead letters (?offset=N: just that one)");

  // Each bridge's lag and depth in the stats history (the Bridges page's chart).
  api.add_history_source([&bridges](admin::StatsReading& r) {
    for (Bridge* b : bridges.all()) {
      const OutboxCounters& oc = b->outbox().counters();
      r.bridges.push_back({b->config().name, lag_ms(b->outbox()), get(oc.queued_messages), get(oc.queued_bytes)});
    }
  });

  // An outbox at 80 % of its max_messages or max_bytes (Outbox::fill): a
  // warning, and critical once it blocks its publishers or is full.
  api.add_alarms([&bridges](std::vector<admin::Alarm>& out) {
    constexpr std::uint64_t kFilling = 80;
    for (Bridge* b : bridges.all()) {
      const std::uint64_t percent = b->outbox().fill().percent;
      const bool blocking = b->outbox().blocking();
      if (percent < kFilling && !blocking) continue;
      out.push_back({"bridge.outbox_filling", percent >= 100 || blocking ? "critical" : "warning", b->config().name,
                     "The outbox of bridge " + b->config().name + " is " + std::to_string(percent) + " % full" +
                         (blocking ? " and holds its publishers" : "")});
    }
  });

  api.add_metrics([&bridges](admin::MetricsWriter& m) {
    std::vector<Bridge*> all = bridges.all();
    if (all.empty()) return;
    using Get = std::uint64_t (*)(Bridge&);
    struct Counter {
      std::string_view name, help;
      Get get;
    };
    const Counter counters[] = {
        {"strata_bridge_appended_total", "Messages appended to a bridge's outbox",
         [](Bridge& b) { return get(b.outbox().counters().appended); }},
        {"strata_bridge_sent_total", "Messages a bridge sent the first time",
         [](Bridge& b) { return get(b.counters().sent); }},
        {"strata_bridge_acknowledged_total", "Messages the bridge's target confirmed",
         [](Bridge& b) { return get(b.outbox().counters().confirmed); }},
        {"strata_bridge_resent_total", "Messages a bridge sent again after a reconnect or restart",
         [](Bridge& b) { return get(b.counters().resent); }},
        {"strata_bridge_duplicates_total", "Duplicates the bridge's target reported",
         [](Bridge& b) { return get(b.counters().duplicates); }},
        {"strata_bridge_received_total", "Messages a bridge received from its peer and published here",
         [](Bridge& b) { return get(b.counters().received); }},
        {"strata_bridge_expired_total", "Messages whose MQTT expiry passed in a bridge's outbox",
         [](Bridge& b) { return get(b.outbox().counters().expired); }},
        {"strata_bridge_dead_lettered_total", "Messages the target rejected for good",
         [](Bridge& b) { return get(b.outbox().counters().dead_lettered); }},
        {"strata_bridge_connection_failures_total", "Connections of a bridge lost or refused",
         [](Bridge& b) { return get(b.counters().failures); }},
    };
    for (const Counter& c : counters) {
      m.family(c.name, "counter", c.help);
      for (Bridge* b : all) m.sample(c.name, c.get(*b), {{"bridge", b->config().name}});
    }
    m.family("strata_bridge_dropped_total", "counter", "Messages a bridge dropped, by reason");
    for (Bridge* b : all) {
      for (const Drop& d : kDrops) {
        m.sample("strata_bridge_dropped_total", get(b->outbox().counters().*d.counter),
                 {{"bridge", b->config().name}, {"reason", d.reason}});
      }
    }
    bool any_skipped = false;
    for (Bridge* b : all) {
      for (const auto& [reason, n] : b->skipped()) {
        if (!any_skipped) {
          m.family("strata_bridge_skipped_total", "counter",
                   "Messages a bridge's target type cannot express, confirmed without sending, by reason");
          any_skipped = true;
        }
        m.sample("strata_bridge_skipped_total", n, {{"bridge", b->config().name}, {"reason", reason}});
      }
    }
    m.family("strata_bridge_queued_messages", "gauge", "Messages in a bridge's outbox not yet confirmed");
    for (Bridge* b : all) {
      m.sample("strata_bridge_queued_messages", get(b->outbox().counters().queued_messages), {{"bridge", b->config().name}});
    }
    m.family("strata_bridge_queued_bytes", "gauge", "Topic and payload bytes in a bridge's outbox");
    for (Bridge* b : all) {
      m.sample("strata_bridge_queued_bytes", get(b->outbox().counters().queued_bytes), {{"bridge", b->config().name}});
    }
    m.family("strata_bridge_lag_seconds", "gauge", "Age of the oldest unacknowledged message in a bridge's outbox");
    for (Bridge* b : all) {
      m.sample("strata_bridge_lag_seconds", static_cast<double>(lag_ms(b->outbox())) / 1000.0,
               {{"bridge", b->config().name}});
    }
    m.family("strata_bridge_fill_ratio", "gauge",
             "How full a bridge's outbox is: the larger of messages and bytes over their bounds");
    for (Bridge* b : all) {
      m.sample("strata_bridge_fill_ratio", static_cast<double>(b->outbox().fill().percent) / 100.0,
               {{"bridge", b->config().name}});
    }
    m.family("strata_bridge_delivery_latency_seconds", "summary",
             "Receive to confirmation by the target, since start (the upper bound of the quantile's bucket)");
    for (Bridge* b : all) {
      for (auto [q, label] : {std::pair{0.5, "0.5"}, std::pair{0.99, "0.99"}}) {
        m.sample("strata_bridge_delivery_latency_seconds",
                 static_cast<double>(b->outbox().delivery_quantile_ms(q)) / 1000.0,
                 {{"bridge", b->config().name}, {"quantile", label}});
      }
    }
    m.family("strata_bridge_up", "gauge", "1 when a bridge is connected to its target");
    for (Bridge* b : all) {
      m.sample("strata_bridge_up", std::uint64_t{b->state() == AdapterState::connected ? 1u : 0u},
               {{"bridge", b->config().name}});
    }
    m.family("strata_bridge_paused", "gauge", "1 when a bridge was paused from the admin API");
    for (Bridge* b : all) {
      m.sample("strata_bridge_paused", std::uint64_t{b->paused() ? 1u : 0u}, {{"bridge", b->config().name}});
    }
    m.family("strata_bridge_blocking", "gauge", "1 when a bridge's outbox is full and holds its publishers");
    for (Bridge* b : all) {
      m.sample("strata_bridge_blocking", std::uint64_t{b->outbox().blocking() ? 1u : 0u}, {{"bridge", b->config().name}});
    }
  });
}

void add_bridge_session_metrics(admin::Api& api, BridgeSessions& sessions) {
  api.add_metrics([&sessions](admin::MetricsWriter& m) {
    auto logs = sessions.logs();
    if (logs.empty()) return;
    auto n = [](const std::atomic<std::uint64_t>& a) { return a.load(std::memory_order_relaxed); };
    struct Family {
      std::string_view name, type, help;
      const std::atomic<std::uint64_t> OutboxCounters::*field;
    };
    static constexpr Family families[] = {
        {"strata_bridge_session_queued_messages", "gauge", "Messages in a bridge session's log not yet acknowledged",
         &OutboxCounters::queued_messages},
        {"strata_bridge_session_queued_bytes", "gauge", "Topic + payload bytes of those messages",
         &OutboxCounters::queued_bytes},
        {"strata_bridge_session_appended_total", "counter", "Messages appended to a bridge session's log",
         &OutboxCounters::appended},
        {"strata_bridge_session_acknowledged_total", "counter", "Messages the bridge session's client acknowledged",
         &OutboxCounters::confirmed},
    };
    for (const Family& f : families) {
      m.family(f.name, f.type, f.help);
      for (auto& [id, o] : logs) m.sample(f.name, n(o->counters().*f.field), {{"client_id", id}});
    }
    m.family("strata_bridge_session_dropped_total", "counter", "Messages a bridge session's log dropped, by reason");
    for (auto& [id, o] : logs) {
      const OutboxCounters& c = o->counters();
      for (auto [reason, v] : {std::pair{"oldest", &c.dropped_oldest}, std::pair{"new", &c.dropped_new},
                               std::pair{"blocked", &c.dropped_blocked}, std::pair{"age", &c.dropped_age},
                               std::pair{"expired", &c.expired}, std::pair{"discarded", &c.discarded}}) {
        m.sample("strata_bridge_session_dropped_total", n(*v), {{"client_id", id}, {"reason", reason}});
      }
    }
  });
}

}  // namespace strata::bridges
