#include "bridges/influx/influx_options.hpp"

namespace strata::bridges::influx {

const std::vector<std::string_view>& influx_keys() {
  static const std::vector<std::string_view> keys = {
      "url",         "api",        "database",        "retention_policy", "username",    "password",
      "org",         "bucket",     "token",           "precision",        "measurement", "tags",
      "topic_levels", "fields",    "int_fields",      "value_field",      "timestamp_field",
      "timestamp_unit", "batch_lines", "batch_bytes", "batch_ms",         "timeout",     "retry_min",
      "retry_max",   "ca_file",    "window"};
  return keys;
}

namespace {

TopicTemplate read_template(const config::TableReader& r, const toml::node& node, const std::string& what,
                            std::span<const std::string> levels, const Namespaces& namespaces) {
  const auto* s = node.as_string();
  if (!s) r.fail(node.source(), what + " must be a string (a topic template such as \"{2}\")");
  try {
    return TopicTemplate::compile(s->get(), {}, levels, namespaces);
  } catch (const TemplateError& e) {
    r.fail(node.source(), what + ": " + e.what());
  }
}

}  // namespace

InfluxOptions read_influx_options(const config::TableReader& r, const Namespaces& namespaces) {
  InfluxOptions o;
  const auto* url = r.string("url");
  if (!url) r.fail(r.table().source(), "an influx [[bridge]] needs url = \"http://host:8086\"");
  o.url_text = url->get();
  try {
    o.url = parse_http_url(o.url_text);
  } catch (const UrlError& e) {
    r.fail(url->source(), std::string("bridge.url: ") + e.what());
  }
  WriteTarget& t = o.target;
  constexpr std::string_view apis[] = {"v1", "v2"};
  t.api = config::choice(r, "api", apis, Api::v1);
  r.text("database", t.database);
  r.text("retention_policy", t.retention_policy);
  r.text("username", t.username);
  r.text("password", t.password, true);
  r.text("org", t.org);
  r.text("bucket", t.bucket);
  r.text("token", t.token);
  if (t.api == Api::v1 && t.database.empty()) {
    r.fail(r.table().source(), "an influx [[bridge]] with api = \"v1\" needs database = \"...\"");
  }
  if (t.api == Api::v2 && (t.org.empty() || t.bucket.empty())) {
    r.fail(r.table().source(), "an influx [[bridge]] with api = \"v2\" needs org = \"...\" and bucket = \"...\"");
  }
  constexpr std::string_view precisions[] = {"s", "ms", "us", "ns"};
  t.precision = config::choice(r, "precision", precisions, Precision::ms);

  MapperOptions& m = o.mapper;
  m.precision = t.precision;
  r.strings("topic_levels", m.topic_levels);
  if (const toml::node* n = r.find("measurement")) {
    m.measurement = read_template(r, *n, "bridge.measurement", m.topic_levels, namespaces);
  }
  if (const toml::table* tags = r.subtable("tags")) {
    for (auto&& [k, v] : *tags) {
      m.tags.emplace_back(std::string(k.str()),
                          read_template(r, v, "bridge.tags." + std::string(k.str()), m.topic_levels, namespaces));
    }
  } else if (m.topic_levels.empty()) {
    m.tags.emplace_back("topic", TopicTemplate::compile("{topic}"));
  }
  r.strings("fields", m.fields);
  r.strings("int_fields", m.int_fields);
  r.text("value_field", m.value_field);
  r.text("timestamp_field", m.timestamp_field);
  constexpr std::string_view units[] = {"s", "ms", "us", "ns", "rfc3339"};
  m.timestamp_unit = config::choice(r, "timestamp_unit", units, TimeUnit::ms);

  r.integer("batch_lines", 1, 1'000'000, o.batch.lines);
  r.integer("batch_bytes", 1024, 256ll << 20, o.batch.bytes);
  r.integer("batch_ms", 0, 60'000, o.batch.max_wait);
  r.integer("timeout", 100, 600'000, o.timeout);
  r.integer("retry_min", 10, 600'000, o.retry_min);
  r.integer("retry_max", 10, 3'600'000, o.retry_max);
  if (o.retry_max < o.retry_min) {
    const toml::node* at = r.find("retry_max") ? r.find("retry_max") : r.find("retry_min");
    r.fail(at->source(), "bridge.retry_max must be >= retry_min");
  }
  r.text("ca_file", o.ca_file);
  o.window = std::max<std::size_t>(20000, 4 * o.batch.lines);
  r.integer("window", 1, 10'000'000, o.window);
  return o;
}

}  // namespace strata::bridges::influx
