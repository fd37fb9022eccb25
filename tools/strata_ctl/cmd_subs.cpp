// subs list|add|rm: subscriptions, and subscribing on a client's behalf.
#include <ostream>

#include "tools/strata_ctl/commands.hpp"
#include "tools/strata_ctl/context.hpp"

namespace strata::ctl {

void add_subs_commands(Registry& r) {
  r.add({"subs", "list", "", 0, 0,
         {{"--client", 1, "ID", "the subscriptions of this client"},
          {"--topic", 1, "TOPIC", "subscriptions whose filter matches this topic name"},
          {"--share-group", 1, "GROUP", "subscriptions of this shared group"},
          page_option(),
          limit_option()},
         "Subscriptions of all sessions",
         [](Context& c, const Args& a) {
           std::vector<std::pair<std::string, std::string>> p;
           if (auto v = a.value("--client")) p.emplace_back("clientid", *v);
           if (auto v = a.value("--topic")) p.emplace_back("topic", *v);
           if (auto v = a.value("--share-group")) p.emplace_back("share_group", *v);
           add_paging(a, p);
           c.print_list(c.call("GET", "/api/v1/subscriptions" + query_string(p)),
                        {{"client id", "clientid"}, {"topic", "topic"}, {"qos", "qos"}, {"share group", "share_group"},
                         {"no local", "no_local"}, {"rap", "retain_as_published"}, {"rh", "retain_handling"}});
           return 0;
         }});
  r.add({"subs", "add", "CLIENT FILTER", 2, 2, {{"--qos", 1, "N", "the maximum QoS, 0-2 (default 0)"}},
         "Subscribe a client's session to a filter",
         [](Context& c, const Args& a) {
           long long qos = a.integer("--qos", 0, 2, 0);
           const std::string& id = a.positional[0];
           const std::string& filter = a.positional[1];
           HttpResponse res = c.call("POST", "/api/v1/clients/" + percent_encode(id) + "/subscriptions",
                                     "{\"filter\":" + json_string(filter) + ",\"qos\":" + std::to_string(qos) + "}");
           c.print(res, "Subscribed " + id + " to " + filter + " (QoS " + std::to_string(qos) + ")\n");
           return 0;
         }});
  r.add({"subs", "rm", "CLIENT FILTER", 2, 2, {}, "Unsubscribe a client's session from a filter",
         [](Context& c, const Args& a) {
           const std::string& id = a.positional[0];
           const std::string& filter = a.positional[1];
           HttpResponse res = c.call("DELETE", "/api/v1/clients/" + percent_encode(id) + "/subscriptions" +
                                                   query_string({{"filter", filter}}));
           c.print(res, "Unsubscribed " + id + " from " + filter + "\n");
           return 0;
         }});
}

}  // namespace strata::ctl
