// The limits a rule runs under ([rules] in strata.toml, docs/rules.md).
#pragma once

#include <cstddef>
#include <cstdint>

namespace strata::rules {

struct Budgets {
  std::uint64_t instructions = 1000000;  // Lua VM instructions per call
  std::size_t memory_bytes = 16u << 20;  // what one rule's state may hold, per core
  std::size_t publish_limit = 1000;      // publish()/emit() per call of on_message
  unsigned fault_limit = 5;
  std::uint64_t fault_window_ms = 60000;
  unsigned hop_limit = 8;
  // Keep LuaJIT's JIT compiler on. Only for measuring what running
  // interpreted costs (the benchmark): with it, the instruction budget
  // cannot stop a loop once it is compiled.
  bool jit = false;
};

}  // namespace strata::rules
