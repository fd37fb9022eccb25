#include "broker/uns/namespace_hook.hpp"

#include <cmath>

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <boost/asio/post.hpp>

#include "broker/config/table_reader.hpp"
#include "broker/core/broker.hpp"
#include "broker/core/clock.hpp"
#include "broker/router/topic.hpp"
#include "broker/uns/model.hpp"
#include "broker/util/log.hpp"

namespace strata::uns {

ContractCounters::Totals ContractCounters::totals() const {
  Totals t;
  for (const PerCore& c : cores) {
    t.matched += c.matched.load(std::memory_order_relaxed);
    t.passed += c.passed.load(std::memory_order_relaxed);
    for (std::size_t k = 0; k < kKindCount; ++k) {
      std::uint64_t n = c.failed[k].load(std::memory_order_relaxed);
      t.by_kind[k] += n;
      t.failed += n;
    }
  }
  return t;
}

std::shared_ptr<const Rules> make_rules(UnsConfig config, std::uint32_t generation, unsigned cores,
                                        std::map<std::string, std::shared_ptr<ContractCounters>>& counters) {
  auto rules = std::make_shared<Rules>();
  rules->generation = generation;
  for (const auto& c : config.contracts) {
    auto& slot = counters[c->name()];
    if (!slot) slot = std::make_shared<ContractCounters>(cores);
    rules->counters.push_back(slot);
  }
  rules->config = std::move(config);
  return rules;
}

NamespaceHook::NamespaceHook(UnsConfig config, unsigned cores, Publisher publish, Clock clock)
    : publish_(std::move(publish)), clock_(std::move(clock)) {
  std::uint64_t max = config.catalog_max_topics;
  latest_ = make_rules(std::move(config), 1, cores, counters_);
  for (unsigned i = 0; i < cores; ++i) {
    cores_.push_back(std::make_unique<PerCore>(max));
    cores_.back()->rules = latest_;
  }
}

NamespaceHook::~NamespaceHook() = default;

void NamespaceHook::refresh(CatalogEntry& e, const Rules& rules, std::string_view topic) const {
  e.generation = rules.generation;
  ModelResult m = place_topic(rules.config.namespaces, topic);
  e.model_ns = m.ns;
  e.place = std::move(m.place);
  e.model_error = m.error.empty() ? nullptr : std::make_shared<const std::string>(std::move(m.error));
  e.contracts.clear();
  const auto& contracts = rules.config.contracts;
  for (std::size_t i = 0; i < contracts.size(); ++i) {
    if (router::topic_matches(contracts[i]->filter(), topic)) e.contracts.push_back(static_cast<std::uint16_t>(i));
  }
}

namespace {

bool looks_like_json(std::string_view p) {
  for (char c : p) {
    if (c == ' ' || c == '\t' || c == '\r' || c == '\n') continue;
    return c == '{' || c == '[';
  }
  return false;
}

std::string redirect_to(const std::string& pattern, std::string_view topic) {
  std::string out = pattern;
  if (auto at = out.find("{topic}"); at != std::string::npos) out.replace(at, 7, topic);
  return out;
}

std::string describe(const ViolationRecord& v) {
  std::string s = v.contract.starts_with("namespace:") ? v.contract : "contract " + v.contract + " v" + v.version;
  s += ": ";
  s += kKindNames[static_cast<std::size_t>(v.kind)];
  if (v.kind != Kind::model && v.kind != Kind::not_json) s += " at " + (v.pointer.empty() ? std::string("/") : v.pointer);
  if (!v.detail.empty()) s += " (" + v.detail + ")";
  return s;
}

}  // namespace

core::HookVerdict NamespaceHook::on_publish(router::MessagePtr& msg, unsigned core) {
  PerCore& pc = *cores_[core];
  const Rules& rules = *pc.rules;
  const router::Message& m = *msg;
  if (!rules.config.enabled || m.topic.empty() || m.topic[0] == '$') return core::HookVerdict::pass;
  const std::uint64_t now = clock_();
  bool created = false;
  CatalogEntry& e = pc.catalog.touch(m.topic, created);
  if (created) {
    pc.topics.store(pc.catalog.size(), std::memory_order_relaxed);
    pc.evicted.store(pc.catalog.evicted(), std::memory_order_relaxed);
  }
  if (e.generation != rules.generation) refresh(e, rules, m.topic);

  // Parse once, for the contracts, the catalog's schema and the rules.
  std::shared_ptr<Annotation> note;
  const bool want_json = !e.contracts.empty() || looks_like_json(m.payload);
  if (want_json || e.place) {
    note = std::make_shared<Annotation>();
    note->place = e.place;
    if (want_json) {
      note->parsed = true;
      note->json_ok = parse_json(m.payload, note->json, note->json_error);
    }
    m.uns = note;  // see router::Message::uns: set before routing, on this core
  }
  const rapidjson::Value* doc = note && note->json_ok ? &note->json : nullptr;

  auto record_of = [&](Kind kind) {
    ViolationRecord v;
    v.at_ms = now;
    v.topic = m.topic;
    v.client_id = m.publisher;
    v.kind = kind;
    v.sample = m.payload.substr(0, rules.config.violation_sample_bytes);
    return v;
  };

  if (e.model_error) {
    const auto* ns = static_cast<const NamespaceModel*>(e.model_ns);
    add(pc.model_violations);
    ViolationRecord v = record_of(Kind::model);
    v.contract = "namespace:" + ns->prefix;
    v.detail = *e.model_error;
    v.action = ns->action;
    core::HookVerdict verdict = act(pc, msg, e, std::move(v), ns->redirect_topic, ns->reject_disconnect, now);
    if (ns->action != Action::observe) return verdict;
  }

  for (std::uint16_t i : e.contracts) {
    const Contract& c = *rules.config.contracts[i];
    ContractCounters::PerCore& counters = rules.counters[i]->cores[core];
    add(counters.matched);
    std::optional<Failure> f = c.check(doc, note ? note->json_error : std::string());
    if (!f) {
      add(counters.passed);
    } else {
      add(counters.failed[static_cast<std::size_t>(f->kind)]);
      ViolationRecord v = record_of(f->kind);
      v.contract = c.name();
      v.version = c.version();
      v.pointer = std::move(f->pointer);
      v.detail = std::move(f->detail);
      v.action = c.action;
      core::HookVerdict verdict = act(pc, msg, e, std::move(v), c.redirect_topic, c.reject_disconnect, now);
      if (c.action != Action::observe) return verdict;
    }
    if (!c.all) break;
  }

  // Accepted: into the catalog.
  std::shared_ptr<const InferredSchema> before = e.versions.empty() ? nullptr : e.versions[e.current].schema;
  int fresh = pc.catalog.record(e, m, doc, now, rules.config.catalog_value_bytes);
  if (fresh >= 0 && before) {
    add(pc.drift_events);
    publish_drift(core, m, e, before, now);  // last: it may re-enter the publish path
  }
  return core::HookVerdict::pass;
}

core::HookVerdict NamespaceHook::act(PerCore& pc, router::MessagePtr& msg, CatalogEntry& e, ViolationRecord&& v,
                                     const std::string& redirect_topic, bool reject_disconnect, std::uint64_t now) {
  ++e.violations;
  const Rules& rules = *pc.rules;
  std::string text = describe(v);
  // Logged at most 5 times per second per core, so a flood does not flood the log.
  if (now / 1000 != pc.log_window_ms) {
    pc.log_window_ms = now / 1000;
    pc.logged = 0;
  }
  if (pc.logged++ < 5) {
    STRATA_INFO("uns") << kActionNames[static_cast<std::size_t>(v.action)] << " " << v.topic << " from "
                       << v.client_id << ": " << text;
  }
  core::HookVerdict verdict = core::HookVerdict::pass;
  switch (v.action) {
    case Action::reject:
      add(pc.rejected);
      pc.refusal.code = protocol::ReasonCode::payload_format_invalid;
      pc.refusal.reason = text.size() > 256 ? text.substr(0, 256) : text;
      pc.refusal.close_v311 = reject_disconnect;
      verdict = core::HookVerdict::reject;
      break;
    case Action::redirect: {
      add(pc.redirected);
      auto copy = router::Message::copy(*msg, redirect_to(redirect_topic, msg->topic), msg->payload);
      protocol::UserProperties& up = copy->properties.edit().user_properties;
      up.emplace_back("strata-contract", v.contract);
      if (!v.version.empty()) up.emplace_back("strata-contract-version", v.version);
      up.emplace_back("strata-violation", text);
      msg = std::move(copy);
      break;
    }
    case Action::observe:
      add(pc.observed);
      break;
  }
  e.last_violation = std::make_unique<ViolationRecord>(v);
  if (rules.config.violations_kept > 0) {
    if (pc.violations.size() >= rules.config.violations_kept) pc.violations.pop_front();
    pc.violations.push_back(std::move(v));
  }
  return verdict;
}

void NamespaceHook::publish_drift(unsigned core, const router::Message& m, const CatalogEntry& e,
                                  const std::shared_ptr<const InferredSchema>& before, std::uint64_t now) {
  const InferredSchema& after = *e.versions[e.current].schema;
  std::string changes = describe_drift(*before, after);
  STRATA_INFO("uns") << "schema drift on " << m.topic << ": " << changes;
  if (!cores_[core]->rules->config.drift_events) return;
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  w.StartObject();
  w.Key("topic");
  w.String(m.topic.data(), static_cast<rapidjson::SizeType>(m.topic.size()));
  w.Key("time_ms");
  w.Uint64(now);
  w.Key("version");
  w.Uint(static_cast<unsigned>(e.versions.size()));
  w.Key("changes");
  w.String(changes.c_str(), static_cast<rapidjson::SizeType>(changes.size()));
  w.Key("fields");
  w.StartObject();
  for (const Field& f : after.fields) {
    std::string t = type_names(f.types);
    w.Key(f.path.c_str(), static_cast<rapidjson::SizeType>(f.path.size()));
    w.String(t.c_str(), static_cast<rapidjson::SizeType>(t.size()));
  }
  w.EndObject();
  w.Key("client_id");
  w.String(m.publisher.c_str(), static_cast<rapidjson::SizeType>(m.publisher.size()));
  w.EndObject();
  auto event = router::Message::make("$uns/drift/" + std::string(m.topic), std::string_view(buf.GetString(), buf.GetSize()));
  event->publisher = "$uns";
  event->properties.edit().content_type = "application/json";
  if (publish_) publish_(std::move(event), core);
}

NamespaceHook::Totals NamespaceHook::totals() const {
  Totals t;
  for (const auto& pc : cores_) {
    t.topics += pc->topics.load(std::memory_order_relaxed);
    t.evicted += pc->evicted.load(std::memory_order_relaxed);
    t.drift_events += pc->drift_events.load(std::memory_order_relaxed);
    t.model_violations += pc->model_violations.load(std::memory_order_relaxed);
    t.rejected += pc->rejected.load(std::memory_order_relaxed);
    t.redirected += pc->redirected.load(std::memory_order_relaxed);
    t.observed += pc->observed.load(std::memory_order_relaxed);
  }
  return t;
}

std::vector<std::pair<std::string, std::pair<std::string, ContractCounters::Totals>>>
NamespaceHook::contract_totals() const {
  std::vector<std::pair<std::string, std::pair<std::string, ContractCounters::Totals>>> out;
  std::shared_ptr<const Rules> rules;
  {
    std::lock_guard lock(latest_mutex_);
    rules = latest_;
  }
  for (std::size_t i = 0; i < rules->config.contracts.size(); ++i) {
    out.push_back({rules->config.contracts[i]->name(),
                   {rules->config.contracts[i]->version(), rules->counters[i]->totals()}});
  }
  return out;
}

std::vector<std::pair<std::shared_ptr<const Contract>, ContractCounters::Totals>>
NamespaceHook::contract_totals_any_thread() const {
  std::shared_ptr<const Rules> rules;
  {
    std::lock_guard lock(latest_mutex_);
    rules = latest_;
  }
  std::vector<std::pair<std::shared_ptr<const Contract>, ContractCounters::Totals>> out;
  for (std::size_t i = 0; i < rules->config.contracts.size(); ++i) {
    out.emplace_back(rules->config.contracts[i], rules->counters[i]->totals());
  }
  return out;
}

std::string NamespaceHook::reconfigure(UnsConfig fresh,
                                       const std::function<void(unsigned, std::function<void()>)>& post) {
  std::string what;
  const auto& old = latest_->config.contracts;
  for (const auto& c : fresh.contracts) {
    auto it = std::find_if(old.begin(), old.end(), [&](const auto& o) { return o->name() == c->name(); });
    if (it == old.end()) {
      what += " +" + c->name() + " v" + c->version();
    } else if ((*it)->version() != c->version()) {
      what += " " + c->name() + " v" + (*it)->version() + " -> v" + c->version();
    }
  }
  for (const auto& o : old) {
    if (std::none_of(fresh.contracts.begin(), fresh.contracts.end(), [&](const auto& c) { return c->name() == o->name(); })) {
      what += " -" + o->name();
    }
  }
  std::uint64_t max = fresh.catalog_max_topics;
  auto rules = make_rules(std::move(fresh), latest_->generation + 1, core_count(), counters_);
  {
    std::lock_guard lock(latest_mutex_);
    latest_ = rules;
  }
  for (unsigned i = 0; i < core_count(); ++i) {
    post(i, [this, i, rules, max] {
      cores_[i]->rules = rules;
      cores_[i]->catalog.set_max_topics(max);
      cores_[i]->topics.store(cores_[i]->catalog.size(), std::memory_order_relaxed);
    });
  }
  std::string summary = "[uns] reloaded: " + std::to_string(rules->config.contracts.size()) + " contract(s), " +
                        std::to_string(rules->config.namespaces.size()) + " namespace(s)";
  if (!what.empty()) summary += ";" + what;
  return summary;
}

bool NamespaceHook::enabled() const {
  std::lock_guard lock(latest_mutex_);
  return latest_->config.enabled;
}

void NamespaceHook::restore_topic(unsigned core, std::string_view topic, const SnapshotTopic& t) {
  PerCore& pc = *cores_[core];
  bool created = false;
  CatalogEntry& e = pc.catalog.touch(topic, created);
  e.first_ms = t.first_ms;
  e.last_ms = t.last_ms;
  e.count = t.count;
  e.violations = t.violations;
  e.size = t.size;
  e.qos = t.qos;
  e.kind = t.kind;
  e.retain = t.retain;
  e.truncated = t.truncated;
  e.value = t.value;
  e.publisher = pc.catalog.intern_publisher(t.publisher);
  // The rates were read at taken_ms; an entry's rate is as of its last_ms
  // (Rate::at decays from there), so undo the decay between the two.
  auto at_last = [&t](double rate, float tau_s) -> float {
    if (t.taken_ms <= t.last_ms || !(rate > 0)) return rate > 0 ? static_cast<float>(rate) : 0.0f;
    double x = static_cast<double>(t.taken_ms - t.last_ms) / 1000.0 / tau_s;
    return x > 60 ? 0.0f : static_cast<float>(rate * std::exp(x));
  };
  e.rate_fast.value = at_last(t.rate_per_s, 10.0f);
  e.rate_slow.value = at_last(t.rate_per_min / 60.0, 300.0f);
  if (t.properties.empty()) {
    e.properties.reset();
  } else {
    e.properties = std::make_unique<LastProperties>(t.properties);
  }
  if (const auto& v = t.last_violation) {
    e.last_violation = std::make_unique<ViolationRecord>(ViolationRecord{
        v->at_ms, std::string(topic), v->client_id, v->contract, v->version, v->pointer, static_cast<Kind>(v->kind),
        v->detail, v->sample, static_cast<Action>(v->action)});
  }
  e.versions.clear();
  for (const SnapshotVersion& v : t.versions) {
    InferredSchema s;
    s.hash = v.hash;
    for (const SnapshotField& f : v.fields) s.fields.push_back(Field{f.path, f.types});
    e.versions.push_back(SchemaVersion{pc.catalog.intern(std::move(s)), v.first_ms, v.last_ms, v.count});
  }
  e.current = t.current < e.versions.size() ? t.current : 0;
  refresh(e, *pc.rules, topic);
  pc.topics.store(pc.catalog.size(), std::memory_order_relaxed);
}

std::string NamespaceHook::put_contract(std::shared_ptr<const Contract> c) {
  UnsConfig fresh = latest_->config;
  auto it = std::find_if(fresh.contracts.begin(), fresh.contracts.end(),
                         [&](const auto& o) { return o->name() == c->name(); });
  if (it == fresh.contracts.end()) {
    fresh.contracts.push_back(std::move(c));
  } else {
    *it = std::move(c);
  }
  return reconfigure(std::move(fresh), post_);
}

std::string NamespaceHook::remove_contract(const std::string& name) {
  UnsConfig fresh = latest_->config;
  auto it = std::find_if(fresh.contracts.begin(), fresh.contracts.end(),
                         [&](const auto& o) { return o->name() == name; });
  if (it == fresh.contracts.end()) return {};
  fresh.contracts.erase(it);
  return reconfigure(std::move(fresh), post_);
}

void NamespaceHook::attach(core::Broker& broker) {
  post_ = [&broker](unsigned core, std::function<void()> fn) { boost::asio::post(broker.core(core).io(), std::move(fn)); };
  publish_ = [&broker](router::MessagePtr msg, unsigned core) { broker.core(core).publish(std::move(msg), nullptr); };
  broker.add_reload_hook([this, &broker](const config::Config& fresh) -> std::string {
    if (!fresh.document) return {};
    UnsConfig cfg = read_uns_config(*fresh.document);  // throws with file:line: the running one stays
    if (overlay_) overlay_(cfg);
    if (!cfg.enabled && !latest_->config.enabled) return {};
    return reconfigure(std::move(cfg), [&broker](unsigned core, std::function<void()> fn) {
      boost::asio::post(broker.core(core).io(), std::move(fn));
    });
  });
  broker.add_sys_source([this](const core::Broker::SysPublish& publish) {
    {
      std::lock_guard lock(latest_mutex_);
      if (!latest_->config.enabled) return;  // nothing under $SYS/uns while off
    }
    Totals t = totals();
    publish("$SYS/uns/catalog/topics", std::to_string(t.topics));
    publish("$SYS/uns/catalog/evicted", std::to_string(t.evicted));
    publish("$SYS/uns/drift_events", std::to_string(t.drift_events));
    publish("$SYS/uns/model_violations", std::to_string(t.model_violations));
    publish("$SYS/uns/rejected", std::to_string(t.rejected));
    publish("$SYS/uns/redirected", std::to_string(t.redirected));
    publish("$SYS/uns/observed", std::to_string(t.observed));
    for (const auto& [name, vc] : contract_totals()) {
      const auto& [version, c] = vc;
      std::string prefix = "$SYS/uns/contracts/" + name + "/";
      publish(prefix + "version", version);
      publish(prefix + "matched", std::to_string(c.matched));
      publish(prefix + "passed", std::to_string(c.passed));
      publish(prefix + "failed", std::to_string(c.failed));
      for (std::size_t k = 0; k < kKindCount; ++k) {
        publish(prefix + "failed/" + std::string(kKindNames[k]), std::to_string(c.by_kind[k]));
      }
    }
  });
}

}  // namespace strata::uns
