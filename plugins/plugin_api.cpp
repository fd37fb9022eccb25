#include "plugins/plugin_api.hpp"

namespace strata::plugins {

void add_plugin_api(admin::Api& api, const PluginHost* host) {
  // Fixed after load: read once, answered from the admin thread.
  auto infos = std::make_shared<const std::vector<PluginHost::Info>>(host ? host->info()
                                                                          : std::vector<PluginHost::Info>{});
  api.add(admin::http::verb::get, "/api/v1/plugins", admin::Access::viewer,
          [infos](const admin::Request&, admin::Reply reply) {
            reply.json(admin::json_of([&](admin::JsonWriter& w) {
              w.StartObject();
              w.Key("broker_abi_versions");
              w.StartArray();
              for (int v : kKnownAbiVersions) w.Int(v);
              w.EndArray();
              w.Key("data");
              w.StartArray();
              for (const PluginHost::Info& i : *infos) {
                w.StartObject();
                w.Key("name");
                admin::write_string(w, i.name);
                w.Key("path");
                admin::write_string(w, i.path);
                w.Key("abi_version");
                w.Int(i.abi_version);
                w.Key("plugin_abi_versions");
                w.StartArray();
                for (int v : i.offered) w.Int(v);
                w.EndArray();
                w.Key("events");
                w.StartArray();
                for (const std::string& e : i.events) admin::write_string(w, e);
                w.EndArray();
                w.EndObject();
              }
              w.EndArray();
              w.EndObject();
            }));
          },
          "The loaded plugins: path, negotiated ABI version, events");
}

}  // namespace strata::plugins
