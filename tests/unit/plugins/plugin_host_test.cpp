// PluginHost with a real Broker (one core, not running: the test turns its
// io_context by hand) and the test plugins of test_plugins/.
#include "plugins/plugin_host.hpp"

#include <dlfcn.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>

namespace strata::plugins {
namespace {

namespace fs = std::filesystem;
using core::ClientHooks;
using protocol::ReasonCode;

const std::string dir = STRATA_TEST_PLUGIN_DIR;

class PluginHostTest : public ::testing::Test {
 protected:
  void SetUp() override {
    data_ = fs::temp_directory_path() / ("strata_plugin_host_" + std::to_string(::getpid()) + "_" +
                                         ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(data_);
  }
  void TearDown() override {
    host_.reset();
    broker_.reset();
    fs::remove_all(data_);
  }

  config::Config make_config(const std::string& plugins) {
    return config::load_string("[broker]\nthreads = 1\ndata_dir = \"" + data_.string() + "\"\n" + plugins,
                               "test.toml");
  }
  void start(const std::string& plugins) {
    config::Config c = make_config(plugins);
    broker_ = std::make_unique<core::Broker>(c, "");
    host_ = std::make_unique<PluginHost>(*broker_, read_plugin_config(broker_->config(), dir));
    host_->attach();
  }

  // Basic authentication of `username`; turns core 0's loop until answered.
  ClientHooks::Answer auth(const std::string& username) {
    std::optional<ClientHooks::Answer> got;
    core::ClientView who{"c1", {}, "127.0.0.1:1000", {}, 5};
    host_->authenticate(who, username, std::string_view("pw"), 0, [&](ClientHooks::Answer a) { got = a; });
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    auto& io = broker_->core(0).io();
    while (!got && std::chrono::steady_clock::now() < deadline) {
      io.restart();
      io.run_for(std::chrono::milliseconds(10));
    }
    EXPECT_TRUE(got.has_value()) << username << ": no answer";
    return got.value_or(ClientHooks::Answer{});
  }

  fs::path data_;
  std::unique_ptr<core::Broker> broker_;
  std::unique_ptr<PluginHost> host_;
};

const std::string v2 = "[[plugin]]\npath = \"" + dir + "/test_plugin_v2.so\"\n";
const std::string v1 = "[[plugin]]\npath = \"" + dir + "/test_plugin_v1.so\"\n";

TEST_F(PluginHostTest, BasicAuthenticationNowOrLaterFromAPluginThread) {
  start(v2);
  EXPECT_EQ(auth("allow").verdict, ClientHooks::Verdict::allow);
  ClientHooks::Answer deny = auth("deny");
  EXPECT_EQ(deny.verdict, ClientHooks::Verdict::deny);
  EXPECT_EQ(deny.reason, ReasonCode::not_authorized);
  EXPECT_EQ(auth("someone").verdict, ClientHooks::Verdict::defer);
  // Answered by the plugin's thread, posted back to the core.
  EXPECT_EQ(auth("pending").verdict, ClientHooks::Verdict::allow);
  ClientHooks::Answer later = auth("pending-deny");
  EXPECT_EQ(later.verdict, ClientHooks::Verdict::deny);
  EXPECT_EQ(later.reason, ReasonCode::bad_user_name_or_password);
  host_->cleanup();
}

TEST_F(PluginHostTest, MessageCallbacksChangeACopyOrDropInTableOrder) {
  start(v2 + v1);  // the version 1 plugin tags what the version 2 one passed
  auto original = router::Message::make("rename/a", "upper");
  original->publisher = "pub";
  router::MessagePtr msg = original;
  ASSERT_EQ(host_->on_publish(msg, 0), core::HookVerdict::pass);
  EXPECT_EQ(msg->topic, "renamed/a");
  EXPECT_EQ(msg->payload, "UPPER");
  EXPECT_EQ(msg->publisher, "pub");
  EXPECT_EQ(msg->properties->user_properties, (protocol::UserProperties{{"abi", "1"}}));
  EXPECT_EQ(original->topic, "rename/a");  // the accepted message is not touched
  EXPECT_EQ(original->payload, "upper");

  auto message = [](std::string topic) {
    auto m = router::Message::make(std::move(topic), {});
    return router::MessagePtr(m);
  };
  router::MessagePtr dropped = message("drop/x");
  EXPECT_EQ(host_->on_publish(dropped, 0), core::HookVerdict::drop);

  router::MessagePtr sys = message("$SYS/broker/uptime");
  router::MessagePtr before = sys;
  EXPECT_EQ(host_->on_publish(sys, 0), core::HookVerdict::pass);
  EXPECT_EQ(sys, before);  // the broker's own messages pass untouched
}

TEST_F(PluginHostTest, AclDenyOrDeferToTheBuiltInCheck) {
  start(v1);
  auth::ClientInfo who{"c1", "u", "127.0.0.1:1"};
  EXPECT_FALSE(broker_->authorizer().can_publish(who, "v1/denied"));
  EXPECT_TRUE(broker_->authorizer().can_publish(who, "v1/other"));  // [auth] has no ACL file
  EXPECT_EQ(broker_->authorizer().read_access(who, "v1/denied"), auth::ReadAccess::all);
}

TEST_F(PluginHostTest, ExtendedAuthenticationExchange) {
  start(v2);
  auth::ConnectContext ctx{"127.0.0.1:1", "", false};
  auto ex = broker_->authorizer().begin_exchange("TEST-ECHO", ctx, std::nullopt);
  ASSERT_NE(ex, nullptr);
  auth::AuthStep step = ex->start("");
  EXPECT_EQ(step.outcome, auth::AuthStep::Outcome::more);
  EXPECT_EQ(step.data, "challenge");
  step = ex->next("response");
  EXPECT_EQ(step.outcome, auth::AuthStep::Outcome::success);
  EXPECT_EQ(step.username, "echo");

  auto wrong = broker_->authorizer().begin_exchange("TEST-ECHO", ctx, std::nullopt);
  wrong->start("");
  EXPECT_EQ(wrong->next("guess").outcome, auth::AuthStep::Outcome::failure);

  // The expected user (CONNECT's User Name) must be the one authenticated.
  auto other = broker_->authorizer().begin_exchange("TEST-ECHO", ctx, std::string_view("alice"));
  other->start("");
  EXPECT_EQ(other->next("response").outcome, auth::AuthStep::Outcome::failure);

  auto unknown = broker_->authorizer().begin_exchange("NOPE", ctx, std::nullopt);
  ASSERT_NE(unknown, nullptr);
  step = unknown->start("");
  EXPECT_EQ(step.outcome, auth::AuthStep::Outcome::failure);
  EXPECT_EQ(step.reason, ReasonCode::bad_authentication_method);
}

TEST_F(PluginHostTest, FailedInitStopsWithPathAndReason) {
  config::Config c = make_config(v2 + "[plugin.options]\nfail = \"no licence for this node\"\n");
  broker_ = std::make_unique<core::Broker>(c, "");
  try {
    PluginHost host(*broker_, read_plugin_config(broker_->config(), dir));
    FAIL() << "loaded";
  } catch (const LoadError& e) {
    EXPECT_EQ(std::string(e.what()),
              "plugin " + dir + "/test_plugin_v2.so: strata_plugin_init failed (1): no licence for this node");
  }
}

TEST_F(PluginHostTest, TicksOncePerSecondOnEachCore) {
  start(v2);
  void* self = dlopen((dir + "/test_plugin_v2.so").c_str(), RTLD_NOW | RTLD_NOLOAD);
  ASSERT_NE(self, nullptr);
  auto* ticks = static_cast<std::atomic<int>*>(dlsym(self, "test_ticks"));
  ASSERT_NE(ticks, nullptr);
  EXPECT_EQ(ticks->load(), 0);
  auto& io = broker_->core(0).io();
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (ticks->load() == 0 && std::chrono::steady_clock::now() < deadline) {
    io.restart();
    io.run_for(std::chrono::milliseconds(50));
  }
  EXPECT_GE(ticks->load(), 1);
  dlclose(self);
}

TEST_F(PluginHostTest, ReloadHandsChangedOptionsToTheReloadCallback) {
  start(v2 + "[plugin.options]\nlevel = \"one\"\n");
  void* self = dlopen((dir + "/test_plugin_v2.so").c_str(), RTLD_NOW | RTLD_NOLOAD);
  ASSERT_NE(self, nullptr);
  auto* reloads = static_cast<int*>(dlsym(self, "test_reloads"));
  auto* last = static_cast<char*>(dlsym(self, "test_last_option"));
  ASSERT_NE(reloads, nullptr);
  EXPECT_EQ(host_->reload(make_config(v2 + "[plugin.options]\nlevel = \"one\"\n")), "");
  EXPECT_EQ(*reloads, 0);
  EXPECT_EQ(host_->reload(make_config(v2 + "[plugin.options]\nlevel = \"two\"\n")),
            "plugin options reloaded: test_plugin_v2.so");
  EXPECT_EQ(*reloads, 1);
  EXPECT_STREQ(last, "two");
  // Another list of plugins needs a restart: nothing is applied.
  EXPECT_EQ(host_->reload(make_config(v2 + "[plugin.options]\nlevel = \"three\"\n" + v1)), "");
  EXPECT_EQ(*reloads, 1);
  dlclose(self);
}

}  // namespace
}  // namespace strata::plugins
