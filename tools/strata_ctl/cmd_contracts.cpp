// contracts list|show|test|violations|apply|rm: the unified namespace's
// data contracts, through /api/v1/contracts.
#include <fstream>
#include <ostream>
#include <sstream>

#include "tools/strata_ctl/commands.hpp"
#include "tools/strata_ctl/context.hpp"
#include "tools/strata_ctl/uns_render.hpp"
#include "tools/strata_ctl/url.hpp"

namespace strata::ctl {

namespace {

std::string read_file(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) throw CtlError("cannot read " + path);
  std::ostringstream s;
  s << f.rdbuf();
  return s.str();
}

std::string contract_path(const std::string& name) { return "/api/v1/contracts/" + percent_encode(name); }

const std::vector<Column> kViolationColumns = {
    {"time ms", "time_ms"}, {"topic", "topic"},     {"client id", "client_id"}, {"contract", "contract"},
    {"version", "version"}, {"kind", "kind"},       {"pointer", "pointer"},     {"action", "action"}};

}  // namespace

void add_contracts_commands(Registry& r) {
  r.add({"contracts", "list", "", 0, 0, {page_option(), limit_option()},
         "The loaded contracts: filter, checks, action, counters",
         [](Context& c, const Args& a) {
           std::vector<std::pair<std::string, std::string>> p;
           add_paging(a, p);
           HttpResponse res = c.call("GET", "/api/v1/contracts" + query_string(p));
           c.print(res, c.json() ? std::string() : contracts_table(parse_json(res.body)).render());
           return 0;
         }});
  r.add({"contracts", "show", "NAME", 1, 1, {}, "One contract with its counters and schema",
         [](Context& c, const Args& a) {
           HttpResponse res = c.call("GET", contract_path(a.positional[0]));
           c.print(res, c.json() ? std::string() : describe(parse_json(res.body)));
           return 0;
         }});
  r.add({"contracts", "test", "NAME PAYLOAD...", 2, 1000,
         {{"--schema", 1, "FILE", "test against this JSON Schema file instead of the loaded contract"},
          {"--shape", 1, "number|timeseries", "test against a built-in shape instead of the loaded contract"}},
         "Check sample payloads against a contract (exit 1 when one is invalid)",
         [](Context& c, const Args& a) {
           std::vector<std::string> samples(a.positional.begin() + 1, a.positional.end());
           std::string body = "{\"samples\":[";
           for (std::size_t i = 0; i < samples.size(); ++i) body += (i ? "," : "") + json_string(samples[i]);
           body += "]";
           if (auto f = a.value("--schema")) body += ",\"schema\":" + read_file(*f);
           if (auto s = a.value("--shape")) body += ",\"shape\":" + json_string(*s);
           body += "}";
           HttpResponse res = c.call("POST", contract_path(a.positional[0]) + "/test", body);
           std::size_t failed = 0;
           std::string text = test_table(parse_json(res.body), samples, failed).render();
           c.print(res, text);
           if (failed) throw CtlError(std::to_string(failed) + " of " + std::to_string(samples.size()) +
                                      " samples break the contract");
           return 0;
         }});
  r.add({"contracts", "violations", "", 0, 0, {page_option(), limit_option()},
         "The latest contract and model violations, latest first",
         [](Context& c, const Args& a) {
           std::vector<std::pair<std::string, std::string>> p;
           add_paging(a, p);
           c.print_list(c.call("GET", "/api/v1/contracts/violations" + query_string(p)), kViolationColumns);
           return 0;
         }});
  r.add({"contracts", "apply", "FILE", 1, 1, {{"--name", 1, "NAME", "the contract's name (default: \"name\" in FILE)"}},
         "Install or replace a contract from a JSON file ({\"filter\",\"schema\"|\"shape\",\"action\",\"version\"}); "
         "a bad schema leaves the running version",
         [](Context& c, const Args& a) {
           std::string text = read_file(a.positional[0]);
           std::string name = a.value("--name").value_or("");
           if (name.empty()) {
             rapidjson::Document d;
             d.Parse(text.data(), text.size());
             if (d.HasParseError() || !d.IsObject()) throw CtlError(a.positional[0] + " is not a JSON object");
             const rapidjson::Value* n = member_at(d, "name");
             if (n && n->IsString()) name = n->GetString();
           }
           if (name.empty()) throw UsageError("the contract has no \"name\" in " + a.positional[0] + ": give --name");
           HttpResponse res = c.call("PUT", contract_path(name), text);
           c.print(res, "Applied contract " + name + "\n");
           return 0;
         }});
  r.add({"contracts", "rm", "NAME", 1, 1, {}, "Remove a contract (kept across restarts and reloads until applied again)",
         [](Context& c, const Args& a) {
           HttpResponse res = c.call("DELETE", contract_path(a.positional[0]));
           c.print(res, "Removed contract " + a.positional[0] + "\n");
           return 0;
         }});
}

}  // namespace strata::ctl
