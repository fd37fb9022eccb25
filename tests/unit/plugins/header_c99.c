/* plugin.h must compile as strict C99 (see CMakeLists.txt: -std=c99
 * -pedantic -Werror), with every declaration usable from C. */
#include "strata/plugin.h"

int strata_header_c99_check(void);

int strata_header_c99_check(void) {
  struct strata_evt_message m = {0};
  strata_str s = STRATA_STR("x");
  strata_broker_api api;
  api.size = (uint32_t)sizeof api;
  m.size = (uint32_t)sizeof m;
  return (int)(s.len + m.size + api.size) + STRATA_PLUGIN_ABI_VERSION;
}
