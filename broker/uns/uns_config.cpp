#include "broker/uns/uns_config.hpp"

#include <filesystem>
#include <fstream>
#include <sstream>

#include "broker/router/topic.hpp"

namespace strata::uns {
namespace {

using config::ConfigError;
using config::Section;
using config::TableReader;

constexpr std::string_view kUnsKeys[] = {"enabled",         "catalog_max_topics",     "catalog_value_bytes",
                                         "violations_kept", "violation_sample_bytes", "drift_events",
                                         "namespace",       "contract",               "snapshot_interval"};
constexpr std::string_view kNamespaceKeys[] = {"prefix",         "prefix_is_root", "levels",
                                               "allowed",        "level_patterns", "action",
                                               "redirect_topic", "reject_disconnect"};
constexpr std::string_view kContractKeys[] = {"name",           "filter",            "schema", "shape", "action",
                                              "redirect_topic", "reject_disconnect", "all",    "version"};

// "A-Za-z0-9_-" -> the set of allowed bytes; a '-' first or last is itself.
bool parse_allowed(const std::string& spec, std::vector<bool>& set) {
  set.assign(256, false);
  for (std::size_t i = 0; i < spec.size(); ++i) {
    auto c = static_cast<unsigned char>(spec[i]);
    if (i + 2 < spec.size() && spec[i + 1] == '-') {
      auto to = static_cast<unsigned char>(spec[i + 2]);
      if (to < c) return false;
      for (unsigned x = c; x <= to; ++x) set[x] = true;
      i += 2;
    } else {
      set[c] = true;
    }
  }
  return true;
}

void read_action(const TableReader& r, Action& action, std::string& redirect_topic, bool& reject_disconnect) {
  action = config::choice(r, "action", kActionNames, action);
  r.text("redirect_topic", redirect_topic);
  if (const auto* t = r.string("redirect_topic")) {
    std::string probe = t->get();
    if (auto at = probe.find("{topic}"); at != std::string::npos) probe.replace(at, 7, "x");
    if (!router::is_valid_topic_name(probe)) {
      r.fail(t->source(), r.label() + "redirect_topic '" + t->get() + "' is not a valid topic name");
    }
  }
  r.boolean("reject_disconnect", reject_disconnect);
}

NamespaceModel read_namespace(const std::string& file, const toml::table& t, std::size_t index) {
  TableReader r(file, t, "uns.namespace[" + std::to_string(index) + "].");
  r.reject_unknown_keys(Section{"uns.namespace", kNamespaceKeys, true});
  NamespaceModel ns;
  const auto* prefix = r.string("prefix");
  if (!prefix) r.fail(t.source(), r.label() + "prefix is missing; expected the governed topic prefix, e.g. \"acme\"");
  ns.prefix = prefix->get();
  if (ns.prefix.empty() || !router::is_valid_topic_name(ns.prefix) || ns.prefix.back() == '/' ||
      ns.prefix.front() == '$') {
    r.fail(prefix->source(), r.label() + "prefix '" + ns.prefix + "' is not a topic prefix (levels without wildcards, not $)");
  }
  r.boolean("prefix_is_root", ns.prefix_is_root);
  r.strings("levels", ns.levels);
  if (ns.levels.empty()) r.fail(r.find("levels")->source(), r.label() + "levels is empty; expected level names");
  std::size_t prefix_levels = router::topic_levels(ns.prefix);
  if (!ns.prefix_is_root && prefix_levels > ns.levels.size()) {
    r.fail(prefix->source(), r.label() + "prefix '" + ns.prefix + "' has more levels than the model (" +
                                 std::to_string(ns.levels.size()) + "); set prefix_is_root = true for a fixed root");
  }
  r.text("allowed", ns.allowed);
  if (!parse_allowed(ns.allowed, ns.allowed_set)) {
    r.fail(r.find("allowed")->source(), r.label() + "allowed '" + ns.allowed + "' has a range backwards");
  }
  ns.patterns.resize(ns.levels.size());
  ns.pattern_texts.resize(ns.levels.size());
  if (const toml::table* pats = r.subtable("level_patterns")) {
    for (const auto& [key, node] : *pats) {
      auto it = std::find(ns.levels.begin(), ns.levels.end(), std::string(key.str()));
      if (it == ns.levels.end()) {
        r.fail(node.source(), r.label() + "level_patterns." + std::string(key.str()) + ": no such level in levels");
      }
      const auto* text = node.as_string();
      if (!text) r.fail(node.source(), r.label() + "level_patterns." + std::string(key.str()) + " must be a string");
      auto i = static_cast<std::size_t>(it - ns.levels.begin());
      try {
        ns.patterns[i].emplace(text->get(), std::regex::ECMAScript | std::regex::optimize);
      } catch (const std::regex_error& e) {
        r.fail(node.source(), r.label() + "level_patterns." + std::string(key.str()) + ": bad regex: " + e.what());
      }
      ns.pattern_texts[i] = text->get();
    }
  }
  read_action(r, ns.action, ns.redirect_topic, ns.reject_disconnect);
  return ns;
}

std::string read_file(const std::filesystem::path& p, bool& ok) {
  std::ifstream in(p, std::ios::binary);
  ok = static_cast<bool>(in);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

std::shared_ptr<const Contract> read_contract(const std::string& file, const toml::table& t, std::size_t index,
                                              const std::vector<std::shared_ptr<const Contract>>& before) {
  TableReader r(file, t, "uns.contract[" + std::to_string(index) + "].");
  r.reject_unknown_keys(Section{"uns.contract", kContractKeys, true});
  std::string name, filter;
  const auto* n = r.string("name");
  if (!n || n->get().empty()) r.fail(t.source(), r.label() + "name is missing; expected a contract name");
  name = n->get();
  for (char c : name) {
    if (c == '/' || c == '+' || c == '#' || static_cast<unsigned char>(c) < 0x20) {
      r.fail(n->source(), r.label() + "name '" + name + "' may not hold '/', '+', '#' or control characters");
    }
  }
  for (const auto& c : before) {
    if (c->name() == name) r.fail(n->source(), r.label() + "name '" + name + "' is already used by another contract");
  }
  const auto* f = r.string("filter");
  if (!f) r.fail(t.source(), r.label() + "filter is missing; expected an MQTT topic filter");
  filter = f->get();
  if (!router::is_valid_topic_filter(filter)) {
    r.fail(f->source(), r.label() + "filter '" + filter + "' is not a valid topic filter");
  }
  std::string version = "1";
  if (const toml::node* v = r.find("version")) {
    if (auto i = v->value<long long>(); i && v->is_integer()) {
      version = std::to_string(*i);
    } else if (const auto* s = v->as_string(); s && !s->get().empty()) {
      version = s->get();
    } else {
      r.fail(v->source(), r.label() + "version must be an integer or a non-empty string");
    }
  }
  Shape shape = config::choice(r, "shape", kShapeNames, Shape::none);
  std::string schema_text, schema_path;
  if (const auto* s = r.string("schema")) {
    std::filesystem::path p = s->get();
    if (p.is_relative()) p = std::filesystem::path(file).parent_path() / p;
    bool ok = false;
    schema_text = read_file(p, ok);
    if (!ok) r.fail(s->source(), r.label() + "schema: cannot read " + p.string());
    schema_path = p.string();
    if (schema_text.empty()) throw ConfigError(schema_path + ":1:1: the schema file is empty");
  }
  if (shape == Shape::none && schema_text.empty()) {
    r.fail(t.source(), r.label() + "has neither schema nor shape; expected schema = \"FILE.json\" or shape = \"number\"|\"timeseries\"");
  }
  std::shared_ptr<Contract> c;
  try {
    c = std::make_shared<Contract>(name, filter, version, shape, schema_text);
  } catch (const std::invalid_argument& e) {
    // "line L, column C: what" -> "file:L:C: what"
    std::string what = e.what();
    std::size_t line = 0, column = 0;
    int used = 0;
    if (std::sscanf(what.c_str(), "line %zu, column %zu: %n", &line, &column, &used) == 2 && used > 0) {
      throw ConfigError(schema_path + ":" + std::to_string(line) + ":" + std::to_string(column) + ": " +
                        what.substr(static_cast<std::size_t>(used)) + " (schema of contract " + name + ")");
    }
    throw ConfigError(schema_path + ": " + what);
  }
  c->set_schema_path(schema_path);
  read_action(r, c->action, c->redirect_topic, c->reject_disconnect);
  r.boolean("all", c->all);
  return c;
}

}  // namespace

UnsConfig read_uns_config(const config::Document& doc) {
  UnsConfig cfg;
  const std::string& file = doc.name;
  const toml::table& t = config::section_table(file, doc.root, "uns");
  TableReader r(file, t, "uns.");
  r.reject_unknown_keys(Section{"uns", kUnsKeys});
  r.boolean("enabled", cfg.enabled);
  r.integer("catalog_max_topics", 1, 100'000'000, cfg.catalog_max_topics);
  r.integer("catalog_value_bytes", 0, 1 << 20, cfg.catalog_value_bytes);
  r.integer("violations_kept", 0, 1'000'000, cfg.violations_kept);
  r.integer("violation_sample_bytes", 0, 1 << 16, cfg.violation_sample_bytes);
  r.boolean("drift_events", cfg.drift_events);
  r.integer("snapshot_interval", 0, 86'400, cfg.snapshot_interval_s);
  std::size_t i = 0;
  for (const toml::table* ns : config::section_tables(file, t, "namespace")) {
    cfg.namespaces.push_back(read_namespace(file, *ns, i++));
  }
  i = 0;
  for (const toml::table* c : config::section_tables(file, t, "contract")) {
    cfg.contracts.push_back(read_contract(file, *c, i++, cfg.contracts));
  }
  return cfg;
}

std::string check_level(const NamespaceModel& ns, std::size_t level, std::string_view value) {
  const std::string& name = ns.levels[level];
  if (value.empty()) return "level " + name + " is empty";
  for (char c : value) {
    if (!ns.allowed_set[static_cast<unsigned char>(c)]) {
      return "level " + name + " '" + std::string(value) + "' has a character outside [" + ns.allowed + "]";
    }
  }
  if (ns.patterns[level] && !std::regex_match(value.begin(), value.end(), *ns.patterns[level])) {
    return "level " + name + " '" + std::string(value) + "' does not match " + ns.pattern_texts[level];
  }
  return {};
}

}  // namespace strata::uns
