// GET /api/v1/status, GET /api/v1/stats and GET /metrics.
#include <algorithm>
#include <array>
#include <chrono>
#include <string>
#include <vector>

#include "broker/admin/endpoints.hpp"
#include "broker/admin/server.hpp"

namespace strata::admin {

namespace {

// What the cores count, summed (relaxed atomics: readable from here).
struct Totals {
  std::uint64_t received = 0, sent = 0, bytes_in = 0, bytes_out = 0, dropped = 0, queue_dropped = 0,
                queue_refused = 0, store_refused = 0, rate_limited = 0, auth_failures = 0;
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
    t.auth_failures += get(s.auth_failures);
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

// The families labelled by QoS and by listener: per-core counters summed
// here at scrape time (the cores only ever touch their own).
void write_by_qos_and_listener(MetricsWriter& m, core::Broker& b) {
  auto get = [](const auto& a) { return a.load(std::memory_order_relaxed); };
  std::uint64_t in[3]{}, out[3]{}, bin[3]{}, bout[3]{};
  const std::size_t nl = b.config().listeners.size();
  std::vector<std::uint64_t> connects(nl);
  std::vector<std::int64_t> connected(nl);
  for (unsigned c = 0; c < b.core_count(); ++c) {
    const core::Stats& s = b.core(c).stats();
    for (std::size_t q = 0; q < 3; ++q) {
      in[q] += get(s.received_by_qos[q]);
      out[q] += get(s.sent_by_qos[q]);
      bin[q] += get(s.payload_received_by_qos[q]);
      bout[q] += get(s.payload_sent_by_qos[q]);
    }
    for (std::size_t i = 0; i < nl && i < s.listener_count(); ++i) {
      connects[i] += get(s.listener(i).connects);
      connected[i] += get(s.listener(i).connected);
    }
  }
  static constexpr std::string_view qos_name[3] = {"0", "1", "2"};
  auto by_qos = [&](std::string_view name, std::string_view help, const std::uint64_t (&v)[3]) {
    m.family(name, "counter", help);
    for (std::size_t q = 0; q < 3; ++q) m.sample(name, v[q], {{"qos", qos_name[q]}});
  };
  by_qos("strata_messages_received_total", "PUBLISH packets received from clients, by QoS", in);
  by_qos("strata_messages_sent_total", "PUBLISH packets sent to clients, by QoS", out);
  by_qos("strata_payload_bytes_received_total", "Payload bytes of the PUBLISH packets received, by QoS", bin);
  by_qos("strata_payload_bytes_sent_total", "Payload bytes of the PUBLISH packets sent, by QoS", bout);
  std::vector<std::string> names;
  for (const auto& l : b.config().listeners) names.push_back(l.name());
  m.family("strata_listener_connections", "gauge", "Connected MQTT clients, by listener");
  for (std::size_t i = 0; i < nl; ++i) {
    m.sample("strata_listener_connections", std::max<std::int64_t>(connected[i], 0), {{"listener", names[i]}});
  }
  m.family("strata_listener_connects_total", "counter", "Successful CONNECTs (CONNACK 0), by listener");
  for (std::size_t i = 0; i < nl; ++i) m.sample("strata_listener_connects_total", connects[i], {{"listener", names[i]}});
}

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
                  m.counter("strata_auth_failures_total",
                            "MQTT CONNECTs refused for credentials, authorization, a ban or an unknown auth "
                            "method, and failed re-authentications",
                            t.auth_failures);
                  m.gauge("strata_sessions", "Sessions, online and offline", static_cast<double>(t.sessions));
                  m.gauge("strata_subscriptions", "Subscriptions (topic filters of all sessions)",
                          static_cast<double>(r.subscriptions));
                  m.gauge("strata_retained_messages", "Retained messages", static_cast<double>(r.retained));
                  write_by_qos_and_listener(m, broker);
                  m.counter("strata_bytes_received_total", "Bytes received from clients (all packets)", t.bytes_in);
                  m.counter("strata_bytes_sent_total", "Bytes sent to clients (all packets)", t.bytes_out);
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
                  m.counter("strata_store_cancelled_puts_total",
                            "Store puts not written because a delete in the same transaction removed them",
                            get(sc.cancelled));
                  m.counter("strata_store_written_bytes_total", "Key and value bytes committed", get(sc.bytes_written));
                  m.counter("strata_store_fsyncs_total", "Store fsyncs", get(sc.fsyncs));
                  m.family("strata_store_commit_seconds_total", "counter", "Time spent in store write transactions");
                  m.sample("strata_store_commit_seconds_total", static_cast<double>(get(sc.commit_us)) / 1e6);
                  {
                    // The same commits as commit_us, bucketed by the writer.
                    constexpr auto& bounds_us = store::WriterCounters::kCommitBoundsUs;
                    std::array<double, bounds_us.size()> bounds{};
                    std::array<std::uint64_t, bounds_us.size()> cumulative{};
                    std::uint64_t count = 0;
                    for (std::size_t i = 0; i < sc.commit_le_us.size(); ++i) {
                      count += get(sc.commit_le_us[i]);
                      if (i < bounds.size()) {
                        bounds[i] = static_cast<double>(bounds_us[i]) / 1e6;
                        cumulative[i] = count;
                      }
                    }
                    m.histogram("strata_store_commit_duration_seconds", "Store write transactions by duration",
                                bounds, cumulative, count, static_cast<double>(get(sc.commit_us)) / 1e6);
                  }
                  m.gauge("strata_store_map_size_bytes", "Size of the store's memory map",
                          static_cast<double>(get(sc.map_size)));
                  m.gauge("strata_store_map_used_bytes", "Bytes of the store's map in use",
                          static_cast<double>(get(sc.map_used)));
                  m.counter("strata_store_failed_commits_total", "Store transactions that failed",
                            get(sc.failed_commits));
                  m.counter("strata_store_lost_total", "Store writes dropped because the store was full", get(sc.lost));
                  store::Store& st = broker.store();
                  m.gauge("strata_store_write_queue_bytes", "Bytes of writes waiting for the store's next commit",
                          static_cast<double>(st.pending_bytes()));
                  m.gauge("strata_store_write_queue_limit_bytes", "[store] write_queue_bytes (0: no bound)",
                          static_cast<double>(st.pending_limit()));
                  m.gauge("strata_store_writer_behind",
                          "1 while the write queue is past write_queue_bytes and publishers to bridges are held",
                          st.behind() ? 1.0 : 0.0);
                  m.counter("strata_store_writer_behind_total", "Times the write queue reached write_queue_bytes",
                            get(sc.behind));
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
