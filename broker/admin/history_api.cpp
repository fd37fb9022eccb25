// GET /api/v1/stats/history (the last hour, history_sampler.hpp) and
// GET /api/v1/alarms (alarms.hpp), with the store's own alarms: its LMDB
// map or the disk under data_dir nearly full.
#include <algorithm>
#include <chrono>
#include <filesystem>

#include <boost/asio/post.hpp>

#include "broker/admin/endpoints.hpp"
#include "broker/admin/history_sampler.hpp"
#include "broker/admin/server.hpp"
#include "broker/core/clock.hpp"

namespace strata::admin {

namespace {

// The store's alarms at these fractions of the map or of the disk.
constexpr double kStoreWarn = 0.80;
constexpr double kStoreCritical = 0.95;

std::string percent(double f) { return std::to_string(static_cast<int>(f * 100.0 + 0.5)) + " %"; }

void store_alarms(core::Broker& broker, std::vector<Alarm>& out) {
  store::WriterCounters& sc = broker.store().counters();
  const auto size = sc.map_size.load(std::memory_order_relaxed);
  const auto used = sc.map_used.load(std::memory_order_relaxed);
  if (broker.store().full()) {
    out.push_back({"store.full", "critical", "store",
                   "The store is full: QoS 1/2 publishes are refused until space is freed"});
  } else if (size > 0) {
    double f = static_cast<double>(used) / static_cast<double>(size);
    if (f >= kStoreWarn) {
      out.push_back({"store.map_nearly_full", f >= kStoreCritical ? "critical" : "warning", "store",
                     "The store's map is " + percent(f) + " used"});
    }
  }
  std::error_code ec;
  std::filesystem::space_info disk = std::filesystem::space(broker.config().data_dir, ec);
  if (!ec && disk.capacity > 0) {
    double f = 1.0 - static_cast<double>(disk.available) / static_cast<double>(disk.capacity);
    if (f >= kStoreWarn) {
      out.push_back({"store.disk_nearly_full", f >= kStoreCritical ? "critical" : "warning", "store",
                     "The disk under the data directory is " + percent(f) + " used"});
    }
  }
}

void write_sample(JsonWriter& w, const StatsSample& s) {
  w.StartObject();
  w.Key("time_ms");
  w.Uint64(s.time_ms);
  w.Key("connections");
  w.Int64(s.connections);
  w.Key("messages_in_per_second");
  w.Double(s.messages_in_per_second);
  w.Key("messages_out_per_second");
  w.Double(s.messages_out_per_second);
  w.Key("dropped");
  w.Uint64(s.dropped);
  w.Key("retained");
  w.Uint64(s.retained);
  w.Key("sessions");
  w.Uint64(s.sessions);
  w.Key("bridges");
  w.StartArray();
  for (const BridgeReading& b : s.bridges) {
    w.StartObject();
    w.Key("name");
    write_string(w, b.name);
    w.Key("lag_ms");
    w.Uint64(b.lag_ms);
    w.Key("queued_messages");
    w.Uint64(b.queued_messages);
    w.Key("queued_bytes");
    w.Uint64(b.queued_bytes);
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
}

}  // namespace

void HistorySampler::start() {
  boost::asio::post(api_.io(), [this] { sample(); });
}

void HistorySampler::schedule() {
  timer_.expires_after(StatsHistory::kInterval);
  timer_.async_wait([this](boost::system::error_code ec) {
    if (!ec) sample();
  });
}

void HistorySampler::sample() {
  core::Broker& b = api_.broker();
  auto r = std::make_shared<StatsReading>();
  r->time_ms = core::now_ms();
  auto get = [](const auto& a) { return a.load(std::memory_order_relaxed); };
  for (unsigned i = 0; i < b.core_count(); ++i) {
    const core::Stats& s = b.core(i).stats();
    r->received += get(s.messages_received);
    r->sent += get(s.messages_sent);
    r->dropped += get(s.messages_dropped);
    r->connections += get(s.clients_connected);
  }
  r->connections = std::max<std::int64_t>(r->connections, 0);
  r->sessions = b.session_count();
  for (const HistorySource& source : api_.history_sources()) source(*r);
  schedule();
  api_.on_core<std::size_t>(
      0, [](core::Core& c) { return c.retained().size(); },
      [this, r](std::size_t retained) {
        r->retained = retained;
        history_.record(*r);
      });
}

void add_history_api(Server& server) {
  Api& api = server.api();
  core::Broker& broker = api.broker();

  api.add(http::verb::get, "/api/v1/stats/history", Access::viewer,
          [&server](const Request& req, Reply reply) {
            auto since = static_cast<std::uint64_t>(req.int_arg("since", 0, 0, INT64_MAX));
            const StatsHistory& h = server.history().history();
            std::vector<StatsSample> samples = h.since(since);
            reply.json(json_of([&](JsonWriter& w) {
              w.StartObject();
              w.Key("interval_seconds");
              w.Uint64(static_cast<std::uint64_t>(StatsHistory::kInterval.count()));
              w.Key("capacity");
              w.Uint64(h.capacity());
              w.Key("samples");
              w.StartArray();
              for (const StatsSample& s : samples) write_sample(w, s);
              w.EndArray();
              w.EndObject();
            }));
          },
          "The last hour of connections, messages in/out per second, dropped, retained, sessions and each "
          "bridge's lag and outbox depth, one sample every 10 s; ?since= (unix ms) answers only newer samples");

  api.add(http::verb::get, "/api/v1/alarms", Access::viewer,
          [&api, &broker](const Request&, Reply reply) {
            std::vector<Alarm> alarms;
            store_alarms(broker, alarms);
            for (const AlarmSource& source : api.alarm_sources()) source(alarms);
            std::stable_sort(alarms.begin(), alarms.end(), [](const Alarm& a, const Alarm& b) {
              return severity_rank(a.severity) < severity_rank(b.severity);
            });
            reply.json(json_of([&](JsonWriter& w) {
              w.StartObject();
              w.Key("alarms");
              w.StartArray();
              for (const Alarm& a : alarms) {
                w.StartObject();
                w.Key("id");
                write_string(w, a.id);
                w.Key("severity");
                write_string(w, a.severity);
                w.Key("subject");
                write_string(w, a.subject);
                w.Key("message");
                write_string(w, a.message);
                w.EndObject();
              }
              w.EndArray();
              w.EndObject();
            }));
          },
          "What needs attention now: store or disk nearly full, bridge outboxes filling, rules faulted or "
          "disabled, contracts failing; critical first");
}

}  // namespace strata::admin
