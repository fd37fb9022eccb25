// Parsing a strata-ctl command line against the command table (pure: no
// I/O, fuzzed by tests/fuzz/ctl_args_fuzz.cpp).
//
//   strata-ctl [GLOBAL OPTIONS] GROUP [VERB] [ARGS] [OPTIONS]
//
// Options start with "--" and may come anywhere after the program name,
// before or after the command words; "--name=value" and "--name value" are
// the same; "--" ends the options (a payload may then start with "--").
// Tokens with a single dash are positionals, so a payload like "-5" needs no
// quoting; only "-h" is special (as --help). A command line that is not
// valid throws UsageError with the usage of the command it was meant for.
#pragma once

#include <string>
#include <vector>

#include "tools/strata_ctl/command.hpp"

namespace strata::ctl {

struct Invocation {
  const Command* command = nullptr;  // null with help: the general help (or a group's)
  bool help = false;                 // --help / -h was given
  std::string group;                 // the group named, when help is asked for a group
  Args args;                         // positionals and options, global ones included
};

Invocation parse_command_line(const Registry& registry, const std::vector<std::string>& argv);

// The general usage: every command, one line each, and the global options.
std::string general_usage(const Registry& registry);
// The commands of one group.
std::string group_usage(const Registry& registry, const std::string& group);

}  // namespace strata::ctl
