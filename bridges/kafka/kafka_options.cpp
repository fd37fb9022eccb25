#include "bridges/kafka/kafka_options.hpp"

#include <algorithm>

namespace strata::bridges::kafka {

const std::vector<std::string_view>& kafka_keys() {
  static const std::vector<std::string_view> keys = {"brokers", "topic",       "key",         "value", "headers",
                                                     "acks",    "idempotence", "compression", "window", "rdkafka"};
  return keys;
}

void to_kafka_topic_name(std::string& name) {
  for (char& c : name) {
    if (c == '/') {
      c = '.';
    } else if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
                 c == '_' || c == '-')) {
      c = '_';
    }
  }
  if (name.size() > 249) name.resize(249);
}

std::string kafka_topic_name(std::string_view expanded) {
  std::string out(expanded);
  to_kafka_topic_name(out);
  return out;
}

namespace {

// A property value as librdkafka takes it: text.
bool scalar_text(const toml::node& n, std::string& out) {
  if (const auto* s = n.as_string()) {
    out = s->get();
  } else if (const auto* i = n.as_integer()) {
    out = std::to_string(i->get());
  } else if (const auto* b = n.as_boolean()) {
    out = b->get() ? "true" : "false";
  } else if (const auto* f = n.as_floating_point()) {
    out = std::to_string(f->get());
  } else {
    return false;
  }
  return true;
}

// rdkafka.linger.ms = 5 is the table rdkafka = { linger = { ms = 5 } }:
// flatten it back to "linger.ms".
void flatten(const config::TableReader& r, const toml::table& t, const std::string& prefix,
             std::vector<std::pair<std::string, std::string>>& out) {
  for (auto&& [k, v] : t) {
    std::string name = prefix.empty() ? std::string(k.str()) : prefix + "." + std::string(k.str());
    if (const auto* sub = v.as_table()) {
      flatten(r, *sub, name, out);
      continue;
    }
    std::string text;
    if (!scalar_text(v, text)) {
      r.fail(v.source(), "bridge.rdkafka." + name + " must be a string, an integer or a boolean, got " +
                             std::string(config::type_name(v.type())));
    }
    out.emplace_back(std::move(name), std::move(text));
  }
}

TopicTemplate read_template(const config::TableReader& r, std::string_view key, const std::string& fallback,
                            const Namespaces& namespaces) {
  std::string text = fallback;
  const auto* v = r.string(key);
  if (v) text = v->get();
  try {
    return TopicTemplate::compile(text, {}, {}, namespaces);
  } catch (const TemplateError& e) {
    r.fail(v->source(), "bridge." + std::string(key) + ": " + e.what());
  }
}

}  // namespace

KafkaOptions read_kafka_options(const config::TableReader& r, const Namespaces& namespaces) {
  KafkaOptions o;
  o.namespaces = namespaces;
  const toml::node* brokers = r.find("brokers");
  if (!brokers) r.fail(r.table().source(), "a kafka [[bridge]] needs brokers = \"host:port[,host:port...]\"");
  if (const auto* a = brokers->as_array()) {
    for (const toml::node& b : *a) {
      const auto* s = b.as_string();
      if (!s || s->get().empty()) r.fail(b.source(), "bridge.brokers must hold non-empty strings \"host:port\"");
      if (!o.brokers.empty()) o.brokers += ',';
      o.brokers += s->get();
    }
  } else if (const auto* s = brokers->as_string()) {
    o.brokers = s->get();
  }
  if (o.brokers.empty()) r.fail(brokers->source(), "bridge.brokers must be \"host:port[,...]\" or an array of them");

  o.topic = read_template(r, "topic", "{topic}", namespaces);
  if (o.topic.empty()) r.fail(r.find("topic")->source(), "bridge.topic must not be empty");
  o.key = read_template(r, "key", "{topic}", namespaces);
  o.has_key = !o.key.empty();
  constexpr std::string_view values[] = {"payload", "envelope"};
  o.value = config::choice(r, "value", values, ValueMode::payload);
  r.boolean("headers", o.headers);
  r.integer("window", 1, 10'000'000, o.window);

  constexpr std::string_view acks[] = {"all", "1", "0"};
  int ack = config::choice(r, "acks", acks, 0);
  bool idempotence = true;
  r.boolean("idempotence", idempotence);
  if (idempotence && ack != 0) {
    r.fail(r.find("acks")->source(), "bridge.acks must be \"all\" with idempotence = true (set idempotence = false)");
  }
  constexpr std::string_view codecs[] = {"none", "lz4", "zstd", "gzip", "snappy"};
  int codec = config::choice(r, "compression", codecs, 0);

  o.rdkafka = {{"bootstrap.servers", o.brokers},
               {"acks", std::string(ack == 0 ? "all" : acks[ack])},
               {"enable.idempotence", idempotence ? "true" : "false"},
               {"message.timeout.ms", "0"},
               {"compression.codec", std::string(codecs[codec])}};
  if (const toml::node* rk = r.find("rdkafka")) {
    const auto* t = rk->as_table();
    if (!t) r.fail(rk->source(), "bridge.rdkafka must be a table of librdkafka properties, e.g. rdkafka.linger.ms = 5");
    std::vector<std::pair<std::string, std::string>> user;
    flatten(r, *t, "", user);
    for (auto& kv : user) {
      if (kv.first == "dr_msg_cb" || kv.first == "opaque") {
        r.fail(rk->source(), "bridge.rdkafka." + kv.first + " cannot be set from the config");
      }
      o.rdkafka.push_back(std::move(kv));
    }
  }
  return o;
}

}  // namespace strata::bridges::kafka
