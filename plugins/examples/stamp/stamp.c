/*
 * stamp — adds two user properties to every message the broker accepts:
 * the time it was received (RFC 3339, UTC, milliseconds) and the name of
 * the broker node that received it.
 *
 *   received_at = "2026-12-06T07:59:12.345Z"
 *   received_by = "edge-1"
 *
 * Options (all optional): time_property (default "received_at"),
 * node_property (default "received_by"), node (default: the host name).
 * SIGHUP applies changed options.
 *
 * Per-core state: each core formats into its own buffer, indexed by the
 * event's core, so the callback takes no lock. The options are swapped
 * atomically on reload; replaced ones are freed at cleanup.
 */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "strata/plugin.h"

typedef struct settings {
  char *time_property;
  char *node_property;
  char *node;
  struct settings *older; /* replaced settings, freed at cleanup */
} settings;

typedef struct per_core {
  char text[40];
} per_core;

typedef struct state {
  const strata_broker_api *api;
  _Atomic(settings *) current;
  per_core *cores;
  unsigned core_count;
} state;

static const int versions[] = {1, 2};

int strata_plugin_versions(const int **v) {
  *v = versions;
  return 2;
}

static char *option(const strata_option *o, size_t n, const char *key, strata_str fallback) {
  size_t k = strlen(key);
  strata_str v = fallback;
  for (size_t i = 0; i < n; ++i) {
    if (o[i].key.len == k && memcmp(o[i].key.data, key, k) == 0) v = o[i].value;
  }
  char *p = malloc(v.len + 1);
  if (p) {
    if (v.len) memcpy(p, v.data, v.len);
    p[v.len] = '\0';
  }
  return p;
}

static settings *make_settings(const strata_broker_api *api, const strata_option *o, size_t n) {
  settings *s = calloc(1, sizeof *s);
  if (!s) return NULL;
  s->time_property = option(o, n, "time_property", STRATA_STR("received_at"));
  s->node_property = option(o, n, "node_property", STRATA_STR("received_by"));
  s->node = option(o, n, "node", api->node_name());
  return s;
}

static void free_settings(settings *s) {
  while (s) {
    settings *older = s->older;
    free(s->time_property);
    free(s->node_property);
    free(s->node);
    free(s);
    s = older;
  }
}

static int on_message(int event, void *data, void *userdata) {
  (void)event;
  state *st = userdata;
  struct strata_evt_message *m = data;
  settings *s = atomic_load(&st->current);
  char *text = st->cores[m->core < st->core_count ? m->core : 0].text;
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  struct tm tm;
  gmtime_r(&ts.tv_sec, &tm);
  size_t n = strftime(text, 24, "%Y-%m-%dT%H:%M:%S", &tm);
  snprintf(text + n, sizeof(((per_core *)0)->text) - n, ".%03ldZ", ts.tv_nsec / 1000000L);
  st->api->message_add_user_property(m, STRATA_STR(s->time_property), STRATA_STR(text));
  st->api->message_add_user_property(m, STRATA_STR(s->node_property), STRATA_STR(s->node));
  return STRATA_MSG_PASS;
}

static int on_reload(int event, void *data, void *userdata) {
  (void)event;
  state *st = userdata;
  const struct strata_evt_reload *e = data;
  settings *fresh = make_settings(st->api, e->options, e->option_count);
  if (!fresh) return STRATA_ERR;
  /* Cores may still read the old settings: keep them until cleanup. */
  fresh->older = atomic_load(&st->current);
  atomic_store(&st->current, fresh);
  return STRATA_OK;
}

int strata_plugin_init(strata_plugin *plugin, const strata_broker_api *api, int abi_version,
                       const strata_option *options, size_t option_count, void **plugin_data) {
  (void)abi_version;
  state *st = calloc(1, sizeof *st);
  if (!st) return STRATA_ERR;
  st->api = api;
  st->core_count = api->core_count();
  st->cores = calloc(st->core_count ? st->core_count : 1, sizeof(per_core));
  settings *s = make_settings(api, options, option_count);
  if (!st->cores || !s) {
    free(st->cores);
    free(st);
    free_settings(s);
    return STRATA_ERR;
  }
  atomic_init(&st->current, s);
  *plugin_data = st;
  api->register_callback(plugin, STRATA_EVT_MESSAGE, on_message, st);
  api->register_callback(plugin, STRATA_EVT_RELOAD, on_reload, st);
  return STRATA_OK;
}

int strata_plugin_cleanup(void *plugin_data, const strata_option *options, size_t option_count) {
  (void)options;
  (void)option_count;
  state *st = plugin_data;
  free_settings(atomic_load(&st->current));
  free(st->cores);
  free(st);
  return STRATA_OK;
}
