// plugin.h must compile as C++ (here C++11, the oldest a plugin author is
// likely to use; the unit tests include it as C++20) with C linkage.
#include "strata/plugin.h"

extern "C" int strata_header_cxx_check();

extern "C" int strata_header_cxx_check() {
  strata_evt_message m{};
  m.size = static_cast<uint32_t>(sizeof m);
  strata_str s = STRATA_STR("xy");
  return static_cast<int>(s.len) + (m.size != 0 ? STRATA_PLUGIN_ABI_VERSION : 0);
}
