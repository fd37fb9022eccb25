/* Offers only an ABI version no broker knows: loading must fail. */
#include "strata/plugin.h"

static const int versions[] = {99};

int strata_plugin_versions(const int **v) {
  *v = versions;
  return 1;
}

int strata_plugin_init(strata_plugin *plugin, const strata_broker_api *api, int abi_version,
                       const strata_option *options, size_t option_count, void **plugin_data) {
  (void)plugin;
  (void)api;
  (void)abi_version;
  (void)options;
  (void)option_count;
  (void)plugin_data;
  return STRATA_ERR;
}

int strata_plugin_cleanup(void *plugin_data, const strata_option *options, size_t option_count) {
  (void)plugin_data;
  (void)options;
  (void)option_count;
  return STRATA_OK;
}
