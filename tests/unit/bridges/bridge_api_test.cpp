// The pure part of the bridges' admin API: a [[bridge]] table as JSON with
// its secrets masked.
#include "bridges/bridge_api.hpp"

#include <gtest/gtest.h>

namespace strata::bridges {
namespace {

std::string masked(std::string_view toml_text) {
  toml::table t = toml::parse(toml_text);
  return admin::json_of([&](admin::JsonWriter& w) { write_masked(w, t); });
}

TEST(BridgeApi, SecretsAreMaskedAndTheRestKept) {
  EXPECT_EQ(masked(R"(name = "f"
password = "hunter2"
password_file = "/etc/strata/pw"
max_messages = 10
sasl = { username = "u", password = "p" }
enabled = true
ratio = 0.5
[[route]]
filter = "a/#"
)"),
            // toml++ keeps a table's keys sorted.
            R"({"enabled":true,"max_messages":10,"name":"f","password":"***","password_file":"/etc/strata/pw",)"
            R"("ratio":0.5,"route":[{"filter":"a/#"}],"sasl":{"password":"***","username":"u"}})");
}

TEST(BridgeApi, SecretKeyNames) {
  EXPECT_TRUE(is_secret_key("password"));
  EXPECT_TRUE(is_secret_key("Token"));
  EXPECT_TRUE(is_secret_key("sasl_password"));
  EXPECT_TRUE(is_secret_key("client_secret"));
  EXPECT_FALSE(is_secret_key("password_file"));  // a path, not the secret
  EXPECT_FALSE(is_secret_key("username"));
  EXPECT_FALSE(is_secret_key("url"));
}

}  // namespace
}  // namespace strata::bridges
