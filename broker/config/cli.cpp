#include "broker/config/cli.hpp"

#include <string_view>

namespace strata::config {
namespace {

enum class Takes { nothing, value, two_values };

struct Option {
  std::string_view long_name;
  std::string_view short_name;  // empty if none
  Takes takes;
};

constexpr Option kOptions[] = {
    {"--config", "-c", Takes::value},     {"--listen", "", Takes::value},
    {"--data-dir", "", Takes::value},     {"--log-level", "", Takes::value},
    {"--check-config", "", Takes::value}, {"--version", "", Takes::nothing},
    {"--help", "-h", Takes::nothing},     {"--rules-test", "", Takes::value},
    {"--message", "", Takes::two_values}, {"--admin", "", Takes::value},
};

const Option* find_option(std::string_view name) {
  for (const Option& o : kOptions) {
    if (name == o.long_name || (!o.short_name.empty() && name == o.short_name)) return &o;
  }
  return nullptr;
}

}  // namespace

CommandLine parse_command_line(int argc, const char* const* argv) {
  CommandLine cmd;
  for (int i = 1; i < argc; ++i) {
    std::string_view arg(argv[i]);
    std::string_view name = arg;
    std::optional<std::string> value;
    if (arg.starts_with("--")) {
      if (auto eq = arg.find('='); eq != std::string_view::npos) {
        name = arg.substr(0, eq);
        value = std::string(arg.substr(eq + 1));
      }
    }
    const Option* option = find_option(name);
    if (!option) {
      if (arg.starts_with('-')) throw UsageError("unknown option '" + std::string(name) + "'");
      throw UsageError("unexpected argument '" + std::string(arg) + "'");
    }
    if (option->takes == Takes::two_values) {
      // --message TOPIC PAYLOAD: the payload may be empty or start with '-'.
      if (value) throw UsageError(std::string(name) + " takes two values: TOPIC PAYLOAD");
      if (i + 2 >= argc) throw UsageError(std::string(name) + " needs two values: TOPIC PAYLOAD");
      if (std::string_view(argv[i + 1]).empty()) throw UsageError(std::string(name) + " needs a non-empty TOPIC");
      cmd.messages.emplace_back(argv[i + 1], argv[i + 2]);
      i += 2;
      continue;
    }
    if (option->takes == Takes::nothing) {
      if (value) throw UsageError(std::string(name) + " takes no value");
    } else if (!value) {
      if (i + 1 >= argc) throw UsageError(std::string(name) + " needs a value");
      value = argv[++i];
    }
    if (option->takes == Takes::value && value->empty()) {
      throw UsageError(std::string(name) + " needs a non-empty value");
    }

    std::string_view n = option->long_name;
    if (n == "--config") {
      cmd.config_file = *value;
    } else if (n == "--listen") {
      cmd.listen.push_back(*value);
    } else if (n == "--data-dir") {
      cmd.data_dir = *value;
    } else if (n == "--log-level") {
      cmd.log_level = log::parse_level(*value);
      if (!cmd.log_level) {
        throw UsageError("--log-level: unknown level '" + *value +
                         "'; expected trace, debug, info, warn or error");
      }
    } else if (n == "--admin") {
      cmd.admin_url = *value == "off" ? std::string() : *value;
    } else if (n == "--check-config") {
      cmd.check_config = *value;
    } else if (n == "--rules-test") {
      cmd.rules_test = *value;
    } else if (n == "--version") {
      cmd.show_version = true;
    } else if (n == "--help") {
      cmd.show_help = true;
    }
  }
  return cmd;
}

std::string usage_text() {
  return "Usage: strata [-c FILE] [--listen URL]... [--data-dir DIR] [--log-level LEVEL]\n"
         "              [--admin URL]\n"
         "       strata --check-config FILE\n"
         "       strata --rules-test FILE [--message TOPIC PAYLOAD]...\n"
         "       strata --version | --help\n"
         "\n"
         "Strata is an MQTT 3.1.1 and 5.0 broker.\n"
         "\n"
         "Options:\n"
         "  -c, --config FILE       read the configuration from FILE (TOML); without it\n"
         "                          an installed strata reads <prefix>/etc/strata/strata.toml,\n"
         "                          else the built-in defaults apply (see etc/strata.toml)\n"
         "      --listen URL        listen on URL, tcp://host:port (IPv6: tcp://[::]:1883)\n"
         "                          or ws://host:port/path;\n"
         "                          may repeat; replaces the listeners of the config file\n"
         "      --data-dir DIR      keep persistent data under DIR\n"
         "      --log-level LEVEL   trace, debug, info, warn or error\n"
         "      --admin URL         the admin HTTP API and /metrics on URL\n"
         "                          (http://host:port or https://host:port; \"off\": none);\n"
         "                          replaces [admin] url\n"
         "      --check-config FILE validate FILE, print what is wrong, and exit\n"
         "      --rules-test FILE   run the Lua rule FILE on the --message samples and\n"
         "                          print what it would pass, drop, publish and emit\n"
         "      --message TOPIC PAYLOAD\n"
         "                          a sample message for --rules-test; may repeat\n"
         "      --version           print the version and exit\n"
         "  -h, --help              print this help and exit\n"
         "\n"
         "Options taking a value also accept --option=value.\n";
}

Config resolve(const CommandLine& cmd) {
  Config config = cmd.config_file.empty() ? Config{} : load_file(cmd.config_file);
  if (!cmd.listen.empty()) {
    config.listeners.clear();
    for (const std::string& url : cmd.listen) {
      Listener listener = parse_listen_url(url, "--listen");
      listener.limits = config.limits;
      if (listener.tls()) {
        throw ConfigError("--listen: " + listener.name() +
                          " needs cert_file and key_file; define TLS listeners in a [[listener]] table");
      }
      for (const Listener& other : config.listeners) {
        if (other.host == listener.host && other.port == listener.port) {
          throw ConfigError("--listen: listener " + listener.name() + " is given twice");
        }
      }
      config.listeners.push_back(std::move(listener));
    }
  }
  if (cmd.data_dir) config.data_dir = *cmd.data_dir;
  if (cmd.log_level) config.log_level = *cmd.log_level;
  return config;
}

}  // namespace strata::config
