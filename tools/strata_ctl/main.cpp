// strata-ctl: the command-line client of Strata's admin HTTP API.
//
//   strata-ctl status
//   strata-ctl clients list
//   strata-ctl --url https://broker:8443 --cacert ca.pem clients kick sensor-7
//   strata-ctl --json retained show plant/line1/temp
//
// Exit status: 0 on success, 1 when the request failed (the API's code and
// message on stderr: "strata-ctl: 404 NOT_FOUND: no connected client 'x'",
// or why the server could not be reached), 2 for a command line that is not
// one (with the usage). The commands live in cmd_*.cpp (commands.cpp lists
// them); `strata-ctl --help` prints them all.
#include <cstdlib>
#include <iostream>

#include "broker/util/base64.hpp"
#include "tools/strata_ctl/args.hpp"
#include "tools/strata_ctl/context.hpp"
#include "tools/strata_ctl/token_file.hpp"

namespace {

using namespace strata::ctl;

std::string env(const char* name) {
  const char* v = std::getenv(name);
  return v ? v : "";
}

HttpOptions http_options(const Args& a) {
  HttpOptions o;
  std::string url = a.value("--url").value_or(env("STRATA_URL"));
  if (url.empty()) url = "http://127.0.0.1:8080";
  std::string why;
  auto parsed = parse_url(url, why);
  if (!parsed) throw UsageError("bad URL '" + url + "': " + why);
  o.url = *parsed;
  o.cacert = a.value("--cacert").value_or("");
  o.insecure = a.has("--insecure");
  o.timeout = std::chrono::milliseconds(a.integer("--timeout", 1, 3600, 10) * 1000);
  std::string key = a.value("--api-key").value_or(env("STRATA_API_KEY"));
  if (!key.empty()) {
    if (key.find(':') == std::string::npos) throw UsageError("--api-key takes NAME:SECRET");
    o.authorization = "Basic " + strata::util::base64_encode(key);
  } else {
    std::string token = a.value("--token").value_or(env("STRATA_TOKEN"));
    if (token.empty()) token = read_token(token_path()).value_or("");
    if (!token.empty()) o.authorization = "Bearer " + token;
  }
  return o;
}

int usage_error(const UsageError& e, const std::string& fallback) {
  std::cerr << "strata-ctl: " << e.what() << "\n";
  std::string usage = e.usage().empty() ? fallback : e.usage();
  if (!usage.empty()) std::cerr << "Usage: " << usage << "\n";
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  Registry registry = all_commands();
  std::vector<std::string> args(argv + 1, argv + argc);
  Invocation inv;
  try {
    inv = parse_command_line(registry, args);
  } catch (const UsageError& e) {
    return usage_error(e, {});
  }
  if (inv.help) {
    if (inv.command) {
      std::cout << inv.command->help_text();
    } else if (!inv.group.empty()) {
      std::cout << group_usage(registry, inv.group);
    } else {
      std::cout << general_usage(registry);
    }
    return 0;
  }
  try {
    Context ctx(HttpClient(http_options(inv.args)), inv.args.has("--json"), std::cout, std::cerr);
    int rc = inv.command->run(ctx, inv.args);
    std::cout.flush();
    return rc;
  } catch (const UsageError& e) {
    return usage_error(e, inv.command->usage());
  } catch (const std::exception& e) {
    std::cout.flush();
    std::cerr << "strata-ctl: " << e.what() << "\n";
    return 1;
  }
}
