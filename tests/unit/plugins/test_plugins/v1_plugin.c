/* A plugin built against the ABI version 1 header (../abi_v1): it must load
 * and work in the current broker. It tags every message with abi=1 and
 * denies publishing to v1/denied. */
#include <string.h>

#include "strata/plugin.h"

#if STRATA_PLUGIN_ABI_VERSION != 1
#error "built against the wrong header"
#endif

static const strata_broker_api *g_api;
static const int versions[] = {1};

int strata_plugin_versions(const int **v) {
  *v = versions;
  return 1;
}

static int on_message(int event, void *data, void *userdata) {
  (void)event;
  (void)userdata;
  g_api->message_add_user_property((struct strata_evt_message *)data, STRATA_STR("abi"), STRATA_STR("1"));
  return STRATA_MSG_PASS;
}

static int on_acl(int event, void *data, void *userdata) {
  (void)event;
  (void)userdata;
  const struct strata_evt_acl_check *e = data;
  if (e->access == STRATA_ACL_PUBLISH && e->topic.len == 9 && memcmp(e->topic.data, "v1/denied", 9) == 0) {
    return STRATA_DENY;
  }
  return STRATA_DEFER;
}

int strata_plugin_init(strata_plugin *plugin, const strata_broker_api *api, int abi_version,
                       const strata_option *options, size_t option_count, void **plugin_data) {
  (void)options;
  (void)option_count;
  *plugin_data = NULL;
  if (abi_version != 1 || api->abi_version != 1 || api->size < sizeof(strata_broker_api) - sizeof(api->reserved)) {
    api->set_error(plugin, STRATA_STR("unexpected ABI version or API table"));
    return STRATA_ERR;
  }
  g_api = api;
  api->register_callback(plugin, STRATA_EVT_MESSAGE, on_message, NULL);
  api->register_callback(plugin, STRATA_EVT_ACL_CHECK, on_acl, NULL);
  return STRATA_OK;
}

int strata_plugin_cleanup(void *plugin_data, const strata_option *options, size_t option_count) {
  (void)plugin_data;
  (void)options;
  (void)option_count;
  return STRATA_OK;
}
