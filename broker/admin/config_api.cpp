// GET /api/v1/config (the effective configuration, secrets masked) and
// POST /api/v1/reload (the SIGHUP reload, answering what it did).
#include <sstream>

#include <toml++/toml.h>

#include "broker/admin/endpoints.hpp"
#include "broker/admin/server.hpp"
#include "broker/config/table_reader.hpp"
#include "broker/util/log.hpp"

namespace strata::admin {

namespace {

// A key whose value is a credential: password, secret, token, api_key,
// sasl..., private key material.
bool secret_key(std::string_view k) {
  for (std::string_view word : {"password", "secret", "token", "api_key", "apikey", "credential", "sasl"}) {
    if (k.find(word) != std::string_view::npos) return true;
  }
  return false;
}

void mask(toml::table& t) {
  std::vector<std::string> secrets;
  for (auto&& [k, v] : t) {
    if (secret_key(k.str()) && !v.is_table() && !v.is_array()) {
      secrets.emplace_back(k.str());
    } else if (auto* sub = v.as_table()) {
      mask(*sub);
    } else if (auto* arr = v.as_array()) {
      for (auto& item : *arr) {
        if (auto* st = item.as_table()) mask(*st);
      }
    }
  }
  for (const std::string& k : secrets) t.insert_or_assign(k, "***");
}

void write_listener(JsonWriter& w, const config::Listener& l) {
  w.StartObject();
  w.Key("url");
  write_string(w, l.name());
  w.Key("max_connections");
  w.Uint(l.max_connections);
  w.Key("max_connect_rate");
  w.Uint(l.max_connect_rate);
  w.Key("allow_anonymous");
  w.Bool(l.anonymous_allowed());
  if (l.tls()) {
    w.Key("cert_file");
    write_string(w, l.cert_file);
    w.Key("key_file");
    write_string(w, l.key_file.empty() ? "" : "***");
    w.Key("ca_file");
    write_string(w, l.ca_file);
    w.Key("tls_min_version");
    write_string(w, l.tls_min_version);
  }
  w.EndObject();
}

}  // namespace

void add_config_api(Server& server) {
  Api& api = server.api();
  api.add(http::verb::get, "/api/v1/config", Access::admin,
          [&api, &server](const Request&, Reply reply) {
            const config::Config& c = api.broker().config();
            const AdminConfig& a = server.config();
            std::string modules = "{}";
            if (c.document) {
              // Module sections ([uns], [[bridge]], ...) as written, credentials masked.
              toml::table t;
              for (std::string_view name : {"uns", "historian", "bridge", "bridge_session", "plugin"}) {
                if (const toml::node* n = c.document->root.get(name)) t.insert(name, *n);
              }
              mask(t);
              std::ostringstream out;
              out << toml::json_formatter{t};
              modules = out.str();
            }
            std::string core = json_of([&](JsonWriter& w) {
              w.StartObject();
              w.Key("source");
              write_string(w, c.source);
              w.Key("broker");
              w.StartObject();
              w.Key("data_dir");
              write_string(w, c.data_dir);
              w.Key("threads");
              w.Uint(api.broker().core_count());
              w.Key("log_level");
              write_string(w, log::to_string(log::level()));
              w.EndObject();
              w.Key("listeners");
              w.StartArray();
              for (const auto& l : c.listeners) write_listener(w, l);
              w.EndArray();
              const config::Limits& lim = c.limits;
              w.Key("limits");
              w.StartObject();
              w.Key("max_connections");
              w.Uint(lim.max_connections);
              w.Key("max_packet_size");
              w.Uint(lim.max_packet_size);
              w.Key("receive_maximum");
              w.Uint(lim.receive_maximum);
              w.Key("max_inflight_messages");
              w.Uint(lim.max_inflight_messages);
              w.Key("max_inflight_messages_mqtt311");
              w.Uint(lim.max_inflight_messages_mqtt311);
              w.Key("max_inflight_bytes");
              w.Uint64(lim.max_inflight_bytes);
              w.Key("max_queued_messages");
              w.Uint(lim.max_queued_messages);
              w.Key("session_expiry_max");
              w.Uint(lim.session_expiry_max);
              w.Key("maximum_qos");
              w.Uint(lim.maximum_qos);
              w.Key("retain_available");
              w.Bool(lim.retain_available);
              w.EndObject();
              w.Key("auth");
              w.StartObject();
              w.Key("password_file");
              write_string(w, c.auth.password_file);
              w.Key("acl_file");
              write_string(w, c.auth.acl_file);
              w.Key("max_failed_logins");
              w.Uint(c.auth.max_failed_logins);
              w.EndObject();
              w.Key("store");
              w.StartObject();
              w.Key("durability");
              constexpr const char* durability[] = {"sync", "batch", "none"};
              w.String(durability[static_cast<int>(c.store.durability)]);
              w.Key("flush_interval_ms");
              w.Int64(c.store.flush_interval.count());
              w.Key("max_map_size");
              w.Uint64(c.store.max_map_size);
              w.EndObject();
              w.Key("rules");
              w.StartObject();
              w.Key("enabled");
              w.Bool(c.rules.enabled);
              w.Key("dir");
              write_string(w, c.rules.dir);
              w.EndObject();
              w.Key("sys");
              w.StartObject();
              w.Key("interval");
              w.Int64(c.sys.interval.count());
              w.EndObject();
              w.Key("admin");
              w.StartObject();
              w.Key("url");
              write_string(w, server.url());
              w.Key("auth");
              w.String(a.auth == AuthMode::open ? "open" : "login");
              w.Key("users_file");
              write_string(w, a.users_file);
              w.Key("api_keys_file");
              write_string(w, a.api_keys_file);
              w.Key("token_ttl");
              w.Int64(a.token_ttl.count());
              w.Key("metrics_auth");
              w.Bool(a.metrics_auth);
              w.Key("cors_origins");
              w.StartArray();
              for (const auto& o : a.cors_origins) write_string(w, o);
              w.EndArray();
              w.EndObject();
              w.Key("modules");
              w.Null();  // replaced below
              w.EndObject();
            });
            // Splice the module sections in place of the null.
            core.replace(core.rfind("null"), 4, modules);
            reply.json(std::move(core));
          },
          "The effective configuration, credentials masked");

  api.add(http::verb::post, "/api/v1/reload", Access::admin,
          [&api](const Request& req, Reply reply) {
            std::string who = req.who();
            STRATA_INFO("admin") << who << ": reload";
            core::Broker& broker = api.broker();
            api.on_core<core::Broker::ReloadReport>(
                0, [&broker](core::Core&) { return broker.reload(); },
                [reply](core::Broker::ReloadReport r) {
                  std::string body = json_of([&](JsonWriter& w) {
                    w.StartObject();
                    w.Key("ok");
                    w.Bool(r.ok);
                    if (!r.ok) {
                      w.Key("error");
                      write_string(w, r.error);
                    }
                    w.Key("reloaded");
                    w.StartArray();
                    for (const auto& s : r.reloaded) write_string(w, s);
                    w.EndArray();
                    w.Key("not_reloaded");
                    w.StartArray();
                    for (const auto& s : r.not_reloaded) write_string(w, s);
                    w.EndArray();
                    w.EndObject();
                  });
                  if (!r.ok) {
                    // A bad file: 400 with the error, in the usual shape plus the report.
                    Response res = error_response(http::status::bad_request, "BAD_CONFIG", r.error);
                    res.body.pop_back();
                    res.body += ",\"report\":" + body + "}";
                    return reply.send(std::move(res));
                  }
                  reply.json(std::move(body));
                });
          },
          "Reload the configuration file (as SIGHUP): what was and was not reloaded");
}

}  // namespace strata::admin
