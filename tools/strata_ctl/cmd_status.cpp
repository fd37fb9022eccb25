// status, reload, metrics: the broker as a whole.
#include <ostream>

#include "tools/strata_ctl/commands.hpp"
#include "tools/strata_ctl/context.hpp"

namespace strata::ctl {

namespace {

std::string joined(const rapidjson::Value* v) {
  if (!v || !v->IsArray() || v->Empty()) return "-";
  return cell_text(*v);
}

}  // namespace

void add_status_commands(Registry& r) {
  r.add({"status", "", "", 0, 0, {}, "Version, uptime, listeners, connections, message rates (exit 0 when it answers)",
         [](Context& c, const Args&) {
           HttpResponse res = c.call("GET", "/api/v1/status");
           c.print(res, c.json() ? "" : describe(parse_json(res.body)));
           return 0;
         }});
  r.add({"reload", "", "", 0, 0, {}, "Reload the configuration file (as SIGHUP) and say what was reloaded",
         [](Context& c, const Args&) {
           HttpResponse res = c.call("POST", "/api/v1/reload");
           std::string text;
           if (!c.json()) {
             rapidjson::Document d = parse_json(res.body);
             text = "reloaded: " + joined(member_at(d, "reloaded")) + "\nnot reloaded: " +
                    joined(member_at(d, "not_reloaded")) + "\n";
           }
           c.print(res, text);
           return 0;
         }});
  r.add({"metrics", "", "", 0, 0, {}, "The Prometheus metrics (/metrics) as text", [](Context& c, const Args&) {
           HttpResponse res = c.call("GET", "/metrics");
           c.out() << res.body;
           return 0;
         }});
}

}  // namespace strata::ctl
