#include "broker/historian/historian_config.hpp"

#include "broker/config/table_reader.hpp"
#include "broker/historian/time_format.hpp"
#include "broker/router/topic.hpp"

namespace strata::historian {

namespace {

constexpr std::string_view keys[] = {"enabled", "filters", "exclude", "record_payloads", "timestamp_field",
                                     "raw", "minute", "hour", "max_bytes"};
constexpr config::Section section{"historian", keys};

void duration(const config::TableReader& r, std::string_view key, std::int64_t& out) {
  const auto* v = r.string(key);
  if (!v) return;
  auto d = parse_duration(v->get());
  if (!d || *d < 1000) {
    r.fail(v->source(), "historian." + std::string(key) + " '" + v->get() +
                            "' is not a retention; expected a duration of at least 1s like \"30s\", \"7d\", \"5y\"");
  }
  out = *d;
}

void filters(const config::TableReader& r, std::string_view key, std::vector<std::string>& out) {
  r.strings(key, out);
  const toml::node* node = r.find(key);
  for (const std::string& f : out) {
    if (!router::is_valid_topic_filter(f) || f.rfind("$share/", 0) == 0) {
      r.fail(node->source(), "historian." + std::string(key) + ": '" + f + "' is not a valid MQTT topic filter");
    }
  }
}

}  // namespace

HistorianConfig read_historian_config(const config::Config& config) {
  HistorianConfig out;
  if (!config.document) return out;
  const toml::table& t = config::section_table(config.document->name, config.document->root, "historian");
  config::TableReader r(config.document->name, t, "historian.");
  r.reject_unknown_keys(section);
  r.boolean("enabled", out.enabled);
  filters(r, "filters", out.filters);
  filters(r, "exclude", out.exclude);
  r.boolean("record_payloads", out.record_payloads);
  r.text("timestamp_field", out.timestamp_field, true);
  duration(r, "raw", out.raw_ms);
  duration(r, "minute", out.minute_ms);
  duration(r, "hour", out.hour_ms);
  r.integer("max_bytes", 0, std::numeric_limits<long long>::max(), out.max_bytes);
  return out;
}

}  // namespace strata::historian
