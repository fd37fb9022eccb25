// JSON <-> Lua values for the rule engine, backed by RapidJSON.
//
// Mapping: objects and arrays become tables (arrays 1-based), numbers are
// Lua numbers (doubles), null is the light userdata `json.null` (so arrays
// keep their length). Encoding: a table whose keys are exactly 1..n is an
// array, any other table an object (keys converted with tostring, written
// sorted so the same table always gives the same text); an empty table is
// `{}`. Integral numbers are written without a fraction; NaN and
// infinities, functions, cycles and nesting deeper than kMaxJsonDepth are
// errors.
#pragma once

#include <string>
#include <string_view>

#include <rapidjson/document.h>

struct lua_State;

namespace strata::rules {

constexpr int kMaxJsonDepth = 64;

// Parses `text` and pushes the value. On a syntax error pushes nothing and
// returns false with `error` = "invalid JSON at offset N: reason".
bool json_decode(lua_State* L, std::string_view text, std::string& error);

// Pushes an already parsed JSON value (nesting at most kMaxJsonDepth, e.g.
// the namespace's parsed payload); false when the Lua stack cannot grow.
bool json_push(lua_State* L, const rapidjson::Value& v);

// Encodes the value at stack index `index` into `out`. Returns false with
// `error` set when the value has no JSON form.
bool json_encode(lua_State* L, int index, std::string& out, std::string& error);

}  // namespace strata::rules
