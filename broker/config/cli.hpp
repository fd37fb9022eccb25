// The `strata` command line:
//
//   strata [-c FILE] [--listen URL]... [--data-dir DIR] [--log-level LEVEL] [--admin URL]
//   strata --check-config FILE | --version | --help
//   strata --rules-test FILE [--message TOPIC PAYLOAD]...
//
// Options take their value as the next argument or after '=' (--listen=URL).
// parse_command_line() only reads the arguments; resolve() turns them into a
// Config: the -c file (or the built-in defaults), then the overrides.
#pragma once

#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "broker/config/config.hpp"
#include "broker/util/log.hpp"

namespace strata::config {

struct CommandLine {
  std::string config_file;                 // -c/--config; empty: built-in defaults
  std::vector<std::string> listen;         // --listen, in order; replace the config's listeners
  std::optional<std::string> data_dir;     // --data-dir
  std::optional<log::Level> log_level;     // --log-level
  std::optional<std::string> admin_url;    // --admin URL: replaces [admin] url ("off": no admin server)
  bool show_version = false;               // --version
  bool show_help = false;                  // -h/--help
  std::optional<std::string> check_config; // --check-config FILE: validate and exit
  std::optional<std::string> rules_test;   // --rules-test FILE: dry-run a rule and exit
  std::vector<std::pair<std::string, std::string>> messages;  // --message TOPIC PAYLOAD
};

// An unknown option, a missing or unexpected value; the message says which.
class UsageError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// argv[0] is the program name and is skipped. Throws UsageError.
CommandLine parse_command_line(int argc, const char* const* argv);

// The --help text, ending with a newline.
std::string usage_text();

// Loads cmd.config_file (defaults if empty) and applies --listen, --data-dir
// and --log-level. Throws ConfigError for a bad file or --listen URL.
Config resolve(const CommandLine& cmd);

}  // namespace strata::config
