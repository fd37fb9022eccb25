// Reading [[bridge]] tables: the common keys here, each type's own keys by
// its AdapterType (adapter.hpp).
#include "bridges/bridge_config.hpp"

#include <algorithm>
#include <set>

#include "broker/router/topic.hpp"
#include "broker/uns/uns_config.hpp"

namespace strata::bridges {

namespace {

constexpr std::string_view kCommonKeys[] = {
    "name",         "type",         "enabled",  "route",         "max_bytes",     "max_messages",
    "max_age",      "overflow",     "block_timeout", "order",    "live_threshold", "qos0",
    "hops_property", "max_hops"};
constexpr std::string_view kRouteKeys[] = {"direction", "filter", "remote", "local", "qos", "retain", "rule"};

bool valid_name(std::string_view name) {
  if (name.empty() || name.size() > 64) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-' ||
           c == '.';
  });
}

Route read_route(const std::string& file, const toml::table& t, const Namespaces& namespaces) {
  config::TableReader r(file, t, "bridge.route.");
  static const config::Section section{"bridge.route", kRouteKeys, true};
  r.reject_unknown_keys(section);
  Route route;
  route.where = config::position(file, t.source());
  constexpr std::string_view directions[] = {"out", "in"};
  route.direction = config::choice(r, "direction", directions, Route::Direction::out);
  const auto* filter = r.string("filter");
  if (!filter) r.fail(t.source(), "[[bridge.route]] has no filter; expected filter = \"plant/#\"");
  route.filter = filter->get();
  if (!router::is_valid_topic_filter(route.filter) || route.filter.starts_with("$share/")) {
    r.fail(filter->source(), "bridge.route.filter '" + route.filter + "' is not a valid topic filter");
  }
  for (std::string_view key : {std::string_view("remote"), std::string_view("local")}) {
    const auto* v = r.string(key);
    if (!v) continue;
    if (v->get().empty()) r.fail(v->source(), "bridge.route." + std::string(key) + " is empty; expected a topic template such as \"{topic}\"");
    try {
      route_template(route, v->get(), namespaces);
    } catch (const TemplateError& e) {
      r.fail(v->source(), "bridge.route." + std::string(key) + ": " + e.what());
    }
    (key == "remote" ? route.remote : route.local) = v->get();
  }
  int qos = 2;
  r.integer("qos", 0, 2, qos);
  route.qos = static_cast<protocol::QoS>(qos);
  constexpr std::string_view retains[] = {"keep", "clear"};
  route.retain = config::choice(r, "retain", retains, Route::Retain::keep);
  r.text("rule", route.rule);
  return route;
}

}  // namespace

std::span<const std::string_view> common_bridge_keys() { return kCommonKeys; }
std::span<const std::string_view> route_keys() { return kRouteKeys; }

std::string_view state_name(AdapterState s) noexcept {
  switch (s) {
    case AdapterState::connecting: return "connecting";
    case AdapterState::connected: return "connected";
    case AdapterState::backing_off: return "backing_off";
    case AdapterState::paused: return "paused";
    case AdapterState::disabled: return "disabled";
  }
  return "unknown";
}

void read_bounds(const config::TableReader& r, OutboxBounds& out) {
  r.integer("max_bytes", 1024, 1ll << 40, out.max_bytes);
  r.integer("max_messages", 1, 1'000'000'000'000ll, out.max_messages);
  r.integer("max_age", 0, 10ll * 365 * 24 * 3600, out.max_age);
  constexpr std::string_view policies[] = {"block", "drop_oldest", "drop_new"};
  out.overflow = config::choice(r, "overflow", policies, out.overflow);
  r.integer("block_timeout", 1, 3600, out.block_timeout);
}

TopicTemplate route_template(const Route& route, const std::string& text, const Namespaces& namespaces) {
  return TopicTemplate::compile(text, route.filter, {}, namespaces);
}

std::vector<ParsedBridge> read_bridges(const config::Document& doc, const AdapterTypes& types) {
  const std::string& file = doc.name;
  const toml::table& root = doc.root;
  Namespaces namespaces;
  if (root.contains("bridge")) {
    uns::UnsConfig u = uns::read_uns_config(doc);
    if (u.enabled && !u.namespaces.empty()) {
      namespaces = std::make_shared<const std::vector<uns::NamespaceModel>>(std::move(u.namespaces));
    }
  }
  std::vector<ParsedBridge> out;
  std::set<std::string, std::less<>> names;
  for (const toml::table* t : config::section_tables(file, root, "bridge")) {
    config::TableReader r(file, *t, "bridge.");
    auto cfg = std::make_unique<BridgeConfig>();
    cfg->where = config::position(file, t->source());
    cfg->namespaces = namespaces;
    const auto* name = r.string("name");
    if (!name) r.fail(t->source(), "[[bridge]] has no name; expected name = \"factory\"");
    if (!valid_name(name->get())) {
      r.fail(name->source(), "bridge.name '" + name->get() + "' is not valid; expected 1 to 64 of A-Z a-z 0-9 _ - .");
    }
    if (!names.insert(name->get()).second) {
      r.fail(name->source(), "bridge.name '" + name->get() + "' is used by another [[bridge]]");
    }
    cfg->name = name->get();
    const auto* type = r.string("type");
    if (!type) r.fail(t->source(), "[[bridge]] '" + cfg->name + "' has no type; expected type = \"mqtt\"");
    const AdapterType* at = types.find(type->get());
    if (!at) {
      auto known = types.names();
      r.fail(type->source(), "bridge.type '" + type->get() + "' is not valid; expected one of " + config::joined(known));
    }
    cfg->type = type->get();
    std::vector<std::string_view> keys(std::begin(kCommonKeys), std::end(kCommonKeys));
    keys.insert(keys.end(), at->keys.begin(), at->keys.end());
    const config::Section section{"bridge", keys, true};
    r.reject_unknown_keys(section);
    r.boolean("enabled", cfg->enabled);
    read_bounds(r, cfg->bounds);
    constexpr std::string_view orders[] = {"strict", "live_first"};
    cfg->order = config::choice(r, "order", orders, Order::strict);
    r.integer("live_threshold", 1, 1'000'000'000'000ll, cfg->live_threshold);
    constexpr std::string_view qos0[] = {"queue", "drop_when_offline"};
    cfg->qos0 = config::choice(r, "qos0", qos0, Qos0Policy::queue);
    r.text("hops_property", cfg->hops_property);
    r.integer("max_hops", 1, 255, cfg->max_hops);
    for (const toml::table* rt : config::section_tables(file, *t, "route")) cfg->routes.push_back(read_route(file, *rt, namespaces));
    ParsedBridge parsed;
    parsed.adapter = at->make(*cfg, r);
    parsed.config = std::move(cfg);
    out.push_back(std::move(parsed));
  }
  return out;
}

}  // namespace strata::bridges
