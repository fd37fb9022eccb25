// clients list|show|kick, sessions list|show|rm.
#include <ostream>

#include "tools/strata_ctl/commands.hpp"
#include "tools/strata_ctl/context.hpp"

namespace strata::ctl {

namespace {

using Params = std::vector<std::pair<std::string, std::string>>;

const std::vector<Column> kClientColumns = {
    {"client id", "clientid"},     {"username", "username"}, {"address", "ip_address"},
    {"listener", "listener"},      {"proto", "proto_ver"},   {"keepalive", "keepalive"},
    {"subs", "subscriptions_count"}, {"inflight", "inflight"}, {"queued", "queued"}};

const std::vector<Column> kSessionColumns = {
    {"client id", "clientid"},  {"connected", "connected"},       {"persistent", "persistent"},
    {"expiry", "expiry_interval"}, {"subs", "subscriptions_count"}, {"queued", "queued"},
    {"inflight", "inflight"}};

const std::vector<Column> kSubscriptionColumns = {
    {"topic", "topic"}, {"qos", "qos"}, {"no local", "no_local"}, {"rap", "retain_as_published"},
    {"rh", "retain_handling"}};

// One client or session: its fields, then its subscriptions as a table.
int show(Context& c, const std::string& target) {
  HttpResponse res = c.call("GET", target);
  if (c.json()) {
    c.print(res, {});
    return 0;
  }
  rapidjson::Document d = parse_json(res.body);
  std::string text = describe(d, {"subscriptions"});
  const rapidjson::Value* subs = member_at(d, "subscriptions");
  if (subs && subs->IsArray() && !subs->Empty()) text += "\n" + list_table(*subs, kSubscriptionColumns).render();
  c.print(res, text);
  return 0;
}

void optional_param(const Args& a, const std::string& option, const std::string& name, Params& p) {
  if (auto v = a.value(option)) p.emplace_back(name, *v);
}

}  // namespace

void add_clients_commands(Registry& r) {
  r.add({"clients", "list", "", 0, 0,
         {{"--match", 1, "TEXT", "client ids containing TEXT"},
          {"--username", 1, "USER", "clients of this user"},
          {"--ip", 1, "ADDRESS", "clients from this address"},
          {"--proto", 1, "5|3.1.1", "clients of this protocol version"},
          page_option(),
          limit_option()},
         "Connected clients",
         [](Context& c, const Args& a) {
           Params p;
           optional_param(a, "--match", "clientid", p);
           optional_param(a, "--username", "username", p);
           optional_param(a, "--ip", "ip", p);
           optional_param(a, "--proto", "proto", p);
           add_paging(a, p);
           c.print_list(c.call("GET", "/api/v1/clients" + query_string(p)), kClientColumns);
           return 0;
         }});
  r.add({"clients", "show", "ID", 1, 1, {}, "One connected client: address, protocol, counters, subscriptions",
         [](Context& c, const Args& a) {
           return show(c, "/api/v1/clients/" + percent_encode(a.positional[0]));
         }});
  r.add({"clients", "kick", "ID", 1, 1, {{"--end-session", 0, "", "also end its session"}},
         "Disconnect a client (MQTT 5: DISCONNECT 0x98)",
         [](Context& c, const Args& a) {
           const std::string& id = a.positional[0];
           c.call("DELETE", "/api/v1/clients/" + percent_encode(id) + (a.has("--end-session") ? "?session=end" : ""));
           if (!c.json()) {
             c.out() << "Disconnected " << id << (a.has("--end-session") ? " and ended its session" : "") << "\n";
           }
           return 0;
         }});

  r.add({"sessions", "list", "", 0, 0,
         {{"--match", 1, "TEXT", "client ids containing TEXT"},
          {"--connected", 1, "true|false", "only sessions whose client is (not) connected"},
          page_option(),
          limit_option()},
         "Sessions, online and offline (expiry, queued messages)",
         [](Context& c, const Args& a) {
           Params p;
           optional_param(a, "--match", "clientid", p);
           if (auto v = a.value("--connected")) {
             if (*v != "true" && *v != "false") throw UsageError("--connected must be true or false");
             p.emplace_back("connected", *v);
           }
           add_paging(a, p);
           c.print_list(c.call("GET", "/api/v1/sessions" + query_string(p)), kSessionColumns);
           return 0;
         }});
  r.add({"sessions", "show", "ID", 1, 1, {}, "One session, online or offline, with its subscriptions",
         [](Context& c, const Args& a) {
           return show(c, "/api/v1/sessions/" + percent_encode(a.positional[0]));
         }});
  r.add({"sessions", "rm", "ID", 1, 1, {}, "End a session (its client, if connected, is disconnected)",
         [](Context& c, const Args& a) {
           c.call("DELETE", "/api/v1/sessions/" + percent_encode(a.positional[0]));
           if (!c.json()) c.out() << "Ended the session of " << a.positional[0] << "\n";
           return 0;
         }});
}

}  // namespace strata::ctl
