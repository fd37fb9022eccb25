// rules list|show|apply|rm|enable|disable|test: the Lua rules in the rules
// directory, through /api/v1/rules. Answers are printed field by field
// (describe), so counters the API adds show without a change here.
#include <fstream>
#include <ostream>
#include <sstream>

#include "tools/strata_ctl/commands.hpp"
#include "tools/strata_ctl/context.hpp"

namespace strata::ctl {

namespace {

std::string read_file(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) throw CtlError("cannot read " + path);
  std::ostringstream s;
  s << f.rdbuf();
  return s.str();
}

// "dir/alarm.lua" -> "alarm".
std::string rule_name_of(const std::string& path) {
  std::string base = path.substr(path.rfind('/') == std::string::npos ? 0 : path.rfind('/') + 1);
  if (base.size() > 4 && base.compare(base.size() - 4, 4, ".lua") == 0) base.resize(base.size() - 4);
  return base;
}

std::string rule_path(const std::string& name) { return "/api/v1/rules/" + percent_encode(name); }

}  // namespace

void add_rules_commands(Registry& r) {
  r.add({"rules", "list", "", 0, 0, {}, "The rules: file, enabled, counters", [](Context& c, const Args&) {
           c.print_list(c.call("GET", "/api/v1/rules"),
                        {{"name", "name"}, {"file", "file"}, {"enabled", "enabled"}, {"topics", "topics"}});
           return 0;
         }});
  r.add({"rules", "show", "NAME", 1, 1, {}, "One rule, with its source", [](Context& c, const Args& a) {
           HttpResponse res = c.call("GET", rule_path(a.positional[0]));
           std::string text;
           if (!c.json()) {
             rapidjson::Document d = parse_json(res.body);
             text = describe(d, {"source"});
             const rapidjson::Value* source = member_at(d, "source");
             if (source && source->IsString()) {
               std::string src(source->GetString(), source->GetStringLength());
               text += "\n" + src + (src.empty() || src.back() == '\n' ? "" : "\n");
             }
           }
           c.print(res, text);
           return 0;
         }});
  r.add({"rules", "apply", "FILE", 1, 1, {{"--name", 1, "NAME", "the rule's name (default: FILE without .lua)"}},
         "Install or replace a rule from a Lua file (a syntax error leaves the running version)",
         [](Context& c, const Args& a) {
           std::string name = a.value("--name").value_or(rule_name_of(a.positional[0]));
           if (name.empty()) throw UsageError("cannot name a rule after '" + a.positional[0] + "': give --name");
           HttpResponse res = c.call("PUT", rule_path(name), read_file(a.positional[0]), "text/plain");
           c.print(res, "Applied rule " + name + "\n");
           return 0;
         }});
  r.add({"rules", "rm", "NAME", 1, 1, {}, "Delete a rule (and its file)", [](Context& c, const Args& a) {
           HttpResponse res = c.call("DELETE", rule_path(a.positional[0]));
           c.print(res, "Removed rule " + a.positional[0] + "\n");
           return 0;
         }});
  for (std::string verb : {"enable", "disable"}) {
    r.add({"rules", verb, "NAME", 1, 1, {}, verb == "enable" ? "Enable a rule" : "Disable a rule (it stays installed)",
           [verb](Context& c, const Args& a) {
             HttpResponse res = c.call("POST", rule_path(a.positional[0]) + "/" + verb);
             c.print(res, (verb == "enable" ? "Enabled rule " : "Disabled rule ") + a.positional[0] + "\n");
             return 0;
           }});
  }
  r.add({"rules", "test", "FILE", 1, 1,
         {{"--message", 2, "TOPIC PAYLOAD", "a sample message (at least one)", true}},
         "Dry-run a rule file on sample messages: what it would pass, drop, publish, log (exit 1 on a fault)",
         [](Context& c, const Args& a) {
           const auto& m = a.values("--message");
           if (m.empty()) throw UsageError("rules test needs at least one --message TOPIC PAYLOAD");
           std::string body = "{\"source\":" + json_string(read_file(a.positional[0]));
           // Named after its file when that is a rule name (the dry run's messages say it).
           std::string name = rule_name_of(a.positional[0]);
           bool plain = !name.empty() && name.size() <= 64 &&
                        name.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-") ==
                            std::string::npos;
           if (plain) body += ",\"name\":" + json_string(name);
           body += ",\"messages\":[";
           for (std::size_t i = 0; i + 1 < m.size(); i += 2) {
             body += (i ? "," : "") + std::string("{\"topic\":") + json_string(m[i]) +
                     ",\"payload\":" + json_string(m[i + 1]) + "}";
           }
           body += "]}";
           HttpResponse res = c.call("POST", "/api/v1/rules/test", body);
           // The dry run's own report ("output", as `strata --rules-test`
           // prints it) when the answer has one, else every field.
           rapidjson::Document d = parse_json(res.body);
           const rapidjson::Value* output = member_at(d, "output");
           c.print(res, output && output->IsString() ? std::string(output->GetString(), output->GetStringLength())
                                                     : describe(d));
           const rapidjson::Value* faulted = member_at(d, "faulted");
           if (faulted && faulted->IsBool() && faulted->GetBool()) {
             throw CtlError("the rule faulted on a sample message (the error is in the report)");
           }
           return 0;
         }});
}

}  // namespace strata::ctl
