// The sandbox: what a rule's Lua code can call.
//
// Globals (docs/rules.md has the reference): the safe base functions
// (assert, error, ipairs, next, pairs, pcall, xpcall, select, tonumber,
// tostring, type, unpack, rawequal, rawget, rawset, setmetatable,
// getmetatable), the libraries string (without dump), table, math, bit,
// os (time, clock, date only), json (encode, decode, null), log (debug,
// info, warn, error; print logs at info), publish, emit, now, history
// (last, range: the historian's data, rules/history_source.hpp).
// Not there: io, os.execute & co, require, module, dofile, loadfile, load,
// loadstring, getfenv, setfenv, debug, ffi, jit, coroutine, collectgarbage,
// string.dump.
//
// pcall and xpcall are the sandbox's own: a budget fault (instructions,
// memory) cannot be caught by the rule — it always ends the call.
//
// Each rule gets its own environment: a copy of these globals, with its own
// copies of the library tables, so one rule cannot change what another sees.
#pragma once

struct lua_State;

namespace strata::rules {

class RuleVm;

// Pushes the table of shared globals (kept by the VM, never given to rules).
void push_sandbox_base(lua_State* L, RuleVm* vm);

// Pushes a new environment for one rule: a copy of the base at `base_index`
// plus context(), which caches the files it reads in this environment.
void push_rule_env(lua_State* L, int base_index, RuleVm* vm);

}  // namespace strata::rules
