// The part of the rule API written in Lua: windows and deadbands. Loaded
// once per VM (rule_vm.cpp); see prelude.cpp for the model.
#pragma once

#include <cstddef>

namespace strata::rules {

extern const char kPrelude[];
extern const std::size_t kPreludeSize;  // without the final NUL

}  // namespace strata::rules
