// retained list|show|rm, publish.
#include <ostream>

#include "tools/strata_ctl/commands.hpp"
#include "tools/strata_ctl/context.hpp"

namespace strata::ctl {

void add_retained_commands(Registry& r) {
  r.add({"retained", "list", "", 0, 0,
         {{"--topic", 1, "FILTER", "retained messages whose topic matches FILTER (default #)"}, page_option(),
          limit_option()},
         "Retained messages",
         [](Context& c, const Args& a) {
           std::vector<std::pair<std::string, std::string>> p;
           if (auto v = a.value("--topic")) p.emplace_back("topic", *v);
           add_paging(a, p);
           c.print_list(c.call("GET", "/api/v1/retained" + query_string(p)),
                        {{"topic", "topic"}, {"qos", "qos"}, {"size", "payload_size"}, {"publisher", "publisher"}});
           return 0;
         }});
  r.add({"retained", "show", "TOPIC", 1, 1, {}, "One retained message: payload (text when UTF-8) and properties",
         [](Context& c, const Args& a) {
           HttpResponse res = c.call("GET", "/api/v1/retained/" + percent_encode(a.positional[0]));
           c.print(res, c.json() ? "" : describe(parse_json(res.body)));
           return 0;
         }});
  r.add({"retained", "rm", "TOPIC", 1, 1, {}, "Delete a retained message (nothing is published)",
         [](Context& c, const Args& a) {
           c.call("DELETE", "/api/v1/retained/" + percent_encode(a.positional[0]));
           if (!c.json()) c.out() << "Deleted the retained message of " << a.positional[0] << "\n";
           return 0;
         }});
  r.add({"publish", "", "TOPIC PAYLOAD", 2, 2,
         {{"--qos", 1, "N", "QoS 0-2 (default 0)"},
          {"--retain", 0, "", "retain the message"},
          {"--base64", 0, "", "PAYLOAD is base64 (binary payloads)"}},
         "Publish a message through the broker's pipeline (ACL as the API user, rules)",
         [](Context& c, const Args& a) {
           long long qos = a.integer("--qos", 0, 2, 0);
           const std::string& topic = a.positional[0];
           std::string body = "{\"topic\":" + json_string(topic) + ",\"payload\":" + json_string(a.positional[1]) +
                              ",\"payload_encoding\":\"" + (a.has("--base64") ? "base64" : "plain") +
                              "\",\"qos\":" + std::to_string(qos) + ",\"retain\":" +
                              (a.has("--retain") ? "true" : "false") + "}";
           HttpResponse res = c.call("POST", "/api/v1/publish", body);
           c.print(res, "Published to " + topic + "\n");
           return 0;
         }});
}

}  // namespace strata::ctl
