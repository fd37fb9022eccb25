#include "rules/lua_json.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include <lua.hpp>
#include <rapidjson/document.h>
#include <rapidjson/error/en.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

namespace strata::rules {
namespace {

void push_value(lua_State* L, const rapidjson::Value& v) {
  switch (v.GetType()) {
    case rapidjson::kNullType: lua_pushlightuserdata(L, nullptr); break;
    case rapidjson::kFalseType: lua_pushboolean(L, 0); break;
    case rapidjson::kTrueType: lua_pushboolean(L, 1); break;
    case rapidjson::kStringType: lua_pushlstring(L, v.GetString(), v.GetStringLength()); break;
    case rapidjson::kNumberType: lua_pushnumber(L, v.GetDouble()); break;
    case rapidjson::kArrayType: {
      lua_createtable(L, static_cast<int>(v.Size()), 0);
      int i = 1;
      for (const auto& item : v.GetArray()) {
        push_value(L, item);
        lua_rawseti(L, -2, i++);
      }
      break;
    }
    case rapidjson::kObjectType: {
      lua_createtable(L, 0, static_cast<int>(v.MemberCount()));
      for (const auto& m : v.GetObject()) {
        lua_pushlstring(L, m.name.GetString(), m.name.GetStringLength());
        push_value(L, m.value);
        lua_rawset(L, -3);
      }
      break;
    }
  }
}

// Nesting depth, stopping as soon as it passes the limit.
int depth_of(const rapidjson::Value& v, int depth) {
  if (depth > kMaxJsonDepth) return depth;
  int deepest = depth;
  if (v.IsArray()) {
    for (const auto& item : v.GetArray()) deepest = std::max(deepest, depth_of(item, depth + 1));
  } else if (v.IsObject()) {
    for (const auto& m : v.GetObject()) deepest = std::max(deepest, depth_of(m.value, depth + 1));
  }
  return deepest;
}

using Writer = rapidjson::Writer<rapidjson::StringBuffer>;

// Length n when the table at `index` has exactly the keys 1..n (n >= 1), else 0.
std::size_t array_length(lua_State* L, int index) {
  std::size_t n = lua_objlen(L, index);
  if (n == 0) return 0;
  std::size_t keys = 0;
  lua_pushnil(L);
  while (lua_next(L, index) != 0) {
    lua_pop(L, 1);
    if (lua_type(L, -1) != LUA_TNUMBER) {
      lua_pop(L, 1);
      return 0;
    }
    ++keys;
  }
  return keys == n ? n : 0;
}

bool write_value(lua_State* L, int index, Writer& w, int depth, std::string& error) {
  if (depth > kMaxJsonDepth) {
    error = "cannot encode to JSON: nested deeper than " + std::to_string(kMaxJsonDepth) + " (a cycle?)";
    return false;
  }
  if (index < 0) index = lua_gettop(L) + index + 1;
  switch (lua_type(L, index)) {
    case LUA_TNIL: w.Null(); return true;
    case LUA_TLIGHTUSERDATA:
      if (lua_touserdata(L, index) == nullptr) {
        w.Null();
        return true;
      }
      break;
    case LUA_TBOOLEAN: w.Bool(lua_toboolean(L, index) != 0); return true;
    case LUA_TNUMBER: {
      double d = lua_tonumber(L, index);
      if (!std::isfinite(d)) {
        error = "cannot encode to JSON: the number is NaN or infinite";
        return false;
      }
      if (d == std::floor(d) && std::fabs(d) < 9007199254740992.0) {
        w.Int64(static_cast<std::int64_t>(d));
      } else {
        w.Double(d);
      }
      return true;
    }
    case LUA_TSTRING: {
      std::size_t len = 0;
      const char* s = lua_tolstring(L, index, &len);
      w.String(s, static_cast<rapidjson::SizeType>(len));
      return true;
    }
    case LUA_TTABLE: {
      if (!lua_checkstack(L, 4)) {
        error = "cannot encode to JSON: out of Lua stack";
        return false;
      }
      if (std::size_t n = array_length(L, index); n > 0) {
        w.StartArray();
        for (std::size_t i = 1; i <= n; ++i) {
          lua_rawgeti(L, index, static_cast<int>(i));
          bool ok = write_value(L, -1, w, depth + 1, error);
          lua_pop(L, 1);
          if (!ok) return false;
        }
        w.EndArray();
        return true;
      }
      // Keys sorted: the same table always encodes to the same text.
      struct Key {
        std::string text;
        bool number;
        lua_Number value;
      };
      std::vector<Key> keys;
      lua_pushnil(L);
      while (lua_next(L, index) != 0) {
        lua_pop(L, 1);
        int kt = lua_type(L, -1);
        if (kt == LUA_TSTRING) {
          std::size_t len = 0;
          const char* k = lua_tolstring(L, -1, &len);
          keys.push_back({std::string(k, len), false, 0});
        } else if (kt == LUA_TNUMBER) {
          lua_pushvalue(L, -1);  // tolstring on the copy: lua_next needs the number
          keys.push_back({lua_tostring(L, -1), true, lua_tonumber(L, -2)});
          lua_pop(L, 1);
        } else {
          lua_pop(L, 1);
          error = std::string("cannot encode to JSON: a table key is a ") + lua_typename(L, kt);
          return false;
        }
      }
      std::sort(keys.begin(), keys.end(), [](const Key& a, const Key& b) { return a.text < b.text; });
      w.StartObject();
      for (const Key& k : keys) {
        w.Key(k.text.data(), static_cast<rapidjson::SizeType>(k.text.size()));
        if (k.number) {
          lua_pushnumber(L, k.value);
        } else {
          lua_pushlstring(L, k.text.data(), k.text.size());
        }
        lua_rawget(L, index);
        bool ok = write_value(L, -1, w, depth + 1, error);
        lua_pop(L, 1);
        if (!ok) return false;
      }
      w.EndObject();
      return true;
    }
    default: break;
  }
  error = std::string("cannot encode to JSON: a value is a ") + luaL_typename(L, index);
  return false;
}

}  // namespace

bool json_decode(lua_State* L, std::string_view text, std::string& error) {
  // Iterative parsing: a payload of a million '[' must not overflow the
  // core thread's stack.
  rapidjson::Document doc;
  doc.Parse<rapidjson::kParseIterativeFlag>(text.data(), text.size());
  if (doc.HasParseError()) {
    error = "invalid JSON at offset " + std::to_string(doc.GetErrorOffset()) + ": " +
            rapidjson::GetParseError_En(doc.GetParseError());
    return false;
  }
  if (depth_of(doc, 0) > kMaxJsonDepth) {
    error = "JSON nested deeper than " + std::to_string(kMaxJsonDepth);
    return false;
  }
  if (!lua_checkstack(L, 2 * kMaxJsonDepth + 8)) {
    error = "out of Lua stack";
    return false;
  }
  push_value(L, doc);
  return true;
}

bool json_push(lua_State* L, const rapidjson::Value& v) {
  if (!lua_checkstack(L, 2 * kMaxJsonDepth + 8)) return false;
  push_value(L, v);
  return true;
}

bool json_encode(lua_State* L, int index, std::string& out, std::string& error) {
  rapidjson::StringBuffer buffer;
  Writer w(buffer);
  int top = lua_gettop(L);
  bool ok = write_value(L, index, w, 0, error);
  lua_settop(L, top);
  if (!ok) return false;
  out.assign(buffer.GetString(), buffer.GetSize());
  return true;
}

}  // namespace strata::rules
