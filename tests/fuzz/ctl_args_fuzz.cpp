// Fuzzes strata-ctl's pure input paths: the command line (the input split at
// NUL bytes into arguments) parsed against the real command table, the
// integer options and usage texts of whatever command it names, the --url
// parser; and, for inputs starting with '{' or '[', the API JSON rendered
// as a list table, a history table and indented fields.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "tools/strata_ctl/args.hpp"
#include "tools/strata_ctl/table.hpp"
#include "tools/strata_ctl/url.hpp"

namespace {

using namespace strata::ctl;

const Registry& registry() {
  static const Registry r = all_commands();
  return r;
}

void command_line(const std::string& input) {
  std::vector<std::string> argv;
  std::size_t start = 0;
  while (start <= input.size() && argv.size() < 64) {
    std::size_t nul = input.find('\0', start);
    if (nul == std::string::npos) nul = input.size();
    argv.push_back(input.substr(start, nul - start));
    start = nul + 1;
  }
  try {
    Invocation inv = parse_command_line(registry(), argv);
    if (inv.command) {
      (void)inv.command->help_text();
      for (const auto& o : inv.command->options) {
        if (o.arity == 1) {
          try {
            (void)inv.args.integer(o.name, 0, 10000, 0);
          } catch (const UsageError&) {
          }
        }
      }
    } else if (!inv.group.empty()) {
      (void)group_usage(registry(), inv.group);
    }
    if (auto url = inv.args.value("--url")) {
      std::string why;
      if (auto u = parse_url(*url, why)) (void)u->text();
    }
    for (const auto& p : inv.args.positional) (void)query_string({{"filter", p}});
  } catch (const UsageError& e) {
    (void)e.usage();
  }
}

void api_json(const std::string& input) {
  rapidjson::Document d;
  d.Parse<rapidjson::kParseIterativeFlag>(input.data(), input.size());
  if (d.HasParseError()) return;
  (void)list_table(d, {{"a", "clientid"}, {"b", "meta.page"}, {"c", "value"}}).render();
  (void)series_table(d).render();
  (void)describe(d, {"source"});
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string input(reinterpret_cast<const char*>(data), size);
  if (!input.empty() && (input[0] == '{' || input[0] == '[')) {
    api_json(input);
  } else {
    command_line(input);
  }
  return 0;
}
