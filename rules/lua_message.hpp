// Messages as Lua tables, for rules.
//
// A message table has the fields topic, payload, qos, retain, client_id,
// username, received (unix ms), hops, user_properties (name -> value),
// content_type, response_topic, correlation_data, expiry (seconds left,
// read-only), uns (see push_message). `levels` (the topic split at '/') and `json` (the payload
// parsed; nil with `json_error` set when it is not JSON) are computed on
// first access by the shared metatable.
//
// read_message() turns a table a rule returned or changed back into a
// Message: fields it lacks come from `base`; bad values are an error that
// names the field and what was expected.
#pragma once

#include <string>

#include "broker/router/message.hpp"

struct lua_State;

namespace strata::rules {

// Registers the message metatable in the registry (once per VM).
void register_message_metatable(lua_State* L);

// Pushes a new table for `m` (received: unix ms of the call). With `shared`
// (the message as routed) and a namespace annotation on it, `uns` (the
// topic's ISA-95 levels, `tag` and `namespace`) is available and `json`
// reuses the payload the namespace parsed while the payload is unchanged.
void push_message(lua_State* L, const router::Message& m, std::uint64_t received_ms,
                  const router::MessagePtr* shared = nullptr);

// Reads the table at `index` on top of `base` into `out`. A table payload is
// encoded as JSON; numbers and booleans become their text. False with
// `error` set on a bad field.
bool read_message(lua_State* L, int index, const router::Message& base, router::MessageDraft& out,
                  std::string& error);
bool read_message(lua_State* L, int index, const router::MessageDraft& base, router::MessageDraft& out,
                  std::string& error);

}  // namespace strata::rules
