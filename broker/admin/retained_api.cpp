// /api/v1/retained and POST /api/v1/publish.
#include <algorithm>

#include "broker/admin/endpoints.hpp"
#include "broker/admin/server.hpp"
#include "broker/core/clock.hpp"
#include "broker/protocol/wire.hpp"
#include "broker/router/topic.hpp"
#include "broker/util/base64.hpp"
#include "broker/util/log.hpp"

namespace strata::admin {

namespace {

using Messages = std::vector<router::MessagePtr>;

void retained_matching(Api& api, std::string filter, std::function<void(Messages)> done) {
  // Every core holds the whole retained index; core 0 answers.
  api.on_core<Messages>(
      0,
      [filter](core::Core& c) {
        Messages out;
        c.retained().match(filter, core::now_ms(), out);
        return out;
      },
      std::move(done));
}

void write_message(JsonWriter& w, const router::Message& m, bool detail) {
  w.StartObject();
  w.Key("topic");
  write_string(w, m.topic);
  w.Key("qos");
  w.Uint(static_cast<unsigned>(m.qos));
  w.Key("payload_size");
  w.Uint64(m.payload.size());
  if (m.expires_at_ms != 0) {
    w.Key("expires_at_ms");
    w.Uint64(m.expires_at_ms);
  }
  w.Key("publisher");
  write_string(w, m.publisher);
  if (detail) {
    w.Key("payload_base64");
    write_string(w, util::base64_encode(m.payload));
    if (protocol::wire::valid_utf8(m.payload)) {
      w.Key("payload");
      write_string(w, m.payload);
    }
    const protocol::Properties& p = *m.properties;
    w.Key("properties");
    w.StartObject();
    if (p.payload_format_indicator) {
      w.Key("payload_format_indicator");
      w.Uint(*p.payload_format_indicator);
    }
    if (p.content_type) {
      w.Key("content_type");
      write_string(w, *p.content_type);
    }
    if (p.response_topic) {
      w.Key("response_topic");
      write_string(w, *p.response_topic);
    }
    if (p.correlation_data) {
      w.Key("correlation_data_base64");
      write_string(w, util::base64_encode(*p.correlation_data));
    }
    if (!p.user_properties.empty()) {
      w.Key("user_properties");
      w.StartArray();
      for (const auto& [k, v] : p.user_properties) {
        w.StartArray();
        write_string(w, k);
        write_string(w, v);
        w.EndArray();
      }
      w.EndArray();
    }
    w.EndObject();
  }
  w.EndObject();
}

// The properties object of a publish request.
void read_properties(const rapidjson::Value& body, router::Message& m) {
  auto it = body.FindMember("properties");
  if (it == body.MemberEnd() || it->value.IsNull()) return;
  if (!it->value.IsObject()) throw Error::bad_request("'properties' must be an object");
  const rapidjson::Value& p = it->value;
  for (auto member = p.MemberBegin(); member != p.MemberEnd(); ++member) {
    std::string name(member->name.GetString(), member->name.GetStringLength());
    if (name != "payload_format_indicator" && name != "message_expiry_interval" && name != "content_type" &&
        name != "response_topic" && name != "correlation_data" && name != "user_properties") {
      throw Error::bad_request("unknown property '" + name +
                               "'; expected payload_format_indicator, message_expiry_interval, content_type, "
                               "response_topic, correlation_data or user_properties");
    }
  }
  protocol::Properties& out = m.properties.edit();
  if (p.HasMember("payload_format_indicator")) {
    out.payload_format_indicator = static_cast<std::uint8_t>(body_int(p, "payload_format_indicator", 0, 0, 1));
  }
  if (p.HasMember("message_expiry_interval")) {
    auto s = body_int(p, "message_expiry_interval", 0, 0, 0xFFFFFFFFll);
    m.expires_at_ms = core::now_ms() + static_cast<std::uint64_t>(s) * 1000;
  }
  if (p.HasMember("content_type")) out.content_type = body_string(p, "content_type", true);
  if (p.HasMember("response_topic")) {
    out.response_topic = body_string(p, "response_topic", true);
    if (!router::is_valid_topic_name(*out.response_topic)) throw Error::bad_request("response_topic is not a topic name");
  }
  if (p.HasMember("correlation_data")) out.correlation_data = body_string(p, "correlation_data", true);
  if (auto up = p.FindMember("user_properties"); up != p.MemberEnd()) {
    if (!up->value.IsObject()) throw Error::bad_request("'user_properties' must be an object of strings");
    for (auto kv = up->value.MemberBegin(); kv != up->value.MemberEnd(); ++kv) {
      if (!kv->value.IsString()) throw Error::bad_request("'user_properties' values must be strings");
      out.user_properties.emplace_back(std::string(kv->name.GetString(), kv->name.GetStringLength()),
                                       std::string(kv->value.GetString(), kv->value.GetStringLength()));
    }
  }
}

}  // namespace

void add_retained_api(Server& server) {
  Api& api = server.api();

  api.add(http::verb::get, "/api/v1/retained", Access::viewer,
          [&api](const Request& req, Reply reply) {
            Paging p = Paging::from(req);
            std::string filter = req.arg("topic").value_or("#");
            bool valid = true;
            if (router::parse_shared_filter(filter, valid) || !router::is_valid_topic_filter(filter)) {
              throw Error::bad_request("topic must be an MQTT topic filter (not shared): '" + filter + "'");
            }
            retained_matching(api, filter, [p, reply](Messages all) {
              std::sort(all.begin(), all.end(), [](const auto& a, const auto& b) { return a->topic < b->topic; });
              reply.json(page_json(p, all.size(), [&](JsonWriter& w, std::size_t i) { write_message(w, *all[i], false); }));
            });
          },
          "Retained messages whose topic matches the filter ?topic= (default #); paged");

  api.add(http::verb::get, "/api/v1/retained/{topic}", Access::viewer,
          [&api](const Request& req, Reply reply) {
            std::string topic = req.param("topic");
            if (!router::is_valid_topic_name(topic)) throw Error::bad_request("not a topic name: '" + topic + "'");
            retained_matching(api, topic, [reply, topic](Messages all) {
              if (all.empty()) return reply.error(Error::not_found("no retained message on '" + topic + "'"));
              reply.json(json_of([&](JsonWriter& w) { write_message(w, *all.front(), true); }));
            });
          },
          "One retained message: payload (base64, and as text when UTF-8) and properties");

  api.add(http::verb::delete_, "/api/v1/retained/{topic}", Access::admin,
          [&api](const Request& req, Reply reply) {
            std::string topic = req.param("topic");
            if (!router::is_valid_topic_name(topic)) throw Error::bad_request("not a topic name: '" + topic + "'");
            std::string who = req.who();
            api.on_core<bool>(
                0,
                [topic](core::Core& c) {
                  Messages out;
                  c.retained().match(topic, core::now_ms(), out);
                  if (out.empty()) return false;
                  c.clear_retained(topic);
                  return true;
                },
                [reply, topic, who](bool found) {
                  if (!found) return reply.error(Error::not_found("no retained message on '" + topic + "'"));
                  STRATA_INFO("admin") << who << ": deleted the retained message of " << topic;
                  reply.send(Response{http::status::no_content, "application/json", {}, {}});
                });
          },
          "Delete a retained message (nothing is published)");

  // Every retained message under a filter at once. The filter is required
  // (no default '#': wiping every retained message takes saying so), and
  // ?dry_run=true answers the same list without deleting, so a caller can
  // show what would go first. Matching and deleting happen in one task on
  // core 0, so the answer names exactly what was deleted.
  api.add(http::verb::delete_, "/api/v1/retained", Access::admin,
          [&api](const Request& req, Reply reply) {
            auto given = req.arg("filter");
            if (!given || given->empty()) {
              throw Error::bad_request("filter is missing: name an MQTT topic filter, e.g. filter=plant/line1/%23");
            }
            std::string filter = *given;
            bool valid = true;
            if (router::parse_shared_filter(filter, valid) || !router::is_valid_topic_filter(filter)) {
              throw Error::bad_request("filter must be an MQTT topic filter (not shared): '" + filter + "'");
            }
            bool dry_run = req.bool_arg("dry_run").value_or(false);
            std::string who = req.who();
            api.on_core<std::vector<std::string>>(
                0,
                [filter, dry_run](core::Core& c) {
                  Messages found;
                  c.retained().match(filter, core::now_ms(), found);
                  std::vector<std::string> topics;
                  topics.reserve(found.size());
                  for (const auto& m : found) topics.emplace_back(m->topic);
                  std::sort(topics.begin(), topics.end());
                  if (!dry_run) {
                    for (const auto& t : topics) c.clear_retained(t);
                  }
                  return topics;
                },
                [reply, filter, dry_run, who](std::vector<std::string> topics) {
                  if (!dry_run && !topics.empty()) {
                    STRATA_INFO("admin") << who << ": deleted " << topics.size() << " retained messages under "
                                         << filter;
                  }
                  reply.json(json_of([&](JsonWriter& w) {
                    w.StartObject();
                    w.Key("filter");
                    write_string(w, filter);
                    w.Key("dry_run");
                    w.Bool(dry_run);
                    w.Key("count");
                    w.Uint64(topics.size());
                    w.Key("topics");
                    w.StartArray();
                    for (const auto& t : topics) write_string(w, t);
                    w.EndArray();
                    w.EndObject();
                  }));
                });
          },
          "Delete the retained messages whose topic matches ?filter= (required); ?dry_run=true only lists them");

  api.add(http::verb::post, "/api/v1/publish", Access::admin,
          [&api](const Request& req, Reply reply) {
            rapidjson::Document body = parse_body(req);
            std::string topic = body_string(body, "topic", true);
            if (!router::is_valid_topic_name(topic) || !protocol::wire::valid_utf8(topic)) {
              throw Error::bad_request("'topic' is not a valid topic name");
            }
            std::string payload = body_string(body, "payload", false);
            std::string encoding = body_string(body, "payload_encoding", false, "plain");
            if (encoding == "base64") {
              auto decoded = util::base64_decode(payload);
              if (!decoded) throw Error::bad_request("'payload' is not valid base64");
              payload = std::move(*decoded);
            } else if (encoding != "plain") {
              throw Error::bad_request("'payload_encoding' must be plain or base64");
            }
            auto msg = router::Message::make(topic, payload);
            msg->qos = static_cast<protocol::QoS>(body_int(body, "qos", 0, 0, 2));
            msg->retain = body_bool(body, "retain", false);
            read_properties(body, *msg);
            core::Broker& broker = api.broker();
            if (msg->retain && !broker.limits().retain_available) throw Error::bad_request("retain is not available");
            // The pipeline a client's publish takes: ACL as the API user,
            // then the hooks (namespace, rules) and routing in Core::publish.
            msg->publisher = "$admin:" + req.user;
            msg->username = req.user;
            auth::ClientInfo who{msg->publisher, req.user, req.remote};
            if (!broker.authorizer().can_publish(who, msg->topic)) {
              throw Error::forbidden("the ACL does not let '" + req.user + "' publish to '" + topic + "'");
            }
            std::string log_who = req.who();
            router::MessagePtr m = std::move(msg);
            api.on_core<bool>(
                0,
                [m](core::Core& c) {
                  c.publish(m, nullptr);
                  return true;
                },
                [reply, m, log_who](bool) {
                  STRATA_INFO("admin") << log_who << ": published to " << m->topic << " (" << m->payload.size()
                                       << " bytes, QoS " << static_cast<unsigned>(m->qos)
                                       << (m->retain ? ", retained" : "") << ")";
                  reply.json("{}");
                });
          },
          "Publish a message through the broker's pipeline (ACL as the API user, rules) ");
}

}  // namespace strata::admin
