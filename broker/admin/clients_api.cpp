// /api/v1/clients, /api/v1/sessions and /api/v1/subscriptions: snapshots
// gathered from every core (each owns its sessions), filtered and paged
// here on the admin thread.
#include <algorithm>

#include "broker/admin/endpoints.hpp"
#include "broker/admin/server.hpp"
#include "broker/router/topic.hpp"
#include "broker/util/log.hpp"

namespace strata::admin {

namespace {

using core::SessionInfo;
using Sessions = std::vector<SessionInfo>;

std::string_view proto_name(protocol::Version v) { return v == protocol::Version::v5 ? "5" : "3.1.1"; }

// All sessions of all cores, sorted by client id (stable paging).
void gather_sessions(Api& api, std::function<void(Sessions)> done) {
  api.gather<Sessions>([](core::Core& c) { return c.inspect_sessions(); },
                       [done = std::move(done)](std::vector<Sessions> per_core) {
                         Sessions all;
                         for (auto& v : per_core) {
                           for (auto& s : v) all.push_back(std::move(s));
                         }
                         std::sort(all.begin(), all.end(),
                                   [](const SessionInfo& a, const SessionInfo& b) { return a.client_id < b.client_id; });
                         done(std::move(all));
                       });
}

// One page of the sessions `filter` accepts, sorted by client id: each
// core copies out only its first page*limit matches, and the page is cut
// from their merge here and answered as a list of every match.
void write_session(JsonWriter& w, const SessionInfo& s, bool detail);

void reply_session_page(Api& api, const Paging& p, core::SessionFilter filter, Reply reply) {
  const auto keep = static_cast<std::size_t>(p.page) * static_cast<std::size_t>(p.limit);
  api.gather<core::SessionPage>(
      [filter = std::move(filter), keep](core::Core& c) { return c.inspect_sessions(filter, keep); },
      [reply, p](std::vector<core::SessionPage> per_core) {
        Sessions all;
        std::size_t count = 0;
        for (auto& part : per_core) {
          count += part.matched;
          for (auto& s : part.items) all.push_back(std::move(s));
        }
        std::sort(all.begin(), all.end(),
                  [](const SessionInfo& a, const SessionInfo& b) { return a.client_id < b.client_id; });
        const auto first = static_cast<std::size_t>(p.page - 1) * static_cast<std::size_t>(p.limit);
        Sessions page;
        for (std::size_t i = first; i < all.size() && page.size() < static_cast<std::size_t>(p.limit); ++i) {
          page.push_back(std::move(all[i]));
        }
        // page_json counts from the list's start; `page` holds only this page.
        const std::size_t begin = p.begin(count);
        reply.json(page_json(p, count, [&](JsonWriter& w, std::size_t i) { write_session(w, page[i - begin], false); }));
      });
}

// The one session of `id`, from the core the registry says owns it.
void find_session(Api& api, const std::string& id, std::function<void(std::optional<SessionInfo>)> done) {
  api.gather<Sessions>([id](core::Core& c) { return c.inspect_sessions(&id); },
                       [done = std::move(done)](std::vector<Sessions> per_core) {
                         for (auto& v : per_core) {
                           if (!v.empty()) return done(std::move(v.front()));
                         }
                         done(std::nullopt);
                       });
}

void write_subscription(JsonWriter& w, const core::SubscriptionInfo& s, const std::string* client_id) {
  w.StartObject();
  if (client_id) {
    w.Key("clientid");
    write_string(w, *client_id);
  }
  w.Key("topic");
  write_string(w, s.filter);
  bool valid = true;
  auto shared = router::parse_shared_filter(s.filter, valid);
  if (shared) {
    w.Key("share_group");
    write_string(w, shared->group);
  }
  w.Key("qos");
  w.Uint(static_cast<unsigned>(s.options.max_qos));
  w.Key("no_local");
  w.Bool(s.options.no_local);
  w.Key("retain_as_published");
  w.Bool(s.options.retain_as_published);
  w.Key("retain_handling");
  w.Uint(static_cast<unsigned>(s.options.retain_handling));
  if (s.identifier != 0) {
    w.Key("subscription_identifier");
    w.Uint(s.identifier);
  }
  w.EndObject();
}

void write_session(JsonWriter& w, const SessionInfo& s, bool detail) {
  w.StartObject();
  w.Key("clientid");
  write_string(w, s.client_id);
  w.Key("username");
  write_string(w, s.username);
  w.Key("connected");
  w.Bool(s.connected);
  w.Key("proto_ver");
  write_string(w, proto_name(s.version));
  if (s.connected) {
    w.Key("ip_address");
    write_string(w, s.address);
    w.Key("listener");
    write_string(w, s.listener);
    w.Key("keepalive");
    w.Uint(s.keep_alive);
    w.Key("connected_at_ms");
    w.Uint64(s.connected_at_ms);
    w.Key("messages_received");
    w.Uint64(s.messages_received);
    w.Key("messages_sent");
    w.Uint64(s.messages_sent);
  }
  w.Key("expiry_interval");
  w.Uint(s.expiry_interval);
  if (!s.connected) {
    w.Key("expires_at_ms");
    w.Uint64(s.expires_at_ms);
  }
  w.Key("persistent");
  w.Bool(s.persistent);
  w.Key("inflight");
  w.Uint64(s.inflight);
  w.Key("queued");
  w.Uint64(s.queued);
  w.Key("queued_bytes");
  w.Uint64(s.queued_bytes);
  w.Key("bridge_session");
  w.Bool(s.bridge_session);
  w.Key("subscriptions_count");
  w.Uint64(s.subscriptions.size());
  if (detail) {
    w.Key("core");
    w.Uint(s.core);
    w.Key("subscriptions");
    w.StartArray();
    for (const auto& sub : s.subscriptions) write_subscription(w, sub, nullptr);
    w.EndArray();
  }
  w.EndObject();
}

// The address without the port ("1.2.3.4:5" -> "1.2.3.4", "[::1]:5" -> "::1").
std::string_view host_of(std::string_view addr) {
  if (!addr.empty() && addr.front() == '[') {
    auto end = addr.find(']');
    return addr.substr(1, end == std::string_view::npos ? std::string_view::npos : end - 1);
  }
  auto colon = addr.rfind(':');
  return colon == std::string_view::npos ? addr : addr.substr(0, colon);
}

}  // namespace

void add_clients_api(Server& server) {
  Api& api = server.api();

  api.add(http::verb::get, "/api/v1/clients", Access::viewer,
          [&api](const Request& req, Reply reply) {
            Paging p = Paging::from(req);
            auto clientid = req.arg("clientid");
            auto username = req.arg("username");
            auto ip = req.arg("ip");
            auto connected = req.bool_arg("connected");
            auto proto = req.arg("proto");
            if (proto && *proto != "5" && *proto != "3.1.1") throw Error::bad_request("proto must be 5 or 3.1.1");
            // Connected clients by default; connected=false lists the offline sessions.
            const bool want_connected = connected.value_or(true);
            auto filter = [=](const core::SessionBrief& s) {
              return s.connected == want_connected &&
                     !(clientid && s.client_id.find(*clientid) == std::string::npos) &&
                     !(username && s.username != *username) && !(ip && host_of(s.address) != *ip) &&
                     !(proto && proto_name(s.version) != *proto);
            };
            reply_session_page(api, p, filter, reply);
          },
          "Connected clients (filters: clientid substring, username, ip, connected, proto); paged");

  api.add(http::verb::get, "/api/v1/clients/{id}", Access::viewer,
          [&api](const Request& req, Reply reply) {
            std::string id = req.param("id");
            find_session(api, id, [reply, id](std::optional<SessionInfo> s) {
              if (!s || !s->connected) return reply.error(Error::not_found("no connected client '" + id + "'"));
              reply.json(json_of([&](JsonWriter& w) { write_session(w, *s, true); }));
            });
          },
          "One connected client: address, listener, protocol, keep alive, inflight, queued, subscriptions");

  auto kick = [&api](const Request& req, Reply reply, bool end, bool need_connected) {
    std::string id = req.param("id");
    std::string who = req.who();
    find_session(api, id, [&api, reply, id, end, need_connected, who](std::optional<SessionInfo> s) {
      if (!s || (need_connected && !s->connected)) {
        return reply.error(Error::not_found(std::string(need_connected ? "no connected client '" : "no session '") +
                                            id + "'"));
      }
      api.on_core<bool>(
          s->core, [id, end](core::Core& c) { return c.kick(id, end); },
          [reply, id, end, who](bool found) {
            if (!found) return reply.error(Error::not_found("'" + id + "' went away or moved; try again"));
            STRATA_INFO("admin") << who << ": " << (end ? "ended the session of " : "disconnected ") << id;
            reply.send(Response{http::status::no_content, "application/json", {}, {}});
          });
    });
  };

  api.add(http::verb::delete_, "/api/v1/clients/{id}", Access::admin,
          [kick](const Request& req, Reply reply) {
            auto session = req.arg("session");
            if (session && *session != "end" && *session != "keep") {
              throw Error::bad_request("session must be 'end' or 'keep'");
            }
            kick(req, reply, session && *session == "end", true);
          },
          "Disconnect a client (v5: DISCONNECT 0x98); ?session=end also ends its session");

  api.add(http::verb::get, "/api/v1/sessions", Access::viewer,
          [&api](const Request& req, Reply reply) {
            Paging p = Paging::from(req);
            auto clientid = req.arg("clientid");
            auto connected = req.bool_arg("connected");
            auto filter = [=](const core::SessionBrief& s) {
              return !(connected && s.connected != *connected) &&
                     !(clientid && s.client_id.find(*clientid) == std::string::npos);
            };
            reply_session_page(api, p, filter, reply);
          },
          "Sessions, online and offline (expiry, queued count); filters: clientid substring, connected; paged");

  api.add(http::verb::get, "/api/v1/sessions/{id}", Access::viewer,
          [&api](const Request& req, Reply reply) {
            std::string id = req.param("id");
            find_session(api, id, [reply, id](std::optional<SessionInfo> s) {
              if (!s) return reply.error(Error::not_found("no session '" + id + "'"));
              reply.json(json_of([&](JsonWriter& w) { write_session(w, *s, true); }));
            });
          },
          "One session, online or offline, with its subscriptions");

  api.add(http::verb::delete_, "/api/v1/sessions/{id}", Access::admin,
          [kick](const Request& req, Reply reply) { kick(req, reply, true, false); },
          "End a session (its client, if connected, is disconnected with 0x98)");

  api.add(http::verb::get, "/api/v1/subscriptions", Access::viewer,
          [&api](const Request& req, Reply reply) {
            Paging p = Paging::from(req);
            auto clientid = req.arg("clientid");
            auto topic = req.arg("topic");
            auto group = req.arg("share_group");
            if (topic && !router::is_valid_topic_name(*topic)) {
              throw Error::bad_request("topic must be a topic name (no wildcards); subscriptions whose filter matches it are listed");
            }
            gather_sessions(api, [=](Sessions all) {
              struct Row {
                const std::string* client;
                const core::SubscriptionInfo* sub;
              };
              std::vector<Row> rows;
              for (const SessionInfo& s : all) {
                if (clientid && s.client_id != *clientid) continue;
                for (const auto& sub : s.subscriptions) {
                  bool valid = true;
                  auto shared = router::parse_shared_filter(sub.filter, valid);
                  if (group && (!shared || shared->group != *group)) continue;
                  if (topic && !router::topic_matches(shared ? std::string_view(shared->filter) : sub.filter, *topic)) continue;
                  rows.push_back({&s.client_id, &sub});
                }
              }
              reply.json(page_json(p, rows.size(),
                                   [&](JsonWriter& w, std::size_t i) { write_subscription(w, *rows[i].sub, rows[i].client); }));
            });
          },
          "Subscriptions (filters: clientid, topic matched by the filter, share_group); paged");

  // Subscribe / unsubscribe on a client's behalf: every core is asked, the
  // one that holds the session (online or offline) does it as the client's
  // own SUBSCRIBE / UNSUBSCRIBE would (core.hpp, admin_subscribe).
  api.add(http::verb::post, "/api/v1/clients/{id}/subscriptions", Access::admin,
          [&api](const Request& req, Reply reply) {
            std::string id = req.param("id");
            rapidjson::Document body = parse_body(req);
            std::string filter = body_string(body, "filter", true);
            protocol::SubscribeOptions options;
            options.max_qos = static_cast<protocol::QoS>(body_int(body, "qos", 0, 0, 2));
            options.no_local = body_bool(body, "no_local", false);
            options.retain_as_published = body_bool(body, "retain_as_published", false);
            options.retain_handling = static_cast<std::uint8_t>(body_int(body, "retain_handling", 0, 0, 2));
            bool valid = true;
            auto shared = router::parse_shared_filter(filter, valid);
            if (!valid || !router::is_valid_topic_filter(shared ? std::string_view(shared->filter) : filter)) {
              throw Error::bad_request("'" + filter + "' is not a valid topic filter");
            }
            std::string who = req.who();
            using Answer = std::optional<protocol::ReasonCode>;
            api.gather<Answer>(
                [id, filter, options](core::Core& c) { return c.admin_subscribe(id, filter, options); },
                [reply, id, filter, who](std::vector<Answer> per_core) {
                  Answer a;
                  for (const Answer& x : per_core) {
                    if (x) a = x;
                  }
                  if (!a) return reply.error(Error::not_found("no session '" + id + "'"));
                  auto code = static_cast<unsigned>(*a);
                  if (code > 2) {
                    if (*a == protocol::ReasonCode::not_authorized) {
                      return reply.error(http::status::forbidden, "NOT_AUTHORIZED",
                                         "the ACL does not let '" + id + "' read '" + filter + "'");
                    }
                    if (*a == protocol::ReasonCode::topic_filter_invalid) {
                      return reply.error(Error::bad_request("'" + filter + "' is not a valid topic filter for '" +
                                                            id + "' (its listener's topic limits)"));
                    }
                    return reply.error(Error::conflict("refused with reason code 0x" +
                                                       std::string(1, "0123456789abcdef"[code >> 4]) +
                                                       std::string(1, "0123456789abcdef"[code & 15]) +
                                                       " (the client's limits: quota, shared or wildcard subscriptions)"));
                  }
                  STRATA_INFO("admin") << who << ": subscribed " << id << " to " << filter << " (qos " << code << ")";
                  reply.json(json_of([&](JsonWriter& w) {
                    w.StartObject();
                    w.Key("client_id");
                    write_string(w, id);
                    w.Key("filter");
                    write_string(w, filter);
                    w.Key("qos");
                    w.Uint(code);
                    w.EndObject();
                  }));
                });
          },
          "Subscribe on a client's behalf (online or offline session), as its SUBSCRIBE would: ACL, retained");

  api.add(http::verb::delete_, "/api/v1/clients/{id}/subscriptions", Access::admin,
          [&api](const Request& req, Reply reply) {
            std::string id = req.param("id");
            std::optional<std::string> filter = req.arg("filter");
            if (!filter && !req.body.empty()) filter = body_string(parse_body(req), "filter", true);
            if (!filter || filter->empty()) throw Error::bad_request("give the filter: ?filter=a%2F%23 or {\"filter\"}");
            std::string who = req.who();
            using Answer = std::optional<bool>;
            api.gather<Answer>(
                [id, f = *filter](core::Core& c) { return c.admin_unsubscribe(id, f); },
                [reply, id, f = *filter, who](std::vector<Answer> per_core) {
                  Answer a;
                  for (const Answer& x : per_core) {
                    if (x) a = x;
                  }
                  if (!a) return reply.error(Error::not_found("no session '" + id + "'"));
                  if (!*a) return reply.error(Error::not_found("'" + id + "' has no subscription '" + f + "'"));
                  STRATA_INFO("admin") << who << ": unsubscribed " << id << " from " << f;
                  reply.send(Response{http::status::no_content, "application/json", {}, {}});
                });
          },
          "Unsubscribe on a client's behalf (?filter= or {\"filter\"})");
}

}  // namespace strata::admin
