#include "rules/lua_message.hpp"

#include <algorithm>
#include <map>
#include <new>

#include <lua.hpp>

#include "broker/router/topic.hpp"
#include "broker/uns/annotation.hpp"
#include "rules/lua_json.hpp"

namespace strata::rules {
namespace {

constexpr const char* kMessageMeta = "strata.message";
constexpr const char* kSharedMeta = "strata.message.shared";
// Key (a light userdata: no rule can name it) of the full userdata that
// keeps the routed message, and so its namespace annotation, alive.
const char kSharedKey = 0;

int shared_gc(lua_State* L) {
  auto* p = static_cast<router::MessagePtr*>(lua_touserdata(L, 1));
  if (p != nullptr) p->~shared_ptr();
  return 0;
}

// The routed message behind the table at index 1, or nullptr.
const router::Message* shared_message(lua_State* L) {
  lua_pushlightuserdata(L, const_cast<char*>(&kSharedKey));
  lua_rawget(L, 1);
  auto* p = static_cast<router::MessagePtr*>(lua_touserdata(L, -1));
  lua_pop(L, 1);
  return p != nullptr ? p->get() : nullptr;
}

void set_string(lua_State* L, const char* key, std::string_view value) {
  lua_pushlstring(L, value.data(), value.size());
  lua_setfield(L, -2, key);
}

// __index of message tables: json, json_error and levels on first access.
int message_index(lua_State* L) {
  std::size_t klen = 0;
  const char* key = lua_tolstring(L, 2, &klen);
  if (key == nullptr) return 0;
  std::string_view k(key, klen);
  if (k == "json" || k == "json_error") {
    lua_getfield(L, 1, "payload");
    std::size_t len = 0;
    const char* payload = lua_tolstring(L, -1, &len);
    std::string error;
    // The namespace parsed this payload already: reuse its document while
    // the rule has not changed the payload.
    const router::Message* shared = payload != nullptr ? shared_message(L) : nullptr;
    const uns::Annotation* note = shared != nullptr ? shared->uns.get() : nullptr;
    bool reuse = note != nullptr && note->parsed && std::string_view(payload, len) == shared->payload;
    if (payload == nullptr) {
      error = "payload is not a string";
    } else if (reuse && !note->json_ok) {
      error = note->json_error;
    } else if (reuse ? json_push(L, note->json) : json_decode(L, std::string_view(payload, len), error)) {
      lua_pushvalue(L, -1);
      lua_setfield(L, 1, "json");
      return k == "json" ? 1 : 0;  // json_error stays nil
    }
    lua_pushlstring(L, error.data(), error.size());
    lua_setfield(L, 1, "json_error");
    if (k == "json") return 0;
    lua_pushlstring(L, error.data(), error.size());
    return 1;
  }
  if (k == "uns") {
    const router::Message* shared = shared_message(L);
    const uns::Annotation* note = shared != nullptr ? shared->uns.get() : nullptr;
    if (note == nullptr || !note->place) return 0;
    const uns::Placement& p = *note->place;
    lua_createtable(L, 0, static_cast<int>(p.levels.size()) + 2);
    for (const auto& [name, value] : p.levels) set_string(L, name.c_str(), value);
    set_string(L, "tag", p.tag);
    set_string(L, "namespace", p.ns);
    lua_pushvalue(L, -1);
    lua_setfield(L, 1, "uns");
    return 1;
  }
  if (k == "levels") {
    lua_getfield(L, 1, "topic");
    std::size_t len = 0;
    const char* topic = lua_tolstring(L, -1, &len);
    if (topic == nullptr) return 0;
    lua_newtable(L);
    std::string_view t(topic, len);
    int i = 1;
    for (;;) {
      auto slash = t.find('/');
      std::string_view level = t.substr(0, slash);
      lua_pushlstring(L, level.data(), level.size());
      lua_rawseti(L, -2, i++);
      if (slash == std::string_view::npos) break;
      t.remove_prefix(slash + 1);
    }
    lua_pushvalue(L, -1);
    lua_setfield(L, 1, "levels");
    return 1;
  }
  return 0;
}

// Field `key` of the table at `index` as a string; absent: `present` false.
bool string_field(lua_State* L, int index, const char* key, std::string& out, bool& present,
                  std::string& error, bool allow_table_json) {
  lua_getfield(L, index, key);
  present = !lua_isnil(L, -1);
  bool ok = true;
  if (present) {
    int t = lua_type(L, -1);
    if (t == LUA_TSTRING || t == LUA_TNUMBER) {
      std::size_t len = 0;
      const char* s = lua_tolstring(L, -1, &len);
      out.assign(s, len);
    } else if (t == LUA_TBOOLEAN) {
      out = lua_toboolean(L, -1) ? "true" : "false";
    } else if (t == LUA_TTABLE && allow_table_json) {
      ok = json_encode(L, -1, out, error);
    } else {
      error = std::string("message field '") + key + "' must be a string, got " + luaL_typename(L, -1);
      ok = false;
    }
  }
  lua_pop(L, 1);
  return ok;
}

bool optional_string(lua_State* L, int index, const char* key, std::optional<std::string>& out,
                     std::string& error) {
  lua_getfield(L, index, key);
  int t = lua_type(L, -1);
  bool ok = true;
  if (t == LUA_TNIL) {
    // A rule clears a property by setting it to nil; absent is the same.
    out.reset();
  } else if (t == LUA_TSTRING) {
    std::size_t len = 0;
    const char* s = lua_tolstring(L, -1, &len);
    out = std::string(s, len);
  } else {
    error = std::string("message field '") + key + "' must be a string or nil, got " + luaL_typename(L, -1);
    ok = false;
  }
  lua_pop(L, 1);
  return ok;
}

}  // namespace

void register_message_metatable(lua_State* L) {
  luaL_newmetatable(L, kMessageMeta);
  lua_pushcfunction(L, message_index);
  lua_setfield(L, -2, "__index");
  lua_pushboolean(L, 0);
  lua_setfield(L, -2, "__metatable");
  lua_pop(L, 1);
  luaL_newmetatable(L, kSharedMeta);
  lua_pushcfunction(L, shared_gc);
  lua_setfield(L, -2, "__gc");
  lua_pushboolean(L, 0);
  lua_setfield(L, -2, "__metatable");
  lua_pop(L, 1);
}

void push_message(lua_State* L, const router::Message& m, std::uint64_t received_ms,
                  const router::MessagePtr* shared) {
  lua_createtable(L, 0, 14);
  if (shared != nullptr && (*shared)->uns) {
    lua_pushlightuserdata(L, const_cast<char*>(&kSharedKey));
    void* mem = lua_newuserdata(L, sizeof(router::MessagePtr));
    new (mem) router::MessagePtr(*shared);
    luaL_getmetatable(L, kSharedMeta);
    lua_setmetatable(L, -2);
    lua_rawset(L, -3);
  }
  set_string(L, "topic", m.topic);
  set_string(L, "payload", m.payload);
  lua_pushinteger(L, static_cast<int>(m.qos));
  lua_setfield(L, -2, "qos");
  lua_pushboolean(L, m.retain);
  lua_setfield(L, -2, "retain");
  set_string(L, "client_id", m.publisher);
  set_string(L, "username", m.username);
  lua_pushnumber(L, static_cast<double>(received_ms));
  lua_setfield(L, -2, "received");
  lua_pushinteger(L, m.hops);
  lua_setfield(L, -2, "hops");
  lua_createtable(L, 0, static_cast<int>(m.properties->user_properties.size()));
  for (const auto& [name, value] : m.properties->user_properties) {
    lua_pushlstring(L, name.data(), name.size());
    lua_rawget(L, -2);
    bool seen = !lua_isnil(L, -1);
    lua_pop(L, 1);
    if (seen) continue;  // a repeated name: the table shows its first value
    lua_pushlstring(L, name.data(), name.size());
    lua_pushlstring(L, value.data(), value.size());
    lua_rawset(L, -3);
  }
  lua_setfield(L, -2, "user_properties");
  const protocol::Properties& p = *m.properties;
  if (p.content_type) set_string(L, "content_type", *p.content_type);
  if (p.response_topic) set_string(L, "response_topic", *p.response_topic);
  if (p.correlation_data) set_string(L, "correlation_data", *p.correlation_data);
  if (m.expires_at_ms != 0) {
    std::uint64_t left = m.expires_at_ms > received_ms ? (m.expires_at_ms - received_ms + 999) / 1000 : 0;
    lua_pushnumber(L, static_cast<double>(left));
    lua_setfield(L, -2, "expiry");
  }
  luaL_getmetatable(L, kMessageMeta);
  lua_setmetatable(L, -2);
}

namespace {

// The table over `out`, which holds the base message (topic, payload and
// user properties also given as `base_*`).
bool read_over(lua_State* L, int index, std::string_view base_topic, std::string_view base_payload,
               const protocol::UserProperties& base_user_properties, router::MessageDraft& out,
               std::string& error) {
  if (index < 0) index = lua_gettop(L) + index + 1;
  bool present = false;
  if (!string_field(L, index, "topic", out.topic, present, error, false)) return false;
  if (!router::is_valid_topic_name(out.topic) || out.topic.starts_with('$')) {
    error = "message topic '" + out.topic + "' is not a valid topic name (no wildcards, not empty, not $-prefixed)";
    return false;
  }
  if (!string_field(L, index, "payload", out.payload, present, error, true)) return false;
  // The namespace's annotation describes base's topic and payload only.
  if (out.topic != base_topic || out.payload != base_payload) out.uns.reset();

  lua_getfield(L, index, "qos");
  if (!lua_isnil(L, -1)) {
    lua_Number q = lua_tonumber(L, -1);
    if (lua_type(L, -1) != LUA_TNUMBER || (q != 0 && q != 1 && q != 2)) {
      lua_pop(L, 1);
      error = "message field 'qos' must be 0, 1 or 2";
      return false;
    }
    out.qos = static_cast<protocol::QoS>(static_cast<int>(q));
  }
  lua_pop(L, 1);
  lua_getfield(L, index, "retain");
  if (!lua_isnil(L, -1)) {
    if (lua_type(L, -1) != LUA_TBOOLEAN) {
      lua_pop(L, 1);
      error = "message field 'retain' must be true or false";
      return false;
    }
    out.retain = lua_toboolean(L, -1) != 0;
  }
  lua_pop(L, 1);

  protocol::Properties& p = out.properties.edit();
  if (!optional_string(L, index, "content_type", p.content_type, error) ||
      !optional_string(L, index, "response_topic", p.response_topic, error) ||
      !optional_string(L, index, "correlation_data", p.correlation_data, error)) {
    return false;
  }

  lua_getfield(L, index, "user_properties");
  int t = lua_type(L, -1);
  if (t == LUA_TNIL) {
    p.user_properties.clear();
  } else if (t != LUA_TTABLE) {
    lua_pop(L, 1);
    error = "message field 'user_properties' must be a table of name = value strings";
    return false;
  } else {
    // Keep the original order for names still there; new names follow, sorted.
    std::map<std::string, std::string> now;
    int props = lua_gettop(L);
    lua_pushnil(L);
    while (lua_next(L, props) != 0) {
      if (lua_type(L, -2) != LUA_TSTRING || (lua_type(L, -1) != LUA_TSTRING && lua_type(L, -1) != LUA_TNUMBER)) {
        lua_pop(L, 3);
        error = "message field 'user_properties' must be a table of name = value strings";
        return false;
      }
      std::size_t kl = 0, vl = 0;
      const char* k = lua_tolstring(L, -2, &kl);
      lua_pushvalue(L, -1);  // tolstring on a number value would not confuse lua_next, but be uniform
      const char* v = lua_tolstring(L, -1, &vl);
      now.emplace(std::string(k, kl), std::string(v, vl));
      lua_pop(L, 2);
    }
    // Unchanged by the rule (each name still has its first value, no name
    // added or removed): keep the properties as they came, repeats included.
    std::map<std::string, std::string> shown;
    for (const auto& [name, value] : base_user_properties) shown.emplace(name, value);
    if (shown == now) {
      lua_pop(L, 1);
      return true;
    }
    protocol::UserProperties merged;
    merged.reserve(now.size());
    for (const auto& [name, value] : base_user_properties) {
      auto it = now.find(name);
      if (it == now.end()) continue;
      merged.emplace_back(it->first, std::move(it->second));
      now.erase(it);
    }
    for (auto& [name, value] : now) merged.emplace_back(name, std::move(value));
    p.user_properties = std::move(merged);
  }
  lua_pop(L, 1);
  return true;
}

}  // namespace

bool read_message(lua_State* L, int index, const router::Message& base, router::MessageDraft& out,
                  std::string& error) {
  out = router::MessageDraft(base);
  return read_over(L, index, base.topic, base.payload, base.properties->user_properties, out, error);
}

bool read_message(lua_State* L, int index, const router::MessageDraft& base, router::MessageDraft& out,
                  std::string& error) {
  out = base;
  return read_over(L, index, base.topic, base.payload, base.properties->user_properties, out, error);
}

}  // namespace strata::rules
