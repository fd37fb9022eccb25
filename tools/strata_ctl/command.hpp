// The command table of strata-ctl. A command is a word pair ("clients
// list"), or a single word ("status"), with its positional arguments, its
// options and a function that runs it against the admin API. Each command
// group lives in its own file (cmd_clients.cpp, cmd_rules.cpp, ...) with an
// add_*_commands(Registry&) function; commands.cpp lists those functions, so
// a new group (bridges, topics, contracts) is one file and one line there.
//
// The table is data: the argument parser (args.hpp) reads the same specs to
// parse a command line and to print its usage, without any I/O.
#pragma once

#include <cstddef>
#include <functional>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace strata::ctl {

class Context;

// One --option: a flag (arity 0) or one taking `arity` values (1 or 2).
struct OptionSpec {
  std::string name;  // "--qos"
  int arity = 0;
  std::string meta;  // "N", "TOPIC PAYLOAD": the values' names in the usage
  std::string help;
  bool repeat = false;  // may be given several times (--message T P --message T P)
};

// A parsed command line: positional arguments and options by name. An
// option's values are appended in the order given (arity 2: two per use); a
// flag maps to an empty vector.
struct Args {
  std::vector<std::string> positional;
  std::map<std::string, std::vector<std::string>> options;

  bool has(const std::string& name) const { return options.count(name) != 0; }
  // The (last) value of a one-value option.
  std::optional<std::string> value(const std::string& name) const;
  const std::vector<std::string>& values(const std::string& name) const;
  // An integer option in [lo, hi]; UsageError when it is not one.
  long long integer(const std::string& name, long long lo, long long hi, long long fallback) const;
};

struct Command;

// A command line that is not one: the message, and the usage of the command
// it was meant for (or the general usage). Exit status 2.
class UsageError : public std::runtime_error {
 public:
  UsageError(const std::string& message, std::string usage = {})
      : std::runtime_error(message), usage_(std::move(usage)) {}
  const std::string& usage() const { return usage_; }

 private:
  std::string usage_;
};

struct Command {
  std::string group;  // "clients"
  std::string verb;   // "list"; empty for a one-word command
  std::string args;   // the positionals in the usage: "ID", "CLIENT FILTER"
  std::size_t min_args = 0;
  std::size_t max_args = 0;
  std::vector<OptionSpec> options;
  std::string help;  // one line
  std::function<int(Context&, const Args&)> run;

  std::string name() const { return verb.empty() ? group : group + " " + verb; }
  // "strata-ctl subs add CLIENT FILTER [--qos N]"
  std::string usage() const;
  // The usage, the help line and one line per option.
  std::string help_text() const;
};

class Registry {
 public:
  void add(Command c) { commands_.push_back(std::move(c)); }
  const Command* find(const std::string& group, const std::string& verb) const;
  bool has_group(const std::string& group) const;
  // True when the group's commands take a verb ("clients list").
  bool has_verbs(const std::string& group) const;
  std::vector<const Command*> group(const std::string& group) const;
  const std::vector<Command>& all() const { return commands_; }

 private:
  std::vector<Command> commands_;
};

// The options every command takes (--url, --token, --json, ...).
const std::vector<OptionSpec>& global_options();

// Every command strata-ctl has (commands.cpp).
Registry all_commands();

}  // namespace strata::ctl
