// status, reload, metrics: the broker as a whole.
#include <ostream>

#include "tools/strata_ctl/commands.hpp"
#include "tools/strata_ctl/context.hpp"

namespace strata::ctl {

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
           // ok, reloaded: [...], not_reloaded: [...] (one item a line).
           std::string text = c.json() ? "" : describe(parse_json(res.body));
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
