// topics tree|find|show|schema: the unified namespace's live catalog,
// through /api/v1/namespace and /api/v1/topics.
#include <ostream>

#include "tools/strata_ctl/commands.hpp"
#include "tools/strata_ctl/context.hpp"
#include "tools/strata_ctl/uns_render.hpp"
#include "tools/strata_ctl/url.hpp"

namespace strata::ctl {

namespace {

using Params = std::vector<std::pair<std::string, std::string>>;

void optional_param(const Args& a, const std::string& option, const std::string& name, Params& p) {
  if (auto v = a.value(option)) p.emplace_back(name, *v);
}

std::string topic_path(const std::string& topic) { return "/api/v1/topics/" + percent_encode(topic); }

void print_more(Context& c, const rapidjson::Value& d) {
  const rapidjson::Value* more = d.IsObject() ? member_at(d, "meta.hasnext") : nullptr;
  if (more && more->IsBool() && more->GetBool()) {
    const rapidjson::Value* page = member_at(d, "meta.page");
    c.err() << "(more: --page " << (page && page->IsInt64() ? page->GetInt64() + 1 : 2) << ")\n";
  }
}

}  // namespace

void add_topics_commands(Registry& r) {
  r.add({"topics", "tree", "[PATH]", 0, 1,
         {{"--depth", 1, "N", "levels below PATH (default 2, at most 64)"}, page_option(), limit_option()},
         "The namespace tree below PATH: topics, messages, rate and contract status per node",
         [](Context& c, const Args& a) {
           Params p;
           if (!a.positional.empty()) p.emplace_back("path", a.positional[0]);
           p.emplace_back("depth", std::to_string(a.integer("--depth", 0, 64, 2)));
           add_paging(a, p);
           HttpResponse res = c.call("GET", "/api/v1/namespace" + query_string(p));
           c.print(res, c.json() ? std::string() : tree_table(parse_json(res.body)).render());
           return 0;
         }});
  r.add({"topics", "find", "[FILTER]", 0, 1,
         {{"--text", 1, "TEXT", "topics containing TEXT"},
          {"--regex", 1, "RE", "topics matching the regular expression RE"},
          {"--contract", 1, "NAME", "topics under the contract NAME"},
          {"--status", 1, "ok|violating", "topics whose last message kept (broke) its contract"},
          {"--stale", 1, "SECONDS", "topics not seen for SECONDS"},
          page_option(),
          limit_option()},
         "Search the catalog by MQTT filter, substring, regex, contract, status or age",
         [](Context& c, const Args& a) {
           Params p;
           if (!a.positional.empty()) p.emplace_back("match", a.positional[0]);
           optional_param(a, "--text", "q", p);
           optional_param(a, "--regex", "regex", p);
           optional_param(a, "--contract", "contract", p);
           if (auto s = a.value("--status")) {
             if (*s != "ok" && *s != "violating") throw UsageError("--status must be ok or violating");
             p.emplace_back("status", *s);
           }
           if (a.has("--stale")) p.emplace_back("stale", std::to_string(a.integer("--stale", 0, 1'000'000'000, 0)));
           add_paging(a, p);
           HttpResponse res = c.call("GET", "/api/v1/topics" + query_string(p));
           if (c.json()) return c.print(res, {}), 0;
           rapidjson::Document d = parse_json(res.body);
           c.out() << topics_table(d).render();
           print_more(c, d);
           return 0;
         }});
  r.add({"topics", "show", "TOPIC", 1, 1, {}, "One topic: last value, counts, rate, ISA-95 place, contracts",
         [](Context& c, const Args& a) {
           HttpResponse res = c.call("GET", topic_path(a.positional[0]));
           c.print(res, c.json() ? std::string() : describe(parse_json(res.body)));
           return 0;
         }});
  r.add({"topics", "schema", "TOPIC", 1, 1,
         {{"--as-contract", 0, "", "print a draft-04 JSON Schema to save as a contract"}},
         "The inferred schema of a topic: each field's types and presence",
         [](Context& c, const Args& a) {
           bool draft = a.has("--as-contract");
           HttpResponse res = c.call("GET", topic_path(a.positional[0]) + "/schema" + (draft ? "?as=contract" : ""));
           if (c.json() || draft) {
             // The draft is JSON either way: printed as it came, ready for a file.
             c.out() << res.body << (res.body.empty() || res.body.back() != '\n' ? "\n" : "");
             return 0;
           }
           rapidjson::Document d = parse_json(res.body);
           std::string text = fields_table(d).render();
           const rapidjson::Value* versions = member_at(d, "versions");
           text += "schema version " + (member_at(d, "current_version") ? cell_text(*member_at(d, "current_version"))
                                                                         : std::string("-")) +
                   " of " + std::to_string(versions && versions->IsArray() ? versions->Size() : 0) + "\n";
           c.out() << text;
           return 0;
         }});
}

}  // namespace strata::ctl
