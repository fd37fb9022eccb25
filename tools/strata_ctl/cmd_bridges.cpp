// bridges list|show|pause|resume|dead|dead-resend|dead-purge|purge: the bridges,
// their outboxes and dead letters, through /api/v1/bridges. `show` prints every field the API gives (describe), so
// counters added there show without a change here.
#include <cstdint>
#include <ostream>

#include "tools/strata_ctl/commands.hpp"
#include "tools/strata_ctl/context.hpp"

namespace strata::ctl {

namespace {

std::string bridge_path(const std::string& name) { return "/api/v1/bridges/" + percent_encode(name); }

// "?offset=N" when --offset was given: one dead letter, else all.
std::string offset_query(const Args& a) {
  if (!a.has("--offset")) return {};
  return query_string({{"offset", std::to_string(a.integer("--offset", 1, INT64_MAX, 1))}});
}

const OptionSpec kOffset{"--offset", 1, "N", "just the dead letter at this offset (default: all of them)"};

}  // namespace

void add_bridges_commands(Registry& r) {
  r.add({"bridges", "list", "", 0, 0, {page_option(), limit_option()},
         "The bridges: state, queued messages, fill, lag, sent and acknowledged",
         [](Context& c, const Args& a) {
           std::vector<std::pair<std::string, std::string>> p;
           add_paging(a, p);
           c.print_list(c.call("GET", "/api/v1/bridges" + query_string(p)),
                        {{"name", "name"},
                         {"type", "type"},
                         {"state", "state"},
                         {"queued", "queued_messages"},
                         {"bytes", "queued_bytes"},
                         {"fill %", "fill_percent"},
                         {"lag ms", "oldest_unacknowledged_age_ms"},
                         {"sent", "sent"},
                         {"acked", "acknowledged"},
                         {"resent", "resent"},
                         {"p99 ms", "delivery_latency_ms.p99"}});
           return 0;
         }});
  r.add({"bridges", "show", "NAME", 1, 1, {}, "One bridge: every counter, drops by reason, its config (secrets masked)",
         [](Context& c, const Args& a) {
           HttpResponse res = c.call("GET", bridge_path(a.positional[0]));
           c.print(res, c.json() ? std::string() : describe(parse_json(res.body)));
           return 0;
         }});
  r.add({"bridges", "dead", "NAME", 1, 1, {page_option(), limit_option()},
         "A bridge's dead letters: messages its target rejected for good, with the reason",
         [](Context& c, const Args& a) {
           std::vector<std::pair<std::string, std::string>> p;
           add_paging(a, p);
           c.print_list(c.call("GET", bridge_path(a.positional[0]) + "/dead" + query_string(p)),
                        {{"offset", "offset"}, {"topic", "topic"}, {"qos", "qos"}, {"bytes", "payload_size"},
                         {"reason", "reason"}});
           return 0;
         }});
  // dead-resend and dead-purge: one request each, answered with the count.
  for (bool resend : {true, false}) {
    r.add({"bridges", resend ? "dead-resend" : "dead-purge", "NAME", 1, 1, {kOffset},
           resend ? "Send a bridge's dead letters again: they go to the end of its outbox"
                  : "Delete a bridge's dead letters",
           [resend](Context& c, const Args& a) {
             const std::string& name = a.positional[0];
             HttpResponse res = resend ? c.call("POST", bridge_path(name) + "/dead/resend" + offset_query(a))
                                       : c.call("DELETE", bridge_path(name) + "/dead" + offset_query(a));
             rapidjson::Document d = parse_json(res.body);
             const rapidjson::Value* n = member_at(d, resend ? "resent" : "purged");
             std::string count = std::to_string(n && n->IsUint64() ? n->GetUint64() : 0);
             c.print(res, resend ? "Sent " + count + " dead letters of " + name + " again\n"
                                 : "Purged " + count + " dead letters of " + name + "\n");
             return 0;
           }});
  }
  for (std::string verb : {"pause", "resume"}) {
    r.add({"bridges", verb, "NAME", 1, 1, {},
           verb == "pause" ? "Pause a bridge: it keeps queueing and sends nothing new"
                           : "Resume a paused bridge: it goes on in outbox order",
           [verb](Context& c, const Args& a) {
             HttpResponse res = c.call("POST", bridge_path(a.positional[0]) + "/" + verb);
             c.print(res, (verb == "pause" ? "Paused bridge " : "Resumed bridge ") + a.positional[0] + "\n");
             return 0;
           }});
  }
  r.add({"bridges", "purge", "NAME", 1, 1, {},
         "Delete the outbox kept for a bridge removed from the configuration (its queued messages are lost)",
         [](Context& c, const Args& a) {
           const std::string& name = a.positional[0];
           HttpResponse res = c.call("DELETE", bridge_path(name) + "/outbox");
           rapidjson::Document d = parse_json(res.body);
           const rapidjson::Value* n = member_at(d, "purged");
           std::string count = std::to_string(n && n->IsUint64() ? n->GetUint64() : 0);
           c.print(res, "Purged the outbox of removed bridge " + name + " (" + count + " messages)\n");
           return 0;
         }});
}

}  // namespace strata::ctl
