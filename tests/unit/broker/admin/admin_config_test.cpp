#include "broker/admin/admin_config.hpp"

#include <fstream>
#include <sstream>

#include <gtest/gtest.h>

#include "broker/config/table_reader.hpp"

namespace strata::admin {
namespace {

AdminConfig read(const std::string& toml, std::optional<std::string> url = {}) {
  return read_admin_config(config::load_string(toml, "test.toml"), url);
}

std::string error_of(const std::string& toml, std::optional<std::string> url = {}) {
  try {
    read(toml, url);
  } catch (const config::ConfigError& e) {
    return e.what();
  }
  return "";
}

TEST(AdminConfig, Defaults) {
  AdminConfig a = read("");
  EXPECT_EQ(a.url, "http://127.0.0.1:8080");
  EXPECT_EQ(a.listener.host, "127.0.0.1");
  EXPECT_EQ(a.listener.port, 8080);
  EXPECT_FALSE(a.https());
  EXPECT_EQ(a.auth, AuthMode::open);
  EXPECT_EQ(a.token_ttl, std::chrono::seconds(3600));
  // Built-in defaults (no file) are the same.
  EXPECT_EQ(read_admin_config(config::Config{}), a);
}

TEST(AdminConfig, ReadsKeys) {
  AdminConfig a = read(
      "[admin]\nurl = \"http://[::1]:9000\"\nauth = \"login\"\nusers_file = \"u\"\napi_keys_file = \"k\"\n"
      "token_ttl = 60\ncors_origins = [\"https://a.example\"]\nmetrics_auth = true\nmax_body_size = 2048\n"
      "idle_timeout = 5\nmax_connections = 3\n");
  EXPECT_EQ(a.listener.host, "::1");
  EXPECT_EQ(a.listener.port, 9000);
  EXPECT_EQ(a.auth, AuthMode::login);
  EXPECT_EQ(a.users_file, "u");
  EXPECT_EQ(a.api_keys_file, "k");
  EXPECT_EQ(a.token_ttl, std::chrono::seconds(60));
  EXPECT_EQ(a.cors_origins, std::vector<std::string>{"https://a.example"});
  EXPECT_TRUE(a.metrics_auth);
  EXPECT_EQ(a.max_body_size, 2048u);
  EXPECT_EQ(a.idle_timeout, std::chrono::seconds(5));
  EXPECT_EQ(a.max_connections, 3u);
}

TEST(AdminConfig, OverrideAndOff) {
  EXPECT_EQ(read("[admin]\nurl = \"http://127.0.0.1:1\"\n", "http://127.0.0.1:2").listener.port, 2);
  EXPECT_FALSE(read("", std::string()).enabled());
  EXPECT_FALSE(read("[admin]\nurl = \"\"\n").enabled());
}

TEST(AdminConfig, Errors) {
  EXPECT_EQ(error_of("[admin]\nnope = 1\n").substr(0, 14), "test.toml:2:1:");
  EXPECT_NE(error_of("[admin]\nauth = \"maybe\"\n").find("test.toml:2:"), std::string::npos);
  EXPECT_NE(error_of("[admin]\nurl = \"ftp://x:1\"\n").find("test.toml:2:7: admin URL 'ftp://x:1' is not valid"),
            std::string::npos);
  EXPECT_NE(error_of("[admin]\nurl = \"http://0.0.0.0:8080\"\n").find("only allowed on a loopback address"),
            std::string::npos);
  EXPECT_NE(error_of("", "http://10.0.0.1:80").find("--admin: admin.auth = \"open\""), std::string::npos);
  EXPECT_NE(error_of("[admin]\nauth = \"login\"\n").find("needs users_file or api_keys_file"), std::string::npos);
  EXPECT_NE(error_of("[admin]\nurl = \"https://127.0.0.1:1\"\n").find("needs admin.cert_file"), std::string::npos);
  EXPECT_NE(error_of("[admin]\ntoken_ttl = 0\n").find("test.toml:2:"), std::string::npos);
  // Login on any address is fine.
  EXPECT_EQ(error_of("[admin]\nurl = \"http://0.0.0.0:1\"\nauth = \"login\"\napi_keys_file = \"k\"\n"), "");
}

TEST(AdminConfig, ShippedFileDocumentsEveryKey) {
  std::ifstream in(std::string(STRATA_SOURCE_DIR) + "/etc/strata.toml");
  std::stringstream text;
  text << in.rdbuf();
  std::string body = text.str();
  auto at = body.find("\n[admin]\n");
  ASSERT_NE(at, std::string::npos);
  auto end = body.find("\n[", at + 1);
  std::string table = body.substr(at, end == std::string::npos ? std::string::npos : end - at);
  for (const std::string& key : admin_keys()) {
    EXPECT_NE(table.find("\n" + key.substr(6) + " = "), std::string::npos) << key;
  }
  EXPECT_NO_THROW(read_admin_config(config::load_file(std::string(STRATA_SOURCE_DIR) + "/etc/strata.toml")));
}

}  // namespace
}  // namespace strata::admin
