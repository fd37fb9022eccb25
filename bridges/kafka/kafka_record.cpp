#include "bridges/kafka/kafka_record.hpp"

#include <rapidjson/writer.h>

#include "broker/protocol/wire.hpp"
#include "broker/util/base64.hpp"

namespace strata::bridges::kafka {

RecordMapper::RecordMapper(const KafkaOptions& options, std::span<const Route> routes)
    : value_(options.value), headers_(options.headers), has_key_(options.has_key) {
  emitted_.topic = options.topic;
  emitted_.key = options.key;
  for (const Route& r : routes) {
    PerRoute p;
    if (r.direction == Route::Direction::out) {
      try {
        // {#} in the topic and key templates is what the filter's '#'
        // matched, unless `remote` rewrote the topic: then the whole of it.
        std::string_view filter = r.filter;
        if (r.remote != "{topic}") {
          p.remote = TopicTemplate::compile(r.remote, r.filter, {}, options.namespaces);
          filter = {};
        }
        p.topic = TopicTemplate::compile(options.topic.text(), filter, {}, options.namespaces);
        p.key = TopicTemplate::compile(options.key.text(), filter, {}, options.namespaces);
      } catch (const TemplateError& e) {
        throw config::ConfigError(r.where + ": " + e.what());
      }
    }
    routes_.push_back(std::move(p));
  }
}

const RecordMapper::PerRoute& RecordMapper::route(std::int32_t i) const noexcept {
  if (i < 0 || static_cast<std::size_t>(i) >= routes_.size()) return emitted_;
  return routes_[static_cast<std::size_t>(i)];
}

bool RecordMapper::map(const Record& r, KafkaMessage& out) const {
  const PerRoute& p = route(r.route);
  std::string_view topic = r.topic;
  if (p.remote) {
    out.rewritten.clear();
    p.remote->expand(r.topic, out.rewritten);
    topic = out.rewritten;
  }
  out.topic.clear();
  p.topic.expand(topic, out.topic);
  to_kafka_topic_name(out.topic);
  out.key.clear();
  out.has_key = has_key_;
  if (has_key_) p.key.expand(topic, out.key);
  out.envelope.clear();
  if (value_ == ValueMode::envelope) envelope_json(topic, r, out.envelope);
  out.headers.clear();
  if (headers_) {
    for (const auto& [k, v] : r.properties().user_properties) out.headers.emplace_back(k, v);
    if (r.properties().content_type) out.headers.emplace_back("content-type", *r.properties().content_type);
    out.headers.emplace_back("mqtt-topic", topic);
  }
  return !out.topic.empty();
}

namespace {

// A rapidjson output stream that appends to a std::string.
struct StringOut {
  using Ch = char;
  std::string& s;
  void Put(char c) { s.push_back(c); }
  void Flush() {}
};

}  // namespace

void envelope_json(std::string_view topic, const Record& r, std::string& out) {
  StringOut os{out};
  rapidjson::Writer<StringOut> w(os);
  auto str = [&](std::string_view s) { w.String(s.data(), static_cast<rapidjson::SizeType>(s.size())); };
  w.StartObject();
  w.Key("topic");
  str(topic);
  if (protocol::wire::valid_utf8(r.payload)) {
    w.Key("payload");
    str(r.payload);
  } else {
    w.Key("payload_base64");
    str(util::base64_encode(r.payload));
  }
  w.Key("qos");
  w.Uint(static_cast<unsigned>(r.qos));
  w.Key("retain");
  w.Bool(r.retain);
  w.Key("time");
  w.Uint64(r.received_ms);
  if (r.properties().content_type) {
    w.Key("content_type");
    str(*r.properties().content_type);
  }
  if (!r.properties().user_properties.empty()) {
    w.Key("user_properties");
    w.StartArray();
    for (const auto& [k, v] : r.properties().user_properties) {
      w.StartArray();
      str(k);
      str(v);
      w.EndArray();
    }
    w.EndArray();
  }
  w.EndObject();
}

std::string envelope_json(std::string_view topic, const Record& r) {
  std::string out;
  envelope_json(topic, r, out);
  return out;
}

}  // namespace strata::bridges::kafka
