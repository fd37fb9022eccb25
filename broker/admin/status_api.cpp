// GET /api/v1/status, GET /api/v1/stats and GET /metrics.
#include <chrono>

#include "broker/admin/endpoints.hpp"
#include "broker/admin/server.hpp"

namespace strata::admin {

namespace {

// What the cores count, summed (relaxed atomics: readable from here).
struct Totals {
  std::uint64_t received = 0, sent = 0, bytes_in = 0, bytes_out = 0, dropped = 0, queue_dropped = 0,
                queue_refused = 0, store_refused = 0, rate_limited = 0;
  std::int64_t connected = 0, sessions = 0;
};

Totals totals(core::Broker& b) {
  Totals t;
  auto get = [](const auto& a) { return a.load(std::memory_order_relaxed); };
  for (unsigned i = 0; i < b.core_count(); ++i) {
    const core::Stats& s = b.core(i).stats();
    t.received += get(s.messages_received);
    t.sent += get(s.messages_sent);
    t.bytes_in += get(s.bytes_received);
    t.bytes_out += get(s.bytes_sent);
    t.dropped += get(s.messages_dropped);
    t.queue_dropped += get(s.queue_dropped);
    t.queue_refused += get(s.queue_refused);
    t.store_refused += get(s.store_refused);
    t.rate_limited += get(s.connections_rate_limited);
    t.connected += get(s.clients_connected);
    t.sessions += get(s.sessions);
  }
  return t;
}

// What core 0 owns and every core replicates: subscriptions, retained.
struct Replicated {
  std::size_t subscriptions = 0;
  std::size_t retained = 0;
};

double seconds_since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

// Messages per second over the last sampling period (kept on the admin
// thread; sampled when asked, at most once a second).
struct Rates {
  std::chrono::steady_clock::time_point at{};
  std::uint64_t received = 0, sent = 0;
  double in_rate = 0, out_rate = 0;
  void update(const Totals& t) {
    auto now = std::chrono::steady_clock::now();
    if (at != std::chrono::steady_clock::time_point{}) {
      double dt = std::chrono::duration<double>(now - at).count();
      if (dt < 1.0) return;
      in_rate = static_cast<double>(t.received - received) / dt;
      out_rate = static_cast<double>(t.sent - sent) / dt;
    }
    at = now;
    received = t.received;
    sent = t.sent;
  }
};

}  // namespace

void add_status_api(Server& server) {
  Api& api = server.api();
  core::Broker& broker = api.broker();
  auto rates = std::make_shared<Rates>();

  api.add(http::verb::get, "/api/v1/status", Access::viewer,
          [&api, &broker, rates](const Request&, Reply reply) {
            api.on_core<Replicated>(
                0,
                [](core::Core& c) { return Replicated{c.trie().subscription_count(), c.retained().size()}; },
                [&broker, reply, rates](Replicated r) {
                  Totals t = totals(broker);
                  rates->update(t);
                  reply.json(json_of([&](JsonWriter& w) {
                    w.StartObject();
                    w.Key("version");
                    w.String(STRATA_VERSION);
                    w.Key("uptime_seconds");
                    w.Double(seconds_since(broker.started()));
                    w.Key("cores");
                    w.Uint(broker.core_count());
                    w.Key("listeners");
                    w.StartArray();
                    for (const auto& l : broker.config().listeners) write_string(w, l.name());
                    w.EndArray();
                    w.Key("connections");
                    w.Int64(t.connected);
                    w.Key("sessions");
                    w.Uint64(broker.session_count());
                    w.Key("subscriptions");
                    w.Uint64(r.subscriptions);
                    w.Key("retained");
                    w.Uint64(r.retained);
                    w.Key("messages_received");
                    w.Uint64(t.received);
                    w.Key("messages_sent");
                    w.Uint64(t.sent);
                    w.Key("messages_received_per_second");
                    w.Double(rates->in_rate);
                    w.Key("messages_sent_per_second");
                    w.Double(rates->out_rate);
                    w.EndObject();
                  }));
                });
          },
          "Version, uptime, cores, listeners, connections and message rates");

  api.add(http::verb::get, "/api/v1/stats", Access::viewer,
          [&api, &broker](const Request&, Reply reply) {
            api.on_core<Replicated>(
                0,
                [](core::Core& c) { return Replicated{c.trie().subscription_count(), c.retained().size()}; },
                [&broker, reply](Replicated r) {
                  Totals t = totals(broker);
                  store::WriterCounters& sc = broker.store().counters();
                  auto get = [](const std::atomic<std::uint64_t>& v) { return v.load(std::memory_order_relaxed); };
                  reply.json(json_of([&](JsonWriter& w) {
                    auto num = [&w](const char* k, std::uint64_t v) {
                      w.Key(k);
                      w.Uint64(v);
                    };
                    w.StartObject();
                    num("clients.connected", static_cast<std::uint64_t>(t.connected));
                    num("clients.total", broker.session_count());
                    num("connections.rate_limited", t.rate_limited);
                    num("messages.received", t.received);
                    num("messages.sent", t.sent);
                    num("messages.dropped", t.dropped);
                    num("bytes.received", t.bytes_in);
                    num("bytes.sent", t.bytes_out);
                    num("subscriptions.count", r.subscriptions);
                    num("retained.count", r.retained);
                    num("queues.dropped", t.queue_dropped);
                    num("queues.refused", t.queue_refused);
                    num("store.refused", t.store_refused);
                    num("store.commits", get(sc.commits));
                    num("store.writes", get(sc.writes));
                    num("store.bytes", get(sc.bytes_written));
                    num("store.fsyncs", get(sc.fsyncs));
                    num("store.map.size", get(sc.map_size));
                    num("store.map.used", get(sc.map_used));
                    num("store.full", broker.store().full() ? 1 : 0);
                    num("store.failures", get(sc.failed_commits));
                    num("store.lost", get(sc.lost));
                    w.EndObject();
                  }));
                });
          },
          "Every counter that $SYS publishes, by its $SYS name");

  api.add(http::verb::get, "/metrics", Access::open,
          [&api, &broker, &server](const Request&, Reply reply) {
            api.on_core<Replicated>(
                0,
                [](core::Core& c) { return Replicated{c.trie().subscription_count(), c.retained().size()}; },
                [&api, &broker, &server, reply](Replicated r) {
                  Totals t = totals(broker);
                  MetricsWriter m;
                  m.gauge("strata_uptime_seconds", "Seconds since the broker started", seconds_since(broker.started()));
                  m.gauge("strata_cores", "Core threads (one io_context each)", broker.core_count());
                  m.gauge("strata_connections", "Connected MQTT clients", static_cast<double>(t.connected));
                  m.counter("strata_connections_rate_limited_total",
                            "Connections closed at accept by a listener's max_connect_rate", t.rate_limited);
                  m.gauge("strata_sessions", "Sessions, online and offline", static_cast<double>(t.sessions));
                  m.gauge("strata_subscriptions", "Subscriptions (topic filters of all sessions)",
                          static_cast<double>(r.subscriptions));
                  m.gauge("strata_retained_messages", "Retained messages", static_cast<double>(r.retained));
                  m.counter("strata_messages_received_total", "PUBLISH packets received from clients", t.received);
                  m.counter("strata_messages_sent_total", "PUBLISH packets sent to clients", t.sent);
                  m.counter("strata_bytes_received_total", "Bytes received from clients", t.bytes_in);
                  m.counter("strata_bytes_sent_total", "Bytes sent to clients", t.bytes_out);
                  m.family("strata_messages_dropped_total", "counter", "Messages dropped, by reason");
                  m.sample("strata_messages_dropped_total", t.queue_dropped, {{"reason", "queue_full"}});
                  m.sample("strata_messages_dropped_total", t.queue_refused, {{"reason", "queue_full_qos12"}});
                  m.sample("strata_messages_dropped_total",
                           t.dropped >= t.queue_dropped + t.queue_refused ? t.dropped - t.queue_dropped - t.queue_refused
                                                                          : 0,
                           {{"reason", "other"}});
                  m.counter("strata_store_refused_total", "QoS 1/2 publishes refused because the store was full",
                            t.store_refused);
                  store::WriterCounters& sc = broker.store().counters();
                  auto get = [](const std::atomic<std::uint64_t>& v) { return v.load(std::memory_order_relaxed); };
                  m.counter("strata_store_commits_total", "Store write transactions committed", get(sc.commits));
                  m.counter("strata_store_writes_total", "Store puts and deletes committed", get(sc.writes));
                  m.counter("strata_store_written_bytes_total", "Key and value bytes committed", get(sc.bytes_written));
                  m.counter("strata_store_fsyncs_total", "Store fsyncs", get(sc.fsyncs));
                  m.family("strata_store_commit_seconds_total", "counter", "Time spent in store write transactions");
                  m.sample("strata_store_commit_seconds_total", static_cast<double>(get(sc.commit_us)) / 1e6);
                  m.gauge("strata_store_map_size_bytes", "Size of the store's memory map",
                          static_cast<double>(get(sc.map_size)));
                  m.gauge("strata_store_map_used_bytes", "Bytes of the store's map in use",
                          static_cast<double>(get(sc.map_used)));
                  m.counter("strata_store_failed_commits_total", "Store transactions that failed",
                            get(sc.failed_commits));
                  m.counter("strata_store_lost_total", "Store writes dropped because the store was full", get(sc.lost));
                  m.counter("strata_admin_auth_failures_total", "Failed admin API logins and bad credentials",
                            server.auth().failures());
                  for (const MetricsSource& source : api.metrics_sources()) source(m);
                  Response res;
                  res.content_type = std::string(metrics_content_type);
                  res.body = m.take();
                  reply.send(std::move(res));
                });
          },
          "Prometheus metrics (text format)");
}

}  // namespace strata::admin
