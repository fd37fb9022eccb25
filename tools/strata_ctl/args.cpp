#include "tools/strata_ctl/args.hpp"

#include <algorithm>
#include <charconv>

namespace strata::ctl {

namespace {

const OptionSpec* find_option(const std::vector<OptionSpec>& specs, std::string_view name) {
  for (const auto& s : specs) {
    if (s.name == name) return &s;
  }
  return nullptr;
}

std::string option_usage(const OptionSpec& o) {
  std::string s = o.name;
  if (!o.meta.empty()) s += " " + o.meta;
  return s;
}

std::string options_help(const std::vector<OptionSpec>& specs) {
  std::size_t width = 0;
  for (const auto& o : specs) width = std::max(width, option_usage(o).size());
  std::string out;
  for (const auto& o : specs) {
    std::string u = option_usage(o);
    out += "  " + u + std::string(width - u.size() + 2, ' ') + o.help + "\n";
  }
  return out;
}

}  // namespace

std::optional<std::string> Args::value(const std::string& name) const {
  auto it = options.find(name);
  if (it == options.end() || it->second.empty()) return std::nullopt;
  return it->second.back();
}

const std::vector<std::string>& Args::values(const std::string& name) const {
  static const std::vector<std::string> none;
  auto it = options.find(name);
  return it == options.end() ? none : it->second;
}

long long Args::integer(const std::string& name, long long lo, long long hi, long long fallback) const {
  auto v = value(name);
  if (!v) return fallback;
  long long n = 0;
  auto [p, ec] = std::from_chars(v->data(), v->data() + v->size(), n);
  if (ec != std::errc{} || p != v->data() + v->size() || n < lo || n > hi) {
    throw UsageError(name + " must be an integer from " + std::to_string(lo) + " to " + std::to_string(hi) +
                     ", not '" + *v + "'");
  }
  return n;
}

std::string Command::usage() const {
  std::string s = "strata-ctl " + name();
  if (!args.empty()) s += " " + args;
  for (const auto& o : options) s += " [" + option_usage(o) + "]" + (o.repeat ? "..." : "");
  return s;
}

std::string Command::help_text() const {
  std::string s = "Usage: " + usage() + "\n\n" + help + "\n";
  if (!options.empty()) s += "\nOptions:\n" + options_help(options);
  s += "\nGlobal options:\n" + options_help(global_options());
  return s;
}

const Command* Registry::find(const std::string& group, const std::string& verb) const {
  for (const auto& c : commands_) {
    if (c.group == group && c.verb == verb) return &c;
  }
  return nullptr;
}

bool Registry::has_group(const std::string& group) const {
  return std::any_of(commands_.begin(), commands_.end(), [&](const Command& c) { return c.group == group; });
}

bool Registry::has_verbs(const std::string& group) const {
  return std::any_of(commands_.begin(), commands_.end(),
                     [&](const Command& c) { return c.group == group && !c.verb.empty(); });
}

std::vector<const Command*> Registry::group(const std::string& group) const {
  std::vector<const Command*> out;
  for (const auto& c : commands_) {
    if (c.group == group) out.push_back(&c);
  }
  return out;
}

const std::vector<OptionSpec>& global_options() {
  static const std::vector<OptionSpec> specs = {
      {"--url", 1, "URL", "the admin API (default $STRATA_URL, else http://127.0.0.1:8080)"},
      {"--token", 1, "TOKEN", "a bearer token (default $STRATA_TOKEN, else the file `login` wrote)"},
      {"--api-key", 1, "NAME:SECRET", "an API key (HTTP Basic) instead of a token (default $STRATA_API_KEY)"},
      {"--cacert", 1, "FILE", "CA certificates (PEM) to verify an https:// server with"},
      {"--insecure", 0, "", "do not verify the https:// server's certificate"},
      {"--timeout", 1, "SECONDS", "give up on a request after this long (default 10)"},
      {"--json", 0, "", "print the API's JSON as it is (for scripts)"},
      {"--help", 0, "", "this help (after a command: that command's)"},
  };
  return specs;
}

std::string general_usage(const Registry& registry) {
  std::string out = "Usage: strata-ctl [GLOBAL OPTIONS] COMMAND [ARGS] [OPTIONS]\n\nCommands:\n";
  std::size_t width = 0;
  for (const auto& c : registry.all()) width = std::max(width, c.name().size() + 1 + c.args.size());
  for (const auto& c : registry.all()) {
    std::string head = c.name() + (c.args.empty() ? "" : " " + c.args);
    out += "  " + head + std::string(width - head.size() + 2, ' ') + c.help + "\n";
  }
  out += "\nGlobal options:\n" + options_help(global_options());
  out += "\n`strata-ctl COMMAND --help` describes a command's options.\n";
  return out;
}

std::string group_usage(const Registry& registry, const std::string& group) {
  std::string out = "Usage:\n";
  for (const Command* c : registry.group(group)) out += "  " + c->usage() + "\n      " + c->help + "\n";
  out += "\nGlobal options:\n" + options_help(global_options());
  return out;
}

Invocation parse_command_line(const Registry& registry, const std::vector<std::string>& argv) {
  Invocation inv;
  std::string group;
  bool verb_needed = false;
  bool options_done = false;
  auto usage = [&]() {
    if (inv.command) return inv.command->usage();
    if (!group.empty()) return "strata-ctl " + group + " COMMAND ... (strata-ctl " + group + " --help)";
    return std::string("strata-ctl [GLOBAL OPTIONS] COMMAND [ARGS] [OPTIONS] (strata-ctl --help)");
  };
  for (std::size_t i = 0; i < argv.size(); ++i) {
    const std::string& tok = argv[i];
    if (!options_done && tok == "--") {
      options_done = true;
      continue;
    }
    if (!options_done && (tok == "-h" || tok == "--help")) {
      inv.help = true;
      continue;
    }
    if (!options_done && tok.size() > 2 && tok.compare(0, 2, "--") == 0) {
      std::size_t eq = tok.find('=');
      std::string name = tok.substr(0, eq);
      const OptionSpec* spec = find_option(global_options(), name);
      if (!spec && inv.command) spec = find_option(inv.command->options, name);
      if (!spec) {
        if (inv.help) continue;  // "x --bogus --help" still helps
        throw UsageError("unknown option " + name + (inv.command ? " for " + inv.command->name() : ""), usage());
      }
      if (inv.args.has(name) && !spec->repeat) throw UsageError(name + " is given twice", usage());
      auto& values = inv.args.options[name];
      if (eq != std::string::npos) {
        if (spec->arity != 1) {
          throw UsageError(name + (spec->arity == 0 ? " takes no value" : " takes " + spec->meta + ", not NAME=VALUE"),
                           usage());
        }
        values.push_back(tok.substr(eq + 1));
        continue;
      }
      for (int k = 0; k < spec->arity; ++k) {
        if (i + 1 >= argv.size()) throw UsageError(name + " needs " + spec->meta, usage());
        values.push_back(argv[++i]);
      }
      continue;
    }
    // A word: the group, the verb, or a positional argument.
    if (group.empty()) {
      if (!registry.has_group(tok)) throw UsageError("unknown command '" + tok + "'", usage());
      group = tok;
      verb_needed = registry.has_verbs(group);
      if (!verb_needed) inv.command = registry.find(group, "");
      continue;
    }
    if (verb_needed && !inv.command) {
      inv.command = registry.find(group, tok);
      if (!inv.command) throw UsageError("unknown command '" + group + " " + tok + "'", usage());
      continue;
    }
    inv.args.positional.push_back(tok);
  }
  if (inv.help) {
    inv.group = group;
    return inv;
  }
  if (group.empty()) throw UsageError("no command given", usage());
  if (!inv.command) {
    std::string verbs;
    for (const Command* c : registry.group(group)) verbs += (verbs.empty() ? "" : ", ") + c->verb;
    throw UsageError(group + " needs one of: " + verbs, usage());
  }
  const Command& c = *inv.command;
  std::size_t n = inv.args.positional.size();
  if (n < c.min_args || n > c.max_args) {
    std::string what = c.max_args == 0 ? "no arguments" : c.args.empty() ? "other arguments" : c.args;
    throw UsageError(c.name() + " takes " + what + (n > c.max_args ? " (too many arguments)" : ""), usage());
  }
  return inv;
}

}  // namespace strata::ctl
