#include "broker/historian/historian.hpp"

#include <iostream>

#include "broker/core/clock.hpp"
#include "broker/historian/history_api.hpp"
#include "broker/router/topic.hpp"
#include "broker/util/log.hpp"

namespace strata::historian {


bool Historian::Filters::matches(std::string_view topic) const {
  bool in = false;
  for (const std::string& f : include) {
    if (router::topic_matches(f, topic)) {
      in = true;
      break;
    }
  }
  if (!in) return false;
  for (const std::string& f : exclude) {
    if (router::topic_matches(f, topic)) return false;
  }
  return true;
}

Historian::Historian(core::Broker& broker, const HistorianConfig& config)
    : broker_(broker),
      config_(config),
      store_(broker.store().env(), HistoryDbs::open(broker.store().env()), config,
             [] { return static_cast<std::int64_t>(core::now_ms()); }),
      engine_(broker.store().env(), store_.dbs()) {
  broker.store().writer().set_client(&store_);
  auto f = std::make_shared<Filters>(Filters{config.filters, config.exclude});
  filters_.assign(broker.core_count(), f);
  if (config.filters.empty()) {
    STRATA_WARN("historian") << "enabled without filters: nothing is recorded (set [historian] filters)";
  }
  broker.add_reload_hook([this](const config::Config& fresh) { return reload(fresh); });
  broker.add_sys_source([this](const core::Broker::SysPublish& publish) {
    Counters& c = store_.counters();
    auto n = [](const std::atomic<std::uint64_t>& a) { return std::to_string(a.load(std::memory_order_relaxed)); };
    const std::string p = "$SYS/broker/historian/";
    publish(p + "messages", n(c.messages));
    publish(p + "points", n(c.points));
    publish(p + "late_points", n(c.late_points));
    publish(p + "raw_messages", n(c.raw_messages));
    publish(p + "dropped_points", n(c.dropped_points));
    publish(p + "pruned_points", n(c.pruned_points));
    publish(p + "pruned_messages", n(c.pruned_messages));
    publish(p + "size_pruned", n(c.size_pruned));
    publish(p + "bytes", n(c.bytes));
  });
}

Historian::~Historian() {
  if (prune_timer_) prune_timer_->cancel();
}

core::HookVerdict Historian::on_publish(router::MessagePtr& msg, unsigned core) {
  if (filters_[core]->matches(msg->topic)) {
    store::Op op;
    op.kind = store::Op::Kind::client;
    op.msg = msg;
    op.stamp = static_cast<std::int64_t>(core::now_ms());
    broker_.store().writer().push(core, std::move(op));
  }
  return core::HookVerdict::pass;
}

std::optional<std::pair<std::int64_t, double>> Historian::last(std::string_view series) const {
  auto info = engine_.find(series);
  if (!info || info->rec.count == 0) return std::nullopt;
  return std::make_pair(info->rec.last_t, info->rec.last_v);
}

bool Historian::range(std::string_view series, std::int64_t from, std::int64_t to, std::int64_t interval,
                      std::string_view agg, std::size_t max_rows, std::vector<std::pair<std::int64_t, double>>& out,
                      std::string& error) const {
  auto a = parse_agg(agg);
  if (!a) {
    error = "agg '" + std::string(agg) + "' is not one of avg, min, max, sum, count, first, last";
    return false;
  }
  if (interval <= 0 || to <= from || from < 0) {
    error = "expected from < to and an interval > 0 (ms)";
    return false;
  }
  Query q;
  q.series = series;
  q.from = from;
  q.to = to;
  q.interval = interval;
  q.agg = *a;
  q.limit = max_rows;
  Result r;
  if (!engine_.run(q, r, error)) return false;
  for (const Row& row : r.rows) {
    if (row.v) out.emplace_back(row.t, *row.v);
  }
  return true;
}

void Historian::start() {
  prune_timer_ = std::make_unique<boost::asio::steady_timer>(broker_.core(0).io());
  schedule_prune();
}

void Historian::schedule_prune() {
  prune_timer_->expires_after(std::chrono::seconds(1));
  prune_timer_->async_wait([this](const boost::system::error_code& ec) {
    if (ec) return;
    store::Op op;
    op.kind = store::Op::Kind::client;  // no message: a retention step
    broker_.store().writer().push(0, std::move(op));
    schedule_prune();
  });
}

std::string Historian::reload(const config::Config& fresh) {
  HistorianConfig next = read_historian_config(fresh);  // throws on a bad section
  if (next == config_) return {};
  std::string what = "historian: settings reloaded";
  if (next.enabled != config_.enabled) what += " (enabled changes on restart)";
  store_.set_settings(next);
  auto f = std::make_shared<const Filters>(Filters{next.filters, next.exclude});
  broker_.post_to_cores(broker_.core_count(), [this, f](core::Core& c) { filters_[c.index()] = f; });
  config_ = next;
  return what;
}

int run_offline_request(const config::Config& config, const std::string& request,
                        const std::optional<std::string>& body, std::ostream& out) {
  try {
    store::LmdbEnv env(config.data_dir, config.store);
    QueryEngine engine(env, HistoryDbs::open(env));
    std::string_view req(request);
    std::size_t q = req.find('?');
    std::string_view path = req.substr(0, q);
    std::string_view query = q == std::string_view::npos ? std::string_view{} : req.substr(q + 1);
    ApiAnswer a = dispatch(engine, body ? "POST" : "GET", path, query, body ? *body : std::string_view{});
    out << a.body;
    if (a.content_type == "application/json") out << "\n";
    return a.status / 100 == 2 ? 0 : 1;
  } catch (const std::exception& e) {
    std::cerr << "strata: " << e.what() << "\n";
    return 1;
  }
}

}  // namespace strata::historian
