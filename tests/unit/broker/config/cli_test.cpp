#include "broker/config/cli.hpp"

#include <fstream>
#include <initializer_list>
#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace strata::config {
namespace {

CommandLine parse(std::initializer_list<const char*> args) {
  std::vector<const char*> argv{"strata"};
  argv.insert(argv.end(), args);
  return parse_command_line(static_cast<int>(argv.size()), argv.data());
}

std::string usage_error_of(std::initializer_list<const char*> args) {
  try {
    parse(args);
  } catch (const UsageError& e) {
    return e.what();
  }
  return "(no error)";
}

TEST(CommandLine, NoArguments) {
  CommandLine cmd = parse({});
  EXPECT_TRUE(cmd.config_file.empty());
  EXPECT_TRUE(cmd.listen.empty());
  EXPECT_FALSE(cmd.data_dir);
  EXPECT_FALSE(cmd.log_level);
  EXPECT_FALSE(cmd.show_version);
  EXPECT_FALSE(cmd.show_help);
  EXPECT_FALSE(cmd.check_config);
}

TEST(CommandLine, EveryOptionWithSeparateValue) {
  CommandLine cmd = parse({"-c", "etc/strata.toml", "--listen", "tcp://127.0.0.1:1884", "--listen",
                           "tcp://[::1]:1885", "--data-dir", "run/data", "--log-level", "debug"});
  EXPECT_EQ(cmd.config_file, "etc/strata.toml");
  EXPECT_EQ(cmd.listen, (std::vector<std::string>{"tcp://127.0.0.1:1884", "tcp://[::1]:1885"}));
  EXPECT_EQ(cmd.data_dir, "run/data");
  EXPECT_EQ(cmd.log_level, log::Level::debug);
}

TEST(CommandLine, EqualsForms) {
  CommandLine cmd = parse({"--config=a.toml", "--listen=tcp://h:1", "--data-dir=d", "--log-level=warn",
                           "--check-config=b.toml"});
  EXPECT_EQ(cmd.config_file, "a.toml");
  EXPECT_EQ(cmd.listen, std::vector<std::string>{"tcp://h:1"});
  EXPECT_EQ(cmd.data_dir, "d");
  EXPECT_EQ(cmd.log_level, log::Level::warn);
  EXPECT_EQ(cmd.check_config, "b.toml");
}

TEST(CommandLine, Flags) {
  EXPECT_TRUE(parse({"--version"}).show_version);
  EXPECT_TRUE(parse({"--help"}).show_help);
  EXPECT_TRUE(parse({"-h"}).show_help);
  EXPECT_EQ(parse({"--check-config", "x.toml"}).check_config, "x.toml");
  EXPECT_EQ(parse({"--config", "y.toml"}).config_file, "y.toml");
}

TEST(CommandLine, Errors) {
  EXPECT_EQ(usage_error_of({"--port", "1"}), "unknown option '--port'");
  EXPECT_EQ(usage_error_of({"--port=1"}), "unknown option '--port'");
  EXPECT_EQ(usage_error_of({"-x"}), "unknown option '-x'");
  EXPECT_EQ(usage_error_of({"strata.toml"}), "unexpected argument 'strata.toml'");
  EXPECT_EQ(usage_error_of({"-c"}), "-c needs a value");
  EXPECT_EQ(usage_error_of({"--listen"}), "--listen needs a value");
  EXPECT_EQ(usage_error_of({"--data-dir="}), "--data-dir needs a non-empty value");
  EXPECT_EQ(usage_error_of({"--version=1"}), "--version takes no value");
  EXPECT_EQ(usage_error_of({"--log-level", "loud"}),
            "--log-level: unknown level 'loud'; expected trace, debug, info, warn or error");
}

TEST(CommandLine, RulesTestWithMessages) {
  CommandLine cmd = parse({"--rules-test", "r.lua", "--message", "a/b", "", "--message", "c", "-5"});
  ASSERT_TRUE(cmd.rules_test);
  EXPECT_EQ(*cmd.rules_test, "r.lua");
  ASSERT_EQ(cmd.messages.size(), 2u);
  EXPECT_EQ(cmd.messages[0], std::make_pair(std::string("a/b"), std::string("")));
  EXPECT_EQ(cmd.messages[1], std::make_pair(std::string("c"), std::string("-5")));
  EXPECT_EQ(usage_error_of({"--message", "a"}), "--message needs two values: TOPIC PAYLOAD");
  EXPECT_EQ(usage_error_of({"--message=a", "b"}), "--message takes two values: TOPIC PAYLOAD");
  EXPECT_EQ(usage_error_of({"--message", "", "b"}), "--message needs a non-empty TOPIC");
}

TEST(CommandLine, UsageMentionsEveryOption) {
  std::string text = usage_text();
  for (const char* option : {"-c, --config FILE", "--listen URL", "--data-dir DIR", "--log-level LEVEL",
                             "--check-config FILE", "--version", "-h, --help"}) {
    EXPECT_NE(text.find(option), std::string::npos) << option;
  }
  EXPECT_EQ(text.back(), '\n');
}

TEST(Resolve, DefaultsWithoutFile) { EXPECT_EQ(resolve(parse({})), Config{}); }

TEST(Resolve, FileThenOverrides) {
  std::string file = std::string(STRATA_SOURCE_DIR) + "/etc/strata.toml";
  Config c = resolve(parse({"-c", file.c_str()}));
  EXPECT_EQ(c.source, file);
  ASSERT_EQ(c.listeners.size(), 1u);
  EXPECT_EQ(c.listeners[0].name(), "tcp://0.0.0.0:1883");

  c = resolve(parse({"-c", file.c_str(), "--listen", "tcp://127.0.0.1:2000", "--listen=tcp://[::1]:2001",
                     "--data-dir", "/srv/strata", "--log-level", "trace"}));
  ASSERT_EQ(c.listeners.size(), 2u);
  EXPECT_EQ(c.listeners[0].name(), "tcp://127.0.0.1:2000");
  EXPECT_EQ(c.listeners[1].name(), "tcp://[::1]:2001");
  EXPECT_EQ(c.data_dir, "/srv/strata");
  EXPECT_EQ(c.log_level, log::Level::trace);
  EXPECT_EQ(c.limits, Limits{});
}

TEST(Resolve, ListenTakesTheFileLimits) {
  std::string file = ::testing::TempDir() + "/resolve_limits.toml";
  {
    std::ofstream out(file);
    out << "[limits]\nmax_packet_size = 2048\n";
  }
  Config c = resolve(parse({"-c", file.c_str(), "--listen", "tcp://127.0.0.1:2000"}));
  ASSERT_EQ(c.listeners.size(), 1u);
  EXPECT_EQ(c.listeners[0].limits.max_packet_size, 2048u);
}

TEST(Resolve, BadListenUrlOrFile) {
  try {
    resolve(parse({"--listen", "tls://h:80"}));
    FAIL() << "no error";
  } catch (const ConfigError& e) {
    EXPECT_EQ(std::string(e.what()),
              "--listen: tls://h:80 needs cert_file and key_file; define TLS listeners in a [[listener]] table");
  }
  try {
    resolve(parse({"--listen", "tcp://h:80", "--listen", "tcp://h:80"}));
    FAIL() << "no error";
  } catch (const ConfigError& e) {
    EXPECT_EQ(std::string(e.what()), "--listen: listener tcp://h:80 is given twice");
  }
  EXPECT_THROW(resolve(parse({"-c", "does-not-exist.toml"})), ConfigError);
}

}  // namespace
}  // namespace strata::config
